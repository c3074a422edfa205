"""Starting and killing interpreter processes.

A ``Zygote`` (one per compiled module, shared by every ``Sandbox`` of the app) has wasmtime
imported and the module loaded; it forks a serving child on request, so a fresh interpreter
costs a fork plus CPython's start-up. Where that is impossible the child is started directly.
Either way a ``ChildProcess`` owns the app's ends of three pipes and can be killed at any time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import threading
import time
import weakref
from collections import deque
from typing import IO, TYPE_CHECKING

from wasm_sandbox.bridge import BridgeClosed, BridgeTimeout, LineReader, write_all
from wasm_sandbox.launch import child_command, module_args

if TYPE_CHECKING:
    import socket

    from wasm_sandbox.runtime import RuntimeInfo

F_SETPIPE_SZ = 1031
# The guest's init line fits the 1 MiB pipe (and 64 KiB ones: the bundled API is 45 KB); a
# larger one waits this long at most for the guest to read.
GREET_SECONDS = 30.0


class _StderrTail:
    """Keeps the last lines a process wrote on stderr (for crash messages)."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        self.lines: deque[bytes] = deque(maxlen=16)
        if stream is not None:  # always a pipe here; None only if a caller passes no PIPE
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

    def _drain(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self.lines.append(line[:400])

    def last(self) -> str:
        for line in reversed(self.lines):
            text = line.decode("utf-8", "replace").strip()
            if text and not text.startswith(("stack backtrace", "note:", "0:", "1:")):
                return text
        return ""


class Zygote:
    """A fork server for one compiled module."""

    def __init__(self, runtime: RuntimeInfo) -> None:
        import socket

        app_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            child_command("zygote", *module_args(runtime)),
            stdin=child_end.fileno(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={}, close_fds=True, start_new_session=True,
        )
        child_end.close()
        self.sock = app_end
        self.lock = threading.Lock()
        self.stderr = _StderrTail(self.proc.stderr)
        weakref.finalize(self, _stop_zygote, self.proc, self.sock)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, fds: list[int]) -> int:
        import socket

        with self.lock:
            socket.send_fds(self.sock, [b"s"], fds)
            reply = self.sock.recv(64)
        if not reply.strip().isdigit():
            raise OSError("the zygote did not answer")
        return int(reply)


def _stop_zygote(proc: subprocess.Popen, sock: socket.socket) -> None:
    sock.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1)
    if proc.poll() is None:
        proc.kill()
        proc.wait()


_zygotes: dict[tuple, Zygote] = {}
_zygote_lock = threading.Lock()


def _zygote_for(runtime: RuntimeInfo) -> Zygote | None:
    import socket  # only for a zygote: 1-3 ms of every `sandbox run` (-X importtime)

    if not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        return None
    key = tuple(module_args(runtime))
    with _zygote_lock:
        zygote = _zygotes.get(key)
        if zygote is None or not zygote.alive():
            zygote = _zygotes[key] = Zygote(runtime)
        return zygote


def prestart() -> ChildProcess:
    """A child of its own, started now, before the runtime is checked: it starts Python and
    loads wasmtime's library (13.6 ms of CPU) while the caller goes on; ``Sandbox(...,
    child=...)`` sends it its work.

    For a one-shot caller (``sandbox run``), which would otherwise start it only after
    importing and checking everything else. Raises ``SandboxError`` when wasmtime is not
    installed and ``OSError`` when no process can be started.
    """
    return ChildProcess(None, fork_server=False)


def _pipe(size: int | None = None) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    if size:
        with contextlib.suppress(OSError):  # a bigger pipe is an optimisation only
            fcntl.fcntl(write_end, F_SETPIPE_SZ, size)
    return read_end, write_end


