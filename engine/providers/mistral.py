"""The live provider: Mistral's chat API through the official ``mistralai`` SDK, streamed.

The SDK makes the request (authentication, the request models, HTTP errors); the reply's event
stream is read with the SDK's own server-sent-events parser but decoded as plain JSON, not into
the SDK's chunk models: those refuse the chunks that self-hosted servers speaking Mistral's API
send (vLLM's argument fragments have no function name; usage-only chunks; missing ids, which
the SDK would fill with "null"). ``engine.providers.assembly`` assembles the reply whatever the
dialect, and every chunk goes to the run record as the server sent it (``RawChunk``).

Pacing and retries are ``engine.providers.transport``'s: a whole reply is one attempt, so a
stream cut or stalled mid-reply is retried like a 5xx, with a ``RetryNotice`` before each wait.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from mistralai.client.utils.eventstreaming import EventStreamAsync

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
    is_local_url,
    retry_after_seconds,
    shared_pacer,
    stream_with_retries,
)

KEY_ENV = "MISTRAL_API_KEY"
DEFAULT_MODEL = "mistral-small-latest"
DEFAULT_SERVER = "https://api.mistral.ai"
HOSTED_RATE = 1.0  # requests per second: what Mistral's free tier allows (about one a second)

__all__ = ["DEFAULT_MODEL", "DEFAULT_SERVER", "KEY_ENV", "MistralProvider", "RequestPacer",
           "default_rate", "normalise_server_url"]


def normalise_server_url(url: str | None) -> str | None:
    """The base URL the SDK wants: it appends ``/v1/chat/completions`` itself, so a URL given
    with a trailing ``/v1`` (as OpenAI-style clients take it) loses it; None stays None."""
    if not url or not url.strip():
        return None
    base = url.strip().rstrip("/")
    return base.removesuffix("/v1") or base


def default_rate(server_url: str | None) -> float | None:
    """Requests per second to pace at by default: Mistral's hosted API gets its free tier's
    one a second; a server on this machine or a private network gets no pacing (None)."""
    if is_local_url(server_url):
        return None
    host = (server_url or DEFAULT_SERVER).lower()
    return HOSTED_RATE if "mistral.ai" in host else None


async def _bound_connecting(request: httpx2.Request) -> None:
    """Give connecting its own, shorter bound: the SDK sets ``timeout_ms`` for every phase of
    a request, so a host that drops packets would hold each attempt for the whole of it."""
    timeout = dict(request.extensions.get("timeout") or {})
    connect = timeout.get("connect")
    timeout["connect"] = CONNECT_TIMEOUT_S if connect is None else min(connect, CONNECT_TIMEOUT_S)
    request.extensions["timeout"] = timeout


def _decode_event(raw: str) -> Any:
    """The SDK's SSE parser hands each event over as JSON text; keep its data as plain JSON."""
    return json.loads(raw).get("data")


