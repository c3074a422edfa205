"""How the app holds up under a fast stream (prints figures; no timed asserts).

Feeds 10,000 tokens into each pane at 2,000 tokens per second (a fast synthetic replay of text
deltas, code fences, tool calls and results) into the headless app at 200x60, and reports:

- event-loop lag: a probe sleeps 10 ms again and again and records how late it wakes (p50, p99,
  max), over the whole stream and for its first and last fifth, until the race screen has
  handled the end of the race (not the deferred full collection that follows it);
- cost per delta: time the race screen spends handling each batch of streamed text, divided by
  the characters in it (deltas are merged per batch), early (first fifth of the stream)
  against late (last fifth) — it must not grow as panes fill;
- RSS of the app process, sampled during the stream, and during a real scripted race (the
  engine, tokenizer and sandbox child included when they are available).

Shapes (``--shape``, or ``all``): the mixed stream above, and one-round replies that stress
the unfinished line: a fenced code block that is one 30 KB line, a 30 KB paragraph without a
newline, a fenced 500-line program (4 characters per token, the same rate).

Run: python tests/perf/tui_perf.py [--tokens 10000] [--rate 2000] [--size 200x60]
                                   [--shape mixed|code-line|prose-line|program|all] [--no-real]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

os.environ.setdefault("CODEACT_EXPLORER_HOME", tempfile.mkdtemp(prefix="tui-perf-"))
os.environ.pop("MISTRAL_API_KEY", None)

from engine.events import (
    Event,
    RoundFinished,
    RoundStarted,
    RunFinished,
    RunStarted,
    TextDelta,
    ToolCall,
    ToolResult,
    Usage,
)
from tui.app import ExplorerApp
from tui.backend import Backend
from tui.choices import DEFAULT_PACE, RunChoice
from tui.gc_policy import RaceGarbagePolicy
from tui.messages import RaceEvents
from tui.screens.race import RaceScreen

WORDS = ["the", "tool", "result", "lists", "every", "project", "with", "its", "hours", "and",
         "the", "agent", "reads", "it", "again", "while", "CodeAct", "prints", "only", "that"]
CODE = ["for p in api.projects.list(status='active')['items']:",
        "    hours = sum(e['hours'] for e in api.time_entries.list(project_id=p['id'])['items'])",
        "    print(p['name'], round(hours, 1))"]


def rss_mb(pid: int | str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb() -> float:
    """RSS of this process and its children (the sandbox runs in a child process)."""
    total = rss_mb()
    try:
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(rss_mb(pid) for pid in children)


SHAPES = ("mixed", "code-line", "prose-line", "program")
SHAPE_HELP = {
    "mixed": "prose, code fences, tool calls and results, rounds of 1,000 tokens",
    "code-line": "one fenced code block that is a single 30 KB line",
    "prose-line": "one 30 KB paragraph without a newline",
    "program": "one fenced 500-line program",
}


def shape_text(shape: str, size: int = 30_000) -> str:
    """The whole reply of a one-round shape (``size`` characters of the long line)."""
    if shape == "code-line":
        items, i = [], 0
        while sum(len(x) + 2 for x in items) < size:
            items.append(f'{{"id": {i}, "name": "user {i}", "tags": ["a", "b"], '
                         f'"hours": {i * 1.5}}}')
            i += 1
        return "Here is the data:\n```python\ndata = [" + ", ".join(items) + "]\n```\n"
    if shape == "prose-line":
        words = (WORDS * (size // 20 + 1))
        text = ""
        for i, word in enumerate(words):
            if len(text) >= size:
                break
            text += word + ("," if i % 17 == 16 else "") + " "
        return text.rstrip() + ".\n"
    if shape == "program":
        lines = []
        for i in range(500):
            lines.append(f"{'    ' * (i % 3)}total_{i} = sum(e['hours'] for e in "
                         f"api.time_entries.list(project_id={i})['items'])  # project {i}")
        return "The program:\n```python\n" + "\n".join(lines) + "\n```\nDone.\n"
    raise ValueError(shape)


def shape_stream(mode: str, shape: str) -> list[tuple[str, Event | None]]:
    """One pane's stream of a one-round shape: the reply in 4-character tokens."""
    run = "perf"
    text = shape_text(shape)
    items: list[tuple[str, Event | None]] = [("event", RoundStarted(
        run_id=run, mode=mode, round=1, input_tokens=13000, breakdown={"tools": 13000}))]
    for i in range(0, len(text), 4):
        items.append(("token", TextDelta(run_id=run, mode=mode, round=1, text=text[i:i + 4])))
    tokens = len(text) // 4
    items.append(("event", Usage(run_id=run, mode=mode, round=1, input_tokens=13000,
                                 output_tokens=tokens, breakdown={"tools": 13000})))
    items.append(("event", RoundFinished(run_id=run, mode=mode, round=1, finish_reason="stop")))
    items.append(("event", RunFinished(run_id=run, mode=mode, stop_reason="answered",
                                       success=True, answer="done", verdict=["ok"], rounds=1,
                                       input_tokens=13000, output_tokens=tokens)))
    return items


