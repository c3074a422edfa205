"""MCP tool-source figures: the git demo's repository build, the server's start, calls, stop.

Prints one JSON object with the load average beside the timings; no asserts (timings never go
into tests). Run:
    python tests/perf/mcp_perf.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from engine.toolboxes.demos import git_demo_toolbox
from tasks.demos.gitrepo import build_repository


def ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    builds, starts, logs, shows, closes = [], [], [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            build_repository(Path(tmp) / "repo")
            builds.append(ms(t))
        t = time.perf_counter()
        box = git_demo_toolbox()
        starts.append(ms(t))
        for _ in range(5):
            t = time.perf_counter()
            box.call("git_log", {"repo_path": ".", "max_count": 1000})
            logs.append(ms(t))
            t = time.perf_counter()
            box.call("git_show", {"repo_path": ".", "revision": "HEAD"})
            shows.append(ms(t))
        t = time.perf_counter()
        box.close()
        closes.append(ms(t))
    print(json.dumps({
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "repository_build_ms": statistics.median(builds),
        "server_start_ms (build + spawn + initialize + tools/list)": statistics.median(starts),
        "git_log_1000_ms": statistics.median(logs),
        "git_show_head_ms": statistics.median(shows),
        "close_ms": statistics.median(closes),
        "runs": repeat,
    }, indent=2))


if __name__ == "__main__":
    main()
