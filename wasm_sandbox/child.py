"""The process that hosts the interpreter: the only one that loads wasmtime.

Started as ``python -I -S -c CHILD_STUB MODE ...`` (``launch.child_command``: this folder is put
at the end of ``sys.path`` and this module imported, so its bytecode is cached; the package and
site are never imported)::

    compile SITE SETTINGS WASM OUT
    driver  SITE SETTINGS MODULE SIZE INODE STDLIB CODE OUT
    zygote  SITE SETTINGS MODULE SIZE INODE STDLIB CODE  (fork server)
    serve   SITE SETTINGS CTL GIN GOUT

``SITE`` is the folder holding the wasmtime package, ``SETTINGS`` the engine settings (JSON),
``STDLIB`` the folder preopened read-only as the guest's ``/usr/local/lib`` (``-``: none; an
interpreter that embeds its own standard library), ``CODE`` the guest driver's code object
marshalled by this interpreter (``-``: none, or a file that does not match: the guest compiles
``guest/driver.py`` from source, 12 ms of every start-up). ``driver`` mode makes that file: the
guest compiles the driver and marshals it, so the bytes are in the guest's own format.
``compile`` uses the wasmtime package; every other mode calls wasmtime's C library through
``wasmtime_capi`` (importing the package cost 41-46 ms of every start).
A serving child gets three pipes from the app: CTL (app -> child: first the init line, then
single bytes: ``s`` an execution starts, ``e`` it ended, ``q`` quit), GIN (the guest's stdin,
written by the app) and GOUT (the guest's stdout, read by the app). A host call goes guest ->
app -> guest through those two pipes: the bundled python.wasm's ``_codeact_host`` module calls
two WebAssembly imports that ``HostBridge`` serves on the guest's own thread (write the request,
read the answer); an interpreter without that module writes its stdout and reads its stdin,
which wasmtime serves from a thread of its own (one thread wake-up and its lock more per call).
This process runs
one interpreter: a watchdog thread ends the whole process on a CPU or wall-clock overrun (the
compiled code has no epoch checks: they cost 25% of the guest's speed), and when the interpreter
ends either way this process writes a line signed with the app's secret token on GOUT (the guest
cannot forge it) saying why, and exits; the app starts a fresh one.

The init line: a JSON object with the token, the limits and ``module``: MODULE SIZE INODE
STDLIB CODE (the guest's own init, its API, comes on GIN from the app). A child started on its
own loads wasmtime's library first and the module when the line comes, so the app can start it
before it has checked the module's hashes (a zygote's child has its module already and ignores
the field).

The zygote loads the compiled module once, then forks a serving child per request, so a fresh
interpreter costs a fork plus CPython's own start-up.

Only builtin modules and ctypes are imported on the serving path (json, threading, signal and
collections cost 2-12 ms each here: ``python -I -S -X importtime``).
"""

from __future__ import annotations

import _json
import _thread
import ctypes
import os
import select
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING or __package__:  # imported as wasm_sandbox.child (tests, type checks)
    from wasm_sandbox import wasmtime_capi as capi
else:  # the interpreter's process: this folder is on sys.path, the package is not imported
    import wasmtime_capi as capi

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


class _JsonContext:
    """What ``_json.make_scanner`` reads from ``json.JSONDecoder`` (strict JSON, plain types)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}  # noqa: RUF012 - the C scanner expects a plain attribute
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"),
                      "-Infinity": float("-inf")}.__getitem__


_scan = _json.make_scanner(_JsonContext())  # type: ignore[arg-type]  # duck-typed context


def loads(text: str | bytes) -> object:
    """One JSON value (``json.loads`` without importing json); ``ValueError`` when malformed."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if text[end:].strip():
        raise ValueError("extra data after JSON")
    return value


def make_engine(settings: dict) -> object:
    """A ``wasmtime.Engine`` of the package with ``settings`` (``compile`` mode only)."""
    import wasmtime

    config = wasmtime.Config()
    for name, value in settings.items():
        setattr(config, name, value)
    return wasmtime.Engine(config)


def compile_module(settings: dict, wasm: str, out: str) -> int:
    import wasmtime

    module = wasmtime.Module.from_file(make_engine(settings), wasm)  # type: ignore[arg-type]
    with open(out, "wb") as fh:
        fh.write(module.serialize())
    return 0


STDLIB_GUEST_DIR = "/usr/local/lib"  # runtime.STDLIB_GUEST_DIR (this script imports no package)
# argv[0] of the guest: CPython finds its prefix by searching up from the executable's folder
# for lib/python3X.zip, so the stdlib is found without warnings on stderr.
GUEST_EXECUTABLE = "/usr/local/bin/python3"


