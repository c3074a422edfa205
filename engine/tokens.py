"""Tekken token counts: one tokenizer, text, tool schemas, messages, whole requests, and the
per-run ledger that counts each message once.

Mistral's models read a chat request through the Tekken tokenizer (v3 instruct format):
``<s>``, then per message ``[INST] user [/INST]``, assistant text or ``[TOOL_CALLS] [...]``
followed by ``</s>``, ``[TOOL_RESULTS] {...} [/TOOL_RESULTS]``; the tool schemas go in one
``[AVAILABLE_TOOLS] [...] [/AVAILABLE_TOOLS]`` block and the system prompt is put in front of
the last user message. mistral-common ships the vocabulary as package data (no download) and
encodes a whole request that way (``count_request``); doing that every round re-encodes
everything said so far, and the 120 tool schemas. ``TokenLedger`` instead encodes each message
once, with mistral-common's own per-message encoders, when it joins the conversation; a
request is then a sum. The total matches a whole-request encode to within a token or two
(where the system prompt meets the last user message), which tests/test_accounting.py measures.

mistral-common is imported on first use, not with this module: importing it measured 350-520 ms
(``python -X importtime``, load 12 on 2 cores), which commands that count nothing (``sandbox
run``, ``runs``, ``export``) should not pay. Loading the tokenizer costs about a second more.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from engine.events import TOKEN_SOURCES

if TYPE_CHECKING:
    from mistral_common.tokens.tokenizers.instruct import InstructTokenizerBase
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

TOKENIZER_NAME = "tekken_240718 (mistral-common, MistralTokenizer.v3(is_tekken=True))"
_LOCK = threading.Lock()


@cache
def _load() -> MistralTokenizer:
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    # Tekken v3 is the tokenizer of Mistral Small / NeMo; the newer tekken file shipped with
    # mistral-common (240911) is the same vocabulary plus image tokens.
    return MistralTokenizer.v3(is_tekken=True)


def tokenizer() -> MistralTokenizer:
    """The one Tekken ``MistralTokenizer`` of the process, loaded on first use (about 1 s;
    thread-safe). Raises whatever mistral-common raises when its vocabulary cannot be read."""
    with _LOCK:
        return _load()


def _instruct() -> InstructTokenizerBase[Any, Any, Any]:
    from mistral_common.tokens.tokenizers.instruct import InstructTokenizerBase

    instruct = tokenizer().instruct_tokenizer
    if not isinstance(instruct, InstructTokenizerBase):  # v3 Tekken is an InstructTokenizerV3
        raise TypeError(f"mistral-common's {type(instruct).__name__} cannot encode messages")
    return instruct


@lru_cache(maxsize=256)
def count_text(text: str) -> int:
    """Tekken tokens of plain text, without control tokens. Cached: prompts repeat across runs."""
    if not text:
        return 0
    return len(_instruct().tokenizer.encode(text, bos=False, eos=False))


def count_tools(tools: Sequence[Mapping[str, Any]]) -> int:
    """Tokens the ``tools`` schemas add to a request: the ``[AVAILABLE_TOOLS] ...
    [/AVAILABLE_TOOLS]`` block, as Mistral's chat template lays it out (0 for no tools)."""
    if not tools:
        return 0
    return _tools_tokens_cached(json.dumps(list(tools), sort_keys=False))


@lru_cache(maxsize=16)
def _tools_tokens_cached(tools_json: str) -> int:
    from mistral_common.protocol.instruct.tool_calls import Tool

    tools = [Tool.model_validate(t) for t in json.loads(tools_json)]
    dumped = [t.model_dump(exclude={"function": {"strict": True}}) for t in tools]
    return 2 + count_text(json.dumps(dumped, ensure_ascii=False))


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content chunks
        return "".join(str(c.get("text", "")) for c in content if isinstance(c, Mapping))
    return str(content)


def _call_parts(call: Any) -> tuple[str, str, str]:
    """(id, name, raw arguments) of a wire-format tool call dict or a ToolCallChunk."""
    if isinstance(call, Mapping):
        fn = call.get("function") or {}
        args = fn.get("arguments", "")
        args = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        return str(call.get("id") or ""), str(fn.get("name", "")), args
    return str(getattr(call, "call_id", "")), str(call.name), str(call.arguments)


