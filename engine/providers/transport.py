"""What every live provider does around its SDK call: pacing, retries, and the retry notices.

Retries are done here rather than by an SDK's own retry option: the mistralai SDK bounds its
retries only by elapsed time, sleeps for whatever ``Retry-After`` says with no ceiling, and its
retries would bypass the pacing that keeps two concurrent agents inside a slow tier's request
rate; the openai SDK retries, but silently. Here every attempt goes through the pacer, a
``Retry-After`` (or ``retry-after-ms``) is honoured up to a ceiling, the number of attempts is
bounded, and each wait is announced with a ``RetryNotice`` so the UI can say "retrying (2/5) in
4 s".

A whole reply is one attempt: a stream cut or stalled mid-reply is retried like a 5xx (the
notice tells the consumer that what the failed attempt streamed is void). A connection that is
refused or a host that cannot be reached is retried only within a short window
(``RetryPolicy.connect_window``), then reported in one sentence: a server that is not running
does not start in the next minute.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import random
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx2

from engine.errors import UserError
from engine.providers.base import ErrorKind, ProviderError, RetryNotice, StreamChunk

RETRYABLE: frozenset[ErrorKind] = frozenset(
    {"rate_limit", "server", "timeout", "network", "truncated"})


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


_SHARED_PACERS: dict[tuple[str, float], RequestPacer] = {}


def shared_pacer(account: str, min_interval: float) -> RequestPacer:
    """The one pacer of every provider that spends the same request budget in this process.

    A rate limit is per key and server, not per agent or per race: a bench racing task after
    task makes new providers for each race, and without one shared pacer the first request of
    a race would not wait for the last one of the race before. ``account`` names the budget
    (provider, server, a digest of the key); ``min_interval`` is in seconds.
    """
    key = (account, max(0.0, min_interval))
    pacer = _SHARED_PACERS.get(key)
    if pacer is None:
        pacer = _SHARED_PACERS[key] = RequestPacer(min_interval)
    return pacer


def account_of(provider: str, server: str, api_key: str | None) -> str:
    """A name for one request budget: provider, server and a digest of the key (never the
    key itself)."""
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:12]
    return f"{provider}|{server}|{digest}"


def interval_for(rate: float | None) -> float:
    """Seconds between requests for ``rate`` requests per second (None or 0: no pacing)."""
    return 1.0 / rate if rate else 0.0


def parse_rate(text: str) -> float | None:
    """``--rate``: requests per second as a positive number, or ``none`` for no pacing.

    Raises ``UserError`` (a ``ValueError``) with one sentence for anything else.
    """
    value = text.strip().lower()
    if value in ("none", "off", "0", "unlimited"):
        return None
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not rate > 0 or rate == float("inf"):
        raise UserError(f"--rate takes requests per second (such as 1 or 0.5) or 'none', "
                        f"not {text!r}.")
    return rate


def is_local_url(url: str | None) -> bool:
    """True when ``url`` points at this machine or a private network (loopback, private and
    link-local addresses, ``localhost``, ``*.local``): a server there has no request quota."""
    if not url:
        return False
    host = (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


@dataclass(frozen=True)
class RetryPolicy:
    """How failed attempts are retried.

    ``max_retries`` more attempts after the first (so at most ``max_retries + 1``), waiting
    ``backoff_initial * 2**n`` seconds (jittered, at most ``backoff_max``) or the server's
    ``Retry-After`` when it sends one, unless that is over ``max_retry_after`` seconds (then
    the error is reported at once). Connection failures (refused, unreachable) are retried only
    while the total wait stays within ``connect_window`` seconds.
    """

    max_retries: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    connect_window: float = 3.0

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def backoff(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (0 = the first), jittered so that two agents
        do not retry in step."""
        return min(self.backoff_max, self.backoff_initial * 2**retry) * random.uniform(0.8, 1.0)


