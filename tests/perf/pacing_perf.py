"""What pacing costs a bench against a loopback server; prints one JSON object (no asserts).

Run: ``python tests/perf/pacing_perf.py``

Races every bundled task (tool calling and CodeAct) on the mistral provider against the
stand-in server on 127.0.0.1, which answers each request at once with a short final answer (so
every run is one request, and the figure is the pacing, not a model). Once with the default
rate for a loopback URL (no pacing) and once with ``rate=1`` (Mistral's free tier: one request
a second, shared by both agents). CodeAct runs get a fake sandbox (no program runs). Reports
the load average beside the figures: timings on a shared machine are noisy.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    os.environ["CODEACT_EXPLORER_HOME"] = tempfile.mkdtemp(prefix="pacing-perf-")
    os.environ["MISTRAL_API_KEY"] = "perf-key"
    from engine_fakes import FakeSandbox
    from fake_mistral import FakeMistral, text_reply

    from engine.bench import run_bench
    from engine.run import RunConfig
    from tasks.suite import load_tasks

    tasks = load_tasks()
    figures: dict[str, object] = {"tasks": len(tasks), "load_average": os.getloadavg()}
    with FakeMistral(responder=lambda request: text_reply("Done."), validate=False) as server:
        for label, rate in (("default_rate_loopback", "default"), ("rate_1_per_s", 1.0)):
            before = len(server.requests)
            config = RunConfig(provider="mistral", server_url=server.url, rate=rate,
                               record=False)
            started = time.monotonic()
            asyncio.run(run_bench(tasks, config, sandbox_factory=lambda *a, **k: FakeSandbox()))
            figures[label] = {"wall_seconds": round(time.monotonic() - started, 2),
                              "requests": len(server.requests) - before}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
