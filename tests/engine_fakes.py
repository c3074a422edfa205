"""Small fakes for the engine's tests: a provider that plays given chunks, a sandbox, a task."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from engine.providers.base import ChatRequest, Finish, StreamChunk, TextChunk, ToolCallChunk
from tasks.suite import Task


def fake_task(**overrides: Any) -> Task:
    values: dict[str, Any] = dict(id="fake-task", title="A fake task",
                                  prompt="Find Lena Okafor's team.", checker="fake")
    values.update(overrides)
    return Task(**values)


def text(reply: str) -> list[StreamChunk]:
    return [TextChunk(reply), Finish("stop")]


def calls(*items: tuple[str, str, str]) -> list[StreamChunk]:
    """Tool calls as (call id, name, raw JSON arguments)."""
    chunks: list[StreamChunk] = [ToolCallChunk(i, cid, name, args)
                                 for i, (cid, name, args) in enumerate(items)]
    return [*chunks, Finish("tool_calls")]


@dataclass
class FakeProvider:
    """Plays one list of chunks per request; an Exception in a list is raised there.

    ``gate``, when set, is awaited before every chunk (tests use it to hold a stream open).
    """

    replies: list[list[Any]] | Callable[[ChatRequest], list[Any]]
    name: str = "fake"
    model: str = "fake-model"
    scripted: bool = True
    requests: list[ChatRequest] = field(default_factory=list)
    gate: asyncio.Event | None = None
    closed: bool = False

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        self.requests.append(request)
        if callable(self.replies):
            chunks = self.replies(request)
        else:
            index = len(self.requests) - 1
            chunks = self.replies[index] if index < len(self.replies) else text("done")
        for chunk in chunks:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0)
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


class FakeSandbox:
    """Answers ``arun`` with ``respond(code)`` (an ExecutionResult); remembers what ran."""

    def __init__(self, respond: Callable[[str], Any] | None = None,
                 block: asyncio.Event | None = None) -> None:
        from wasm_sandbox import ExecutionResult

        self.respond = respond or (lambda code: ExecutionResult(output="ok\n"))
        self.block = block
        self.codes: list[str] = []
        self.closed = False
        self.interrupted = False

    async def arun(self, code: str) -> Any:
        self.codes.append(code)
        if self.block is not None:
            await self.block.wait()
        return self.respond(code)

    def interrupt(self) -> None:
        self.interrupted = True

    def close(self) -> None:
        self.closed = True


def install_checker(monkeypatch: Any, judge: Callable[..., tuple[bool, list[str]]]) -> None:
    """Make the platform toolbox judge by ``judge(task, answer, final platform)``."""

    def check(task: Any, answer: str, initial: Any, final: Any) -> Any:
        ok, reasons = judge(task, answer, final)
        return SimpleNamespace(success=ok, reasons=reasons)

    monkeypatch.setattr("engine.toolboxes.platform.check", check)


async def collect(events: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in events]
