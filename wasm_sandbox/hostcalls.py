"""The app's side of one execution: answering host calls and collecting output, under limits.

Everything here reads what the guest wrote, so everything is validated and capped: a host-call
line must be ``c<seq>\\t<name>\\t<args as a JSON object>``; the number of calls and the size of
arguments and results are counted here, whatever the guest claims. Answers are
``a<seq>\\t<nonce>\\t<kind>\\t<JSON>``, kind ``1`` (the value), ``0`` (the error message) or
``L`` (a limit: ``{"limit", "error"}``); the nonce tells the guest's driver that an answer
belongs to this execution.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from wasm_sandbox.api import TOOL_NAME
from wasm_sandbox.limits import Limits
from wasm_sandbox.result import LimitName

HostCall = Callable[[str, dict], dict]
# JSON both ways with the C accelerator's scanner and encoder made once: json.loads(bytes)
# guesses the encoding and matches whitespace around the value (1.8 µs for a small call's
# arguments, the scanner alone 0.4 µs), and JSONEncoder.encode builds a new C encoder on every
# call (2.8 µs for a small dict, the encoder alone 1.2 µs); measured with timeit on this
# machine. The guest writes compact ASCII JSON, so no whitespace is skipped.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__
_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # None without the accelerator
_c_encode = (_make_encoder(None, _ENCODER.default, json.encoder.encode_basestring_ascii, None,
                           ":", ",", False, False, True) if _make_encoder is not None else None)


def _encode(value: Any) -> str:
    """``value`` as compact JSON; ``TypeError`` (as json.dumps) for what JSON cannot hold."""
    if _c_encode is None:  # no C accelerator (another Python implementation)
        return _ENCODER.encode(value)
    return "".join(_c_encode(value, 0))


def _decode(text: str) -> Any:
    """The JSON value that is all of ``text``; ``ValueError`` otherwise."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError("more than one JSON value")
    return value


class HostCalls:
    """Answers the host calls of one execution and remembers which limit, if any, was hit."""

    def __init__(self, host_call: HostCall, limits: Limits, nonce: str) -> None:
        self.host_call = host_call
        self.limits = limits
        self.nonce = nonce
        self.names: list[str] = []
        self.hit: LimitName | None = None

    def answer(self, payload: bytes) -> bytes:
        """The answer line (``a...\\n``) to one host-call line ``c<seq>\\t<name>\\t<args>``
        (``payload`` is the line after its ``c``)."""
        limits = self.limits
        try:
            seq, raw_name, raw_args = payload.split(b"\t", 2)
            call_id = int(seq)
            name = raw_name.decode("ascii")
            args = _decode(raw_args.decode("utf-8"))
            if not TOOL_NAME.fullmatch(name) or not isinstance(args, dict):
                raise TypeError
        except (ValueError, TypeError, RecursionError, UnicodeDecodeError):
            return self._reply(0, "0", "malformed host call on the bridge")
        if self.hit:
            return self._limit(call_id, self.hit, f"the {self.hit} limit was already hit")
        if len(self.names) >= limits.host_calls:
            return self._limit(call_id, "host_calls",
                               f"host-call limit hit: at most {limits.host_calls} per execution")
        if len(payload) > limits.argument_bytes:
            return self._limit(call_id, "argument_size",
                               f"the arguments of {name} are {len(payload)} bytes, over the "
                               f"{limits.argument_bytes}-byte limit")
        self.names.append(name)
        try:
            wire = self.host_call(name, args)
            if not isinstance(wire, dict) or not isinstance(wire.get("ok"), bool):
                raise TypeError("host_call must return {'ok': bool, ...}")
            if wire["ok"]:
                body = self._reply(call_id, "1", wire.get("value"))
            else:
                body = self._reply(call_id, "0", str(wire.get("error") or f"{name} failed"))
        except Exception as exc:
            body = self._reply(call_id, "0", f"{name} failed in the host: {exc}")
        size = len(body) - 2  # without the line's "a" and newline
        if size > limits.argument_bytes:
            return self._limit(call_id, "argument_size",
                               f"the result of {name} is {size} bytes, over the "
                               f"{limits.argument_bytes}-byte limit")
        return body

    def _limit(self, call_id: int, limit: LimitName, message: str) -> bytes:
        self.hit = self.hit or limit
        return self._reply(call_id, "L", {"limit": limit, "error": message})

    def _reply(self, call_id: int, kind: str, payload: Any) -> bytes:
        body = _encode(payload)  # TypeError when not JSON: caught
        return f"a{call_id}\t{self.nonce}\t{kind}\t{body}\n".encode()


class Output:
    """What the program printed, capped at the output limit, with a count of what was cut."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.cut = 0
        self.guest_cut = 0
        self.raw_bytes = 0  # bytes that bypassed print(): a flood of them ends the execution

    def add(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        room = self.limit - self.size
        if len(data) > room:
            keep = data[: max(room, 0)].decode("utf-8", "ignore")
            self.cut += len(data) - len(keep.encode("utf-8"))
            text, data = keep, keep.encode("utf-8")
        if text:
            self.parts.append(text)
            self.size += len(data)

    def add_printed(self, payload: bytes) -> None:
        """An ``o`` line: a JSON string the guest's print() produced."""
        try:
            text = json.loads(payload)
        except ValueError:
            text = None
        if isinstance(text, str):
            self.add(text)
        else:
            self.add_raw(b"o" + payload)

    def add_raw(self, line: bytes) -> None:
        """A line that is not a bridge message: the program wrote it to fd 1 itself."""
        self.raw_bytes += len(line) + 1
        self.add(line.decode("utf-8", "replace") + "\n")

    def note_guest_cut(self, payload: bytes, final: bool = False) -> None:
        try:
            value = int(payload)
        except ValueError:
            return
        if value >= 0:
            self.guest_cut = value if final else max(self.guest_cut, value)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def truncated(self) -> int:
        return self.cut + self.guest_cut