def token_stream(mode: str, tokens: int, shape: str = "mixed") -> list[tuple[str, Event | None]]:
    """One pane's stream: ('token', TextDelta) items, and other events between rounds."""
    if shape != "mixed":
        return shape_stream(mode, shape)
    items: list[tuple[str, Event | None]] = []
    run = "perf"
    per_round = int(os.environ.get("PER_ROUND", "1000"))
    rnd = 0
    for i in range(tokens):
        if i % per_round == 0:
            if rnd:
                items.append(("event", Usage(
                    run_id=run, mode=mode, round=rnd, input_tokens=13000 + rnd * 900,
                    output_tokens=per_round, breakdown={"tools": 12800, "results": rnd * 900})))
                items.append(("event", RoundFinished(run_id=run, mode=mode, round=rnd,
                                                     finish_reason="tool_calls")))
            rnd += 1
            items.append(("event", RoundStarted(run_id=run, mode=mode, round=rnd,
                                                input_tokens=13000 + rnd * 900,
                                                breakdown={"tools": 12800, "results": rnd * 900})))
        if mode == "codeact" and i % 200 == 150:
            text = "\n```python\n" + "\n".join(CODE) + "\n```\n"
        elif i % 40 == 39:
            text = "\n"
        else:
            text = WORDS[i % len(WORDS)] + " "
        items.append(("token", TextDelta(run_id=run, mode=mode, round=rnd, text=text)))
        if mode == "tool_calling" and i % 250 == 249:
            items.append(("event", ToolCall(run_id=run, mode=mode, round=rnd, call_id=str(i),
                                            name="projects_list", arguments={"page": i})))
            items.append(("event", ToolResult(run_id=run, mode=mode, round=rnd, call_id=str(i),
                                              name="projects_list", ok=True,
                                              content='{"items": [' + '{"id": 1}, ' * 200 + "]}",
                                              tokens=900)))
    items.append(("event", RunFinished(run_id=run, mode=mode, stop_reason="answered",
                                       success=True, answer="done", verdict=["ok"], rounds=rnd,
                                       input_tokens=13000 * rnd, output_tokens=tokens)))
    return items


class FastRace:
    """Both panes' streams at ``rate`` tokens per second each, as the engine would yield them."""

    def __init__(self, tokens: int, rate: float, shape: str = "mixed") -> None:
        self.step_mode = False
        self.tokens, self.rate, self.shape = tokens, rate, shape
        self.cancelled = False

    def step(self) -> None: ...

    def cancel(self) -> None:
        self.cancelled = True

    async def events(self) -> AsyncIterator[Event]:
        streams = {m: token_stream(m, self.tokens, self.shape) for m in ("tool_calling", "codeact")}
        for mode in streams:
            yield RunStarted(run_id="perf", mode=mode, task_id="perf", task_title="perf",
                             provider="synthetic", model="-", scripted=True, max_rounds=10)
        start = time.perf_counter()
        positions = dict.fromkeys(streams, 0)
        sent = dict.fromkeys(streams, 0)
        while any(positions[m] < len(streams[m]) for m in streams) and not self.cancelled:
            due = int((time.perf_counter() - start) * self.rate)
            for mode, items in streams.items():
                while positions[mode] < len(items) and sent[mode] < due:
                    kind, event = items[positions[mode]]
                    positions[mode] += 1
                    sent[mode] += kind == "token"
                    yield event
            await asyncio.sleep(0.002)