def count_assistant(content: str, tool_calls: Sequence[Any] = ()) -> int:
    """Tokens of one assistant turn as the model reads it back (and as it generated it):
    its text and/or tool calls (wire-format dicts or ``ToolCallChunk``) and ``</s>``."""
    from mistral_common.protocol.instruct.messages import AssistantMessage
    from mistral_common.protocol.instruct.tool_calls import FunctionCall, ToolCall

    instruct = _instruct()
    total = 0
    text = content.rstrip(" ")
    calls = [
        ToolCall(id=cid or "null", function=FunctionCall(name=name, arguments=args or "{}"))
        for cid, name, args in map(_call_parts, tool_calls)
    ]
    if calls:
        msg = AssistantMessage(tool_calls=calls)
        total += len(instruct.encode_assistant_message(msg, False))  # includes </s>
        if text:  # Mistral may send words beside calls; mistral-common would refuse both
            total += count_text(text)
    elif text:
        total += len(instruct.encode_assistant_message(AssistantMessage(content=text), False))
    else:
        total += 1  # an empty turn still ends with </s>
    return total


def count_message(message: Mapping[str, Any]) -> int:
    """Tokens one wire-format message adds to a request (system: its text and separator)."""
    from mistral_common.protocol.instruct.messages import ToolMessage, UserMessage

    role = message.get("role")
    content = _text(message.get("content"))
    instruct = _instruct()
    if role == "system":
        return count_text(content + "\n\n") if content else 0
    if role == "user":
        tokens, _, _ = instruct.encode_user_message(
            UserMessage(content=content), None, False, False
        )
        return len(tokens)
    if role == "assistant":
        return count_assistant(content, message.get("tool_calls") or ())
    if role == "tool":
        msg = ToolMessage(
            content=content or "{}",
            tool_call_id=str(message.get("tool_call_id") or "null"),
            name=message.get("name"),
        )
        tokens, _, _ = instruct.encode_tool_message(msg, False)
        return len(tokens)
    return count_text(content)


def count_request(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None
) -> int:
    """Tokens of a whole request by mistral-common's own ``encode_chat_completion`` (the slow
    path, re-encoding everything; the reference ``TokenLedger`` is checked against). Raises
    mistral-common's validation error for a request its chat template refuses (e.g. one that
    ends with an assistant message)."""
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    request: ChatCompletionRequest[Any] = ChatCompletionRequest.model_validate(
        {"messages": [dict(m) for m in messages], "tools": list(tools) if tools else None}
    )
    return len(tokenizer().encode_chat_completion(request).tokens)


class TokenLedger:
    """Input tokens of one agent's next request, by source, each message encoded once.

    ``add(message, source)`` when a message joins the conversation; ``set_tools`` once with the
    tool schemas (tool calling) or the Python API text (CodeAct). The API text is counted where
    it is sent: if it sits inside a message (normally the system prompt), those tokens are
    reported under ``"tools"`` instead of that message's source, so the breakdown still sums to
    exactly what the request holds.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[str, int, str]] = []  # (source, tokens, text if it may hold API)
        self._schemas_tokens = 0
        self._api_text: str | None = None
        self._api_tokens = 0

    def set_tools(self, tools: Sequence[Mapping[str, Any]] | str | None) -> int:
        """Count the tool schemas (a list) or the API text (a string) once; returns the count."""
        if isinstance(tools, str):
            self._api_text = tools or None
            self._api_tokens = count_text(tools) if tools else 0
            self._schemas_tokens = 0
            return self._api_tokens
        self._api_text, self._api_tokens = None, 0
        self._schemas_tokens = count_tools(tools or [])
        return self._schemas_tokens

    def add(self, message: Mapping[str, Any], source: str) -> int:
        """Count a message once as it joins the conversation; returns its tokens.

        Raises ``ValueError`` for a ``source`` not in ``engine.events.TOKEN_SOURCES``."""
        if source not in TOKEN_SOURCES:
            raise ValueError(f"unknown token source {source!r}; expected one of {TOKEN_SOURCES}")
        tokens = count_message(message)
        keep = _text(message.get("content")) if message.get("role") in ("system", "user") else ""
        self._entries.append((source, tokens, keep))
        return tokens

    def breakdown(self) -> dict[str, int]:
        """Input tokens of the next request by source (keys: ``TOKEN_SOURCES``)."""
        counts = dict.fromkeys(TOKEN_SOURCES, 0)
        if self._entries:
            counts["system"] += 1  # <s>, once per request
        moved = False
        for source, tokens, text in self._entries:
            if self._api_text and not moved and self._api_text in text:
                share = min(self._api_tokens, tokens)
                counts["tools"] += share
                tokens -= share
                moved = True
            counts[source] += tokens
        counts["tools"] += self._schemas_tokens
        return counts

    def input_tokens(self) -> int:
        """Total input tokens of the next request (the sum of ``breakdown()``)."""
        return sum(t for _, t, _ in self._entries) + self._schemas_tokens + bool(self._entries)

    def count_output(self, text: str, tool_calls: Sequence[Any] = ()) -> int:
        """Tokens the model generated for one reply: its text and/or tool calls, and ``</s>``."""
        return count_assistant(text, tool_calls)

    def __len__(self) -> int:
        return len(self._entries)
