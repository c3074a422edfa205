"""The process that hosts the interpreter: the only one that loads wasmtime.

Run as a script, never imported by the app (it starts faster without the package and site)::

    python -I -S child.py compile SITE SETTINGS WASM OUT
    python -I -S child.py driver  SITE SETTINGS MODULE SIZE INODE STDLIB CODE OUT
    python -I -S child.py zygote  SITE SETTINGS MODULE SIZE INODE STDLIB CODE  (fork server)
    python -I -S child.py serve   SITE SETTINGS CTL GIN GOUT

``SITE`` is the folder holding the wasmtime package, ``SETTINGS`` the engine settings (JSON),
``STDLIB`` the folder preopened read-only as the guest's ``/usr/local/lib`` (``-``: none; an
interpreter that embeds its own standard library), ``CODE`` the guest driver's code object
marshalled by this interpreter (``-``: none, or a file that does not match: the guest compiles
``guest/driver.py`` from source, 12 ms of every start-up). ``driver`` mode makes that file: the
guest compiles the driver and marshals it, so the bytes are in the guest's own format.
A serving child gets three pipes from the app: CTL (app -> child: first an init line, then
single bytes: ``s`` an execution starts, ``e`` it ended, ``q`` quit), GIN (the guest's stdin,
written by the app) and GOUT (the guest's stdout, read by the app). Host calls therefore go
guest -> app -> guest through two pipes, with no Python of ours in between. This process runs
one interpreter: a watchdog thread turns CPU and wall-clock overruns into epoch traps, and when
the interpreter ends it writes a line signed with the app's secret token on GOUT (the guest
cannot forge it) saying why, and exits; the app starts a fresh one.

The init line (JSON) holds the token, the guest API, the limits and ``module``: MODULE SIZE
INODE STDLIB CODE. A child started on its own imports wasmtime first and loads that module
when the line comes, so the app can start it before it has checked the module's hashes (a
zygote's child has its module already and ignores the field).

The zygote imports wasmtime and loads the compiled module once, then forks a serving child per
request, so a fresh interpreter costs a fork plus CPython's own start-up.
"""

from __future__ import annotations

import collections
import json
import os
import select
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported at run time only after main() puts SITE on sys.path
    import wasmtime

DRIVER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "driver.py")
# Runs the marshalled driver passed as the guest's last argument (hex: argv holds no NUL bytes);
# sys.argv is then what the driver would see when run from source with -c.
DRIVER_STUB = "exec(__import__('marshal').loads(bytes.fromhex(__import__('sys').argv.pop())))"
# Compiles the source in argv[1] as -c would (same file name and flags) and marshals it to stdout
# after a line saying what follows (so nothing else a guest might print is taken for code).
CODE_MARK = b"marshalled driver\n"
COMPILE_STUB = (
    "import marshal, os, sys\n"
    f"data = {CODE_MARK!r} + marshal.dumps(compile(sys.argv[1], '<string>', 'exec'))\n"
    "while data:\n"
    "    data = data[os.write(1, data):]\n"
)


def make_engine(settings: dict[str, Any]) -> wasmtime.Engine:
    import wasmtime

    config = wasmtime.Config()
    for name, value in settings.items():
        setattr(config, name, value)
    return wasmtime.Engine(config)


def compile_module(settings: dict[str, Any], wasm: str, out: str) -> int:
    import wasmtime

    module = wasmtime.Module.from_file(make_engine(settings), wasm)
    with open(out, "wb") as fh:
        fh.write(module.serialize())
    return 0


STDLIB_GUEST_DIR = "/usr/local/lib"  # runtime.STDLIB_GUEST_DIR (this script imports no package)
# argv[0] of the guest: CPython finds its prefix by searching up from the executable's folder
# for lib/python3X.zip, so the stdlib is found without warnings on stderr.
GUEST_EXECUTABLE = "/usr/local/bin/python3"


Loaded = tuple["wasmtime.Engine", "wasmtime.Module", str | None, list[str]]