class FastBackend(Backend):
    def __init__(self, tokens: int, rate: float, shape: str = "mixed") -> None:
        self.tokens, self.rate, self.shape = tokens, rate, shape

    def list_tasks(self, task_file=None):
        return []

    def load_prompts(self, task_id):
        return None

    def new_race(self, choice, prompts):
        return FastRace(self.tokens, self.rate, self.shape)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def lag_probe(samples: list[tuple[float, float]], stop: asyncio.Event,
                    rss: list[float]) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        samples.append((before, (time.perf_counter() - before - 0.01) * 1000))
        if len(samples) % 20 == 0:
            rss.append(tree_rss_mb())


GC_PAUSES: list[float] = []
_race_ended = RaceGarbagePolicy.race_ended


def _timed_race_ended(self: RaceGarbagePolicy) -> None:
    t0 = time.perf_counter()
    _race_ended(self)
    GC_PAUSES.append((time.perf_counter() - t0) * 1000)


RaceGarbagePolicy.race_ended = _timed_race_ended  # type: ignore[method-assign]


async def synthetic(tokens: int, rate: float, size: tuple[int, int] = (200, 60),
                    shape: str = "mixed") -> None:
    app = ExplorerApp(RunChoice(pace=0), backend=FastBackend(tokens, rate, shape))
    costs: list[tuple[float, int, float]] = []  # (start, deltas, seconds) of text-only batches
    all_costs: list[float] = []
    original = RaceScreen.on_race_events

    async def timed(self: RaceScreen, message: RaceEvents) -> None:
        t0 = time.perf_counter()
        await original(self, message)
        spent = time.perf_counter() - t0
        all_costs.append(spent)
        deltas = sum(isinstance(e, TextDelta) for e in message.events)
        if deltas == len(message.events):  # batches of streamed text only: the per-delta cost
            chars = sum(len(e.text) for e in message.events if isinstance(e, TextDelta))
            costs.append((t0, max(chars, 1), spent))

    RaceScreen.on_race_events = timed  # type: ignore[method-assign]
    async with app.run_test(size=size) as pilot:
        screen = app.race_screen
        samples: list[tuple[float, float]] = []
        rss: list[float] = []
        stop = asyncio.Event()
        # As a presenter would: the start-up warm-up (lexers, in a thread) is done before r.
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "warm-up"])
        probe = asyncio.create_task(lag_probe(samples, stop, rss))
        t0, cpu0 = time.perf_counter(), time.process_time()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        wall = time.perf_counter() - t0
        # The end of the race is part of it: the last batches handled, the rounds unfolded.
        while screen.running or any(p.unfolding for p in screen.panes.values()):
            await asyncio.sleep(0.01)
        cpu = time.process_time() - cpu0
        stop.set()
        await probe
        await pilot.pause(0.5)  # the deferred full collection runs once the race is over
        chars = sum(p.query_one(".pane-stream").virtual_size.height for p in screen.panes.values())
    lags = [lag for _, lag in samples]
    fifth = max(len(samples) // 5, 1)
    early_costs = costs[: max(len(costs) // 5, 1)]
    late_costs = costs[-max(len(costs) // 5, 1):]

    def per_delta(chunk: list[tuple[float, int, float]]) -> float:
        return sum(c[2] for c in chunk) / max(sum(c[1] for c in chunk), 1) * 1e6

    what = (f"{tokens:,} tokens per pane" if shape == "mixed" else
            f"{len(shape_text(shape)):,} characters per pane in 4-character tokens")
    print(f"synthetic stream, shape {shape!r} ({SHAPE_HELP[shape]}): {what} at {rate:,.0f} "
          f"tokens/s per pane (both panes at once), headless {size[0]}x{size[1]}")
    print(f"  wall time                 {wall:6.2f} s  ({len(all_costs)} batches handled)")
    print(f"  CPU time of the process   {cpu:6.2f} s")
    print(f"  event-loop lag p50        {pct(lags, 0.5):6.1f} ms")
    print(f"  event-loop lag p99        {pct(lags, 0.99):6.1f} ms   (goal <= 50 ms)")
    print(f"  event-loop lag max        {max(lags or [0]):6.1f} ms")
    print(f"  lag p99 first/last fifth  {pct(lags[:fifth], 0.99):6.1f} / "
          f"{pct(lags[-fifth:], 0.99):6.1f} ms")
    print(f"  cost per streamed char, early {per_delta(early_costs):6.2f} us  "
          f"(text-only batches, first fifth)")
    print(f"  cost per streamed char, late  {per_delta(late_costs):6.2f} us  (last fifth; "
          "must not grow)")
    print(f"  batch handling p50 / p99  {pct([c * 1000 for c in all_costs], 0.5):6.1f} / "
          f"{pct([c * 1000 for c in all_costs], 0.99):6.1f} ms")
    print(f"  panes' content height     {chars:,} lines")
    print(f"  RSS peak                  {max(rss or [rss_mb()]):6.1f} MB  (goal <= 350 MB)")
    print(f"  deferred full GC at end   {GC_PAUSES[-1] if GC_PAUSES else 0:6.1f} ms  (once, after "
          "the stream; not in the lag figures)")


async def real_race(pace: float) -> None:
    """A real scripted race (tokenizer, sandbox, both agents) in the headless app: lag, RSS."""
    app = ExplorerApp(RunChoice(pace=pace))
    rss: list[float] = []
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    async with app.run_test(size=(200, 60)) as pilot:
        screen = app.race_screen
        for _ in range(200):
            if screen.tasks:
                break
            await pilot.pause(0.05)
        if not screen.tasks:
            print("real race: no tasks available; skipped")
            return
        # A presenter opens the app and presses r a little later: the start-up warm-up (the
        # first race's imports, tokenizer and lexers, in a thread) has finished by then.
        t_warm = time.perf_counter()
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "warm-up"])
        warm = time.perf_counter() - t_warm
        task = screen.tasks[min(3, len(screen.tasks) - 1)]  # the aggregation task: 10 rounds
        screen.set_choice(screen.choice.with_(task_id=task.id))
        probe = asyncio.create_task(lag_probe(samples, stop, rss))
        t0 = time.perf_counter()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        for _ in range(12_000):
            if not screen.running:
                break
            await pilot.pause(0.05)
        wall = time.perf_counter() - t0
        stop.set()
        await probe
        totals = {m: t.total for m, t in screen.tally.modes.items()}
    lags = [lag for _, lag in samples]
    print(f"real scripted race ({screen.choice.task_id}, pace {pace:g}): {wall:.1f} s, "
          f"tokens {totals} (start-up warm-up waited for: {warm:.1f} s)")
    print(f"  event-loop lag p50 / p99  {pct(lags, 0.5):6.1f} / {pct(lags, 0.99):6.1f} ms   "
          f"(goal p99 <= 50 ms)   max {max(lags or [0]):.1f} ms")
    print(f"  RSS peak (app + children) {max(rss or [tree_rss_mb()]):6.1f} MB  (goal <= 350 MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=2_000)
    parser.add_argument("--size", default="200x60", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--shape", choices=(*SHAPES, "all"), default="mixed",
                        help="what the synthetic replies look like (all: each in turn)")
    parser.add_argument("--no-real", action="store_true", help="skip the real scripted race")
    parser.add_argument("--pace", type=float, default=DEFAULT_PACE,
                        help="pace of the real scripted race (default: the app's default)")
    parser.add_argument("--no-synthetic", action="store_true", help="only the real race")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f}, "
          f"RSS at start {rss_mb():.1f} MB")
    for shape in () if args.no_synthetic else SHAPES if args.shape == "all" else (args.shape,):
        asyncio.run(synthetic(args.tokens, args.rate, (width, height), shape))
    if not args.no_real:
        asyncio.run(real_race(args.pace))
    return 0


if __name__ == "__main__":
    sys.exit(main())