class HostBridge:
    """The guest's host calls on its own thread: the imports ``codeact.call`` and
    ``codeact.take`` that python.wasm's built-in ``_codeact_host`` module calls
    (``wasi_build/_codeact_host.c``).

    ``call(ptr, len, buf, cap) -> n``: write the ``len`` bytes at ``ptr`` (a request line) to
    the app on the guest's stdout, then read the guest's stdin until what came ends with a
    newline (the answer, blocking: the watchdog still ends the process on a wall or CPU
    overrun, and says the guest was waiting); return its length, 0 when the app closed the
    pipe. An answer of at most ``cap`` bytes is copied to ``buf`` there and then (one import
    call per host call); a longer one is kept for ``take(ptr, n) -> n``, which copies it, all
    ``n`` bytes of it, to ``ptr``. Either returns -1 for a pointer or length outside the
    memory's current size, or out of turn (code in the guest can call the module with
    anything: it gets a Python exception).

    Compared with the guest reading its WASI stdin, whose reads wasmtime serves from a
    dedicated thread, a round trip wakes one thread fewer and takes none of that thread's lock.
    Protocol and pipes are the same, so the app cannot tell the two apart.
    """

    READ_SIZE = 1 << 16  # a pipe's default capacity

    def __init__(self) -> None:
        self.context = 0
        self.memory: object = None  # ctypes pointer to the guest's capi.Memory
        self.answer = b""

    def attach(self, guest: capi.Guest) -> None:
        """Serve ``guest``'s calls (its exported memory)."""
        memory = guest.memory()
        self.context = guest.context
        self.memory = None if memory is None else ctypes.pointer(memory)

    def _address(self, ptr: int, size: int) -> int | None:
        """The host address of guest bytes [ptr, ptr + size), or None when they are not all
        inside the memory as it is now (it may have grown since the last call)."""
        if self.memory is None or size < 0:
            return None
        lib = capi._lib[0]
        if ptr + size > lib.wasmtime_memory_data_size(self.context, self.memory):
            return None
        return int(lib.wasmtime_memory_data(self.context, self.memory)) + ptr

    def call(self, args: ctypes.Array) -> int:
        ptr, size = args[0].i32 & 0xFFFFFFFF, args[1].i32
        buf, cap = args[2].i32 & 0xFFFFFFFF, args[3].i32
        address = self._address(ptr, size)
        if address is None or self._address(buf, cap) is None:
            return -1
        self.answer = b""
        if size:
            data = ctypes.string_at(address, size)
            while data:
                data = data[os.write(1, data) :]
        chunks = []
        while True:
            chunk = os.read(0, self.READ_SIZE)
            if not chunk:
                return 0  # the app closed the bridge: the guest exits
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
        answer = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if len(answer) <= cap:
            # Checked again: the memory cannot have shrunk, but this keeps the rule in one place.
            target = self._address(buf, len(answer))
            if target is None:
                return -1
            ctypes.memmove(target, answer, len(answer))
        else:
            self.answer = answer
        return len(answer)

    def take(self, args: ctypes.Array) -> int:
        ptr, size = args[0].i32 & 0xFFFFFFFF, args[1].i32
        answer = self.answer
        if size != len(answer) or not answer:
            return -1
        address = self._address(ptr, size)
        if address is None:
            return -1
        ctypes.memmove(address, answer, size)
        self.answer = b""
        return size


BRIDGE = HostBridge()  # one interpreter per process


class Loaded:
    """An engine with a module loaded, its linker (WASI and ``BRIDGE``'s imports defined), the
    stdlib folder and the driver's args."""

    def __init__(self, engine: int, module: int, stdlib: str | None, driver: list[str]) -> None:
        self.engine, self.module, self.stdlib, self.driver = engine, module, stdlib, driver
        self.linker = capi.new_linker(engine)
        capi.define_i32_func(self.linker, "codeact", "call", 4, BRIDGE.call)
        capi.define_i32_func(self.linker, "codeact", "take", 2, BRIDGE.take)

    def preopen(self) -> tuple[str, str] | None:
        return (self.stdlib, STDLIB_GUEST_DIR) if self.stdlib is not None else None


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


def load_module(settings: dict, path: str, size: str, inode: str, stdlib: str,
                code: str) -> Loaded:
    """The engine, module and driver for MODULE SIZE INODE STDLIB CODE."""
    st = os.stat(path)
    if (st.st_size, st.st_ino) != (int(size), int(inode)):
        sys.exit(3)  # the cache file changed since the app verified it
    engine = capi.new_engine(settings)
    module = capi.deserialize_file(engine, path)
    return Loaded(engine, module, (None if stdlib == "-" else stdlib), driver_argv(code))


