"""A strict stand-in for Mistral's chat API on 127.0.0.1 (no network, no key).

It speaks the wire format the official SDK expects: ``POST /v1/chat/completions`` with
``stream: true`` answered by server-sent events (``data: {chunk}`` lines, then
``data: [DONE]``). Each request takes the next scripted ``Reply`` from a queue (or from a
``responder``), so a test says exactly what happens: a 429 with ``Retry-After`` then a reply, a
stream cut mid-way, a server that never answers, and so on. Every request is recorded (path,
headers, JSON body, arrival time) so tests can check what was sent and when.

Strict: every request is validated before it is answered, as the live API would
(``validate=False`` turns that off), and a violation is answered like the API does (422 for a
body that does not fit the request schema, 400 for a request it refuses) and kept in
``violations``:
- the request schema: ``model`` and a non-empty ``messages`` list, no unknown top-level field;
- the API's own rules: tool-call ids of 9 characters ``[a-zA-Z0-9]`` in assistant messages and
  tool messages, each tool message answering a call of the assistant message before it, no
  ``user`` message right after a ``tool`` message (publicly reported refusals of the live API),
  a known ``tool_choice``;
- mistral-common in serving mode: the request is validated and encoded with the Tekken
  tokenizer as versions v3 and v7 read it (v3 refuses an assistant message with both content
  and tool calls; v7 accepts it). mistral-common ships one Tekken vocabulary; v7 is the same
  vocabulary under v7's instruct format and validator, as Mistral's v7 models use it.

Stream dialects (``dialect_reply``): ``mistral`` (each call whole, parallel calls in one delta
with distinct indexes, usage in the last chunk), ``fragments`` (vLLM / llama.cpp: a call's
first delta has its id and name, the arguments follow in fragments whose deltas carry only the
index), ``same_index`` (Ollama: every call its own whole delta, all with index 0, finish reason
"stop"), ``usage_only`` (usage in a last chunk whose ``choices`` is empty), ``no_usage``.

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

from mistral_rules import Violation, check_openai_request, check_request, tokenizers

DIALECTS = ("mistral", "fragments", "same_index", "usage_only", "no_usage")


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


def _fragments(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def dialect_reply(
    dialect: str,
    text: str = "",
    calls: list[tuple[str, str, str]] | tuple[()] = (),
    *,
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    ids: bool = True,
    thinking: str | None = None,
) -> Reply:
    """A reply of ``text`` and tool ``calls`` ``(id, name, raw_arguments)``, streamed the way
    ``dialect`` streams it (see the module docstring). ``ids=False`` leaves every call's id out.
    ``thinking`` streams the content as lists of content chunks, as Mistral's reasoning models
    (Magistral) do: a ``thinking`` chunk holding that text first, then ``text`` chunks.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; one of {DIALECTS}")
    usage = _usage(prompt_tokens, completion_tokens)
    finish = "tool_calls" if calls else "stop"
    chunks = [_chunk({"role": "assistant", "content": ""})]
    pieces = _fragments(text, 4 if dialect == "fragments" else max(1, -(-len(text) // 3)))
    if thinking is not None:
        chunks.append(_chunk({"content": [{"type": "thinking", "thinking": [
            {"type": "text", "text": thinking}]}]}))
        chunks += [_chunk({"content": [{"type": "text", "text": piece}]})
                   for piece in pieces if piece]
    else:
        chunks += [_chunk({"content": piece}) for piece in pieces if piece]

    def whole(i: int, cid: str, name: str, args: str, index: int) -> dict[str, Any]:
        call: dict[str, Any] = {"type": "function", "index": index,
                                "function": {"name": name, "arguments": args}}
        if ids:
            call["id"] = cid
        return call

    if dialect == "fragments":
        for i, (cid, name, args) in enumerate(calls):
            first: dict[str, Any] = {"index": i, "type": "function",
                                     "function": {"name": name, "arguments": ""}}
            if ids:
                first["id"] = cid
            chunks.append(_chunk({"tool_calls": [first]}))
            chunks += [_chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]})
                       for part in _fragments(args, 5)]
    elif dialect == "same_index":
        chunks += [_chunk({"content": "", "tool_calls": [whole(i, *call, index=0)]})
                   for i, call in enumerate(calls)]
        finish = "stop"  # Ollama says "stop" even when it called tools
    elif calls:
        chunks.append(_chunk({"content": "", "tool_calls": [
            whole(i, *call, index=i) for i, call in enumerate(calls)]}))
    if dialect == "usage_only":
        chunks.append(_chunk({"content": ""}, finish))
        last = _chunk({}, None, usage)
        last["choices"] = []
        chunks.append(last)
    elif dialect == "no_usage":
        chunks.append(_chunk({"content": ""}, finish))
    else:
        chunks.append(_chunk({"content": ""}, finish, usage))
    return Reply(chunks=chunks)


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
        violation = fake._check(recorded)
        if violation is not None:  # answered as the API would; no scripted reply is used
            self._plain(Reply(status=violation.status, body=violation.body()))
            return
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

    def __init__(
        self,
        responder: Callable[[RecordedRequest], Reply | None] | None = None,
        *,
        validate: bool | str = True,
        user_after_tool: bool = False,
    ) -> None:
        # ``responder`` picks a reply from the request itself (say, by whether it carries
        # tools), for two agents sharing one server; returning None falls back to the queue.
        # ``validate`` checks every request as the API would (mistral_rules): True or "mistral"
        # for Mistral's API, "openai" for an OpenAI-compatible server running a Mistral model;
        # a violation is answered 400/422 and kept in ``violations``; ``user_after_tool``
        # allows that order (Mistral's profile).
        self.responder = responder
        self.validate = validate
        self.user_after_tool = user_after_tool
        self.violations: list[tuple[RecordedRequest, Violation]] = []
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

    def _check(self, request: RecordedRequest) -> Violation | None:
        if not self.validate or not request.path.endswith("/chat/completions"):
            return None
        if self.validate == "openai":
            violation = check_openai_request(request.body)
        else:
            violation = check_request(request.body, user_after_tool=self.user_after_tool)
        if violation is not None:
            with self._lock:
                self.violations.append((request, violation))
        return violation

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> FakeMistral:
        if self.validate:
            tokenizers()  # built once per process (seconds), before any client waits on it
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
