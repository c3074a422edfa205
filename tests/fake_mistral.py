"""A tiny fake Mistral API on 127.0.0.1 for fault tests (no network, no key).

It speaks the wire format the official SDK expects: ``POST /v1/chat/completions`` with
``stream: true`` answered by server-sent events (``data: {chunk}`` lines, usage in the last
chunk, then ``data: [DONE]``). Each request takes the next scripted ``Reply`` from a queue, so a
test says exactly what happens: a 429 with ``Retry-After`` then a reply, a stream cut mid-way,
a server that never answers, and so on. Every request is recorded (path, headers, JSON body,
arrival time) so tests can check what the SDK sent and when.

Use it as a context manager (``with FakeMistral() as server: ... server.url``), or through
the ``mistral_server`` fixture of tests/conftest.py; ``fast_provider(server)`` points the real
provider at it with test-sized pacing and backoff.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer to one request.

    ``chunks`` set: a 200 event stream of those chunk dicts, then ``[DONE]`` unless ``done`` is
    False. ``cut_after`` closes the connection after that many chunks (no finish, no DONE).
    ``framing="chunked"`` uses HTTP/1.1 chunked encoding, so a cut is a protocol error on the
    client side; the default ``"close"`` delimits the body by closing, so a cut ends quietly.
    Otherwise ``status``/``body`` make a plain JSON answer. ``delay`` holds the headers back.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    chunks: list[dict[str, Any]] | None = None
    done: bool = True
    cut_after: int | None = None
    framing: str = "close"
    delay: float = 0.0
    chunk_delay: float = 0.0


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: dict | None = None) -> dict:
    chunk: dict[str, Any] = {
        "id": "cmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def text_reply(
    text: str, *, pieces: int = 3, prompt_tokens: int = 100, completion_tokens: int = 7
) -> Reply:
    """A streamed text answer in ``pieces`` deltas, finish "stop", usage in the last chunk."""
    step = max(1, -(-len(text) // pieces)) if text else 1
    parts = [text[i : i + step] for i in range(0, len(text), step)] or [""]
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": part}) for part in parts]
    chunks.append(_chunk({"content": ""}, "stop", _usage(prompt_tokens, completion_tokens)))
    return Reply(chunks=chunks)


def tool_call_reply(
    calls: list[tuple[str, str, str]], *, prompt_tokens: int = 100, completion_tokens: int = 20
) -> Reply:
    """Tool calls ``(id, name, raw_arguments)`` sent whole in one delta, as Mistral does."""
    tool_calls = [
        {"id": cid, "type": "function", "index": i, "function": {"name": name, "arguments": args}}
        for i, (cid, name, args) in enumerate(calls)
    ]
    return Reply(
        chunks=[
            _chunk({"role": "assistant", "content": ""}),
            _chunk({"content": "", "tool_calls": tool_calls}),
            _chunk({"content": ""}, "tool_calls", _usage(prompt_tokens, completion_tokens)),
        ]
    )


def error_reply(status: int, message: str = "error", **headers: str) -> Reply:
    """A JSON error answer; ``retry_after="2"`` becomes a ``Retry-After`` header."""
    named = {k.replace("_", "-").title(): v for k, v in headers.items()}
    return Reply(status=status, headers=named, body={"object": "error", "message": message})


def cut_reply(text: str = "Let me look that up", *, framing: str = "close") -> Reply:
    """A stream that stops mid-reply: some text, then the connection closes."""
    reply = text_reply(text, pieces=2)
    reply.cut_after = 2
    reply.framing = framing
    return reply


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        fake = self.server.fake
        recorded = RecordedRequest(self.path, dict(self.headers.items()), body, time.monotonic())
        fake._record(recorded)
        reply = (fake.responder(recorded) if fake.responder else None) or fake._next()
        if reply.delay and fake._closing.wait(reply.delay):
            return
        if reply.chunks is None:
            self._plain(reply)
        else:
            self._stream(reply)

    def _plain(self, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: Reply) -> None:
        chunked = reply.framing == "chunked"
        if chunked:
            self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.close_connection = True
        chunks = assert_list(reply.chunks)
        events = [f"data: {json.dumps(c)}\n\n".encode() for c in chunks]
        if reply.cut_after is not None:
            events = events[: reply.cut_after]
        elif reply.done:
            events.append(b"data: [DONE]\n\n")
        for event in events:
            if reply.chunk_delay and self.server.fake._closing.wait(reply.chunk_delay):
                return
            if chunked:
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            else:
                self.wfile.write(event)
            self.wfile.flush()
        if chunked and reply.cut_after is None:
            self.wfile.write(b"0\r\n\r\n")


def assert_list(value: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    assert value is not None
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeMistral

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is a scripted outcome here, not a server fault.
        pass


class FakeMistral:
    """The fake API. ``enqueue`` replies, point the SDK at ``url``, read ``requests`` after."""

    def __init__(self, responder: Callable[[RecordedRequest], Reply | None] | None = None) -> None:
        # ``responder`` picks a reply from the request itself (say, by whether it carries
        # tools), for two agents sharing one server; returning None falls back to the queue.
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def enqueue(self, *replies: Reply) -> FakeMistral:
        with self._lock:
            self._replies.extend(replies)
        return self

    def _next(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return error_reply(500, "the fake server has no scripted reply left")

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> FakeMistral:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeMistral:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def fast_provider(server: FakeMistral, **kwargs: Any) -> Any:
    """A ``MistralProvider`` pointed at ``server`` with test-sized pacing, backoff and timeout."""
    from engine.providers.mistral import MistralProvider

    kwargs.setdefault("min_interval", 0.0)
    kwargs.setdefault("backoff_initial", 0.01)
    kwargs.setdefault("backoff_max", 0.05)
    kwargs.setdefault("timeout_ms", 2000)
    return MistralProvider(api_key="test-key", server_url=server.url, **kwargs)
