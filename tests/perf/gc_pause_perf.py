"""Garbage-collection pauses of the app across several races (prints figures; no asserts).

    python tests/perf/gc_pause_perf.py [--tokens 10000] [--races 3] [--rate 4000]

Streams ``--races`` synthetic races one after another into the headless app (the stream of
``tui_perf.py``: text deltas, code, tool calls and results in both panes) and times every
collection the garbage collector makes, automatic or called by ``tui.gc_policy``, with
``gc.callbacks``: the longest pause per race and after it (goal: none over 100 ms, issue 12),
and what the policy's end-of-race step cost. At the end it reports how many objects sit in the
permanent (frozen) generation and how many of them were cyclic garbage that only a full
collection could free (a slow leak if it grows race after race); that last check is itself a
full collection, made after the figures, and not counted. Pauses are given in wall time and in
the main thread's CPU time: on a machine whose load average exceeds its cores, the wall time of a
collection is mostly spent waiting to be scheduled.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import tui_perf

from tui.app import ExplorerApp
from tui.choices import RunChoice

PAUSES: list[tuple[float, int, float, float]] = []  # (when, generation, wall ms, CPU ms)
_started: list[tuple[float, float]] = []


def _on_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _started.append((time.perf_counter(), time.thread_time()))
    elif _started:
        begun, cpu = _started.pop()
        PAUSES.append((begun, info.get("generation", -1), (time.perf_counter() - begun) * 1e3,
                       (time.thread_time() - cpu) * 1e3))


async def races(tokens: int, rate: float, count: int) -> list[dict]:
    app = ExplorerApp(RunChoice(pace=0), backend=tui_perf.FastBackend(tokens, rate))
    figures = []
    async with app.run_test(size=(200, 60)) as pilot:
        screen = app.race_screen
        await pilot.pause(0.5)  # start-up done, app_ready's freeze made
        for number in range(1, count + 1):
            tui_perf.GC_PAUSES.clear()
            start = time.perf_counter()
            await pilot.press("r")
            await app.workers.wait_for_complete()
            while screen.running or any(p.unfolding for p in screen.panes.values()):
                await asyncio.sleep(0.01)
            ended = time.perf_counter()
            for _ in range(100):  # the policy's end-of-race step runs once the panes settle
                if tui_perf.GC_PAUSES:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.2)
            during = [p for p in PAUSES if start <= p[0] < ended]
            after = [p for p in PAUSES if p[0] >= ended]
            figures.append({
                "race": number,
                "collections_during": len(during),
                "longest_during_ms": round(max((p[2] for p in during), default=0.0), 1),
                "longest_during_cpu_ms": round(max((p[3] for p in during), default=0.0), 1),
                "longest_after_ms": round(max((p[2] for p in after), default=0.0), 1),
                "longest_after_cpu_ms": round(max((p[3] for p in after), default=0.0), 1),
                "policy_end_step_ms": round(tui_perf.GC_PAUSES[-1], 1)
                if tui_perf.GC_PAUSES else None,
                "frozen_objects": gc.get_freeze_count(),
                "tracked_objects": len(gc.get_objects()),
            })
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000, help="tokens per pane per race")
    parser.add_argument("--rate", type=float, default=4_000, help="tokens per second per pane")
    parser.add_argument("--races", type=int, default=3)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; {args.races} races of {args.tokens:,} tokens per pane")
    gc.callbacks.append(_on_gc)
    figures = asyncio.run(races(args.tokens, args.rate, args.races))
    gc.callbacks.remove(_on_gc)
    for row in figures:
        print("  " + ", ".join(f"{k} {v}" for k, v in row.items()))
    worst = max(max(r["longest_during_ms"], r["longest_after_ms"]) for r in figures)
    worst_cpu = max(max(r["longest_during_cpu_ms"], r["longest_after_cpu_ms"]) for r in figures)
    print(f"  longest collection pause: {worst:.1f} ms wall, {worst_cpu:.1f} ms of CPU (goal <= "
          "100 ms; on a loaded machine the wall time is mostly waiting for a core)")
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    started = time.perf_counter()
    freed = gc.collect()
    print(f"  afterwards: {frozen:,} objects were frozen; a full collection then freed {freed:,} "
          f"unreachable objects in {(time.perf_counter() - started) * 1e3:.0f} ms (what the "
          "policy left for later, or leaked)")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
