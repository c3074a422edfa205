"""``Sandbox``: one live interpreter per CodeAct run, in a child process the app can kill.

The app writes code to the guest's stdin and reads its stdout directly (``bridge``), answers
host calls on the thread that called ``run`` (``hostcalls``), and enforces what it can see: host
calls, argument and result sizes, output, and the wall-clock deadline (by killing the child when
the guest is stuck outside WebAssembly, e.g. in ``time.sleep``). CPU time and memory are
enforced inside the child (``child.py``); when they trap, the child starts a fresh interpreter
and says so on a line signed with a token the guest never sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from wasm_sandbox.api import GuestFunction, check_guest_api
from wasm_sandbox.bridge import BridgeClosed, BridgeTimeout, write_all
from wasm_sandbox.errors import SandboxError
from wasm_sandbox.hostcalls import HostCall, HostCalls, Output
from wasm_sandbox.launch import module_args
from wasm_sandbox.limits import Limits
from wasm_sandbox.process import ChildProcess
from wasm_sandbox.result import ExecutionResult, limit_name
from wasm_sandbox.runtime import RuntimeInfo, prepare

# Tokens come from os.urandom, which is what secrets.token_hex reads (importing secrets cost
# 5 ms of every `sandbox run`: hmac, base64).
GRACE_SECONDS = 0.5  # the child's own watchdog gets this long before the app kills it
STARTUP_SECONDS = 30.0
RAW_FLOOD_BYTES = 16 << 20  # bytes written around print() before the execution is ended
# After its end-of-run line the real driver blocks reading its next request within
# microseconds of CPU (measured: at most 0.06 ms); more than this means the program forged that
# line and went on computing.
IDLE_CPU_NS = 50_000_000
IDLE_CHECK_SECONDS = 5.0  # how long a runnable-but-not-running driver may take to block


class _Lost(Exception):
    """The interpreter is gone; ``limit`` and ``why`` say what happened."""

    def __init__(self, limit: str | None, why: str) -> None:
        super().__init__(why)
        self.limit, self.why = limit, why
        self.cpu_ms = 0.0


class Sandbox:
    """A stateful Python interpreter in WebAssembly, with host calls and hard limits.

    ``guest_api`` maps flat tool names to ``GuestFunction`` dicts (``wasm_sandbox.api``): the
    guest's ``api.<path>(...)`` becomes ``host_call(flat name, arguments by parameter name)``,
    answered with the wire dict (``{"ok": True, "value": ...}`` or ``{"ok": False, "error":
    ...}``). One interpreter lives across ``run`` calls; a limit that kills it gets a fresh one
    (the result says so). ``fork_server``: fresh interpreters are forked by the module's shared
    zygote (``process.Zygote``: cheap for every interpreter after the first); False starts a
    child process of its own, which does not wait for a zygote to load, so a one-shot caller
    (``sandbox run``) can do its own work while the child loads. ``child``: a process from
    ``process.prestart()`` to run the first interpreter (started before this sandbox was set
    up; it is killed if the setup fails). ``guest_api`` may also be a function returning the
    mapping: it is called once the interpreter's process has its module, so building the API
    overlaps with the interpreter's start. ``on_compile`` is called before the module has to be
    compiled (a cold or corrupt cache: seconds), so a caller can say so. Raises ``ValueError``
    (one sentence) for a malformed ``guest_api`` and ``SandboxError`` when the interpreter
    cannot be set up.
    """

    def __init__(
        self,
        host_call: HostCall,
        guest_api: Mapping[str, GuestFunction] | Callable[[], Mapping[str, GuestFunction]],
        limits: Limits | None = None,
        cache_dir: Path | str | None = None,
        fork_server: bool = True,
        child: ChildProcess | None = None,
        on_compile: Callable[[], object] | None = None,
    ) -> None:
        self.limits = limits if limits is not None else Limits()
        self._token = os.urandom(16).hex()
        limits_dict = self.limits.to_dict()
        try:
            self.runtime: RuntimeInfo = prepare(
                Path(cache_dir) if cache_dir is not None else None, on_compile=on_compile
            )
            init = {"token": self._token, "limits": limits_dict,
                    "module": module_args(self.runtime)}
            self._init_line = json.dumps(init).encode() + b"\n"
            self._max_line = self.limits.argument_bytes + (64 << 10)  # room for a done line
            if child is not None:
                child.begin(self._init_line, self._max_line)  # it loads while the API is built
            api = check_guest_api(guest_api() if callable(guest_api) else guest_api)
        except BaseException:
            if child is not None:
                child.kill()
            raise
        # The guest's first line on its stdin (guest/driver.py): its API and limits.
        self._guest_init = b"i" + json.dumps({"api": api, "limits": limits_dict}).encode() + b"\n"
        self._host_call = host_call
        self._fork_server = fork_server
        self._run_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._interrupted = False
        self._closed = False
        if child is not None:
            child.greet(self._guest_init)
        self._child: ChildProcess | None = child if child is not None else self._spawn()

    # -- public -----------------------------------------------------------------------------

    def run(self, code: str) -> ExecutionResult:
        """Run ``code`` in the live interpreter (blocking; call it from a worker thread)."""
        with self._run_lock:
            if self._closed:
                raise SandboxError("This sandbox is closed; start a new one.")
            self._interrupted = False
            start = time.monotonic()
            result = self._execute(code, start)
            result.wall_ms = round((time.monotonic() - start) * 1000, 3)
            return result

    async def arun(self, code: str) -> ExecutionResult:
        """``run`` from asyncio, in a worker thread; cancelling the await interrupts it."""
        # asyncio is imported by the agents that await this, not by ``sandbox run``, which
        # calls ``run`` and would pay 38-50 ms for it (python -X importtime, load 2.7).
        import asyncio

        future = asyncio.get_running_loop().run_in_executor(None, self.run, code)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self.interrupt()
            raise

    def interrupt(self) -> None:
        """Stop the running execution now (its interpreter is replaced; state is lost)."""
        with self._state_lock:
            child = self._child
            if child is None or not self._run_lock.locked():
                return
            self._interrupted = True
        child.kill()

    def close(self) -> None:
        """End the child process; the sandbox cannot run code afterwards."""
        with self._state_lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            child.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one execution ----------------------------------------------------------------------

    def _spawn(self) -> ChildProcess:
        child = ChildProcess(self.runtime, self._fork_server)
        child.begin(self._init_line, self._max_line)
        child.greet(self._guest_init)
        return child

    def _replace_child(self) -> ChildProcess:
        with self._state_lock:
            old = self._child
            if self._closed:
                raise SandboxError("This sandbox is closed; start a new one.")
            self._child = self._spawn()
        if old is not None:
            old.kill()
        return self._child

    def _await_ready(self, child: ChildProcess) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not child.ready:
            try:
                line, _ = child.reader.readline(deadline)
            except BridgeTimeout:
                raise SandboxError(
                    f"The interpreter did not start within {STARTUP_SECONDS:g} s; try again."
                ) from None
            if line == b"r":
                child.ready = True
            elif line.startswith(b"!" + self._token.encode()):
                event = _event(line, self._token)
                if event.get("event") == "fatal":
                    raise SandboxError(f"The sandbox {event.get('detail')}; check python.wasm.")

    def _execute(self, code: str, start: float) -> ExecutionResult:
        child = self._child
        restarted = False
        out = Output(self.limits.output_bytes)
        calls = HostCalls(self._host_call, self.limits, os.urandom(8).hex())
        try:
            if child is None:
                child = self._replace_child()
            try:
                self._await_ready(child)
            except BridgeClosed:
                if self._interrupted or self._closed:
                    raise _Lost(None, "execution interrupted") from None
                self._child = None
                child.kill()
                words = child.last_words() or "no message"
                raise SandboxError(
                    f"The interpreter process exited while starting ({words}); "
                    "run `codeact-explorer doctor`."
                ) from None
            if self._died_while_idle(child) or self._busy_since_done(child):
                child = self._replace_child()
                self._await_ready(child)
                restarted = True
            cpu_before = child.cpu_ns()
            done = self._converse(child, code, start, out, calls)
        except _Lost as lost:
            if child is not None:
                child.kill()
                if not self._closed:
                    self._replace_child()  # started now, so it is ready by the next run
            return ExecutionResult(
                output=out.text,
                error=f"Sandbox: {lost.why}; the interpreter was restarted.",
                host_calls=calls.names,
                limit=lost.limit,  # type: ignore[arg-type]
                state_lost=True,
                cpu_ms=lost.cpu_ms,
                truncated_bytes=out.truncated,
                sandbox_error=True,
            )
        child.signal(b"e")
        cpu_after = child.cpu_ns()
        child.idle_cpu_ns = cpu_after
        cpu_ms = (cpu_after - cpu_before) / 1e6 if cpu_before and cpu_after else 0.0
        limit = limit_name(done.get("limit")) or calls.hit or ("output" if out.truncated else None)
        error = done.get("error") if isinstance(done.get("error"), str) else None
        return ExecutionResult(
            output=out.text,
            error=error,
            host_calls=calls.names,
            limit=limit,
            state_lost=restarted,
            cpu_ms=round(cpu_ms, 3),
            truncated_bytes=out.truncated,
        )

    def _died_while_idle(self, child: ChildProcess) -> bool:
        """True when the child reported, between runs, that its interpreter ended.

        That happens only when a program forged its own end-of-run line and kept computing:
        the child's idle check stopped it. The next run then gets a fresh interpreter.
        """
        token = b"!" + self._token.encode()
        try:
            while True:
                line, _ = child.reader.readline(time.monotonic())
                if line.startswith(token):
                    return True
        except BridgeTimeout:
            return False
        except BridgeClosed:
            return True

    def _busy_since_done(self, child: ChildProcess) -> bool:
        """True when the interpreter kept computing after its last end-of-run line.

        Decided on the CPU time of the interpreter's thread, which load does not stretch (a
        wall-clock wait does: that was the race of a forged end-of-run line under load). The
        real driver is then blocked reading (state ``S``); a thread still runnable is watched
        until it blocks or has used ``IDLE_CPU_NS`` since the run ended.
        """
        if child.idle_cpu_ns is None:
            return False
        give_up = time.monotonic() + IDLE_CHECK_SECONDS
        while (seen := child.main_thread()) is not None:
            state, cpu = seen
            if cpu - child.idle_cpu_ns > IDLE_CPU_NS:
                return True
            if state != "R":
                return False
            if time.monotonic() > give_up:
                return True
            time.sleep(0.001)
        return False  # no /proc: the child's own idle check still stops such a program

    def _converse(self, child: ChildProcess, code: str, start: float, out: Output,
                  calls: HostCalls) -> dict:
        """Send the code, answer host calls, collect output; the guest's ``d`` line at the end."""
        deadline = start + self.limits.wall_seconds + GRACE_SECONDS
        token = b"!" + self._token.encode()
        request = json.dumps({"code": code, "nonce": calls.nonce}).encode()
        try:
            child.signal(b"s")
            write_all(child.gin, b"x" + request + b"\n", deadline)
            while True:
                line, overlong = child.reader.readline(deadline)
                tag = line[:1]
                if overlong:
                    if tag == b"c":
                        raise _Lost("argument_size", "a host call's arguments were far over the "
                                    "size limit")
                    out.add_raw(line + b"...")
                    out.cut += self._max_line
                elif tag == b"c":
                    # The child may be gone while the host answered (a host call slower than
                    # the wall limit): its own report of why is still to be read, if any.
                    with contextlib.suppress(BridgeClosed):
                        write_all(child.gin, calls.answer(line[1:]), deadline)
                elif tag == b"o":
                    out.add_printed(line[1:])
                elif tag == b"k":
                    out.note_guest_cut(line[1:])
                elif tag == b"d" and (done := _done(line, calls.nonce)) is not None:
                    out.note_guest_cut(str(done.get("cut", 0)).encode(), final=True)
                    return done
                elif line.startswith(token):
                    event = _event(line, self._token)
                    lost = self._trapped(event)
                    cpu = event.get("cpu_ms")
                    lost.cpu_ms = float(cpu) if isinstance(cpu, (int, float)) else 0.0
                    raise lost
                elif line:  # (empty lines: the child's event line starts with a newline)
                    out.add_raw(line)
                if out.raw_bytes > RAW_FLOOD_BYTES:
                    raise _Lost("output", "the program flooded its output around print()")
        except BridgeTimeout:
            raise _Lost("wall", f"the program ran longer than the {self.limits.wall_seconds:g} s "
                        "time limit (blocked in time.sleep, input or another wait)") from None
        except BridgeClosed:
            if self._interrupted or self._closed:
                raise _Lost(None, "execution interrupted") from None
            words = child.last_words()
            raise _Lost("crash", "the interpreter process died"
                        + (f" ({words})" if words else "")) from None

    def _trapped(self, event: dict) -> _Lost:
        kind, detail = event.get("event"), event.get("detail") or "no detail"
        limits = self.limits
        if kind == "cpu":
            return _Lost("cpu", f"the program used more than {limits.cpu_seconds:g} s of CPU "
                         "time")
        if kind == "wall":
            waiting = (" (blocked in time.sleep, input or another wait)"
                       if detail == "waiting" else "")
            return _Lost("wall", f"the program ran longer than the {limits.wall_seconds:g} s "
                         f"time limit{waiting}")
        if kind == "memory":
            return _Lost("memory", f"the program ran out of memory ({detail})")
        if kind == "fatal":
            raise SandboxError(f"The sandbox {detail}; check python.wasm.")
        return _Lost("crash", f"the interpreter crashed ({detail})")


def _event(line: bytes, token: str) -> dict:
    try:
        event = json.loads(line[1 + len(token) :])
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _done(line: bytes, nonce: str) -> dict | None:
    """The guest's end-of-execution message, if it is well formed and for this execution."""
    try:
        done = json.loads(line[1:])
    except ValueError:
        return None
    if not isinstance(done, dict) or done.get("nonce") != nonce:
        return None
    return done
