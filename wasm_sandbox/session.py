"""``Sandbox``: one live interpreter per CodeAct run, in a child process the app can kill.

The app side of the bridge. It starts ``wasm_sandbox.child`` (which loads wasmtime and runs
CPython-on-WASI), sends code, answers the guest's host calls with ``host_call`` and enforces the
limits it can see itself (host calls per execution, size of arguments and results, output size,
and the wall-clock deadline, by killing the child when the guest is stuck outside WebAssembly).
It trusts nothing the child sends: frames are size-capped and every message is validated.
"""

from __future__ import annotations

import collections
import contextlib
import json
import secrets
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from wasm_sandbox import bridge
from wasm_sandbox.limits import Limits
from wasm_sandbox.result import ExecutionResult
from wasm_sandbox.runtime import RuntimeInfo, SandboxError, prepare

HostCall = Callable[[str, dict], dict]
GRACE_SECONDS = 0.5  # the child's own watchdog gets this long before the app kills it
_LIMITS = {"cpu", "memory", "output", "host_calls", "argument_size", "crash"}


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
    proc.wait()


def _check_api(guest_api: Mapping[str, Mapping[str, Sequence[str]]]) -> dict:
    spec: dict[str, dict[str, list[str]]] = {}
    for resource, actions in guest_api.items():
        if not resource.isidentifier():
            raise ValueError(f"guest_api resource {resource!r} is not a Python identifier")
        spec[resource] = {}
        for action, params in actions.items():
            if not action.isidentifier():
                raise ValueError(f"guest_api action {resource}.{action} is not an identifier")
            spec[resource][action] = [str(p) for p in params]
    return spec


