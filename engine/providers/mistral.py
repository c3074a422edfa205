"""The live provider: Mistral's chat API through the official ``mistralai`` SDK, streamed.

Retries are done here, around the SDK call, rather than by the SDK's ``retry_config``: the
SDK does honour ``Retry-After``, but it bounds retries only by elapsed time (not by a count),
sleeps for whatever ``Retry-After`` says with no ceiling, and its retries would bypass the
pacing that keeps two concurrent agents inside a slow tier's request rate. Here every attempt
goes through the pacer, a ``Retry-After`` (or ``retry-after-ms``) is honoured up to a ceiling,
and the number of attempts is bounded.

Only the opening of a stream is retried. Once text has been streamed to the caller a failure is
reported, never silently replayed, and a stream that ends without a finish reason (the SDK ends
such a stream quietly) is reported as ``truncated``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2

from engine.providers.base import (
    ApiUsage,
    ChatRequest,
    ErrorKind,
    Finish,
    ProviderError,
    StreamChunk,
    TextChunk,
    ToolCallChunk,
)

KEY_ENV = "MISTRAL_API_KEY"
DEFAULT_MODEL = "mistral-small-latest"
DEFAULT_SERVER = "https://api.mistral.ai"
_RETRYABLE: frozenset[ErrorKind] = frozenset({"rate_limit", "server", "timeout", "network"})


class RequestPacer:
    """Spaces requests at least ``min_interval`` seconds apart, shared by concurrent callers.

    Each caller reserves the next free slot synchronously (no await between reading and moving
    the slot), so two agents on one event loop never take the same slot and no lock is needed.
    """

    def __init__(self, min_interval: float) -> None:
        self.min_interval = max(0.0, min_interval)
        self._next_slot = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self.min_interval
        if slot > now:
            await asyncio.sleep(slot - now)


class MistralProvider:
    """Streams replies from Mistral's chat-completion API with native function calling.

    ``api_key`` defaults to ``$MISTRAL_API_KEY``; without one the constructor raises a
    ``ProviderError(kind="config")``. ``server_url`` points at a self-hosted deployment (the SDK
    appends ``/v1/chat/completions``). ``min_interval`` is the pacing between requests (the free
    tier allows about one per second). ``timeout_ms`` bounds connecting and each wait for data.
    ``max_retries`` retries on 429, 5xx, timeouts and connection failures, with exponential
    backoff from ``backoff_initial`` up to ``backoff_max`` seconds, or the server's
    ``Retry-After`` when it sends one (up to ``max_retry_after`` seconds).
    """

    name = "mistral"
    scripted = False

    def __init__(
        self,
        api_key: str | None = None,
        model: str = DEFAULT_MODEL,
        server_url: str | None = None,
        min_interval: float = 1.0,
        timeout_ms: int = 60_000,
        max_retries: int = 4,
        async_client: httpx2.AsyncClient | None = None,
        *,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(KEY_ENV, "")
        if not key.strip():
            raise ProviderError(
                f"No Mistral API key: set {KEY_ENV} to use the mistral provider, "
                "or use the offline `scripted` provider (--provider scripted).",
                kind="config",
            )
        self.model = model or DEFAULT_MODEL
        self.server_url = server_url
        self.timeout_ms = timeout_ms
        self.max_retries = max(0, max_retries)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.pacer = RequestPacer(min_interval)
        self._key = key.strip()
        self._client = async_client
        self._owns_client = async_client is None
        self._sdk: Any = None

    def _get_sdk(self) -> Any:
        # Built on first use, inside the running event loop the HTTP client will belong to.
        if self._sdk is None:
            from mistralai.client import Mistral

            if self._client is None:
                self._client = httpx2.AsyncClient(follow_redirects=True)
            self._sdk = Mistral(
                api_key=self._key,
                server_url=self.server_url,
                async_client=self._client,
                timeout_ms=self.timeout_ms,
            )
        return self._sdk

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": request.messages,
            "temperature": request.temperature,
        }
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.tools:
            kwargs["tools"] = request.tools
            kwargs["parallel_tool_calls"] = request.parallel_tool_calls
            if request.tool_choice is not None:
                kwargs["tool_choice"] = request.tool_choice
        return kwargs

    async def _open(self, request: ChatRequest) -> Any:
        """Open the event stream, retrying what is worth retrying."""
        sdk = self._get_sdk()
        kwargs = self._kwargs(request)
        attempt = 0
        while True:
            await self.pacer.wait()
            try:
                return await sdk.chat.stream_async(**kwargs)
            except Exception as exc:
                error = self._map_error(exc, attempts=attempt + 1)
                if error.kind not in _RETRYABLE or attempt >= self.max_retries:
                    raise error from exc
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    asked = _retry_after_seconds(exc) or 0.0
                    raise ProviderError(
                        f"{error.message.rstrip('.').split(';')[0]} and it asks to wait "
                        f"{asked:.0f} s, longer than the {self.max_retry_after:.0f} s allowed; "
                        "try again later.",
                        kind=error.kind,
                        retryable=True,
                        details=error.details,
                    ) from exc
                attempt += 1
                await asyncio.sleep(delay)

    def _retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before the next attempt; None when the server asks for too long."""
        asked = _retry_after_seconds(exc)
        if asked is not None:
            return asked if asked <= self.max_retry_after else None
        backoff = min(self.backoff_max, self.backoff_initial * 2**attempt)
        return backoff * random.uniform(0.8, 1.0)  # jitter so two agents do not retry in step

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Stream one reply: text deltas, then whole tool calls, then ``Finish`` with usage."""
        events = await self._open(request)
        finish: str | None = None
        usage: ApiUsage | None = None
        calls: dict[int, dict[str, str]] = {}
        try:
            async for event in events:
                chunk = event.data
                if chunk.usage is not None:
                    usage = ApiUsage(
                        prompt_tokens=chunk.usage.prompt_tokens or 0,
                        completion_tokens=chunk.usage.completion_tokens or 0,
                    )
                for choice in chunk.choices[:1]:
                    text = _delta_text(choice.delta.content)
                    if text:
                        yield TextChunk(text)
                    for position, call in enumerate(_list(choice.delta.tool_calls)):
                        _merge_call(calls, call, position)
                    if choice.finish_reason:
                        # "model_length" (the context is full) is, for the agent, a length stop.
                        reason = str(choice.finish_reason)
                        finish = "length" if reason == "model_length" else reason
        except Exception as exc:
            raise self._map_error(exc, attempts=1, mid_stream=True) from exc
        finally:
            await events.close()
        if finish is None:
            raise ProviderError(
                "The Mistral reply was cut off before it finished (no finish reason); "
                "the round can be retried.",
                kind="truncated",
                retryable=True,
            )
        if finish == "error":
            raise ProviderError("Mistral stopped the reply with an error.", kind="server")
        for index in sorted(calls):
            call = calls[index]
            yield ToolCallChunk(index, call["id"], call["name"], call["arguments"])
        yield Finish(reason=finish, usage=usage)

    async def aclose(self) -> None:
        """Close the HTTP client if this provider created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
        self._client = None
        self._sdk = None

    def _map_error(
        self, exc: Exception, *, attempts: int, mid_stream: bool = False
    ) -> ProviderError:
        """One clear sentence and a kind for anything the SDK or the network raised."""
        from mistralai.client import errors

        where = self.server_url or DEFAULT_SERVER
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        details: dict[str, Any] = {"exception": type(exc).__name__, "attempts": attempts}
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, errors.ResponseValidationError):
            return ProviderError(
                "Mistral sent a reply chunk that could not be read; the round can be retried.",
                kind="server",
                retryable=True,
                details=details,
            )
        if isinstance(exc, errors.MistralError):
            status = exc.status_code
            details.update(status=status, body=(exc.body or "")[:500])
            detail = _api_message(exc.body)
            if status in (401, 403):
                return ProviderError(
                    f"Mistral rejected the API key (HTTP {status}); check {KEY_ENV}.",
                    kind="auth",
                    details=details,
                )
            if status == 429:
                return ProviderError(
                    f"Mistral's rate limit was hit (HTTP 429){tries}; wait a moment or raise "
                    "the pacing interval.",
                    kind="rate_limit",
                    retryable=True,
                    details=details,
                )
            if status >= 500:
                return ProviderError(
                    f"Mistral's server failed (HTTP {status}){tries}; try again later.",
                    kind="server",
                    retryable=True,
                    details=details,
                )
            if status == 408:
                return ProviderError(
                    f"Mistral timed out the request (HTTP 408){tries}.",
                    kind="timeout",
                    retryable=True,
                    details=details,
                )
            return ProviderError(
                f"Mistral refused the request (HTTP {status}){': ' + detail if detail else ''}.",
                kind="bad_request",
                details=details,
            )
        if isinstance(exc, httpx2.TimeoutException):
            return ProviderError(
                f"Mistral did not answer within {self.timeout_ms / 1000:g} s{tries}.",
                kind="timeout",
                retryable=True,
                details=details,
            )
        if mid_stream and isinstance(exc, httpx2.TransportError):
            return ProviderError(
                "The connection to Mistral broke mid-reply; the round can be retried.",
                kind="truncated",
                retryable=True,
                details=details,
            )
        if isinstance(exc, httpx2.TransportError | errors.NoResponseError):
            return ProviderError(
                f"Could not reach Mistral at {where}{tries}; check the network or the server URL.",
                kind="network",
                retryable=True,
                details=details,
            )
        if type(exc).__name__ == "ValidationError":  # pydantic: our request did not validate
            return ProviderError(
                f"The request did not match Mistral's message format ({_first_error(exc)}).",
                kind="bad_request",
                details=details,
            )
        return ProviderError(
            f"The Mistral call failed unexpectedly ({type(exc).__name__}: {exc}).",
            kind="server",
            details=details,
        )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _delta_text(content: Any) -> str:
    """Text of a delta: a string, or the text parts of a list of content chunks."""
    if isinstance(content, str):
        return content
    parts = []
    for part in _list(content):
        if getattr(part, "type", None) == "text":
            parts.append(getattr(part, "text", "") or "")
    return "".join(parts)


