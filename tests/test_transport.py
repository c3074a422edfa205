"""The transport rules every live provider shares: rates, local URLs, waits, causes."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from engine.providers.transport import (
    RetryPolicy,
    connection_cause,
    interval_for,
    is_local_url,
    parse_rate,
    retry_after_seconds,
)


@pytest.mark.parametrize(("text", "rate"), [("1", 1.0), ("0.5", 0.5), (" 4 ", 4.0),
                                            ("none", None), ("None", None), ("0", None)])
def test_rates(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "-2", "inf", "nan", ""])
def test_a_bad_rate_is_one_sentence(text):
    with pytest.raises(ValueError) as info:
        parse_rate(text)
    assert str(info.value).startswith("--rate takes requests per second")


def test_intervals():
    assert interval_for(None) == 0.0 and interval_for(2) == 0.5


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:8000", True), ("http://localhost:11434/v1", True),
    ("http://[::1]:8080", True), ("http://10.0.0.7:8000", True), ("http://mybox.local", True),
    ("https://api.mistral.ai", False), ("https://llm.example.com/v1", False), (None, False),
    ("127.0.0.1:8000", True),
])
def test_local_urls(url, local):
    assert is_local_url(url) is local


def test_retry_after_in_seconds_milliseconds_or_a_date():
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds({"retry-after": later}) <= 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


def test_backoff_doubles_up_to_its_ceiling_with_jitter_below():
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=5.0)
    for retry, ceiling in ((0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (9, 5.0)):
        assert 0.8 * ceiling <= policy.backoff(retry) <= ceiling
    assert policy.attempts == 5


def test_connection_causes_are_a_few_plain_words():
    def chained(cause: BaseException) -> Exception:
        try:
            try:
                raise cause
            except BaseException as inner:
                raise OSError("All connection attempts failed") from inner
        except OSError as outer:
            return outer

    assert connection_cause(chained(ConnectionRefusedError(111, "x"))) == "connection refused"
    assert connection_cause(chained(socket.gaierror(-2, "x"))) == "host name not found"
    assert connection_cause(chained(OSError(113, "x"))) == "no route to host"
    assert connection_cause(RuntimeError("odd failure.")) == "odd failure"
