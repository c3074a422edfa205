"""Small pieces of the agent loop: step mode, cancellation, failures, a gathered reply, ids."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ExplorerError
from engine.providers.base import Finish, RetryNotice, StreamChunk, ToolCallChunk


class StepGate:
    """Step mode shared by the agents of a race: paused agents wait here until ``step()``."""

    def __init__(self) -> None:
        self._step_mode = False
        self._release: asyncio.Event | None = None

    @property
    def step_mode(self) -> bool:
        return self._step_mode

    @step_mode.setter
    def step_mode(self, value: bool) -> None:
        self._step_mode = bool(value)
        if not value:
            self.step()  # leaving step mode lets whoever is waiting go on

    def ticket(self) -> asyncio.Event:
        """What a pausing agent waits on; taken *before* it announces the pause, so a
        ``step()`` made as soon as the StepWaiting event is seen cannot be missed."""
        if self._release is None:
            self._release = asyncio.Event()
        return self._release

    async def wait(self) -> None:
        await self.ticket().wait()

    def step(self) -> None:
        """Release every agent waiting now for one round (later waiters wait for the next)."""
        release, self._release = self._release, None
        if release is not None:
            release.set()


class RunCancelled(Exception):
    """Raised inside an agent when the user cancelled the run."""


class AgentError(ExplorerError):
    """A failure that ends the run: one sentence for the user and its kind (``"sandbox"``...)."""

    kind = "agent"


@dataclass
class Reply:
    """One streamed reply, gathered.

    ``chunks`` are the reply's items as the agent read them (text, calls, finish: what the
    replay provider plays back), ``raw`` the server's chunks as JSON (live providers only).
    ``attempts`` keeps each failed attempt that was retried: its notice (``attempt``,
    ``attempts``, ``wait_s``, ``reason``, ``kind``), the ``text`` it had streamed and its
    ``raw`` chunks; the reply itself is the last attempt's.
    """

    text: str = ""
    calls: list[ToolCallChunk] = field(default_factory=list)
    finish: Finish | None = None
    chunks: list[StreamChunk] = field(default_factory=list)
    raw: list[Any] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    # time.monotonic() when the request went out and when its first text or call arrived
    sent_at: float = 0.0
    first_at: float | None = None

    def retry(self, notice: RetryNotice) -> str:
        """Void what the failed attempt streamed (kept in ``attempts``); returns its text."""
        discarded = self.text
        self.attempts.append({"attempt": notice.attempt - 1, "retry": notice.attempt,
                              "attempts": notice.attempts, "wait_s": notice.wait_s,
                              "reason": notice.reason, "kind": notice.kind,
                              "text": self.text, "raw": self.raw})
        self.text, self.calls, self.finish, self.chunks, self.raw = "", [], None, [], []
        self.first_at = None  # the first token that counts is the retried attempt's
        return discarded


def new_race_id(task_id: str) -> str:
    """A sortable, readable, unique id: ``20261125-152314-<task>-ab12``; runs add ``-<mode>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return f"{stamp}-{task_id}-{uuid.uuid4().hex[:4]}"


