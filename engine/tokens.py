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


def _encode(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> int:
    request = ChatCompletionRequest.from_openai(messages, tools=tools or None)
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
