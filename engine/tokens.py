"""Token counting with Mistral's own Tekken tokenizer (mistral-common, no download needed).

The tokenizer is loaded once, lazily (about a second), from the vocabulary that mistral-common
ships as package data. Tools are counted the way a chat request carries them: the difference
between encoding a request with the tools and the same request without them.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import Any

from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

TOKENIZER_NAME = "tekken_240718 (mistral-common, MistralTokenizer.v3(is_tekken=True))"
_LOCK = threading.Lock()
_PROBE = [{"role": "user", "content": "hi"}]


@cache
def _tokenizer() -> MistralTokenizer:
    # Tekken v3 is the tokenizer of Mistral Small / NeMo; the newer tekken file shipped with
    # mistral-common (240911) is the same vocabulary plus image tokens.
    return MistralTokenizer.v3(is_tekken=True)


def tokenizer() -> MistralTokenizer:
    """The shared Tekken tokenizer, loaded on first use (thread-safe)."""
    with _LOCK:
        return _tokenizer()


def count_text(text: str) -> int:
    """Tekken tokens of plain text, without begin/end-of-sequence markers."""
    if not text:
        return 0
    raw = tokenizer().instruct_tokenizer.tokenizer
    return len(raw.encode(text, bos=False, eos=False))


def _normalise_ids(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool-call ids as the chat template demands (9 alphanumerics, as Mistral's API issues);
    ids from other providers (scripted, replay) would otherwise be refused."""
    ids: dict[str, str] = {}

    def fixed(call_id: Any) -> str:
        return ids.setdefault(str(call_id), f"c{len(ids):08d}")

    out = []
    for message in messages:
        message = dict(message)
        if message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                call = {**call, "id": fixed(call.get("id"))}
                fn = dict(call.get("function") or {})
                if not isinstance(fn.get("arguments", ""), str):
                    fn["arguments"] = json.dumps(fn["arguments"], ensure_ascii=False)
                call["function"] = fn
                calls.append(call)
            message["tool_calls"] = calls
        if message.get("role") == "tool" and "tool_call_id" in message:
            message["tool_call_id"] = fixed(message["tool_call_id"])
        out.append(message)
    return out


def _encode(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> int:
    request = ChatCompletionRequest.from_openai(_normalise_ids(messages), tools=tools or None)
    return len(tokenizer().encode_chat_completion(request).tokens)


def count_tools(tools: list[dict[str, Any]]) -> int:
    """Tokens the ``tools`` list adds to a chat request, as Mistral's chat template lays it out."""
    if not tools:
        return 0
    return _encode(_PROBE, tools) - _encode(_PROBE, None)


def count_messages(messages: list[dict[str, Any]],
                   tools: list[dict[str, Any]] | None = None) -> int:
    """Tokens of a whole chat request (Mistral wire-format messages, optional tools).

    A request the chat template refuses (for instance one that does not end in a user or tool
    message) is counted message by message instead, so counting never fails a run.
    """
    try:
        return _encode(messages, tools)
    except Exception:  # the template's validation, not our accounting, is what failed
        pass
    if len(messages) > 1 and messages[-1].get("role") == "assistant":
        # A finished conversation ends with the model's answer, which the serving template
        # refuses as a last message: encode what came before, then add the answer.
        try:
            return _encode(messages[:-1], tools) + count_message(messages[-1])
        except Exception:
            pass
    total = count_tools(tools or [])
    for message in messages:
        total += count_message(message)
    return total


def count_message(message: dict[str, Any]) -> int:
    """Approximate tokens of one message on its own: its text and any tool calls."""
    content = message.get("content") or ""
    if not isinstance(content, str):
        content = json.dumps(content, ensure_ascii=False)
    total = count_text(content) + 2  # role markers
    for call in message.get("tool_calls") or []:
        fn = call.get("function", {})
        args = fn.get("arguments", "")
        if not isinstance(args, str):
            args = json.dumps(args, ensure_ascii=False)
        total += count_text(str(fn.get("name", ""))) + count_text(args) + 3
    return total