class _Child:
    """One running child process and its channel."""

    def __init__(self, runtime: RuntimeInfo, init: bytes, max_frame: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "wasm_sandbox.child", "serve",
             str(runtime.module_path), str(runtime.module_size), str(runtime.module_inode)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={},  # nothing of the user's environment (API keys) reaches the child
            close_fds=True,
            start_new_session=True,  # a Ctrl-C aimed at the app does not kill the interpreter
        )
        self.finalizer = weakref.finalize(self, _kill, self.proc)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin_fd = self.proc.stdin.fileno()
        self.reader = bridge.FrameReader(self.proc.stdout.fileno(), max_frame)
        self.stderr_tail: collections.deque[bytes] = collections.deque(maxlen=32)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        bridge.send_frame(self.stdin_fd, bridge.INIT, init)

    def _drain_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        for line in iter(stream.readline, b""):
            self.stderr_tail.append(line[:400])

    def last_words(self) -> str:
        for line in reversed(self.stderr_tail):
            text = line.decode("utf-8", "replace").strip()
            if text and not text.startswith(("stack backtrace", "note:")):
                return text
        code = self.proc.poll()
        return f"exit status {code}" if code is not None else "no message"

    def send(self, kind: int, payload: bytes) -> None:
        bridge.send_frame(self.stdin_fd, kind, payload)

    def kill(self) -> None:
        self.finalizer()

    def close(self) -> None:
        try:
            self.send(bridge.QUIT, b"")
            self.proc.wait(timeout=0.5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.finalizer()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class Sandbox:
    """A stateful Python interpreter in WebAssembly, with host calls and hard limits.

    ``host_call(name, arguments)`` answers the guest's ``api.<resource>.<action>(...)`` calls
    with the wire dict (``{"ok": True, "value": ...}`` or ``{"ok": False, "error": ...}``);
    ``guest_api`` maps resource -> action -> ordered parameter names. One interpreter lives
    across ``run`` calls; a limit that kills it gets a fresh one (the result says so).
    """

    def __init__(
        self,
        host_call: HostCall,
        guest_api: Mapping[str, Mapping[str, Sequence[str]]],
        limits: Limits | None = None,
        cache_dir: Path | str | None = None,
    ) -> None:
        self.limits = limits if limits is not None else Limits()
        self.runtime: RuntimeInfo = prepare(Path(cache_dir) if cache_dir is not None else None)
        self._host_call = host_call
        spec = _check_api(guest_api)
        self._init = json.dumps({"api": spec, "limits": self.limits.to_dict()}).encode()
        self._max_frame = self.limits.argument_bytes + 2 * self.limits.output_bytes + (1 << 20)
        self._run_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._interrupted = False
        self._closed = False
        self._child: _Child | None = _Child(self.runtime, self._init, self._max_frame)

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
        """``run`` from asyncio: runs in a worker thread; cancelling interrupts the program."""
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
            child.kill() if self._run_lock.locked() else child.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one execution ----------------------------------------------------------------------

    def _fresh_child(self) -> _Child:
        with self._state_lock:
            old = self._child
            if self._closed:
                raise SandboxError("This sandbox is closed; start a new one.")
            self._child = _Child(self.runtime, self._init, self._max_frame)
        if old is not None:
            old.kill()
        return self._child

    def _execute(self, code: str, start: float) -> ExecutionResult:
        child = self._child
        if child is None or child.proc.poll() is not None:
            child = self._fresh_child()
        nonce = secrets.token_hex(8)
        calls: list[str] = []
        hit: list[str] = []
        try:
            child.send(bridge.EXECUTE, json.dumps({"code": code, "nonce": nonce}).encode())
        except OSError:
            return self._lost(child, calls, "crash", "the interpreter process had died")
        deadline = start + self.limits.wall_seconds + GRACE_SECONDS
        while True:
            try:
                kind, payload = child.reader.recv(deadline)
            except bridge.BridgeTimeout:
                return self._lost(
                    child, calls, "cpu",
                    f"the program ran longer than {self.limits.wall_seconds:g} s "
                    "(blocked in time.sleep, input or another wait)",
                )
            except (bridge.BridgeClosed, bridge.BridgeProtocolError):
                if self._interrupted:
                    return self._lost(child, calls, None, "execution interrupted")
                return self._lost(child, calls, "crash", f"the interpreter crashed "
                                  f"({child.last_words()})")
            if kind == bridge.CALL:
                child.send(bridge.ANSWER, self._answer(payload, calls, hit))
            elif kind == bridge.DONE:
                return self._done(payload, calls, hit)
            elif kind == bridge.FATAL:
                message = _json_field(payload, "error") or "the interpreter could not start"
                self._child = None
                child.kill()
                raise SandboxError(f"The sandbox {message}; check python.wasm.")
            elif kind != bridge.READY:
                return self._lost(child, calls, "crash", "the bridge sent an unknown message")

    def _lost(self, child: _Child, calls: list[str], limit: str | None,
              why: str) -> ExecutionResult:
        child.kill()
        if not self._closed:
            with contextlib.suppress(SandboxError):
                self._fresh_child()
        return ExecutionResult(
            error=f"Sandbox: {why}; the interpreter was restarted.",
            host_calls=calls,
            limit=limit,  # type: ignore[arg-type]
            state_lost=True,
        )

    def _answer(self, payload: bytes, calls: list[str], hit: list[str]) -> bytes:
        limits = self.limits
        try:
            message = json.loads(payload)
            call_id = message.get("id")
            name, args = message["name"], message["args"]
            if not isinstance(name, str) or not isinstance(args, dict):
                raise TypeError
        except (ValueError, TypeError, KeyError, AttributeError):
            return _reply(None, {"ok": False, "error": "malformed host call on the bridge"})
        if hit:
            return _reply(call_id, _limit_reply(hit[0], f"the {hit[0]} limit was already hit"))
        if len(calls) >= limits.host_calls:
            hit.append("host_calls")
            return _reply(call_id, _limit_reply(
                "host_calls", f"host-call limit hit: at most {limits.host_calls} per execution"))
        if len(payload) > limits.argument_bytes:
            hit.append("argument_size")
            return _reply(call_id, _limit_reply(
                "argument_size", f"the arguments of {name} are {len(payload)} bytes, over the "
                f"{limits.argument_bytes}-byte limit"))
        calls.append(name)
        try:
            wire = self._host_call(name, args)
            if not isinstance(wire, dict) or not isinstance(wire.get("ok"), bool):
                raise TypeError("host_call must return {'ok': bool, ...}")
            body = _reply(call_id, wire)
        except Exception as exc:
            body = _reply(call_id, {"ok": False, "error": f"{name} failed in the host: {exc}"})
        if len(body) > limits.argument_bytes:
            hit.append("argument_size")
            return _reply(call_id, _limit_reply(
                "argument_size", f"the result of {name} is {len(body)} bytes, over the "
                f"{limits.argument_bytes}-byte limit"))
        return body

    def _done(self, payload: bytes, calls: list[str], hit: list[str]) -> ExecutionResult:
        try:
            done = json.loads(payload)
            if not isinstance(done, dict):
                raise ValueError
        except ValueError:
            done = {"error": "Sandbox: the interpreter sent a malformed result.", "limit": "crash"}
        output = done.get("output") if isinstance(done.get("output"), str) else ""
        cut = int(done.get("cut") or 0) if isinstance(done.get("cut"), int) else 0
        data = output.encode("utf-8", "replace")
        if len(data) > self.limits.output_bytes:  # never trust the child's own cap
            output = data[: self.limits.output_bytes].decode("utf-8", "ignore")
            cut += len(data) - len(output.encode("utf-8"))
        limit = done.get("limit") if done.get("limit") in _LIMITS else None
        limit = limit or (hit[0] if hit else None) or ("output" if cut else None)
        error = done.get("error") if isinstance(done.get("error"), str) else None
        cpu = done.get("cpu_ms")
        return ExecutionResult(
            output=output,
            error=error,
            host_calls=calls,
            limit=limit,
            state_lost=bool(done.get("state_lost")),
            cpu_ms=round(float(cpu), 3) if isinstance(cpu, (int, float)) else 0.0,
            truncated_bytes=cut,
        )


def _reply(call_id: Any, wire: dict) -> bytes:
    body = {"id": call_id, "ok": wire.get("ok")}
    if wire.get("ok"):
        body["value"] = wire.get("value")
    else:
        body["error"] = str(wire.get("error") or "the call failed")
        if wire.get("limit"):
            body["limit"] = wire["limit"]
    return json.dumps(body, separators=(",", ":")).encode()


def _limit_reply(limit: str, message: str) -> dict:
    return {"ok": False, "limit": limit, "error": message}


def _json_field(payload: bytes, key: str) -> Any:
    try:
        return json.loads(payload).get(key)
    except (ValueError, AttributeError):
        return None