def compile_driver(settings: dict, module_args: list[str], out: str) -> int:
    """Write OUT: ``CODE_MARK``, then the driver's code object marshalled in the guest
    (``runtime`` replaces the mark with a header line that names the source and the bytes)."""
    loaded = load_module(settings, *module_args)
    with open(DRIVER_PATH, "rb") as fh:
        source = fh.read()
    argv = [GUEST_EXECUTABLE, "-I", "-S", "-c", COMPILE_STUB, source.decode("utf-8")]
    guest = capi.Guest(loaded.engine, loaded.linker, loaded.module, argv,
                       preopen=loaded.preopen(), stdout_file=out)
    try:
        guest.call(guest.function("_start"))
    except capi.WasmError as exc:
        if exc.exit_code != 0:
            return 1
    return 0 if os.path.getsize(out) else 1


class Interpreters:
    """Runs one interpreter for one sandbox session, under a watchdog thread."""

    def __init__(self, loaded: Loaded, ctl: int, gin: int, gout: int,
                 init: dict | None = None, ctl_buf: bytes = b"") -> None:
        self.loaded = loaded
        # The guest inherits our fds 0 and 1: wasmtime reads an inherited stdin on a dedicated
        # thread, which measured 5x faster per host call than a ``stdin_file`` pipe.
        for fd, target in ((gin, 0), (gout, 1)):
            os.dup2(fd, target)
            os.close(fd)
        self.ctl, self.gout = ctl, 1
        if init is None:
            init, ctl_buf = read_init(ctl)
        self.ctl_buf = ctl_buf
        self.token: str = init["token"]
        self.limits: dict = init["limits"]
        self.lock = _thread.allocate_lock()
        self.running = False
        self.ended = False  # the interpreter has returned; serve() reports why
        self.executions = 0
        self.idle_since = 0.0  # CPU clock when the last execution ended (set by the watchdog)
        self.stderr_tail: list[bytes] = []  # the guest's last writes to stderr (at most 8)
        self.cpu_clock = time.pthread_getcpuclockid(_thread.get_ident())
        self.cpu_start = time.clock_gettime(self.cpu_clock)
        self.guest: capi.Guest | None = None
        _thread.start_new_thread(self._watch, ())

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
                if self.ended:
                    return
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
                self.running = True
                self.executions += 1
                self.cpu_start = time.clock_gettime(self.cpu_clock)
                self.wall_start = time.monotonic()
            elif byte == ord("e"):
                self.running = False
                self.idle_since = time.clock_gettime(self.cpu_clock)

    def _trap(self, reason: str) -> None:
        """Say why (``cpu`` or ``wall``) and end this process, the guest with it; call with
        ``self.lock`` held.

        Instead of an epoch trap: epoch checks at every loop back-edge and function entry of the
        compiled interpreter made guest code 25-35% slower (200k dict/str loop 179 ms against
        133 ms, interleaved, load 1.9). The report is one short write, so it is not split by
        output the guest is writing at the same moment (pipe writes up to PIPE_BUF are atomic),
        and the app stops reading at it.
        """
        if self.executions == 0:  # as serve() says it: broken, not merely hit by a limit
            self._report("fatal", "python.wasm stopped during start-up (over 1 s of CPU time)")
            os._exit(6)
        cpu_ms = (time.clock_gettime(self.cpu_clock) - self.cpu_start) * 1000
        self._report(reason, "waiting" if self._guest_waits() else "computing", cpu_ms)
        os._exit(0)

    @staticmethod
    def _guest_waits() -> bool:
        """True when the thread running WebAssembly (this process's main thread) is blocked
        (``time.sleep``, a read of its stdin), from its state in ``/proc``."""
        try:
            with open(f"/proc/self/task/{os.getpid()}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            return False
        return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"S", b"D")

    # -- the interpreter (main thread) ------------------------------------------------------

    def serve(self) -> None:
        """Run one interpreter until it ends; then say why, and exit.

        A fresh interpreter gets a fresh process: after a trap, a read that wasmtime had
        started on the old guest's stdin may still be pending and would steal the next line.
        """
        try:
            self.guest = self._start_interpreter()
            BRIDGE.attach(self.guest)
            start = self.guest.function("_start")
        except Exception as exc:
            self._report("fatal", f"cannot start python.wasm ({type(exc).__name__}: {exc})")
            os._exit(6)
        try:
            self.guest.call(start)
            failure = "the interpreter exited"
        except capi.WasmError as exc:
            if exc.exit_code is not None:
                failure = f"the interpreter exited with status {exc.exit_code}"
            else:
                failure = trap_reason(str(exc))
        with self.lock:
            self._read_ctl()  # a start the watchdog has not applied yet still counts
            self.ended = True  # the watchdog leaves the report to this thread
            self.running = False
            cpu_ms = (time.clock_gettime(self.cpu_clock) - self.cpu_start) * 1000
        reason = "memory" if self._memory_full() else "crash"
        last = b"".join(self.stderr_tail).decode("utf-8", "replace").strip()
        if last:
            failure += f": {last.splitlines()[-1][:300]}"
        if self.executions == 0:
            # It died without running anything: broken, not merely hit by a limit.
            self._report("fatal", f"python.wasm stopped during start-up ({failure})")
            os._exit(6)
        self._report(reason, failure, cpu_ms)
        os._exit(0)

    def _stderr(self, data: bytes) -> None:
        tail = self.stderr_tail
        tail.append(data)
        if len(tail) > 8:
            del tail[0]

    def _start_interpreter(self) -> capi.Guest:
        loaded = self.loaded
        argv = [GUEST_EXECUTABLE, "-I", "-S", *loaded.driver]
        return capi.Guest(loaded.engine, loaded.linker, loaded.module, argv,
                          preopen=loaded.preopen(), stderr=self._stderr,  # diagnostics only
                          memory_bytes=int(self.limits["memory_bytes"]))

    def _memory_full(self) -> bool:
        try:
            used = self.guest.memory_bytes() if self.guest is not None else None
        except Exception:
            return False
        return used is not None and used >= 0.9 * int(self.limits["memory_bytes"])

    def _report(self, event: str, detail: str, cpu_ms: float = 0.0) -> None:
        # The leading newline ends any half-written guest line, so ours is read whole.
        quote = _json.encode_basestring_ascii
        body = f'{{"event":{quote(event)},"detail":{quote(detail)},"cpu_ms":{round(cpu_ms, 3)!r}}}'
        data = ("\n!" + self.token + body + "\n").encode()
        while data:
            data = data[os.write(self.gout, data) :]