def _merge_call(calls: dict[int, dict[str, str]], call: Any, position: int) -> None:
    """Collect a tool call by index. Mistral sends each whole; OpenAI-style servers (such as
    self-hosted vLLM) send the arguments in fragments under the same index, so append."""
    index = call.index if isinstance(call.index, int) else position
    args = call.function.arguments
    text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
    slot = calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
    if call.id and call.id != "null":
        slot["id"] = call.id
    if call.function.name:
        slot["name"] = call.function.name
    slot["arguments"] += text


def _retry_after_seconds(exc: Exception) -> float | None:
    """The wait the server asked for (``retry-after-ms`` or ``Retry-After``), if any."""
    headers = getattr(exc, "headers", None)
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    try:
        if millis is not None:
            return max(0.0, float(millis) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _first_error(exc: Exception) -> str:
    """Where and what, from a pydantic ValidationError: "message 1: Field required"."""
    try:
        first = exc.errors()[0]  # type: ignore[attr-defined]
    except (AttributeError, IndexError, TypeError):
        return str(exc).splitlines()[0]
    loc = [p for p in first.get("loc", ()) if p != "body"]
    where = f"message {loc[0] + 1}" if loc and isinstance(loc[0], int) else "request"
    field = ".".join(str(p) for p in loc[1:] if isinstance(p, str))
    where += f" {field}" if field else ""
    return f"{where}: {str(first.get('msg', 'invalid')).rstrip('.')}"


def _api_message(body: str | None) -> str:
    """The API's own error message, shortened, from a JSON error body."""
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip().splitlines()[0][:160] if body.strip() else ""
    if isinstance(data, dict):
        message = data.get("message") or data.get("detail") or ""
        if isinstance(message, list | dict):
            message = json.dumps(message)[:160]
        return str(message).rstrip(".")[:160]
    return ""
