"""Garbage-collection pauses of the app across several races (prints figures; no asserts).

    python tests/perf/gc_pause_perf.py [--tokens 10000] [--races 4] [--rate 4000] [--idle 1]
                                       [--real [--pace 0]] [--step-every N]

Streams ``--races`` synthetic races one after another into the headless app at 200x60 (the
stream of ``tui_perf.py``: text deltas, code, tool calls and results in both panes), waiting
``--idle`` seconds between races as a presenter would, and times every collection the garbage
collector makes — automatic or made by ``tui.gc_policy`` — with ``gc.callbacks``. With
``--real``, the races are real scripted races instead (the engine, tokenizer and sandbox; the
10-round aggregation task), which also shows whether the engine leaves cyclic garbage behind.

Printed per race: collections during the race and after it (until the next one starts), the
longest of them, the objects they freed, the policy's steps, how many objects are frozen (the
permanent generation collections skip), how many are tracked outside it, and the process's RSS.
Then over all races: every pause's count, p99 and maximum, in the main thread's CPU time and in
wall time (goal: none over 100 ms, issue 12; on a machine whose load average exceeds its cores
the wall time of a collection is mostly waiting to be scheduled, so CPU time is the figure to
compare). Start-up's collections (before the first race) are shown apart. Last, a leak check,
made after the figures and not counted: everything is unfrozen and collected once; what that
frees is cyclic garbage the policy froze instead of freeing (it would grow race after race if
the app dropped objects in reference cycles). ``--step-every`` overrides
``tui.gc_policy.STEP_EVERY`` to compare settings.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import tui_perf

from tui import gc_policy
from tui.app import ExplorerApp
from tui.choices import RunChoice


@dataclass
class Pause:
    start: float  # perf_counter seconds
    generation: int
    wall_ms: float
    cpu_ms: float
    collected: int


PAUSES: list[Pause] = []
_started: list[tuple[float, float]] = []


def _on_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _started.append((time.perf_counter(), time.thread_time()))
    elif _started:
        begun, cpu = _started.pop()
        PAUSES.append(Pause(begun, info.get("generation", -1),
                            (time.perf_counter() - begun) * 1e3,
                            (time.thread_time() - cpu) * 1e3, info.get("collected", 0)))


def prebuild_streams(tokens: int) -> None:
    """Make the synthetic stream of each pane once, before the app starts (its start-up freeze
    then covers it), and have every race of ``tui_perf.FastRace`` replay it. The real engine
    makes its events one at a time; a synthetic race building its 80,000 events (40k tokens a
    pane) in one go made the policy's first step walk them all: the harness's objects, not the
    app's. The events are frozen dataclasses; the app never changes them."""
    built = {mode: tui_perf.token_stream(mode, tokens) for mode in ("tool_calling", "codeact")}

    def same_stream(mode: str, count: int, shape: str = "mixed") -> list:
        return built[mode]

    tui_perf.token_stream = same_stream  # type: ignore[assignment]