def driver_argv(code_path: str) -> list[str]:
    """The guest's ``-c`` arguments that start the driver: the marshal bytes after CODE's
    header line, else (``-``, unreadable or empty) the source.

    The app checked CODE's header against driver.py and the bytes (``runtime.prepare``) just
    before it named the file, as it checks the module whose size and inode alone are checked
    here; hashing again would import hashlib, 2-3 ms of every start (-X importtime).
    """
    if code_path != "-":
        try:
            with open(code_path, "rb") as fh:
                payload = fh.read().partition(b"\n")[2]
            if payload:
                return ["-c", DRIVER_STUB, payload.hex()]
        except OSError:
            pass  # compile from source
    with open(DRIVER_PATH, encoding="utf-8") as fh:
        return ["-c", fh.read()]


def load_module(settings: dict[str, Any], path: str, size: str, inode: str,
                stdlib: str, code: str) -> Loaded:
    """(engine, module, stdlib folder or None, driver args) for MODULE SIZE INODE STDLIB CODE."""
    import wasmtime

    st = os.stat(path)
    if (st.st_size, st.st_ino) != (int(size), int(inode)):
        sys.exit(3)  # the cache file changed since the app verified it
    engine = make_engine(settings)
    module = wasmtime.Module.deserialize_file(engine, path)
    return engine, module, (None if stdlib == "-" else stdlib), driver_argv(code)


def compile_driver(settings: dict[str, Any], module_args: list[str], out: str) -> int:
    """Write OUT: ``CODE_MARK``, then the driver's code object marshalled in the guest
    (``runtime`` replaces the mark with a header line that names the source and the bytes)."""
    import wasmtime

    engine, module, stdlib, _ = load_module(settings, *module_args)
    with open(DRIVER_PATH, "rb") as fh:
        source = fh.read()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [GUEST_EXECUTABLE, "-I", "-S", "-c", COMPILE_STUB, source.decode("utf-8")]
    wasi.env = []
    if stdlib is not None:
        wasi.preopen_dir(stdlib, STDLIB_GUEST_DIR, fs_mutable=False)
    wasi.stdout_file = out
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    store.set_epoch_deadline(1 << 62)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    start = linker.instantiate(store, module).exports(store)["_start"]
    try:
        start(store)  # type: ignore[operator]
    except wasmtime.ExitTrap as exc:
        if exc.code != 0:
            return 1
    return 0 if os.path.getsize(out) else 1


