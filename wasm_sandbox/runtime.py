"""Find python.wasm, verify it, and keep its compiled form in an on-disk cache.

The app process never loads wasmtime: compiling runs in a child process (``child.py compile``)
and so does every interpreter. Here we only hash files and manage the cache folder.

Cache layout: ``<cache_dir>/python-<wasm hash>-wasmtime<version>-<settings hash>.cwasm`` and a
``.json`` sidecar holding the SHA-256 and size of the ``.cwasm``. Both are written to temporary
names and renamed into place, so concurrent writers cannot leave a half file; a reader that finds
the sidecar and file disagreeing rebuilds instead of handing wasmtime unchecked bytes.

Hashing python.wasm and the compiled module (about 50 MB) took 71 ms per command-line call, so
verified hashes are remembered in ``<cache_dir>/hashes.json``, keyed by each file's path, size,
mtime, ctime and inode: a file whose stat is unchanged since it was hashed is not read again,
and any write (which moves ctime, a time no user tool can set back) makes it hashed anew. As in
git's "racily clean" rule, a file changed within the last few seconds is never recorded, so a
rewrite inside one timestamp tick cannot hide behind an old record.

Beside the module: ``<module stem>-driver-<driver hash>.code``, the guest driver's code object as
the guest itself marshalled it (``child.py driver``), so a fresh interpreter runs it instead of
compiling guest/driver.py: 12 ms of a 64 ms start-up (issue 12). Its first line holds the SHA-256
of the driver source and of the marshal bytes; both are checked before the file is named to the
child (and the check remembered in ``hashes.json`` by the file's stat, as hashes are), and a file
that fails is made again.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from wasm_sandbox.errors import SandboxError
from wasm_sandbox.launch import ENGINE_SETTINGS, child_command, module_args, wasmtime_site

if TYPE_CHECKING:
    import logging

# Imported where used, not here: logging (6 ms), tempfile (4-5 ms), hashlib (3 ms) and
# platformdirs (8 ms) are needed only to write the cache, to report a rare event, or without
# an explicit cache folder, and every `sandbox run` waited for them before its interpreter
# could start (python -X importtime, min of 9, load 3.7).


def _log() -> logging.Logger:
    import logging

    return logging.getLogger(__name__)


def _mkstemp(prefix: str, folder: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)

# The interpreter this project builds and ships (wasi_build/build_python_wasm.sh; inputs, flags
# and these hashes in interpreter/BUILD.json): CPython 3.13.5 for wasm32-wasip1 at -O3 with
# ThinLTO (linked at -O3) and wasm-opt -O3, zlib, bz2, lzma, sqlite3 and the sandbox's
# _codeact_host (host calls as WebAssembly imports, child.HostBridge) built in, and its standard
# library as a zip of compiled modules, preopened read-only at STDLIB_GUEST_DIR.
INTERPRETER_DIR = Path(__file__).with_name("interpreter")
PINNED_SHA256 = "18884f1fb7c8394352337cc1af8159401f6e15838172e0cc5ab896ee3ff3c3b4"
STDLIB_ZIP = "python313.zip"
STDLIB_SHA256 = "102124467f6df2da108072d17bcad85ea1ef91e46703508a725f877c5d48ac58"
STDLIB_GUEST_DIR = "/usr/local/lib"
WASM_ENV = "CODEACT_EXPLORER_PYTHON_WASM"
HOME_ENV = "CODEACT_EXPLORER_HOME"


@dataclass(frozen=True)
class RuntimeInfo:
    """Which interpreter a sandbox runs and where its compiled form lives."""

    wasm_path: Path
    wasm_sha256: str
    pinned: bool  # True when the hash is the one this project verified
    module_path: Path  # the compiled (serialized) module
    module_size: int
    module_inode: int
    stdlib_dir: Path | None = None  # preopened read-only at STDLIB_GUEST_DIR when set
    driver_code: Path | None = None  # the marshalled guest driver; None: compiled from source

    @property
    def note(self) -> str | None:
        """A sentence to show when the interpreter is not the pinned build."""
        if self.pinned:
            return None
        return (
            f"using the WASI CPython at {self.wasm_path} from ${WASM_ENV} "
            f"(SHA-256 {self.wasm_sha256}), not the verified build"
        )


HASHES_FILE = "hashes.json"
RACY_SECONDS = 3.0  # a file changed this recently is hashed but not recorded

_lock = threading.Lock()
_hash_memo: dict[tuple, str] = {}


def default_cache_dir() -> Path:
    """``$CODEACT_EXPLORER_HOME/cache/wasm`` when set, else the user cache dir + ``/wasm``."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / "cache" / "wasm"
    import platformdirs

    return Path(platformdirs.user_cache_dir("codeact-explorer")) / "wasm"


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


CHECKED = "checked"  # a record of a file that passed its check (``_HashRecords.checked``)


