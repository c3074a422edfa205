"""What Mistral's chat API refuses, checked the way the stand-in server (fake_mistral) needs it;
and what an OpenAI-compatible server refuses (``check_openai_request``).

``check_request(body)`` returns None for a request the live API would take, else a
``Violation`` with the HTTP status and JSON body the API answers with: 422 for a body that does
not fit the request schema (FastAPI's ``{"detail": [...]}``), 400 for a request it refuses
(``{"object": "error", "message": ..., "type": "invalid_request_error", ...}``).

The rules, in the order they are checked:
1. schema: a JSON object with ``model`` (a string) and ``messages`` (a non-empty list), and no
   top-level field the API does not know (the fields of the mistralai SDK's
   ``ChatCompletionStreamRequest``: the request shape the SDK and the API share);
2. the API's own rules: tool-call ids are 9 characters of ``[a-zA-Z0-9]`` (in assistant
   ``tool_calls`` and in tool messages), each tool message answers a call of the assistant
   message before it, no ``user`` message right after a ``tool`` message (a refusal the live
   API was reported to make: "Unexpected role 'user' after role 'tool'"), a known
   ``tool_choice``;
3. mistral-common in serving mode: ``ChatCompletionRequest`` validation, then
   ``encode_chat_completion`` with a Tekken tokenizer as v3 and as v7 read it (each runs its
   version's ``MistralRequestValidator``).
The tokenizers are built once per process (about 3 s), on first use.

``check_openai_request(body)`` is the OpenAI-compatible profile: OpenAI's request fields
(``openai``'s ``CompletionCreateParams``) and message fields per role (its message param types:
a tool message has no ``name``), ``tool_choice`` among OpenAI's names ("any" is Mistral's),
``stream_options`` only with ``stream``, every tool message answering a pending call; then, as
a server running a Mistral model does (vLLM in its Mistral tokenizer mode), mistral-common's
serving validation.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CALL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")
TOOL_CHOICES = frozenset({"auto", "none", "any", "required"})
VERSIONS = ("v3", "v7")
_LOCK = threading.Lock()
_TOKENIZERS: dict[str, Any] = {}


@dataclass(frozen=True)
class Violation:
    """Why the API would refuse a request, as it would answer."""

    status: int
    message: str
    rule: str

    def body(self) -> dict[str, Any]:
        if self.status == 422:
            return {"detail": [{"type": "value_error", "loc": ["body"], "msg": self.message}]}
        return {"object": "error", "message": self.message, "type": "invalid_request_error",
                "param": None, "code": None}


def _api_fields() -> frozenset[str]:
    from mistralai.client.models import ChatCompletionStreamRequest

    return frozenset(f.alias or name
                     for name, f in ChatCompletionStreamRequest.model_fields.items())


def tokenizers() -> dict[str, Any]:
    """Serving-mode ``MistralTokenizer`` per version (v3, v7), on mistral-common's Tekken file."""
    with _LOCK:
        if not _TOKENIZERS:
            _TOKENIZERS.update(_build_tokenizers())
        return _TOKENIZERS


def _build_tokenizers() -> dict[str, Any]:
    import mistral_common
    from mistral_common.protocol.instruct.normalize import get_normalizer
    from mistral_common.protocol.instruct.validator import ValidationMode, get_validator
    from mistral_common.tokens.tokenizers.base import TokenizerVersion
    from mistral_common.tokens.tokenizers.instruct import InstructTokenizerV3, InstructTokenizerV7
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    path = Path(mistral_common.__file__).parent / "data" / "tekken_240718.json"
    model = json.loads(path.read_text(encoding="utf-8"))
    built = {}
    for name, version, instruct in (("v3", TokenizerVersion.v3, InstructTokenizerV3),
                                    ("v7", TokenizerVersion.v7, InstructTokenizerV7)):
        tekken = Tekkenizer(
            vocab=model["vocab"], special_tokens=list(Tekkenizer.DEPRECATED_SPECIAL_TOKENS),
            pattern=model["config"]["pattern"],
            vocab_size=model["config"]["default_vocab_size"],
            num_special_tokens=model["config"]["default_num_special_tokens"],
            version=version, name=f"tekken-{name}")
        built[name] = MistralTokenizer(
            instruct(tekken), validator=get_validator(version, ValidationMode.serving),
            request_normalizer=get_normalizer(version, None))
    return built


def check_request(body: Any, *, user_after_tool: bool = False) -> Violation | None:
    """None when Mistral's API would take ``body``, else the ``Violation`` it would answer."""
    problem = _schema(body) or _api_rules(body, user_after_tool) or _mistral_common(body)
    return problem


def _schema(body: Any) -> Violation | None:
    if not isinstance(body, dict):
        return Violation(422, "Input should be a valid dictionary", "schema")
    if not isinstance(body.get("model"), str):
        return Violation(422, "model: Field required", "schema")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return Violation(422, "messages: should be a non-empty list", "schema")
    extra = sorted(set(body) - _api_fields())
    if extra:
        return Violation(422, f"{extra[0]}: Extra inputs are not permitted", "schema")
    return None