def trap_reason(message: str) -> str:
    """The cause in a wasmtime trap message, which opens with "error while executing at wasm
    backtrace:", lists frames, and ends with "Caused by:" and the trap (e.g. "wasm trap: call
    stack exhausted"): that last line, without its "wasm trap: " prefix."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1].removeprefix("wasm trap: ") if lines else "trap"


def ctl_line(ctl: int, buf: bytes) -> tuple[bytes, bytes]:
    """(the next line on CTL, what was read after it); exits when the app closed CTL."""
    while b"\n" not in buf:
        chunk = os.read(ctl, 1 << 16)
        if not chunk:
            os._exit(0)
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    return line, rest


def read_init(ctl: int) -> tuple[dict, bytes]:
    """(the init line, what was read after it) from CTL."""
    line, rest = ctl_line(ctl, b"")
    init = loads(line)
    if not isinstance(init, dict):
        raise ValueError("the init line is not a JSON object")
    return init, rest


def serve(settings: dict, site: str, fds: list[int], loaded: Loaded | None = None) -> None:
    """Serve one interpreter: the zygote's LOADED module, else the init line's."""
    ctl, gin, gout = fds
    if loaded is not None:
        Interpreters(loaded, ctl, gin, gout).serve()
        return
    capi.load(site)  # the slow part, done before the app has sent the init line
    init, rest = read_init(ctl)
    loaded = load_module(settings, *init["module"])
    Interpreters(loaded, ctl, gin, gout, init, rest).serve()


def zygote(settings: dict, site: str, module_args: list[str]) -> None:
    """Fork a serving child for each request on fd 0 (a Unix socket): fds in, pid out."""
    import signal  # only here: 2-6 ms of every directly started child (-X importtime)
    import socket

    capi.load(site)
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
                serve(settings, site, fds, loaded)
            finally:
                os._exit(7)
        for fd in fds:
            os.close(fd)
        sock.sendall(str(pid).encode() + b"\n")


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, site = argv[0], argv[1]
    settings = loads(argv[2])
    if not isinstance(settings, dict):
        print("SETTINGS must be a JSON object", file=sys.stderr)
        return 2
    if mode == "compile" and len(argv) == 5:
        sys.path.insert(0, site)
        return compile_module(settings, argv[3], argv[4])
    if mode == "driver" and len(argv) == 9:
        capi.load(site)
        return compile_driver(settings, argv[3:8], argv[8])
    if mode == "zygote" and len(argv) == 8:
        zygote(settings, site, argv[3:8])
    elif mode == "serve" and len(argv) == 6:
        serve(settings, site, [int(fd) for fd in argv[3:6]])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: wasmtime's runtime threads can panic at exit


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
