"""Length-prefixed frames between the app (``Sandbox``) and its child process.

A frame is a 4-byte big-endian length, one kind byte and a payload (JSON or raw guest bytes).
The app never trusts the child: lengths are capped, and anything malformed ends the child.
"""

from __future__ import annotations

import os
import select
import struct
import time

_HEADER = struct.Struct(">IB")

# app -> child
INIT = ord("I")  # {"api": spec, "limits": {...}}
EXECUTE = ord("X")  # {"code": str, "nonce": str}
ANSWER = ord("A")  # JSON reply line for a host call, forwarded verbatim to the guest
QUIT = ord("Q")
# child -> app
CALL = ord("C")  # the guest's host-call line (JSON after the leading "c")
DONE = ord("D")  # {"output", "cut", "error", "limit", "state_lost", "cpu_ms"}
READY = ord("R")  # an interpreter is up and waiting (sent once per child)
FATAL = ord("F")  # {"error": str}: the child cannot run an interpreter at all


class BridgeClosed(Exception):
    """The other side closed the channel (the child exited or was killed)."""


class BridgeTimeout(Exception):
    """No frame arrived before the deadline."""


class BridgeProtocolError(Exception):
    """The other side sent something that is not a frame."""


def send_frame(fd: int, kind: int, payload: bytes = b"") -> None:
    """Write one whole frame (blocking)."""
    data = _HEADER.pack(len(payload) + 1, kind) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameReader:
    """Reads frames from a file descriptor, with an optional deadline per frame."""

    def __init__(self, fd: int, max_frame: int) -> None:
        self.fd = fd
        self.max_frame = max_frame
        self._buf = bytearray()

    def _fill(self, deadline: float | None) -> None:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BridgeTimeout
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                raise BridgeTimeout
        try:
            chunk = os.read(self.fd, 1 << 20)
        except OSError as exc:
            raise BridgeClosed(str(exc)) from exc
        if not chunk:
            raise BridgeClosed("end of stream")
        self._buf += chunk

    def recv(self, deadline: float | None = None) -> tuple[int, bytes]:
        """The next frame as (kind, payload); raises BridgeClosed, BridgeTimeout."""
        while len(self._buf) < _HEADER.size:
            self._fill(deadline)
        length, kind = _HEADER.unpack_from(self._buf)
        if length < 1 or length > self.max_frame:
            raise BridgeProtocolError(f"frame of {length} bytes")
        end = 4 + length
        while len(self._buf) < end:
            self._fill(deadline)
        payload = bytes(self._buf[_HEADER.size : end])
        del self._buf[:end]
        return kind, payload