def _api_rules(body: dict[str, Any], user_after_tool: bool) -> Violation | None:
    choice = body.get("tool_choice")
    if choice is not None and not isinstance(choice, dict) and choice not in TOOL_CHOICES:
        return Violation(422, f"tool_choice: {choice!r} is not one of {sorted(TOOL_CHOICES)}",
                         "schema")
    pending: set[str] = set()
    previous = None
    for number, message in enumerate(body["messages"], 1):
        if not isinstance(message, dict):
            return Violation(422, f"messages.{number}: not an object", "schema")
        role = message.get("role")
        if role == "user" and previous == "tool" and not user_after_tool:
            return Violation(400, "Unexpected role 'user' after role 'tool'", "order")
        if role == "assistant":
            pending = set()
            for call in message.get("tool_calls") or []:
                call_id = str((call or {}).get("id") or "")
                if not CALL_ID.match(call_id):
                    return Violation(400, f"Tool call id was {call_id!r} but must be a-z, A-Z, "
                                          "0-9, with a length of 9.", "call_id")
                pending.add(call_id)
        if role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            if not CALL_ID.match(call_id):
                return Violation(400, f"Tool call id was {call_id!r} but must be a-z, A-Z, "
                                      "0-9, with a length of 9.", "call_id")
            if call_id not in pending:
                return Violation(400, f"Tool message {number} answers {call_id!r}, which no "
                                      "pending tool call has.", "call_id")
            pending.discard(call_id)
        previous = role
    return None


def _mistral_common(body: dict[str, Any]) -> Violation | None:
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from pydantic import ValidationError

    fields = {k: body[k] for k in ("model", "tools", "temperature", "max_tokens",
                                   "random_seed", "top_p") if body.get(k) is not None}
    # The API's schema has a call's ``index`` (the SDK sends it); mistral-common has no such
    # field: the API drops it before validating, and so does this.
    fields["messages"] = [
        {**m, "tool_calls": [{k: v for k, v in c.items() if k != "index"}
                             for c in m["tool_calls"]]} if m.get("tool_calls") else m
        for m in body["messages"]]
    choice = body.get("tool_choice")
    if choice in ("auto", "none", "any"):
        fields["tool_choice"] = choice
    try:
        request = ChatCompletionRequest.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return Violation(422, f"{where}: {first.get('msg')}", "mistral-common schema")
    for version, tokenizer in tokenizers().items():
        try:
            tokenizer.encode_chat_completion(request)
        except Exception as exc:  # whatever the encoder refuses, the API refuses
            return Violation(400, f"{type(exc).__name__} ({version}): {exc}",
                             f"mistral-common {version}")
    return None


OPENAI_TOOL_CHOICES = frozenset({"auto", "none", "required"})


def _openai_fields() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    from openai.types.chat import (
        ChatCompletionAssistantMessageParam,
        ChatCompletionDeveloperMessageParam,
        ChatCompletionSystemMessageParam,
        ChatCompletionToolMessageParam,
        ChatCompletionUserMessageParam,
    )
    from openai.types.chat.completion_create_params import CompletionCreateParamsBase

    top = frozenset(CompletionCreateParamsBase.__annotations__) | {"stream"}
    roles = {"system": ChatCompletionSystemMessageParam,
             "developer": ChatCompletionDeveloperMessageParam,
             "user": ChatCompletionUserMessageParam,
             "assistant": ChatCompletionAssistantMessageParam,
             "tool": ChatCompletionToolMessageParam}
    return top, {role: frozenset(t.__annotations__) for role, t in roles.items()}


def check_openai_request(body: Any, *, mistral_model: bool = True) -> Violation | None:
    """None when an OpenAI-compatible server would take ``body``, else its ``Violation``
    (400 as OpenAI answers, with its wording). ``mistral_model``: the server runs a Mistral
    model and validates as mistral-common does."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return Violation(400, "you must provide a model parameter", "schema")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return Violation(400, "'messages' must be a non-empty array", "schema")
    top, per_role = _openai_fields()
    extra = sorted(set(body) - top)
    if extra:
        return Violation(400, f"Unrecognized request argument supplied: {extra[0]}", "schema")
    if body.get("stream_options") is not None and not body.get("stream"):
        return Violation(400, "The 'stream_options' parameter is only allowed when 'stream' "
                              "is enabled.", "schema")
    choice = body.get("tool_choice")
    if choice is not None and not isinstance(choice, dict) and choice not in OPENAI_TOOL_CHOICES:
        return Violation(400, f"Invalid value: {choice!r}. Supported values are: 'none', "
                              "'auto', and 'required'.", "tool_choice")
    pending: set[str] = set()
    for number, message in enumerate(body["messages"]):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in per_role:
            return Violation(400, f"Invalid value: {role!r} at messages[{number}].role",
                             "schema")
        unexpected = sorted(set(message) - per_role[role])
        if unexpected:
            return Violation(400, f"Additional properties are not allowed ({unexpected[0]!r} "
                                  f"was unexpected) at messages[{number}]", "schema")
        if role == "assistant":
            if pending:
                return Violation(400, "An assistant message with 'tool_calls' must be followed "
                                      "by tool messages responding to each 'tool_call_id'.",
                                 "order")
            for call in message.get("tool_calls") or []:
                if not call.get("id") or call.get("type") != "function":
                    return Violation(400, f"messages[{number}].tool_calls: each call needs an "
                                          "id and type 'function'", "call_id")
                pending.add(str(call["id"]))
        elif role == "tool":
            if message.get("tool_call_id") not in pending:
                return Violation(400, "Invalid parameter: messages with role 'tool' must be a "
                                      "response to a preceeding message with 'tool_calls'.",
                                 "order")
            pending.discard(message["tool_call_id"])
        elif pending:
            return Violation(400, "An assistant message with 'tool_calls' must be followed by "
                                  "tool messages responding to each 'tool_call_id'.", "order")
    if not mistral_model:
        return None
    as_mistral = {k: v for k, v in body.items() if k in ("model", "messages", "tools",
                                                          "temperature", "max_tokens", "top_p")}
    if choice in ("auto", "none"):
        as_mistral["tool_choice"] = choice
    return _mistral_common(as_mistral)
