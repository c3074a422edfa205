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
import threading
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from engine.events import Event, TextDelta

FLUSH_INTERVAL = 0.05
BUSY_FLUSH_INTERVAL = 0.1
STOP_POLL = 0.1  # seconds between checks whether a race's worker was cancelled
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
    post: Callable[[list[Event]], object],
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


class RaceRunner:
    """A race played on its own event loop in a worker thread; the UI thread steers it.

    The engine does real work between its awaits (token counting, the mock platform, writing
    the run record): on the UI's event loop each of those bursts froze the screen for 40-100 ms
    (measured with tests/perf/tui_perf.py, at load 10). On a loop of its own it competes only
    for the GIL, which Python hands over every 5 ms.

    The runner exists before the race is built, so a stop pressed while the race is still
    starting is kept and applied the moment the race exists. ``step``, ``cancel`` and
    ``step_mode`` may be called from any thread.
    """

    def __init__(self, step_mode: bool = False) -> None:
        self._lock = threading.Lock()
        self._race: RaceLike | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._step_mode = step_mode
        self.cancelled = False

    def run(self, race: RaceLike, post: Callable[[list[Event]], object],
            stop_when: Callable[[], bool] = lambda: False) -> int:
        """Play ``race`` to its end, posting coalesced batches (blocks; call from a thread).

        ``stop_when`` is polled every ``STOP_POLL`` seconds: true (the worker was cancelled,
        the app is closing) cancels the race, so the thread ends and nothing waits for it.
        """
        return asyncio.run(self._play(race, post, stop_when))

    async def _play(self, race: RaceLike, post: Callable[[list[Event]], object],
                    stop_when: Callable[[], bool]) -> int:
        with self._lock:
            self._race, self._loop = race, asyncio.get_running_loop()
            race.step_mode = self._step_mode
            if self.cancelled:
                race.cancel()

        async def watch() -> None:
            while not stop_when():
                await asyncio.sleep(STOP_POLL)
            self.cancel()

        watchdog = asyncio.create_task(watch())
        try:
            return await pump(race.events(), post)
        finally:
            watchdog.cancel()
            with self._lock:
                self._race = self._loop = None  # the race is over: nothing to step or cancel

    def _call(self, action: Callable[[RaceLike], None]) -> None:
        with self._lock:
            race, loop = self._race, self._loop
            if race is not None and loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(action, race)

    @property
    def step_mode(self) -> bool:
        return self._step_mode

    @step_mode.setter
    def step_mode(self, value: bool) -> None:
        self._step_mode = value

        def apply(race: RaceLike) -> None:
            race.step_mode = value
            if not value:
                race.step()  # release agents paused waiting for a step that will not come

        self._call(apply)

    def step(self) -> None:
        self._call(lambda race: race.step())

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
        self._call(lambda race: race.cancel())