class _HashRecords:
    """SHA-256 of files, remembered across processes in ``hashes.json`` keyed by their stat."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / HASHES_FILE
        self.dirty = False
        try:
            records = json.loads(self.file.read_text())
        except (OSError, ValueError):
            records = {}
        self.records: dict = records if isinstance(records, dict) else {}

    def sha256(self, path: Path) -> str:
        """The file's SHA-256 (hex), read from the records when its stat is unchanged."""
        key = _stat_key(path)
        if key in _hash_memo:
            return _hash_memo[key]
        recorded = self._recorded(key)
        if recorded is not None and recorded != CHECKED:
            digest = recorded
        else:
            digest = _sha256(path)
            self._record(key, digest)
        _hash_memo[key] = digest
        return digest

    def checked(self, path: Path, check: Callable[[], bool]) -> bool:
        """Whether ``check()`` (which reads ``path``) holds, remembered by the file's stat as
        the digests are: a file that passed and has not changed since is not checked again.
        Only files that pass are recorded. ``OSError`` when the file cannot be read."""
        key = _stat_key(path)
        if self._recorded(key) == CHECKED:
            return True
        if not check():
            return False
        self._record(key, CHECKED)
        return True

    def _recorded(self, key: tuple) -> str | None:
        record = self.records.get(key[0])
        if isinstance(record, list) and len(record) == 5 and tuple(record[:4]) == key[1:]:
            return str(record[4])
        return None

    def _record(self, key: tuple, value: str) -> None:
        changed_ns = max(key[2], key[3])
        if time.time_ns() - changed_ns > RACY_SECONDS * 1e9:
            self.records[key[0]] = [*key[1:], value]
            self.dirty = True

    def save(self) -> None:
        """Write the records (atomically; a cache folder we cannot write only costs time)."""
        if not self.dirty:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _mkstemp(self.file.name, self.file.parent)
            with os.fdopen(fd, "w") as fh:
                json.dump(self.records, fh)
            os.replace(tmp, self.file)
            self.dirty = False
        except OSError as exc:
            _log().info("cannot record hashes in %s (%s)", self.file, exc)


