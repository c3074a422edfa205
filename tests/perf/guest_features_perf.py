"""What the guest's discovery, async and idle-check features cost, as one JSON object.

    python tests/perf/guest_features_perf.py [--rounds N]

Figures (medians over rounds, with the load average, since wall time stretches with load):
- ``asyncio_first_use_ms``: guest CPU ms of the first program that says ``async`` in a fresh
  interpreter (it imports asyncio and installs the loop) minus that of the same program
  without the word (both as ``ExecutionResult.cpu_ms``, shown too);
- ``search_api_ms``: one ``search_api`` over the 120 platform tools (the first call builds the
  index; both are shown);
- ``awaitable_wrap_us``: wrapping one page dict so it is also awaitable, per call, against
  ``host_call_us``, one host call's round trip timed in the guest;
- ``idle_check_us``: the app's check, at the start of each run, that the interpreter is idle
  (two ``/proc`` reads).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tasks.catalog import guest_api_spec  # noqa: E402
from tasks.platform import new_platform  # noqa: E402
from wasm_sandbox import Sandbox, runtime  # noqa: E402


def guest_number(sandbox: Sandbox, code: str) -> float:
    result = sandbox.run(code)
    if result.error:
        raise SystemExit(result.error)
    return float(result.output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="guest-perf-"))
    runtime.prepare(cache)
    platform = new_platform()

    def host_call(name: str, arguments: dict) -> dict:
        return platform.call(name, arguments).to_wire()

    figures: dict[str, list[float]] = {k: [] for k in (
        "plain_first_run_cpu_ms", "async_first_run_cpu_ms", "search_api_first_ms",
        "search_api_ms", "awaitable_wrap_us", "host_call_us", "idle_check_us")}
    for _ in range(args.rounds):
        for word, key in (("", "plain_first_run_cpu_ms"), ("async ", "async_first_run_cpu_ms")):
            with Sandbox(host_call, guest_api_spec(), cache_dir=cache) as sandbox:
                result = sandbox.run(f"{word}def f():\n    pass")
                figures[key].append(result.cpu_ms)
        with Sandbox(host_call, guest_api_spec(), cache_dir=cache) as sandbox:
            timed = ("import time\nt = time.perf_counter()\n{}\n"
                     "print((time.perf_counter() - t) * {})")
            figures["search_api_first_ms"].append(
                guest_number(sandbox, timed.format("search_api('overdue invoices')", 1000)))
            figures["search_api_ms"].append(
                guest_number(sandbox, timed.format("search_api('time entries of a user')", 1000)))
            figures["awaitable_wrap_us"].append(guest_number(sandbox, timed.format(
                "import __main__\nW = __main__._AWAITABLE[dict]\n"
                "d = {'items': list(range(20)), 'page': 1, 'page_size': 20, 'total': 20, "
                "'has_more': False, 'next_page': None}\nfor _ in range(10000):\n    W(d)", 100)))
            figures["host_call_us"].append(guest_number(sandbox, timed.format(
                "for _ in range(200):\n    api.users.get(1)", 5000)))
            child = sandbox._child
            assert child is not None
            start = time.perf_counter()
            for _ in range(1000):
                sandbox._busy_since_done(child)
            figures["idle_check_us"].append((time.perf_counter() - start) * 1000)
    out: dict[str, object] = {k: round(statistics.median(v), 3) for k, v in figures.items()}
    out["asyncio_first_use_ms"] = round(
        statistics.median(figures["async_first_run_cpu_ms"])
        - statistics.median(figures["plain_first_run_cpu_ms"]), 3)
    out["rounds"] = args.rounds
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
