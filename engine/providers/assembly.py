"""One streamed chat-completion reply, assembled from its chunks, whatever the server's dialect.

Mistral's API and the OpenAI-compatible servers (Ollama, vLLM, llama.cpp, LM Studio, hosted
APIs) stream the same JSON chunk shape (``choices[0].delta`` with ``content`` and
``tool_calls``, a ``finish_reason``, a ``usage``), but differ in how they cut a reply up:

- Mistral sends each tool call whole in one delta; parallel calls share a delta with distinct
  ``index`` values; the last chunk carries ``usage``.
- vLLM and llama.cpp send a call's first delta with ``id`` and ``name``, then the arguments in
  fragments whose deltas carry only ``index`` and ``function.arguments``.
- Ollama sends ``index: 0`` for every parallel call, each whole with its own ``id``.
- OpenAI-compatible servers send usage only when asked (``stream_options``), as a last chunk
  whose ``choices`` is empty; some send none at all.
- The mistralai SDK fills a missing ``id`` with the string ``"null"`` (treated as no id here).

So calls are assembled by id first: a new id is a new call even when the index repeats; a delta
without an id extends the latest call of its index (or the latest call when it has no index);
a call that never got an id is given one, 9 characters of ``[a-zA-Z0-9]`` like Mistral's
(mistral-common's v3+ validators require that shape of every id sent back), so the assistant
message and the tool message that answers it carry the same, non-empty id.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.providers.base import (
    ApiUsage,
    Finish,
    ProviderError,
    RawChunk,
    StreamChunk,
    TextChunk,
    ToolCallChunk,
)

CALL_ID_LENGTH = 9
_CALL_ID_ALPHABET = string.ascii_letters + string.digits
_CALL_ID_RE = re.compile(r"^[a-zA-Z0-9]{9}$")
# Finish reasons a server may send that mean, for the agent, "the output limit was hit".
_LENGTH_REASONS = frozenset({"length", "model_length"})


def new_call_id() -> str:
    """A fresh tool-call id: 9 random characters of ``[a-zA-Z0-9]``, as Mistral issues them."""
    return "".join(secrets.choice(_CALL_ID_ALPHABET) for _ in range(CALL_ID_LENGTH))


def is_mistral_call_id(value: str) -> bool:
    """True for an id of the shape Mistral's API issues and its validators require."""
    return bool(_CALL_ID_RE.match(value))