class Interpreters:
    """Runs interpreters one after another for one sandbox session."""

    def __init__(self, engine: wasmtime.Engine, module: wasmtime.Module, stdlib: str | None,
                 driver: list[str], ctl: int, gin: int, gout: int,
                 init: dict | None = None, ctl_buf: bytes = b"") -> None:
        self.engine, self.module, self.stdlib, self.driver = engine, module, stdlib, driver
        # The guest inherits our fds 0 and 1: wasmtime reads an inherited stdin on a dedicated
        # thread, which measured 5x faster per host call than a ``stdin_file`` pipe.
        for fd, target in ((gin, 0), (gout, 1)):
            os.dup2(fd, target)
            os.close(fd)
        self.ctl, self.gout = ctl, 1
        if init is None:
            line, ctl_buf = ctl_line(ctl, b"")
            init = json.loads(line)
        self.ctl_buf = ctl_buf
        self.token: str = init["token"]
        self.limits: dict = init["limits"]
        self.guest_argv = json.dumps({"api": init["api"], "limits": self.limits})
        self.lock = threading.Lock()
        self.running = False
        self.trap_reason: str | None = None
        self.executions = 0
        self.idle_since = 0.0  # CPU clock when the last execution ended (set by the watchdog)
        self.stderr_tail: collections.deque[bytes] = collections.deque(maxlen=8)
        self.cpu_clock = time.pthread_getcpuclockid(threading.get_ident())
        self.cpu_start = time.clock_gettime(self.cpu_clock)
        threading.Thread(target=self._watch, daemon=True).start()

    # -- watchdog (its own thread) ----------------------------------------------------------

    def _watch(self) -> None:
        cpu_limit = float(self.limits["cpu_seconds"])
        wall_limit = float(self.limits["wall_seconds"])
        pending = self.ctl_buf
        self.idle_since = time.clock_gettime(self.cpu_clock)
        if pending:
            with self.lock:
                self._consume(pending)
        while True:
            # Between executions the driver waits in a read and uses no CPU; a program that
            # forged its own "done" line and kept running is caught by the idle check.
            timeout = 0.005 if self.running else 0.25
            select.select([self.ctl], [], [], timeout)
            with self.lock:
                # Read and applied under the lock, so ``serve`` never misses a start that is
                # read but not yet counted (a program that ends at once looked like a broken
                # start-up: "stopped during start-up" for ``os._exit(3)``).
                self._read_ctl()
                if self.trap_reason:
                    continue
                now_cpu = time.clock_gettime(self.cpu_clock)
                if not self.running:
                    if now_cpu - self.idle_since > 1.0:
                        self._trap("cpu")
                elif now_cpu - self.cpu_start > cpu_limit:
                    self._trap("cpu")
                elif time.monotonic() - self.wall_start > wall_limit:
                    self._trap("wall")

    def _read_ctl(self) -> None:
        """Apply what the app wrote on the control pipe; call with ``self.lock`` held."""
        ready, _, _ = select.select([self.ctl], [], [], 0)
        if not ready:
            return
        chunk = os.read(self.ctl, 4096)
        if not chunk or b"q" in chunk:
            os._exit(0)  # the app closed the sandbox or is gone
        self._consume(chunk)

    def _consume(self, chunk: bytes) -> None:
        for byte in chunk:
            if byte == ord("s"):
                self.running, self.trap_reason = True, None
                self.executions += 1
                self.cpu_start = time.clock_gettime(self.cpu_clock)
                self.wall_start = time.monotonic()
            elif byte == ord("e"):
                self.running = False
                self.idle_since = time.clock_gettime(self.cpu_clock)

    def _trap(self, reason: str) -> None:
        self.trap_reason = reason
        self.engine.increment_epoch()  # the guest traps at its next epoch check

    # -- interpreters (main thread) ---------------------------------------------------------

    def serve(self) -> None:
        """Run one interpreter until it ends; then say why, and exit.

        A fresh interpreter gets a fresh process: after a trap, a read that wasmtime had
        started on the old guest's stdin may still be pending and would steal the next line.
        """
        import wasmtime

        try:
            store, start = self._start_interpreter()
        except Exception as exc:
            self._report("fatal", f"cannot start python.wasm ({type(exc).__name__}: {exc})")
            os._exit(6)
        try:
            start(store)
            failure = "the interpreter exited"
        except wasmtime.ExitTrap as exc:
            failure = f"the interpreter exited with status {exc.code}"
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            lines = str(exc).strip().splitlines()
            failure = lines[0] if lines else "trap"
        with self.lock:
            self._read_ctl()  # a start the watchdog has not applied yet still counts
            reason = self.trap_reason
            self.running = False
            cpu_ms = (time.clock_gettime(self.cpu_clock) - self.cpu_start) * 1000
        if reason is None:
            reason = "memory" if self._memory_full(store) else "crash"
        last = b"".join(self.stderr_tail).decode("utf-8", "replace").strip()
        if last:
            failure += f": {last.splitlines()[-1][:300]}"
        if self.executions == 0:
            # It died without running anything: broken, not merely hit by a limit.
            self._report("fatal", f"python.wasm stopped during start-up ({failure})")
            os._exit(6)
        self._report(reason, failure, cpu_ms)
        os._exit(0)

    def _start_interpreter(self) -> tuple[wasmtime.Store, wasmtime.Func]:
        import wasmtime

        store = wasmtime.Store(self.engine)
        store.set_limits(memory_size=int(self.limits["memory_bytes"]))
        store.set_epoch_deadline(1)
        wasi = wasmtime.WasiConfig()
        # [..., "-c", stub, init, hex] or [..., "-c", source, init]: the driver reads argv[1].
        wasi.argv = [GUEST_EXECUTABLE, "-I", "-S", *self.driver[:2], self.guest_argv,
                     *self.driver[2:]]
        wasi.env = []
        if self.stdlib is not None:
            wasi.preopen_dir(self.stdlib, STDLIB_GUEST_DIR, fs_mutable=False)
        wasi.inherit_stdin()
        wasi.inherit_stdout()
        self.stderr_tail.clear()
        wasi.stderr_custom = self.stderr_tail.append  # diagnostics only (fatal errors)
        store.set_wasi(wasi)
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        instance = linker.instantiate(store, self.module)
        self.instance = instance
        start = instance.exports(store)["_start"]
        if not isinstance(start, wasmtime.Func):
            raise TypeError("python.wasm exports no _start function")
        return store, start

    def _memory_full(self, store: wasmtime.Store) -> bool:
        import wasmtime

        try:
            memory = self.instance.exports(store)["memory"]
            if not isinstance(memory, wasmtime.Memory):
                return False
            used = memory.data_len(store)
        except Exception:
            return False
        return used >= 0.9 * int(self.limits["memory_bytes"])

    def _report(self, event: str, detail: str, cpu_ms: float = 0.0) -> None:
        # The leading newline ends any half-written guest line, so ours is read whole.
        body = json.dumps({"event": event, "detail": detail, "cpu_ms": round(cpu_ms, 3)})
        line = "\n!" + self.token + body + "\n"
        data = line.encode()
        while data:
            data = data[os.write(self.gout, data) :]