def rss_mb() -> float:
    """This process's resident set now (MB), from /proc (peak RSS where there is none)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def between(start: float, end: float) -> list[Pause]:
    return [p for p in PAUSES if start <= p.start < end]


def p99(values: list[float]) -> float:
    return tui_perf.pct(values, 0.99)


async def races(app: ExplorerApp, count: int,
                idle: float) -> tuple[list[dict], list[Pause], list[Pause], tuple[int, int, float]]:
    """Per-race rows, start-up's pauses, the races' pauses, and the leak check (frozen
    objects, what unfreezing and collecting freed, its CPU ms), made before the app exits."""
    rows = []
    async with app.run_test(size=(200, 60)) as pilot:
        screen = app.race_screen
        policy = screen.garbage
        if not isinstance(app.backend, tui_perf.FastBackend):
            # Real races: the 10-round aggregation task, as tui_perf.py's real race.
            while not screen.tasks:
                await pilot.pause(0.05)
            task = screen.tasks[min(3, len(screen.tasks) - 1)]
            screen.set_choice(screen.choice.with_(task_id=task.id))
        # As a presenter would: the start-up warm-up (lexers, in a thread) is done before r,
        # and with it the policy's start-up freeze.
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "warm-up"])
        await pilot.pause(0.2)
        startup = list(PAUSES)
        for number in range(1, count + 1):
            steps_before = getattr(policy, "steps", 0)  # (0: a policy before this script's)
            start = time.perf_counter()
            await pilot.press("r")
            await app.workers.wait_for_complete()
            # The race is over once the policy's end-of-race step is made (after the panes
            # settled); then the app idles until the next r.
            while policy.deferred_collections < number:
                await asyncio.sleep(0.01)
            ended = time.perf_counter()
            await pilot.pause(idle)
            after_idle = time.perf_counter()
            during, after = between(start, ended), between(ended, after_idle)
            rows.append({
                "race": number,
                "during": len(during),
                "longest_during_cpu_ms": round(max((p.cpu_ms for p in during), default=0), 1),
                "after": len(after),
                "longest_after_cpu_ms": round(max((p.cpu_ms for p in after), default=0), 1),
                "freed_by_collector": sum(p.collected for p in during + after),
                "policy_steps": getattr(policy, "steps", 0) - steps_before,
                "frozen": gc.get_freeze_count(),
                "tracked": len(gc.get_objects()),
                "rss_mb": round(rss_mb(), 1),
            })
        counted = PAUSES[len(startup):]
        gc.callbacks.remove(_on_gc)
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        began = time.thread_time()
        freed = gc.collect()
        leak = (frozen, freed, (time.thread_time() - began) * 1e3)
    return rows, startup, counted, leak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000, help="tokens per pane per race")
    parser.add_argument("--rate", type=float, default=4_000, help="tokens per second per pane")
    parser.add_argument("--races", type=int, default=4)
    parser.add_argument("--idle", type=float, default=1.0, help="seconds between races")
    parser.add_argument("--real", action="store_true", help="real scripted races instead")
    parser.add_argument("--pace", type=float, default=0.0, help="pace of the real races")
    parser.add_argument("--step-every", type=int, default=None,
                        help="override tui.gc_policy.STEP_EVERY (to compare settings)")
    args = parser.parse_args()
    if args.step_every is not None:
        gc_policy.STEP_EVERY = args.step_every
    what = (f"real scripted races at pace {args.pace:g}" if args.real else
            f"races of {args.tokens:,} tokens per pane at {args.rate:,.0f} tokens/s")
    step = getattr(gc_policy, "STEP_EVERY", None)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; {args.races} {what}, {args.idle:g} s apart"
          + (f"; STEP_EVERY {step}" if step is not None else ""))
    if args.real:
        app = ExplorerApp(RunChoice(pace=args.pace))
    else:
        prebuild_streams(args.tokens)
        app = ExplorerApp(RunChoice(pace=0),
                          backend=tui_perf.FastBackend(args.tokens, args.rate))
    gc.callbacks.append(_on_gc)
    rows, startup, counted, (frozen, freed, leak_ms) = asyncio.run(
        races(app, args.races, args.idle))
    for row in rows:
        print("  " + ", ".join(f"{k} {v}" for k, v in row.items()))
    if startup:
        worst = max(startup, key=lambda p: p.cpu_ms)
        print(f"  start-up (before the first race): {len(startup)} collections, longest "
              f"{worst.cpu_ms:.1f} ms CPU / {worst.wall_ms:.1f} ms wall (generation "
              f"{worst.generation}, freed {worst.collected:,})")
    cpu = [p.cpu_ms for p in counted]
    wall = [p.wall_ms for p in counted]
    full = [p for p in counted if p.generation == 2]
    print(f"  every collection during and between the races: {len(counted):,} "
          f"({len(full)} full); CPU ms p99 {p99(cpu):.1f}, max {max(cpu, default=0):.1f}; "
          f"wall ms p99 {p99(wall):.1f}, max {max(wall, default=0):.1f} (goal: max <= 100 ms)")
    if full:
        print(f"  full collections: CPU ms max {max(p.cpu_ms for p in full):.1f}, mean "
              f"{sum(p.cpu_ms for p in full) / len(full):.1f}; objects freed "
              f"{sum(p.collected for p in full):,} in all")
    print(f"  leak check: {frozen:,} objects were frozen; unfrozen, one full collection freed "
          f"{freed:,} unreachable objects ({leak_ms:.0f} ms CPU; not counted above)")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