class ChildProcess:
    """A serving child: ``ctl`` and ``gin`` to write, ``reader`` over ``gout``.

    Started at once: forked by the module's zygote when ``runtime`` is given and
    ``fork_server`` is True, else a process of its own (which needs no runtime yet: it loads
    wasmtime's library, then waits for its init line). It runs nothing until ``begin`` sends
    that line; the guest then waits for its own init line (``greet``) on its stdin.
    """

    def __init__(self, runtime: RuntimeInfo | None = None, fork_server: bool = True) -> None:
        ctl_r, self.ctl = _pipe(1 << 20)  # room for the init line, so begin() need not wait
        gin_r, self.gin = _pipe(1 << 20)
        gout_r, gout_w = _pipe(1 << 20)
        theirs = [ctl_r, gin_r, gout_w]
        self.popen: subprocess.Popen | None = None
        self.stderr: _StderrTail | None = None
        self.pidfd: int | None = None
        try:
            self.pid = self._start(runtime, theirs, fork_server)
        except BaseException:
            for fd in (*theirs, self.ctl, self.gin, gout_r):
                os.close(fd)
            raise
        for fd in theirs:
            os.close(fd)  # only the child holds these now, so its death is our end of file
        with contextlib.suppress(OSError, AttributeError):
            self.pidfd = os.pidfd_open(self.pid)
        os.set_blocking(self.gin, False)
        self.reader = LineReader(gout_r, 1 << 16)  # begin() sets the session's line limit
        self.ready = False
        self.idle_cpu_ns: int | None = None  # CPU time when the last execution ended
        self._finalizer = weakref.finalize(
            self, _kill_child, self.pid, self.pidfd, self.popen, [self.ctl, self.gin, gout_r]
        )

    def begin(self, init_line: bytes, max_line: int) -> None:
        """Send the init line (``child.py``'s doc says what it holds): the child starts its
        interpreter. A child that died already shows as the end of ``reader``."""
        self.reader.max_line = max_line
        view = memoryview(init_line)
        with contextlib.suppress(OSError):
            while view:
                view = view[os.write(self.ctl, view) :]

    def greet(self, guest_init: bytes) -> None:
        """Write the guest's own init line (its API: ``guest/driver.py``) on its stdin, which
        it reads once CPython has started. A child that died already shows as the end of
        ``reader``; a guest that never reads shows as no ready line."""
        with contextlib.suppress(BridgeClosed, BridgeTimeout):
            write_all(self.gin, guest_init, time.monotonic() + GREET_SECONDS)

    def _start(self, runtime: RuntimeInfo | None, fds: list[int], fork_server: bool) -> int:
        zygote = None
        with contextlib.suppress(OSError):
            zygote = _zygote_for(runtime) if fork_server and runtime is not None else None
        if zygote is not None:
            try:
                pid = zygote.fork(fds)
                self.stderr = zygote.stderr
                return pid
            except OSError:
                pass  # a broken zygote: start this child directly instead
        self.popen = subprocess.Popen(
            child_command("serve", *map(str, fds)),
            pass_fds=fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env={}, close_fds=True, start_new_session=True,
        )
        self.stderr = _StderrTail(self.popen.stderr)
        return self.popen.pid

    def signal(self, byte: bytes) -> None:
        """One control byte to the child's watchdog (``s``, ``e``, ``q``)."""
        with contextlib.suppress(OSError):
            os.write(self.ctl, byte)

    def cpu_ns(self) -> int | None:
        """CPU time of the child's main thread (the one running WebAssembly), in ns."""
        try:
            with open(f"/proc/{self.pid}/schedstat", "rb") as fh:
                return int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def main_thread(self) -> tuple[str, int] | None:
        """(scheduler state letter, CPU ns) of the thread running WebAssembly, or None.

        ``R`` is running or waiting for a CPU, ``S``/``D`` waiting (e.g. the driver blocked on
        its next request). From ``/proc/<pid>/task/<pid>/stat`` and ``.../schedstat``.
        """
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/stat", "rb") as fh:
                stat = fh.read()
            with open(f"/proc/{self.pid}/task/{self.pid}/schedstat", "rb") as fh:
                cpu = int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3].decode("ascii", "replace")
        return state, cpu

    def last_words(self) -> str:
        return self.stderr.last() if self.stderr is not None else ""

    def kill(self) -> None:
        self._finalizer()

    def close(self) -> None:
        self.signal(b"q")
        self._finalizer()


def _kill_child(pid: int, pidfd: int | None, popen: subprocess.Popen | None,
                fds: list[int]) -> None:
    if popen is not None:
        if popen.poll() is None:
            popen.kill()
        popen.wait()
    elif pidfd is not None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    else:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for fd in [*fds, *([pidfd] if pidfd is not None else [])]:
        with contextlib.suppress(OSError):
            os.close(fd)