def locate_wasm() -> tuple[Path, bool]:
    """The python.wasm to run and whether it is the packaged one (else from the env var)."""
    override = os.environ.get(WASM_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise SandboxError(
                f"${WASM_ENV} points to {path}, which is not a file; fix or unset it."
            )
        return path, False
    path = INTERPRETER_DIR / "python.wasm"
    if not path.is_file():
        raise SandboxError(f"python.wasm is missing at {path}; reinstall codeact-explorer.")
    return path, True


def wasmtime_version() -> str:
    """The installed wasmtime version, read without importing wasmtime into the app.

    Taken from the ``wasmtime-<version>.dist-info`` folder beside the package: importing
    ``importlib.metadata`` to ask it cost 15-30 ms of every command-line call.
    """
    found = sorted(Path(wasmtime_site()).glob("wasmtime-*.dist-info"))
    if len(found) == 1:
        return found[0].name[len("wasmtime-") : -len(".dist-info")]
    from importlib import metadata  # several or none: let the packaging metadata decide

    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError as exc:
        raise SandboxError(
            "The wasmtime package is not installed; reinstall codeact-explorer."
        ) from exc


def settings_key() -> str:
    """A short key of the engine settings for the cache's file names (CRC-32: a collision
    costs a recompile at most, since the sidecar holds the settings in full and is compared)."""
    text = json.dumps(ENGINE_SETTINGS, sort_keys=True)
    return f"{zlib.crc32(text.encode()):08x}"


DRIVER_SOURCE = Path(__file__).with_name("guest") / "driver.py"
CODE_MARK = b"marshalled driver"  # child.CODE_MARK without its newline (child.py imports none)


def _sidecar_ok(module: Path, sidecar: Path, expect: dict,
                records: _HashRecords | None = None) -> bool:
    """True when the sidecar matches this key and the module file's bytes match the sidecar."""
    try:
        meta = json.loads(sidecar.read_text())
        if not isinstance(meta, dict):
            return False
        if any(meta.get(k) != v for k, v in expect.items()):
            return False
        if module.stat().st_size != meta.get("size"):
            return False
        records = records if records is not None else _HashRecords(module.parent)
        return records.sha256(module) == meta.get("sha256")
    except (OSError, ValueError):
        return False


def _compile(wasm: Path, module: Path, sidecar: Path, expect: dict) -> None:
    """Compile in a child process, then rename the result and its sidecar into place.

    Raises ``SandboxError`` (one sentence) when the cache folder cannot be made or written."""
    try:
        module.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission
        raise SandboxError(f"The compiled-module cache folder {module.parent} cannot be made "
                           f"({exc.strerror or exc}); point the cache at a writable folder."
                           ) from exc
    fd, tmp_name = _mkstemp(module.name, module.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        proc = subprocess.run(
            child_command("compile", str(wasm), str(tmp)),
            capture_output=True,
            text=True,
            timeout=600,
            env={},
        )
        if proc.returncode != 0 or tmp.stat().st_size == 0:
            reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise SandboxError(f"Compiling {wasm.name} failed ({reason}); is it a WASI CPython?")
        meta = dict(expect, size=tmp.stat().st_size, sha256=_sha256(tmp))
        side_fd, side_tmp = _mkstemp(sidecar.name, module.parent)
        with os.fdopen(side_fd, "w") as fh:
            json.dump(meta, fh)
        os.replace(tmp, module)
        os.replace(side_tmp, sidecar)
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"Compiling {wasm.name} took over 10 minutes; try again.") from exc
    finally:
        tmp.unlink(missing_ok=True)


def prepare(cache_dir: Path | None = None, *,
            on_compile: Callable[[], object] | None = None) -> RuntimeInfo:
    """Verify python.wasm and make sure its compiled module is cached; compile if needed.

    Blocking: milliseconds when the cache holds the module, seconds when it must be compiled
    (9.8 s on this project's machine, load 1.8); ``on_compile`` is called first then (from this
    thread), so a caller can say why it waits. Callers in one process share the work: one
    compiles, the others wait for it and load the result. Raises ``SandboxError``.
    """
    wasm, packaged = locate_wasm()
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    with _lock:
        records = _HashRecords(folder)
        digest = records.sha256(wasm)
        if packaged and digest != PINNED_SHA256:
            raise SandboxError(
                f"python.wasm at {wasm} has SHA-256 {digest}, not the expected {PINNED_SHA256}; "
                "reinstall codeact-explorer."
            )
        pinned = digest == PINNED_SHA256
        stdlib = _verified_stdlib(records) if pinned else None
        if not pinned:
            _log().warning("%s has SHA-256 %s, not the verified build", wasm, digest)
        version = wasmtime_version()
        stem = f"python-{digest[:16]}-wasmtime{version}-{settings_key()}"
        module, sidecar = folder / f"{stem}.cwasm", folder / f"{stem}.json"
        expect = {"wasm_sha256": digest, "wasmtime": version, "settings": ENGINE_SETTINGS}
        if not _sidecar_ok(module, sidecar, expect, records):
            if on_compile is not None:
                on_compile()
            _log().info("compiling %s into %s", wasm, module)
            _compile(wasm, module, sidecar, expect)
            if not _sidecar_ok(module, sidecar, expect, records):
                raise SandboxError(f"The module cache at {folder} keeps changing; try again.")
        st = module.stat()
        info = RuntimeInfo(wasm, digest, pinned, module, st.st_size, st.st_ino, stdlib)
        info = replace(info, driver_code=_driver_code(info, stem, records))
        records.save()
        return info


def _code_header(source: bytes, payload: bytes) -> bytes:
    """A code file's first line: the SHA-256 of the driver source and of the marshal bytes."""
    return f"{_sha256_bytes(source)} {_sha256_bytes(payload)}".encode()


def _code_ok(path: Path, source: bytes) -> bool:
    """True when PATH's header names this driver source and the marshal bytes that follow."""
    try:
        head, _, payload = path.read_bytes().partition(b"\n")
    except OSError:
        return False
    return bool(payload) and head == _code_header(source, payload)


def _driver_code(info: RuntimeInfo, stem: str, records: _HashRecords) -> Path | None:
    """The marshalled driver for this module, made by the guest when missing; None when the
    guest cannot make it (the child then compiles the source, as before). The source's hash
    and the file's check are remembered in ``records`` by stat, as the module's hashes are."""
    folder = info.module_path.parent
    path = folder / f"{stem}-driver-{records.sha256(DRIVER_SOURCE)[:16]}.code"
    with contextlib.suppress(OSError):
        if records.checked(path, lambda: _code_ok(path, DRIVER_SOURCE.read_bytes())):
            return path
    source = DRIVER_SOURCE.read_bytes()
    fd, tmp_name = _mkstemp(path.name, folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        proc = subprocess.run(
            child_command("driver", *module_args(info), tmp_name),
            capture_output=True, text=True, timeout=120, env={},
        )
        mark, _, payload = tmp.read_bytes().partition(b"\n")
        if proc.returncode != 0 or mark != CODE_MARK or not payload:
            _log().info("the guest could not marshal its driver: %s",
                        proc.stderr.strip()[-300:])
            return None
        tmp.write_bytes(_code_header(source, payload) + b"\n" + payload)
        os.replace(tmp, path)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _log().info("the guest could not marshal its driver (%s)", exc)
        return None
    finally:
        tmp.unlink(missing_ok=True)
    # Earlier drivers' files go after a day (not at once: checkouts of different versions may
    # share this folder, and each would delete the other's).
    for old in folder.glob(f"{stem}-driver-*.code"):
        with contextlib.suppress(OSError):
            if old != path and time.time() - old.stat().st_mtime > 86400:
                old.unlink()
    return path


def _verified_stdlib(records: _HashRecords) -> Path:
    """The folder holding the pinned interpreter's stdlib zip, after checking the zip's hash."""
    folder = INTERPRETER_DIR / "lib"
    zip_path = folder / STDLIB_ZIP
    try:
        digest = records.sha256(zip_path)
    except OSError:
        digest = "missing"
    if digest != STDLIB_SHA256:
        raise SandboxError(
            f"The standard library at {zip_path} has SHA-256 {digest}, not the expected "
            f"{STDLIB_SHA256}; reinstall codeact-explorer."
        )
    return folder
