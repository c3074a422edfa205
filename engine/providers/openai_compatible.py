"""An OpenAI-compatible provider: Ollama, vLLM, llama.cpp's server, LM Studio, hosted APIs.

Through the official ``openai`` SDK (streaming, native function calling). The conversation is
kept in Mistral's wire format, as every provider reads it (``engine.providers.base``); it is
sent in OpenAI's: tool messages without ``name`` (OpenAI's schema has no such field), tool calls
without ``index``, and ``tool_choice`` named as OpenAI names it (Mistral's "any" is OpenAI's
"required"). Usage is asked for with ``stream_options={"include_usage": True}`` (servers send it
only when asked, mostly as a last chunk whose ``choices`` is empty). Replies are assembled by
``engine.providers.assembly`` and retried by ``engine.providers.transport``, as Mistral's are;
the SDK's own retries are off.

Local token counts are Tekken's (Mistral's tokenizer): for another model they are an
approximation, and the API's usage is the truth (the registry says so: ``local_counts``).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2

from engine.providers.assembly import ReplyAssembly, read_reply
from engine.providers.base import ChatRequest, ProviderError, StreamChunk
from engine.providers.transport import (
    CONNECT_TIMEOUT_S,
    Attempt,
    RequestPacer,
    RetryPolicy,
    account_of,
    connection_cause,
    interval_for,
    is_connect_timeout,
    retry_after_seconds,
    shared_pacer,
    stream_with_retries,
)

if TYPE_CHECKING:
    import openai

KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
MODEL_ENV = "OPENAI_MODEL"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
# Sent when no key is set: servers without authentication (Ollama, llama.cpp, vLLM by default)
# ignore it, and the SDK refuses to start without one. llama.cpp's documentation uses this one.
NO_KEY = "sk-no-key-required"
# Mistral's names for tool_choice -> OpenAI's.
TOOL_CHOICES = {"any": "required", "auto": "auto", "none": "none", "required": "required"}
# The fields OpenAI's chat schema has per message role; anything else is left out when sending.
_MESSAGE_FIELDS = {
    "system": ("role", "content", "name"),
    "user": ("role", "content", "name"),
    "assistant": ("role", "content", "name", "tool_calls"),
    "tool": ("role", "content", "tool_call_id"),
}


def normalise_base_url(url: str | None) -> str:
    """The base URL the SDK wants (it appends ``/chat/completions``): a URL given without a
    path gets ``/v1``, as every OpenAI-compatible server serves it there; one with a path is
    kept as given (``https://host/openai/v1``); None is OpenAI's own API."""
    if not url or not url.strip():
        return DEFAULT_BASE_URL
    base = url.strip().rstrip("/")
    return base if urlsplit(base).path else f"{base}/v1"


def to_openai_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation in OpenAI's message shape (see the module docstring)."""
    out = []
    for message in messages:
        fields = _MESSAGE_FIELDS.get(str(message.get("role")))
        sent = {k: v for k, v in message.items() if fields is None or k in fields}
        calls = sent.get("tool_calls")
        if calls:
            sent["tool_calls"] = [
                {"id": c.get("id"), "type": "function",
                 "function": {"name": (c.get("function") or {}).get("name"),
                              "arguments": _arguments((c.get("function") or {}).get("arguments"))}}
                for c in calls]
        out.append(sent)
    return out


def _arguments(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value or {}, ensure_ascii=False)


class OpenAICompatibleProvider:
    """Streams replies from an OpenAI-compatible chat-completions server.

    ``base_url`` defaults to ``$OPENAI_BASE_URL``, else OpenAI's API (a URL without a path gets
    ``/v1``); ``api_key`` to ``$OPENAI_API_KEY`` (optional: local servers need none; OpenAI's
    own API without one is a ``ProviderError(kind="config")``); ``model``
    to ``$OPENAI_MODEL``, else ``gpt-4o-mini``. ``rate`` is requests per second (None: no
    pacing). Timeouts and retries as ``MistralProvider``'s.
    """

    name = "openai"
    scripted = False

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        rate: float | None = None,
        timeout_ms: int = 60_000,
        max_retries: int = 4,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        connect_window: float = 3.0,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.model = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        self.base_url = normalise_base_url(base_url or os.environ.get(BASE_URL_ENV))
        key = api_key if api_key is not None else os.environ.get(KEY_ENV, "")
        self._key = key.strip() or None
        if self._key is None and self.base_url == DEFAULT_BASE_URL:
            raise ProviderError(
                f"No server for the openai provider: give a local server's URL with "
                f"--server-url (or {BASE_URL_ENV}), or set {KEY_ENV} for OpenAI's own API.",
                kind="config")
        self.timeout_ms = timeout_ms
        self.policy = RetryPolicy(max(0, max_retries), backoff_initial, backoff_max,
                                  max_retry_after, connect_window)
        self.pacer: RequestPacer = shared_pacer(
            account_of(self.name, self.base_url, self._key), interval_for(rate))
        self._http = http_client
        self._client: openai.AsyncOpenAI | None = None

    def _get_client(self) -> openai.AsyncOpenAI:
        # Built on first use, inside the running event loop its HTTP client belongs to.
        if self._client is None:
            openai = _sdk()

            seconds = self.timeout_ms / 1000
            self._client = openai.AsyncOpenAI(
                api_key=self._key or NO_KEY, base_url=self.base_url, max_retries=0,
                timeout=httpx2.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_S)),
                http_client=self._http)
        return self._client

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": to_openai_messages(request.messages),
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.tools:
            kwargs["tools"] = request.tools
            kwargs["parallel_tool_calls"] = request.parallel_tool_calls
            if request.tool_choice is not None:
                kwargs["tool_choice"] = TOOL_CHOICES.get(request.tool_choice,
                                                         request.tool_choice)
        return kwargs

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Stream one reply, as ``MistralProvider.stream`` does (raw chunks, text, whole tool
        calls, ``Finish``; ``RetryNotice`` before each retry). Raises ``ProviderError``."""
        return stream_with_retries(
            lambda attempt: self._attempt(request, attempt),
            describe=lambda exc, attempt: self._map_error(
                exc, attempts=attempt.number, mid_stream=attempt.opened),
            asked_wait=lambda exc: retry_after_seconds(
                getattr(getattr(exc, "response", None), "headers", None)),
            policy=self.policy,
            pacer=self.pacer,
        )

    async def _attempt(self, request: ChatRequest, attempt: Attempt) -> AsyncIterator[StreamChunk]:
        stream = await self._get_client().chat.completions.create(**self._kwargs(request))
        attempt.opened = True
        # As sent: a content list (thinking chunks) stays a list, without the serializer
        # warning that the SDK's str-typed field would print.
        chunks = (chunk.to_dict(warnings=False) async for chunk in stream)
        async for piece in read_reply(chunks, ReplyAssembly(f"The server at {self.base_url}"),
                                      close=stream.close,
                                      lost=(httpx2.TransportError, _sdk().APIConnectionError)):
            yield piece

    async def aclose(self) -> None:
        """Close the SDK client (and so its HTTP client, unless the caller gave one)."""
        if self._client is not None and self._http is None:
            await self._client.close()
        self._client = None

    def _map_error(
        self, exc: BaseException, *, attempts: int, mid_stream: bool = False
    ) -> ProviderError:
        """One clear sentence and a kind for anything the SDK or the network raised."""
        openai = _sdk()
        where = self.base_url
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        details: dict[str, Any] = {"exception": type(exc).__name__, "attempts": attempts}
        if isinstance(exc, ProviderError):
            if not tries or not exc.retryable:
                return exc
            return ProviderError(f"{exc.message.split(';')[0].rstrip('.')}{tries}; try again "
                                 "later.", kind=exc.kind, retryable=True,
                                 details={**exc.details, **details})
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            detail = _api_message(exc.body) or _api_message(getattr(exc, "message", ""))
            details.update(status=status, body=str(exc.body)[:500])
            if status in (401, 403):
                return ProviderError(
                    f"The server at {where} rejected the API key (HTTP {status}); set "
                    f"{KEY_ENV} (or check it).", kind="auth", details=details)
            if status == 429:
                return ProviderError(
                    f"The server at {where} is rate limiting (HTTP 429){tries}; wait a moment "
                    "or lower --rate.", kind="rate_limit", retryable=True, details=details)
            if status >= 500:
                return ProviderError(
                    f"The server at {where} failed (HTTP {status}){tries}; try again later.",
                    kind="server", retryable=True, details=details)
            if status == 408:
                return ProviderError(f"The server at {where} timed out the request (HTTP 408)"
                                     f"{tries}.", kind="timeout", retryable=True,
                                     details=details)
            if status == 404:
                return ProviderError(
                    f"The server at {where} has no such model or endpoint (HTTP 404)"
                    f"{': ' + detail if detail else ''}; check --model and the server URL.",
                    kind="bad_request", details=details)
            return ProviderError(
                f"The server at {where} refused the request (HTTP {status})"
                f"{': ' + detail if detail else ''}.", kind="bad_request", details=details)
        if (isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException)
                and not is_connect_timeout(exc)):
            waited = f"{self.timeout_ms / 1000:g} s"
            return ProviderError(
                f"The reply from {where} stalled for {waited} mid-way{tries}." if mid_stream
                else f"The server at {where} did not answer within {waited}{tries}.",
                kind="timeout", retryable=True, details=details)
        if mid_stream and isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
            return ProviderError(
                f"The connection to {where} broke mid-reply{tries}; the round can be retried.",
                kind="truncated", retryable=True, details=details)
        if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):  # incl. connect
            return ProviderError(
                f"Could not reach the server at {where}{tries} ({connection_cause(exc)}); "
                "check that it is running and the URL is right.",
                kind="network", retryable=True, details=details)
        if isinstance(exc, openai.APIError):  # an error event inside the stream
            return ProviderError(
                f"The server at {where} stopped the reply with an error"
                f"{': ' + _api_message(exc.message) if exc.message else ''}.",
                kind="server", retryable=True, details=details)
        return ProviderError(
            f"The call to {where} failed unexpectedly ({type(exc).__name__}: {exc}).",
            kind="server", details=details)


def _sdk() -> Any:
    # Imported when first used, not with the provider registry: ``import openai`` took 1.3 s
    # of the registry's 3.2 s (python -X importtime -c "import engine.providers", load 11 on
    # 2 cores), paid by every command and by every app start that never uses this provider.
    import openai

    return openai


def _api_message(body: Any) -> str:
    """The server's own error message, shortened, from an error body (dict or text)."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return " ".join(body.split()).rstrip(".")[:160]
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        message = message or body.get("detail") or ""
        if isinstance(message, list | dict):
            message = json.dumps(message)[:160]
        return " ".join(str(message).split()).rstrip(".")[:160]
    return ""
