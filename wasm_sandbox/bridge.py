"""The app's end of the guest's two pipes: read lines with a deadline, write without hanging.

Lines go both ways; the first byte says what a line is. Guest -> app: ``r`` ready, ``o`` output
(a JSON string), ``k`` output bytes cut so far, ``c`` host call (JSON), ``d`` done (JSON), and
``!<token>`` events from the child process (the guest cannot know the token). App -> guest:
``x`` execute (JSON) and ``a`` host-call answer (JSON). Nothing read here is trusted: lines are
capped, and a line that is too long comes back as ``overlong`` instead of filling memory.
"""

from __future__ import annotations

import os
import select
import time


class BridgeClosed(Exception):
    """The other end is gone (the child process exited or was killed)."""


class BridgeTimeout(Exception):
    """The deadline passed first."""


def _wait(fd: int, write: bool, deadline: float | None) -> None:
    if deadline is None:
        timeout = None
    else:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise BridgeTimeout
    ready = select.select([], [fd], [], timeout) if write else select.select([fd], [], [], timeout)
    if not any(ready):
        raise BridgeTimeout


def write_all(fd: int, data: bytes, deadline: float | None) -> None:
    """Write everything to a non-blocking fd, waiting at most until ``deadline``."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            _wait(fd, True, deadline)
        except OSError as exc:  # EPIPE: the reader died
            raise BridgeClosed(str(exc)) from exc


class LineReader:
    """Lines from a non-blocking fd; lines longer than ``max_line`` are reported, not kept."""

    def __init__(self, fd: int, max_line: int) -> None:
        self.fd = fd
        self.max_line = max_line
        self._buf = bytearray()
        self._skipping = False  # inside an overlong line, dropping bytes up to its newline
        os.set_blocking(fd, False)

    def readline(self, deadline: float | None) -> tuple[bytes, bool]:
        """The next line without its newline, and whether it was overlong (then truncated)."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[: min(end, 256) if end > self.max_line else end])
                del self._buf[: end + 1]
                if self._skipping:
                    self._skipping = False
                    continue
                return line, end > self.max_line
            if len(self._buf) > self.max_line:
                head = bytes(self._buf[:256])
                self._buf.clear()
                if not self._skipping:
                    self._skipping = True
                    return head, True
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                _wait(self.fd, False, deadline)
                continue
            except OSError as exc:
                raise BridgeClosed(str(exc)) from exc
            if not chunk:
                raise BridgeClosed("end of stream")
            self._buf += chunk