def delta_text(content: Any) -> str:
    """The visible text of a delta's ``content``: a string, or the ``text`` parts of a list of
    content chunks (``thinking`` chunks, as Magistral streams them, are not reply text)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(str(part.get("text") or "") for part in content
                   if isinstance(part, Mapping) and part.get("type") == "text")


def _present(value: Any) -> str:
    """A field's text, or "" when the server left it out, sent null or the SDK's "null"."""
    if value is None or value == "null":
        return ""
    return value if isinstance(value, str) else str(value)


def _arguments_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _complete_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@dataclass
class _Call:
    index: int | None
    call_id: str
    name: str
    parts: list[str] = field(default_factory=list)

    @property
    def arguments(self) -> str:
        return "".join(self.parts)


class ToolCallAssembler:
    """Tool calls from streamed ``delta.tool_calls`` items, in the order they began.

    ``add(item)`` takes one item as JSON (``{"index", "id", "type", "function": {"name",
    "arguments"}}``, any field may be missing); ``calls()`` returns the assembled calls as
    ``ToolCallChunk`` with ``index`` renumbered 0, 1, ... and every id non-empty.
    """

    def __init__(self) -> None:
        self._calls: list[_Call] = []

    def add(self, item: Mapping[str, Any]) -> None:
        raw_index = item.get("index")
        index = raw_index if isinstance(raw_index, int) else None
        call_id = _present(item.get("id"))
        function = item.get("function")
        function = function if isinstance(function, Mapping) else {}
        name = _present(function.get("name"))
        fragment = _arguments_text(function.get("arguments"))
        target = self._target(index, call_id, name)
        if target is None:
            target = _Call(index, call_id, name)
            self._calls.append(target)
        elif name and not target.name:
            target.name = name
        if call_id and not target.call_id:
            target.call_id = call_id
        if fragment:
            target.parts.append(fragment)

    def _target(self, index: int | None, call_id: str, name: str) -> _Call | None:
        """The call this item continues, or None when it starts a new one."""
        if call_id:
            for call in reversed(self._calls):
                if call.call_id == call_id:
                    # The same id again: a continuation, unless it is plainly a second whole
                    # call (a name again after complete arguments): then a new call.
                    return None if self._restarts(call, name) else call
            return None  # a new id is a new call, whatever its index says
        same_index = [c for c in self._calls if index is not None and c.index == index]
        if index is not None and not same_index:
            return None  # a new index without an id: a new call (its id is made later)
        candidate = same_index[-1] if same_index else (self._calls[-1] if self._calls else None)
        if candidate is None or self._restarts(candidate, name):
            return None
        return candidate

    @staticmethod
    def _restarts(call: _Call, name: str) -> bool:
        return bool(name and call.name and call.parts and _complete_json(call.arguments))

    def calls(self) -> list[ToolCallChunk]:
        """The assembled calls; an id is made (and kept) for any call that had none."""
        taken = {c.call_id for c in self._calls if c.call_id}
        out = []
        seen: set[str] = set()
        for position, call in enumerate(self._calls):
            if not call.call_id or call.call_id in seen:
                call.call_id = _fresh_id(taken)
            seen.add(call.call_id)
            out.append(ToolCallChunk(position, call.call_id, call.name, call.arguments))
        return out

    def __len__(self) -> int:
        return len(self._calls)


def _fresh_id(taken: set[str]) -> str:
    while True:
        made = new_call_id()
        if made not in taken:
            taken.add(made)
            return made


class ReplyAssembly:
    """One reply, chunk by chunk: text as it comes, tool calls and the finish at the end.

    ``feed(chunk)`` takes one streamed chunk as JSON and returns the ``TextChunk`` items to pass
    on now; ``end()`` returns the assembled ``ToolCallChunk`` items and the ``Finish``, or raises
    ``ProviderError(kind="truncated")`` when the stream ended without a finish reason (a cut
    connection: the SDKs end such a stream quietly). ``server`` names the server in messages.
    """

    def __init__(self, server: str = "The server") -> None:
        self.server = server
        self.text = ""
        self.tool_calls = ToolCallAssembler()
        self.finish_reason: str | None = None
        self.usage: ApiUsage | None = None

    def feed(self, chunk: Any) -> list[TextChunk]:
        if not isinstance(chunk, Mapping):
            raise ProviderError(
                f"{self.server} sent a reply chunk that is not a JSON object; the round can be "
                "retried.", kind="server", retryable=True)
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self.usage = ApiUsage(int(usage.get("prompt_tokens") or 0),
                                  int(usage.get("completion_tokens") or 0))
        choices = chunk.get("choices")
        if choices is None and "error" in chunk:
            message = chunk.get("error")
            if isinstance(message, Mapping):
                message = message.get("message")
            raise ProviderError(
                f"{self.server} stopped the reply with an error"
                f"{': ' + str(message).rstrip('.')[:160] if message else ''}.",
                kind="server", retryable=True)
        out: list[TextChunk] = []
        for choice in choices if isinstance(choices, list) else []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) not in (0, None):
                continue  # only the first choice is the reply (n=1 is all we ask for)
            delta = choice.get("delta")
            delta = delta if isinstance(delta, Mapping) else {}
            text = delta_text(delta.get("content"))
            if text:
                self.text += text
                out.append(TextChunk(text))
            calls = delta.get("tool_calls")
            for item in calls if isinstance(calls, list) else []:
                if isinstance(item, Mapping):
                    self.tool_calls.add(item)
            reason = choice.get("finish_reason")
            if reason:
                reason = str(reason)
                self.finish_reason = "length" if reason in _LENGTH_REASONS else reason
        return out

    def end(self) -> list[ToolCallChunk | Finish]:
        if self.finish_reason is None:
            raise ProviderError(
                f"{self.server}'s reply was cut off before it finished (no finish reason); "
                "the round can be retried.", kind="truncated", retryable=True)
        if self.finish_reason == "error":
            raise ProviderError(f"{self.server} stopped the reply with an error.",
                                kind="server", retryable=True)
        return [*self.tool_calls.calls(), Finish(self.finish_reason, self.usage)]


async def read_reply(
    chunks: AsyncIterator[Mapping[str, Any]],
    assembly: ReplyAssembly,
    *,
    close: Callable[[], Awaitable[Any]],
    lost: tuple[type[BaseException], ...],
) -> AsyncIterator[StreamChunk]:
    """One streamed reply of any provider: each chunk as sent (``RawChunk``, for the record),
    then what ``assembly`` makes of it, then its end. A transport error of ``lost`` after the
    finish reason (only a usage chunk or ``[DONE]`` lost) leaves a whole reply; before it, it
    propagates for the caller's retry. ``close`` always runs."""
    try:
        async for data in chunks:
            yield RawChunk(data)
            for piece in assembly.feed(data):
                yield piece
    except lost:
        if assembly.finish_reason is None:
            raise
    finally:
        await close()
    for final in assembly.end():
        yield final
