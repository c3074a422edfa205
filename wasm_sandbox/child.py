"""The child process that hosts the interpreter: the only process that loads wasmtime.

``python -I -m wasm_sandbox.child compile WASM OUT`` compiles and serializes the module.
``python -I -m wasm_sandbox.child serve MODULE SIZE INODE`` runs interpreters, one at a time,
talking to the app over its stdin/stdout with ``bridge`` frames.

Everything happens on the main thread, inside wasmtime's callback for the guest's stdout: the
guest writes a line (host call, output, done), the callback handles it and, when the guest must
wait (a host call, or the next code to run), blocks reading the app's frames and writes the
answer into the guest's stdin pipe before returning. A watchdog thread turns CPU and wall-clock
overruns into epoch traps. A trap ends the interpreter; a fresh one is started in this process.
Whatever wasmtime does (abort, hang in a WASI call), the app can kill this process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import sys
import threading
import time
from pathlib import Path

import wasmtime

from wasm_sandbox import bridge
from wasm_sandbox.runtime import ENGINE_SETTINGS

F_SETPIPE_SZ = 1031
DRIVER = (Path(__file__).parent / "guest" / "driver.py").read_text()


def make_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    for name, value in ENGINE_SETTINGS.items():
        setattr(config, name, value)
    return wasmtime.Engine(config)


def compile_module(wasm: str, out: str) -> int:
    module = wasmtime.Module.from_file(make_engine(), wasm)
    Path(out).write_bytes(module.serialize())
    return 0


class _Quit(Exception):
    pass


class Host:
    """One child: the compiled module, the app channel, and the interpreter in use."""

    def __init__(self, module_path: str, size: int, inode: int) -> None:
        st = os.stat(module_path)
        if (st.st_size, st.st_ino) != (size, inode):
            raise SystemExit(3)  # the cache changed since the app verified it
        self.engine = make_engine()
        self.module = wasmtime.Module.deserialize_file(self.engine, module_path)
        # Our own fds 0/1 carry frames; move them aside so a stray print cannot corrupt them.
        self.app_in = os.dup(0)
        self.app_out = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(2, 1)
        self.reader = bridge.FrameReader(self.app_in, 64 << 20)
        kind, payload = self.reader.recv()
        if kind != bridge.INIT:
            raise SystemExit(4)
        init = json.loads(payload)
        self.limits = init["limits"]
        self.init_line = ("i" + json.dumps(init) + "\n").encode()
        self.max_line = int(self.limits["argument_bytes"]) + 65536
        self.lock = threading.Lock()
        self.running = threading.Event()
        self.trap_reason: str | None = None
        self.ppid = os.getppid()
        self.cpu_clock = time.pthread_getcpuclockid(threading.main_thread().ident)
        self.started_once = False
        threading.Thread(target=self._watch, daemon=True).start()

    # -- watchdog ---------------------------------------------------------------------------

    def _watch(self) -> None:
        cpu_limit = float(self.limits["cpu_seconds"])
        wall_limit = float(self.limits["wall_seconds"])
        while True:
            busy = self.running.wait(0.25)
            if os.getppid() != self.ppid:
                os._exit(1)  # the app is gone; do not linger as an orphan
            if not busy:
                continue
            time.sleep(0.005)
            with self.lock:
                if not self.running.is_set() or self.trap_reason:
                    continue
                cpu = time.clock_gettime(self.cpu_clock) - self.cpu_start
                wall = time.monotonic() - self.wall_start
                if cpu > cpu_limit:
                    self._trap("cpu")
                elif wall > wall_limit:
                    self._trap("wall")

    def _trap(self, reason: str) -> None:
        self.trap_reason = reason
        self.engine.increment_epoch()  # the guest traps at its next epoch check

    # -- interpreter lifecycle --------------------------------------------------------------

    def serve(self) -> None:
        while True:
            try:
                self._start_interpreter()
                start = self.instance.exports(self.store)["_start"]
            except Exception as exc:
                self._fatal(f"cannot start python.wasm ({type(exc).__name__}: {exc})")
            failure = None
            try:
                start(self.store)
                failure = "the interpreter exited"
            except wasmtime.ExitTrap as exc:
                failure = f"the interpreter exited ({exc.code})"
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                failure = str(exc).strip().splitlines()[0] if str(exc).strip() else "trap"
            self.running.clear()
            if not self.ready:
                self._fatal(f"the interpreter failed to start: {failure}")
            if self.executing:
                self._finish_trapped(failure)
            self._close_pipe()

    def _start_interpreter(self) -> None:
        read_fd, self.guest_in = os.pipe()
        # A bigger pipe lets big answers go in one write; if refused, the writer thread copes.
        with contextlib.suppress(OSError):
            fcntl.fcntl(self.guest_in, F_SETPIPE_SZ, 1 << 20)
        os.set_blocking(self.guest_in, False)
        self.backlog = bytearray()
        self.linebuf = bytearray()
        self.discarding = False
        self.ready = False
        self.executing = False
        self.trap_reason = None
        store = wasmtime.Store(self.engine)
        store.set_limits(memory_size=int(self.limits["memory_bytes"]))
        store.set_epoch_deadline(1)
        wasi = wasmtime.WasiConfig()
        wasi.argv = ["python", "-I", "-S", "-c", DRIVER]
        wasi.env = []
        wasi.stdin_file = f"/proc/self/fd/{read_fd}"
        os.close(read_fd)
        wasi.stdout_custom = self._on_stdout
        wasi.stderr_custom = self._on_stderr
        store.set_wasi(wasi)
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        self.store = store
        self.instance = linker.instantiate(store, self.module)
        self._feed(self.init_line)

    def _close_pipe(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.guest_in)

    def _feed(self, data: bytes) -> None:
        """Write to the guest's stdin without ever blocking this thread for long."""
        with self.lock:
            if self.backlog:
                self.backlog += data
                return
            try:
                written = os.write(self.guest_in, data)
            except BlockingIOError:
                written = 0
            if written < len(data):
                self.backlog += data[written:]
                threading.Thread(target=self._drain, args=(self.guest_in,), daemon=True).start()

    def _drain(self, fd: int) -> None:
        while True:
            with self.lock:
                if fd != self.guest_in or not self.backlog:
                    self.backlog = bytearray() if fd != self.guest_in else self.backlog
                    return
                try:
                    written = os.write(fd, self.backlog)
                    del self.backlog[:written]
                    continue
                except BlockingIOError:
                    pass
                except OSError:
                    self.backlog = bytearray()
                    return
            select.select([], [fd], [], 0.1)

    # -- guest output -----------------------------------------------------------------------

    def _on_stderr(self, data: bytes) -> None:
        self._add_output(data.decode("utf-8", "replace"))

    def _on_stdout(self, data: bytes) -> None:
        self.linebuf += data
        while True:
            end = self.linebuf.find(b"\n")
            if end < 0:
                break
            line = bytes(self.linebuf[:end])
            del self.linebuf[: end + 1]
            if self.discarding:
                self.discarding = False
                continue
            self._on_line(line)
        if len(self.linebuf) > self.max_line:
            # A line this long is not ours: a host call too big to send, or raw bytes.
            if self.linebuf[:1] == b"c" and self.executing:
                with self.lock:
                    self._trap("argument_size")
            else:
                self._add_output(self.linebuf.decode("utf-8", "replace"))
            self.linebuf.clear()
            self.discarding = True

    def _on_line(self, line: bytes) -> None:
        tag = line[:1]
        if tag == b"o" and self.executing:
            try:
                text = json.loads(line[1:])
            except ValueError:
                text = line.decode("utf-8", "replace") + "\n"
            self._add_output(text if isinstance(text, str) else str(text))
        elif tag == b"c" and self.executing:
            bridge.send_frame(self.app_out, bridge.CALL, line[1:])
            kind, payload = self._recv_app()
            if kind != bridge.ANSWER:
                os._exit(5)  # the app broke the protocol; it will see this child die
            self._feed(b"a" + payload + b"\n")
        elif tag == b"d" and self.executing:
            try:
                done = json.loads(line[1:])
                if not isinstance(done, dict) or done.get("nonce") != self.nonce:
                    raise ValueError
            except ValueError:
                self._add_output(line.decode("utf-8", "replace") + "\n")
                return
            self._finish(done)
            self._next_execution()
        elif tag == b"k" and self.executing:
            with contextlib.suppress(ValueError):
                self.guest_cut = max(self.guest_cut, int(line[1:]))
        elif tag == b"r" and not self.ready:
            self.ready = True
            if not self.started_once:
                self.started_once = True
                bridge.send_frame(self.app_out, bridge.READY)
            self._next_execution()
        else:
            # Raw bytes the program wrote to fd 1 itself: treat them as printed output.
            self._add_output(line.decode("utf-8", "replace") + "\n")

    def _add_output(self, text: str) -> None:
        if not self.executing:
            return
        data = text.encode("utf-8", "replace")
        room = int(self.limits["output_bytes"]) - self.out_bytes
        if len(data) > room:
            keep = data[: max(room, 0)].decode("utf-8", "ignore")
            self.cut += len(data) - len(keep.encode("utf-8"))
            text, data = keep, keep.encode("utf-8")
        self.output.append(text)
        self.out_bytes += len(data)

    # -- executions -------------------------------------------------------------------------

    def _recv_app(self) -> tuple[int, bytes]:
        try:
            kind, payload = self.reader.recv()
        except (bridge.BridgeClosed, bridge.BridgeProtocolError):
            os._exit(0)
        if kind == bridge.QUIT:
            os._exit(0)
        return kind, payload

    def _next_execution(self) -> None:
        kind, payload = self._recv_app()
        if kind != bridge.EXECUTE:
            os._exit(5)
        request = json.loads(payload)
        self.nonce = request["nonce"]
        self.output: list[str] = []
        self.out_bytes = 0
        self.cut = 0
        self.guest_cut = 0
        with self.lock:
            self.trap_reason = None
            self.executing = True
            self.cpu_start = time.clock_gettime(self.cpu_clock)
            self.wall_start = time.monotonic()
            self.running.set()
        self._feed(b"x" + payload + b"\n")

    def _stop_clock(self) -> float:
        with self.lock:
            self.running.clear()
            self.executing = False
            return (time.clock_gettime(self.cpu_clock) - self.cpu_start) * 1000

    def _finish(self, done: dict) -> None:
        cpu_ms = self._stop_clock()
        self._send_done(
            error=done.get("error"),
            limit=done.get("limit"),
            cut=int(done.get("cut") or 0),
            state_lost=False,
            cpu_ms=cpu_ms,
        )

    def _finish_trapped(self, failure: str) -> None:
        reason = self.trap_reason
        cpu_ms = self._stop_clock()
        if reason is None:
            reason = "memory" if self._memory_full() else "crash"
        messages = {
            "cpu": f"the program used more than {self.limits['cpu_seconds']} s of CPU time",
            "wall": f"the program ran longer than {self.limits['wall_seconds']} s",
            "argument_size": "a host call's arguments were larger than the limit",
            "memory": f"the program ran out of memory ({failure})",
            "crash": f"the interpreter crashed ({failure})",
        }
        self._send_done(
            error=f"Sandbox: {messages[reason]}; the interpreter was restarted.",
            limit="cpu" if reason == "wall" else reason,
            cut=0,
            state_lost=True,
            cpu_ms=cpu_ms,
        )

    def _memory_full(self) -> bool:
        try:
            memory = self.instance.exports(self.store)["memory"]
            used = memory.data_len(self.store)
        except Exception:
            return False
        return used >= 0.9 * int(self.limits["memory_bytes"])

    def _send_done(self, **fields: object) -> None:
        fields["output"] = "".join(self.output)
        guest_cut = max(int(fields["cut"]), self.guest_cut)  # type: ignore[call-overload]
        fields["cut"] = guest_cut + self.cut
        bridge.send_frame(self.app_out, bridge.DONE, json.dumps(fields).encode())

    def _fatal(self, message: str) -> None:
        bridge.send_frame(self.app_out, bridge.FATAL, json.dumps({"error": message}).encode())
        os._exit(6)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "compile":
        return compile_module(argv[1], argv[2])
    if len(argv) == 4 and argv[0] == "serve":
        host = Host(argv[1], int(argv[2]), int(argv[3]))
        with contextlib.suppress(_Quit):
            host.serve()
        sys.stderr.flush()
        os._exit(0)  # skip interpreter teardown: wasmtime's runtime threads can panic at exit
    print("usage: python -m wasm_sandbox.child compile WASM OUT | serve MODULE SIZE INODE",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
