"""The one streaming interface every model provider speaks.

A request is Mistral's chat-completion wire format (messages as dicts, tools as function
schemas), because that is the live API we reproduce; the scripted and replay providers read the
same request. A reply streams as ``TextChunk``/``ToolCallChunk`` items and always ends with one
``Finish`` carrying the finish reason and, when the API reports it, the usage.

Live providers also yield two kinds of items that are not part of the reply itself:
``RawChunk`` (one chunk exactly as the server sent it, for the run record) and
``RetryNotice`` (an attempt failed and another one is about to be made after a wait; whatever
the failed attempt streamed so far is void). Consumers that only want the reply skip both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from engine.errors import ExplorerError
from engine.providers.latency import RoundTiming

ErrorKind = Literal[
    "auth", "rate_limit", "server", "timeout", "network", "bad_request", "truncated", "config"
]


@dataclass(frozen=True)
class ChatRequest:
    """One round's request, in Mistral's wire format."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | None = None  # "auto" | "any" | "none" | None (provider default)
    parallel_tool_calls: bool = False
    temperature: float = 0.0
    max_tokens: int | None = None
    # Not sent: the agent's local Tekken count of the request, for providers that model
    # latency (the scripted one); None when nobody counted.
    input_tokens: int | None = None


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ToolCallChunk:
    """One whole tool call (Mistral streams each call whole). ``arguments`` is raw JSON text."""

    index: int
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ApiUsage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Finish:
    """Last item of every stream. ``reason`` is "stop", "tool_calls", "length", ...

    ``timing``: how long the reply took, from a provider that knows better than the wall clock
    around its stream (the scripted provider's model, a replay's recording); None otherwise.
    """

    reason: str
    usage: ApiUsage | None = None
    timing: RoundTiming | None = None


@dataclass(frozen=True)
class RawChunk:
    """One streamed chunk as the server sent it (its JSON ``data``), kept for the run record."""

    data: Any


@dataclass(frozen=True)
class RetryNotice:
    """An attempt failed; attempt number ``attempt`` of at most ``attempts`` starts in
    ``wait_s`` seconds. Text and calls streamed since the previous notice (or the start) are
    void: the next attempt streams the reply again from its beginning. ``reason`` is the
    failure in one sentence, ``kind`` its ``ErrorKind``."""

    attempt: int
    attempts: int
    wait_s: float
    reason: str
    kind: str


StreamChunk = TextChunk | ToolCallChunk | Finish | RawChunk | RetryNotice


def chunk_to_dict(chunk: StreamChunk) -> dict[str, Any]:
    """One reply item as a JSON-friendly dict (``chunk_from_dict`` reads it back)."""
    if isinstance(chunk, RawChunk):
        return {"type": "raw", "data": chunk.data}
    if isinstance(chunk, RetryNotice):
        return {"type": "retry", "attempt": chunk.attempt, "attempts": chunk.attempts,
                "wait_s": chunk.wait_s, "reason": chunk.reason, "kind": chunk.kind}
    if isinstance(chunk, TextChunk):
        return {"type": "text", "text": chunk.text}
    if isinstance(chunk, ToolCallChunk):
        return {"type": "tool_call", "index": chunk.index, "call_id": chunk.call_id,
                "name": chunk.name, "arguments": chunk.arguments}
    usage = None
    if chunk.usage is not None:
        usage = {"prompt_tokens": chunk.usage.prompt_tokens,
                 "completion_tokens": chunk.usage.completion_tokens}
    return {"type": "finish", "reason": chunk.reason, "usage": usage}


def chunk_from_dict(data: dict[str, Any]) -> StreamChunk:
    """The reply item ``chunk_to_dict`` wrote (a run record's ``chunks``)."""
    kind = data.get("type")
    if kind == "raw":
        return RawChunk(data.get("data"))
    if kind == "retry":
        return RetryNotice(int(data.get("attempt", 2)), int(data.get("attempts", 2)),
                           float(data.get("wait_s", 0.0)), str(data.get("reason", "")),
                           str(data.get("kind", "server")))
    if kind == "text":
        return TextChunk(str(data.get("text", "")))
    if kind == "tool_call":
        return ToolCallChunk(int(data.get("index", 0)), str(data.get("call_id", "")),
                             str(data.get("name", "")), str(data.get("arguments", "")))
    usage = data.get("usage")
    return Finish(str(data.get("reason", "stop")),
                  ApiUsage(int(usage["prompt_tokens"]), int(usage["completion_tokens"]))
                  if usage else None)


@dataclass
class ProviderError(ExplorerError):
    """A provider failure, with one sentence a user can act on (``message``), what failed
    (``kind``), whether trying again may help, and what the server said (``details``)."""

    message: str
    kind: ErrorKind = "server"
    retryable: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)  # args, for pickling and repr

    def __str__(self) -> str:
        return self.message


@runtime_checkable
class Provider(Protocol):
    """A source of model replies. ``scripted`` is True for anything that is not a real model."""

    name: str
    model: str
    scripted: bool

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Stream one reply; raises ``ProviderError`` on failure (after its own retries)."""
        ...

    async def aclose(self) -> None: ...