def retry_after_seconds(headers: Any) -> float | None:
    """The wait a server asked for (``retry-after-ms`` or ``Retry-After``: seconds or an HTTP
    date), from a mapping of response headers; None when it asked for none."""
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
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# Seconds a connection may take to open. A host that drops packets would otherwise hold each
# attempt for the whole read timeout (60 s) before the connection window could end it.
CONNECT_TIMEOUT_S = 5.0


def is_connect_timeout(exc: BaseException) -> bool:
    """True when the connection itself timed out (somewhere in the chain of causes): the
    server could not be reached, as with a refused connection."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, httpx2.ConnectTimeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def connection_cause(exc: BaseException) -> str:
    """Why a connection failed, in a few words, from the chain of causes: "connection
    refused", "host name not found", or the operating system's text for the error number."""
    if is_connect_timeout(exc):
        return "connection timed out"
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "host name not found"
        if isinstance(seen, OSError) and isinstance(seen.errno, int) and seen.errno > 0:
            return os.strerror(seen.errno).lower()
        seen = seen.__cause__ or seen.__context__
    return " ".join(str(exc).split()).rstrip(".")[:120]


@dataclass
class Attempt:
    """What one attempt tells the retry loop: ``opened`` once the server answered 200 and the
    stream began (a failure after that is a failure mid-reply); ``number`` counts from 1."""

    number: int = 1
    opened: bool = False


# (the exception, the attempt that raised it) -> the error to report, in one sentence
DescribeError = Callable[[BaseException, Attempt], ProviderError]
# The server's requested wait for an exception (Retry-After), or None
AskedWait = Callable[[BaseException], float | None]


async def stream_with_retries(
    attempt_stream: Callable[[Attempt], AsyncIterator[StreamChunk]],
    *,
    describe: DescribeError,
    asked_wait: AskedWait,
    policy: RetryPolicy,
    pacer: RequestPacer,
) -> AsyncIterator[StreamChunk]:
    """Stream a reply, making a new attempt (paced) after each retryable failure.

    ``attempt_stream(attempt)`` streams one whole attempt and raises on failure; ``describe``
    turns what it raised into a ``ProviderError`` (a ``ProviderError`` raised by the attempt is
    passed to it too, so it can add the attempt count). Before each wait a ``RetryNotice`` is
    yielded. Raises the described ``ProviderError`` when the failure is not retryable, the
    attempts are used up, the server asks to wait longer than the policy allows, or the
    connection window is spent.
    """
    attempt = Attempt()
    waited_on_connection = 0.0
    while True:
        await pacer.wait()
        try:
            async for chunk in attempt_stream(attempt):
                yield chunk
            return
        except Exception as exc:
            error = describe(exc, attempt)
            if not (error.retryable and error.kind in RETRYABLE):
                raise error from exc
            if attempt.number > policy.max_retries:
                raise error from exc
            asked = asked_wait(exc)
            if asked is not None and asked > policy.max_retry_after:
                raise ProviderError(
                    f"{error.message.rstrip('.').split(';')[0]} and it asks to wait "
                    f"{asked:.0f} s, longer than the {policy.max_retry_after:.0f} s allowed; "
                    "try again later.",
                    kind=error.kind, retryable=True, details=error.details,
                ) from exc
            wait = asked if asked is not None else policy.backoff(attempt.number - 1)
            if error.kind == "network" and not attempt.opened:
                if waited_on_connection + wait > policy.connect_window:
                    raise error from exc
                waited_on_connection += wait
            yield RetryNotice(attempt.number + 1, policy.attempts, round(wait, 3),
                              _what_failed(error.message), error.kind)
            attempt = Attempt(number=attempt.number + 1)
        await asyncio.sleep(wait)


def _what_failed(message: str) -> str:
    """The failure part of an error sentence, for a retry notice: "Mistral's server failed
    (HTTP 503)" rather than "...; try again later." (the retry is what happens next)."""
    return re.sub(r" after \d+ attempts", "", message.split(";")[0]).rstrip(".")
