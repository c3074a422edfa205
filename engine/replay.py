"""A recorded run played back into the panes, with the same controls as a live race.

The recorded events of each agent are replayed concurrently, as the agents ran, with the
recorded gaps between events (their ``elapsed``) times ``pace``: 1 replays at the recorded
speed, 0.5 twice as fast, 0 instantly. Step mode pauses an agent before each round, exactly as
``engine.controller.Race`` does (the wait in step mode is not replayed).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence

from engine.events import Event, RoundStarted, RunFinished, StepWaiting
from engine.providers.latency import check_pace


class RecordedRace:
    """Replays ``events`` (one run, any number of agents) as a race-like stream."""

    def __init__(self, events: Sequence[Event], pace: float = 0.0) -> None:
        self._events = list(events)
        self._pace = check_pace(pace)
        self.step_mode = False
        self._release = asyncio.Event()
        self._cancelled = False

    def step(self) -> None:
        """Let every paused agent play its next round."""
        self._release.set()

    def cancel(self) -> None:
        self._cancelled = True
        self._release.set()

    async def events(self) -> AsyncIterator[Event]:
        modes = list(dict.fromkeys(event.mode for event in self._events))
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        tasks = [asyncio.create_task(self._play(mode, queue)) for mode in modes]
        running = len(tasks)
        try:
            while running:
                event = await queue.get()
                if event is None:
                    running -= 1
                else:
                    yield event
        finally:
            for task in tasks:
                task.cancel()

    async def _play(self, mode: str, queue: asyncio.Queue[Event | None]) -> None:
        mine = [event for event in self._events if event.mode == mode]
        last_elapsed = 0.0
        stepped = False
        finished = False
        try:
            for event in mine:
                if self._cancelled:
                    break
                if isinstance(event, RoundStarted) and self.step_mode:
                    await queue.put(StepWaiting(run_id=event.run_id, mode=event.mode,
                                                elapsed=event.elapsed, round=event.round))
                    await self._wait_for_step()
                    if self._cancelled:
                        break
                # The recording's own pause in step mode (a person's wait) is not replayed.
                gap = 0.0 if stepped else max(event.elapsed - last_elapsed, 0.0)
                await asyncio.sleep(gap * self._pace)  # zero still lets the others interleave
                last_elapsed = event.elapsed
                stepped = isinstance(event, StepWaiting)
                finished = finished or isinstance(event, RunFinished)
                await queue.put(event)
            if self._cancelled and not finished and mine:
                await queue.put(_cancelled_finish(mine))
        finally:
            await queue.put(None)

    async def _wait_for_step(self) -> None:
        await self._release.wait()
        # Every agent waiting now is released by this one step; let them all wake, then re-arm.
        await asyncio.sleep(0)
        self._release.clear()


def _cancelled_finish(events: list[Event]) -> RunFinished:
    recorded = next((e for e in reversed(events) if isinstance(e, RunFinished)), None)
    first = events[0]
    if recorded is not None:
        return dataclasses.replace(recorded, stop_reason="cancelled", success=False)
    return RunFinished(run_id=first.run_id, mode=first.mode, stop_reason="cancelled",
                       success=False, answer="", verdict=["replay stopped"], rounds=0,
                       input_tokens=0, output_tokens=0)