class MistralProvider:
    """Streams replies from Mistral's chat-completion API with native function calling.

    ``api_key`` defaults to ``$MISTRAL_API_KEY``; without one the constructor raises a
    ``ProviderError(kind="config")``. ``server_url`` points at a self-hosted deployment (with or
    without a trailing ``/v1``). ``rate`` is requests per second (None: no pacing); when not
    given, ``default_rate(server_url)``; ``min_interval`` (seconds) overrides it when given.
    ``timeout_ms`` bounds connecting and each wait for data, so a stalled stream fails.
    ``max_retries`` retries on 429, 5xx, timeouts, cut streams and connection failures, with
    exponential backoff from ``backoff_initial`` up to ``backoff_max`` seconds, or the server's
    ``Retry-After`` when it sends one (up to ``max_retry_after`` seconds); a refused connection
    is retried only within ``connect_window`` seconds of waiting.
    """

    name = "mistral"
    scripted = False

    def __init__(
        self,
        api_key: str | None = None,
        model: str = DEFAULT_MODEL,
        server_url: str | None = None,
        min_interval: float | None = None,
        timeout_ms: int = 60_000,
        max_retries: int = 4,
        async_client: httpx2.AsyncClient | None = None,
        *,
        rate: float | str | None = "default",
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        connect_window: float = 3.0,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(KEY_ENV, "")
        if not key.strip():
            raise ProviderError(
                f"No Mistral API key: set {KEY_ENV} to use the mistral provider, "
                "or use the offline `scripted` provider (--provider scripted).",
                kind="config",
            )
        self.model = model or DEFAULT_MODEL
        self.server_url = normalise_server_url(server_url)
        self.timeout_ms = timeout_ms
        self.policy = RetryPolicy(max(0, max_retries), backoff_initial, backoff_max,
                                  max_retry_after, connect_window)
        if min_interval is None:
            chosen = default_rate(self.server_url) if rate == "default" else rate
            min_interval = interval_for(chosen if isinstance(chosen, float | int) else None)
        self._key = key.strip()
        self.pacer: RequestPacer = shared_pacer(
            account_of(self.name, self.server_url or DEFAULT_SERVER, self._key), min_interval)
        self._client = async_client
        self._owns_client = async_client is None
        self._sdk: Any = None

    @property
    def max_retries(self) -> int:
        return self.policy.max_retries

    @property
    def max_retry_after(self) -> float:
        return self.policy.max_retry_after

    def _get_sdk(self) -> Any:
        # Built on first use, inside the running event loop the HTTP client will belong to.
        if self._sdk is None:
            # The SDK is imported on first use, not with the provider registry: it costs
            # 261 ms (python -X importtime -c "import mistralai.client", load 2.9 on 2 cores).
            from mistralai.client import Mistral

            if self._client is None:
                self._client = httpx2.AsyncClient(
                    follow_redirects=True, event_hooks={"request": [_bound_connecting]})
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

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Stream one reply: ``RawChunk`` items as they arrive, text deltas, then the whole tool
        calls and ``Finish`` with usage; a ``RetryNotice`` before each retry's wait. Raises
        ``ProviderError`` once the retries are spent or the failure is not worth retrying."""
        return stream_with_retries(
            lambda attempt: self._attempt(request, attempt),
            describe=lambda exc, attempt: self._map_error(
                exc, attempts=attempt.number, mid_stream=attempt.opened),
            asked_wait=lambda exc: retry_after_seconds(getattr(exc, "headers", None)),
            policy=self.policy,
            pacer=self.pacer,
        )

    async def _attempt(self, request: ChatRequest, attempt: Attempt) -> AsyncIterator[StreamChunk]:
        sdk = self._get_sdk()
        opened = await sdk.chat.stream_async(**self._kwargs(request))
        attempt.opened = True
        events = EventStreamAsync(opened.response, _decode_event, sentinel="[DONE]",
                                  client_ref=opened.client_ref)
        async for piece in read_reply(events, ReplyAssembly("Mistral"), close=events.close,
                                      lost=(httpx2.TransportError,)):
            yield piece

    async def aclose(self) -> None:
        """Close the HTTP client if this provider created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
        self._client = None
        self._sdk = None

    def _map_error(
        self, exc: BaseException, *, attempts: int, mid_stream: bool = False
    ) -> ProviderError:
        """One clear sentence and a kind for anything the SDK or the network raised."""
        from mistralai.client import errors  # imported by _get_sdk already: see there

        where = self.server_url or DEFAULT_SERVER
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        details: dict[str, Any] = {"exception": type(exc).__name__, "attempts": attempts}
        if isinstance(exc, ProviderError):
            if not tries or not exc.retryable:
                return exc
            return ProviderError(f"{exc.message.split(';')[0].rstrip('.')}{tries}; try again "
                                 "later.", kind=exc.kind, retryable=True,
                                 details={**exc.details, **details})
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
        if isinstance(exc, httpx2.TimeoutException) and not is_connect_timeout(exc):
            waited = f"{self.timeout_ms / 1000:g} s"
            return ProviderError(
                f"Mistral's reply stalled for {waited} mid-way{tries}." if mid_stream else
                f"Mistral did not answer within {waited}{tries}.",
                kind="timeout",
                retryable=True,
                details=details,
            )
        if mid_stream and isinstance(exc, httpx2.TransportError):
            return ProviderError(
                f"The connection to Mistral broke mid-reply{tries}; the round can be retried.",
                kind="truncated",
                retryable=True,
                details=details,
            )
        if isinstance(exc, httpx2.TransportError | errors.NoResponseError):
            cause = connection_cause(exc)
            return ProviderError(
                f"Could not reach Mistral at {where}{tries}{f' ({cause})' if cause else ''}; "
                "check that the server is running and the URL is right.",
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


def _first_error(exc: BaseException) -> str:
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