def ctl_line(ctl: int, buf: bytes) -> tuple[bytes, bytes]:
    """(the next line on CTL, what was read after it); exits when the app closed CTL."""
    while b"\n" not in buf:
        chunk = os.read(ctl, 1 << 16)
        if not chunk:
            os._exit(0)
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    return line, rest


def serve(settings: dict[str, Any], fds: list[int], loaded: Loaded | None = None) -> None:
    """Serve one interpreter: the zygote's LOADED module, else the init line's."""
    ctl, gin, gout = fds
    if loaded is not None:
        Interpreters(*loaded, ctl, gin, gout).serve()
        return
    import wasmtime  # noqa: F401 - the slow part, done before the app has sent the init line

    line, rest = ctl_line(ctl, b"")
    init = json.loads(line)
    loaded = load_module(settings, *init["module"])
    Interpreters(*loaded, ctl, gin, gout, init, rest).serve()


def zygote(settings: dict[str, Any], module_args: list[str]) -> None:
    """Fork a serving child for each request on fd 0 (a Unix socket): fds in, pid out."""
    import socket  # only here: 2-3 ms of every directly started child (-X importtime)

    loaded = load_module(settings, *module_args)
    sock = socket.socket(fileno=0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(sock, 16, 3)
        except OSError:
            os._exit(0)
        if len(fds) != 3:
            if not fds:
                os._exit(0)  # the app closed its end
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.setsid()
                serve(settings, fds, loaded)
            finally:
                os._exit(7)
        for fd in fds:
            os.close(fd)
        sock.sendall(str(pid).encode() + b"\n")


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, site, settings = argv[0], argv[1], json.loads(argv[2])
    sys.path.insert(0, site)
    if mode == "compile" and len(argv) == 5:
        return compile_module(settings, argv[3], argv[4])
    if mode == "driver" and len(argv) == 9:
        return compile_driver(settings, argv[3:8], argv[8])
    if mode == "zygote" and len(argv) == 8:
        zygote(settings, argv[3:8])
    elif mode == "serve" and len(argv) == 6:
        serve(settings, [int(fd) for fd in argv[3:6]])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: wasmtime's runtime threads can panic at exit


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
