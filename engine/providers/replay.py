"""The replay provider: a recorded run's assistant replies, played back offline as streamed.

For talks without a network: record a race once with the live model, then replay it. Each
request gets the recorded reply of the same round (rounds are counted from the assistant turns
in the request), chunk for chunk, with the recorded timing (``recorded_timings``: the time to
first token and the whole reply, as the recording measured them) scaled by ``pace`` (1 = as
recorded, 0 = instant); ``Finish.timing`` carries the recorded timing itself. The agent still
runs everything else for real (tool calls on a fresh platform, programs in the sandbox), so a
replay is checked again.
If the task or the prompts differ from the recording, ``notices`` says so (the agent shows it
as a non-fatal error) and the replay goes on anyway.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from engine.events import Event, RoundStarted, TextDelta, ToolCall, Usage
from engine.providers.base import ChatRequest, Finish, ProviderError, StreamChunk, chunk_from_dict
from engine.providers.latency import RoundTiming, check_pace
from engine.records import AgentRecord, RunRecordError, load_run
from tasks.suite import Task


class ReplayProvider:
    """Plays back the replies of one recorded agent run (an ``engine.records.AgentRecord``)."""

    name = "replay"
    scripted = True

    def __init__(self, record: AgentRecord, *, pace: float = 0.0,
                 model: str | None = None) -> None:
        self.record = record
        self.pace = check_pace(pace)
        # The recorded model's name, so costs are priced as the original run's were; the
        # provider name ("replay") is what says it is a replay.
        self.model = model or str(record.header.get("model") or "unknown")
        self.recorded_provider = str(record.header.get("provider") or "")
        self._responses = {int(r.get("round", 0)): r.get("chunks") or []
                           for r in record.responses}
        self.timings = recorded_timings(record.events)

    @classmethod
    def from_path(cls, path: str | Path, mode: str, *, pace: float = 0.0,
                  model: str | None = None) -> ReplayProvider:
        """The recorded run of ``mode`` in the race that ``path`` (file or run id) belongs to."""
        try:
            race = load_run(path)
        except RunRecordError as exc:
            raise ProviderError(str(exc), kind="config") from exc
        agent = race.agents.get(mode)
        if agent is None:
            raise ProviderError(
                f"The recording {race.run_id} has no {mode.replace('_', ' ')} run to replay.",
                kind="config",
            )
        return cls(agent, pace=pace, model=model)

    async def aclose(self) -> None:
        return None

    def played_task_prompt(self) -> str | None:
        """The task prompt the recorded replies answer: the recording's first user message."""
        first = self.record.requests[0].get("messages_added", []) if self.record.requests else []
        for message in first:
            if message.get("role") == "user":
                return str(message.get("content") or "")
        return (self.record.header.get("task") or {}).get("prompt")

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        number = 1 + sum(1 for m in request.messages if m.get("role") == "assistant")
        chunks = self._responses.get(number)
        if chunks is None:
            raise ProviderError(
                f"The recording has no reply for round {number}; it ended after "
                f"{len(self._responses)} round(s).",
                kind="config",
            )
        # The first chunk comes at the recorded time to first token, the last (the finish) at
        # the recorded end, the others evenly between.
        timing = self.timings.get(number)
        first_ms = timing.ttft_ms if timing is not None else 0.0
        gap_ms = 0.0
        if timing is not None and len(chunks) > 1:
            gap_ms = max(0.0, timing.total_ms - timing.ttft_ms) / (len(chunks) - 1)
        for index, data in enumerate(chunks):
            await asyncio.sleep((gap_ms if index else first_ms) * self.pace / 1000.0)
            chunk = chunk_from_dict(data)
            if isinstance(chunk, Finish) and timing is not None:
                chunk = dataclasses.replace(chunk, timing=timing)
            yield chunk

    def notices(self, request: ChatRequest, task: Task, mode: str) -> list[tuple[str, str]]:
        """Sentences saying how this run differs from the recording (empty when it does not)."""
        header = self.record.header
        found: list[tuple[str, str]] = []
        recorded_task = (header.get("task") or {}).get("id")
        if recorded_task and recorded_task != task.id:
            found.append(("replay", f"This replays a run of task {recorded_task!r}, not "
                                    f"{task.id!r}; the replies will not fit."))
        if header.get("mode") and header.get("mode") != mode:
            found.append(("replay", f"This replays a {header['mode']} run in {mode} mode."))
        first = self.record.requests[0].get("messages_added", []) if self.record.requests else []
        recorded = {m.get("role"): m.get("content") for m in first}
        current = {m.get("role"): m.get("content") for m in request.messages[:len(first)]}
        if recorded.get("system") != current.get("system"):
            found.append(("replay", "The system prompt differs from the recording; the "
                                    "recorded replies were written for the old one."))
        if recorded.get("user") != current.get("user"):
            found.append(("replay", "The task prompt differs from the recording; the "
                                    "recorded replies were written for the old one."))
        return found


def recorded_timings(events: Sequence[Event]) -> dict[int, RoundTiming]:
    """Round number -> how long the recorded reply took (source "recorded").

    Taken from each round's ``Usage`` event when it carries the timing; for records written
    before it did, from the events' ``elapsed``: the round's start, its first streamed text or
    tool call (else its usage), and its usage (the end of the stream).
    """
    started: dict[int, float] = {}
    first: dict[int, float] = {}
    timings: dict[int, RoundTiming] = {}
    for event in events:
        number = getattr(event, "round", None)
        if not isinstance(number, int):
            continue
        if isinstance(event, RoundStarted):
            started[number] = event.elapsed
        elif isinstance(event, (TextDelta, ToolCall)):
            first.setdefault(number, event.elapsed)
        elif isinstance(event, Usage):
            if event.ttft_ms is not None and event.total_ms is not None:
                timings[number] = RoundTiming(event.ttft_ms, event.total_ms, "recorded")
            elif number in started:
                t0 = started[number]
                end = max(event.elapsed, t0)
                ttft = min(max(first.get(number, end), t0), end)
                timings[number] = RoundTiming(round((ttft - t0) * 1000.0, 1),
                                              round((end - t0) * 1000.0, 1), "recorded")
    return timings
