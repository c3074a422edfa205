"""Back-pressure between a race's event stream and the UI (toolong's idea).

An agent can stream hundreds of text deltas a second; posting one message per delta would
drown the event loop. ``pump`` reads the stream as fast as it comes, and every ``interval``
(about 20 times a second) hands the UI one batch in which consecutive text deltas of the same
agent and round are merged into one. No Textual here: the app passes ``post``.

When the stream is fast (a replay, a quick model: hundreds of events a second) it flushes
only every ``busy_interval`` (10 a second): each flush makes the UI lay out and repaint both
scrolling panes, which at 200x60 costs 30-50 ms whatever the batch holds, so fewer, larger
batches keep the event loop responsive (measured with tests/perf/tui_perf.py). Text still
arrives ten times a second; a model at reading pace keeps the 20 a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from engine.events import Event, TextDelta

FLUSH_INTERVAL = 0.05
BUSY_FLUSH_INTERVAL = 0.1
BUSY_EVENTS = 40  # events in one flush (800 a second at 20 flushes) that make the stream busy


class RaceLike(Protocol):
    """What the app needs of a race: ``engine.controller.Race`` and the recorded replay."""

    step_mode: bool

    def step(self) -> None: ...

    def cancel(self) -> None: ...

    def events(self) -> AsyncIterator[Event]: ...


def coalesce(events: list[Event]) -> list[Event]:
    """Merge runs of text deltas per agent and round, keeping each agent's order of events."""
    out: list[Event] = []
    open_delta: dict[str, int] = {}  # mode -> index in ``out`` of a delta still open to merging
    for event in events:
        if isinstance(event, TextDelta):
            index = open_delta.get(event.mode)
            if index is not None:
                previous = out[index]
                assert isinstance(previous, TextDelta)
                if previous.round == event.round:
                    out[index] = dataclasses.replace(
                        previous, text=previous.text + event.text, elapsed=event.elapsed
                    )
                    continue
            open_delta[event.mode] = len(out)
        else:
            open_delta.pop(event.mode, None)
        out.append(event)
    return out


async def pump(
    events: AsyncIterator[Event],
    post: Callable[[list[Event]], None],
    interval: float = FLUSH_INTERVAL,
    busy_interval: float = BUSY_FLUSH_INTERVAL,
) -> int:
    """Forward ``events`` to ``post`` in coalesced batches; returns how many events were read.

    Flushes every ``interval``, or every ``busy_interval`` after a flush of ``BUSY_EVENTS`` or
    more events (the next quieter flush goes back to ``interval``).

    An exception from the stream is re-raised after what arrived before it has been posted.
    """
    buffer: list[Event] = []
    finished = asyncio.Event()
    count = 0

    async def read() -> None:
        nonlocal count
        try:
            async for event in events:
                buffer.append(event)
                count += 1
        finally:
            finished.set()

    reader = asyncio.create_task(read())
    wait = interval
    try:
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), wait)
            wait = busy_interval if len(buffer) >= BUSY_EVENTS else interval
            if buffer:
                batch = buffer[:]
                buffer.clear()
                post(coalesce(batch))
        await reader  # re-raises what the stream raised
    finally:
        if not reader.done():
            reader.cancel()
    return count
