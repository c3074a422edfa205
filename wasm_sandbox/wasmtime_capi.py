"""The few calls of wasmtime's C API that the interpreter's process makes, through ctypes.

Why not the ``wasmtime`` package here: importing it cost 41-46 ms of every fresh interpreter
process (its generated bindings declare about a thousand C functions, and it imports typing,
enum, pathlib and platform: ``python -I -S -X importtime -c "import wasmtime"``), the largest
part of ``sandbox run``'s start-up (issue 12). This declares the 32 functions the child uses,
from the shared library that same package ships, after ``ctypes`` (3.5 ms); nothing else is
imported. Compiling a module (cold and rare) still goes through the package (``child.py
compile``), so a setting mapped wrongly here shows at once: the compiled module would not
deserialize. ``tests/test_sandbox_capi.py`` checks every signature and struct layout here
against the package's own bindings.

Handles are plain addresses (ints); nothing is freed, because the process ends with
``os._exit`` once its one interpreter is done. Errors and traps raise ``WasmError``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import POINTER, byref, c_bool, c_char_p, c_int, c_size_t, c_ssize_t, c_void_p

TYPE_CHECKING = False  # typing costs 2-12 ms to import here (python -I -S -X importtime)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

# The wasmtime release whose C API this file was written against (pyproject pins >=50,<51).
WASMTIME_MAJOR = "50"

_p = c_void_p  # every handle (engine, module, store, context, linker, config, error, trap)


class ByteVec(ctypes.Structure):
    """``wasm_byte_vec_t``: a message the library allocated."""

    _fields_ = (("size", c_size_t), ("data", c_void_p))


class Func(ctypes.Structure):
    """``wasmtime_func_t``."""

    _fields_ = (("store_id", ctypes.c_uint64), ("private", c_void_p))


class _StoreIndex(ctypes.Structure):
    _fields_ = (("store_id", ctypes.c_uint64), ("private1", ctypes.c_uint32))


class Memory(ctypes.Structure):
    """``wasmtime_memory_t``: a struct of store id and index (padded to 16 bytes), an index."""

    _fields_ = (("anon", _StoreIndex), ("private2", ctypes.c_uint32))


class ExternUnion(ctypes.Union):
    """``wasmtime_extern_union_t``, only the members read here (size fixed by ``raw``)."""

    _fields_ = (("func", Func), ("memory", Memory), ("raw", ctypes.c_uint8 * 24))


class Extern(ctypes.Structure):
    """``wasmtime_extern_t``: a kind byte (0 func, 3 memory) and the union."""

    _fields_ = (("kind", ctypes.c_uint8), ("of", ExternUnion))


class Instance(ctypes.Structure):
    """``wasmtime_instance_t``."""

    _fields_ = (("store_id", ctypes.c_uint64), ("private", c_size_t))


class ValRaw(ctypes.Union):
    """``wasmtime_val_raw_t``: one parameter or result of an unchecked host function (an
    ``i32`` is the low 4 bytes; 16 bytes each, the size of a ``v128``)."""

    _fields_ = (("i32", ctypes.c_int32), ("i64", ctypes.c_int64), ("raw", ctypes.c_uint8 * 16))


class ValtypeVec(ctypes.Structure):
    """``wasm_valtype_vec_t``: value types of a function's parameters or results."""

    _fields_ = (("size", c_size_t), ("data", POINTER(c_void_p)))


EXTERN_FUNC = 0
EXTERN_MEMORY = 3
VALKIND_I32 = 0  # WASM_I32
OutputCallback = ctypes.CFUNCTYPE(c_ssize_t, c_void_p, c_void_p, c_size_t)
Finalizer = ctypes.CFUNCTYPE(None, c_void_p)
# wasmtime_func_unchecked_callback_t: (env, caller, args and results, their count) -> trap.
HostCallback = ctypes.CFUNCTYPE(c_size_t, c_void_p, c_void_p, POINTER(ValRaw), c_size_t)

# name: (result type, argument types), as wasmtime 50's C headers declare them.
SIGNATURES: dict[str, tuple[object, list]] = {
    "wasm_config_new": (_p, []),
    "wasm_engine_new_with_config": (_p, [_p]),
    "wasmtime_module_deserialize_file": (_p, [_p, c_char_p, POINTER(_p)]),
    "wasmtime_linker_new": (_p, [_p]),
    "wasmtime_linker_define_wasi": (_p, [_p]),
    "wasmtime_linker_instantiate": (_p, [_p, _p, _p, POINTER(Instance), POINTER(_p)]),
    "wasmtime_store_new": (_p, [_p, c_void_p, Finalizer]),
    "wasmtime_store_context": (_p, [_p]),
    "wasmtime_store_limiter": (None, [_p, *[ctypes.c_int64] * 5]),
    "wasmtime_context_set_epoch_deadline": (None, [_p, ctypes.c_uint64]),
    "wasmtime_context_set_wasi": (_p, [_p, _p]),
    "wasi_config_new": (_p, []),
    "wasi_config_set_argv": (c_bool, [_p, c_size_t, POINTER(c_char_p)]),
    "wasi_config_set_env": (c_bool, [_p, c_size_t, POINTER(c_char_p), POINTER(c_char_p)]),
    "wasi_config_preopen_dir": (c_bool, [_p, c_char_p, c_char_p, c_bool]),
    "wasi_config_inherit_stdin": (None, [_p]),
    "wasi_config_inherit_stdout": (None, [_p]),
    "wasi_config_inherit_stderr": (None, [_p]),
    "wasi_config_set_stdout_file": (c_bool, [_p, c_char_p]),
    "wasi_config_set_stderr_custom": (None, [_p, OutputCallback, c_void_p, Finalizer]),
    "wasmtime_instance_export_get": (c_bool, [_p, POINTER(Instance), c_char_p, c_size_t,
                                              POINTER(Extern)]),
    "wasmtime_func_call": (_p, [_p, POINTER(Func), c_void_p, c_size_t, c_void_p, c_size_t,
                                POINTER(_p)]),
    "wasmtime_memory_data_size": (c_size_t, [_p, POINTER(Memory)]),
    "wasmtime_memory_data": (_p, [_p, POINTER(Memory)]),
    "wasm_valtype_new": (_p, [ctypes.c_uint8]),
    "wasm_valtype_vec_new": (None, [POINTER(ValtypeVec), c_size_t, POINTER(_p)]),
    "wasm_functype_new": (_p, [POINTER(ValtypeVec), POINTER(ValtypeVec)]),
    "wasmtime_linker_define_func_unchecked": (_p, [_p, c_char_p, c_size_t, c_char_p, c_size_t,
                                                   _p, HostCallback, c_void_p, Finalizer]),
    "wasmtime_error_exit_status": (c_bool, [_p, POINTER(c_int)]),
    "wasmtime_error_message": (None, [_p, POINTER(ByteVec)]),
    "wasm_trap_message": (None, [_p, POINTER(ByteVec)]),
    "wasm_byte_vec_delete": (None, [POINTER(ByteVec)]),
}
# Engine settings that are not booleans, as the wasmtime package's Config maps them.
ENUM_SETTINGS = {
    "cranelift_opt_level": {"none": 0, "speed": 1, "speed_and_size": 2},
    "strategy": {"auto": 0, "cranelift": 1},
    "profiler": {"none": 0, "jitdump": 1, "vtune": 2, "perfmap": 3},
}


class WasmError(Exception):
    """An error or trap from wasmtime; ``exit_code`` is set when the guest called exit."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Library:
    """The shared library with the functions of ``SIGNATURES`` declared."""

    def __init__(self, path: str) -> None:
        self.dll = ctypes.CDLL(path)  # a CDLL call releases the GIL (the watchdog runs)
        for name, (restype, argtypes) in SIGNATURES.items():
            fn = getattr(self.dll, name)
            fn.restype, fn.argtypes = restype, argtypes
            setattr(self, name, fn)

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


_lib: list[_Library] = []
# Callbacks handed to the library must outlive every call into it.
_keep: list[object] = []


def library_path(site: str) -> str:
    """The shared library inside the wasmtime package in ``site`` (as the package finds it)."""
    machine = os.uname().machine
    machine = {"AMD64": "x86_64", "amd64": "x86_64", "arm64": "aarch64",
               "ARM64": "aarch64"}.get(machine, machine)
    name = {"darwin": "_libwasmtime.dylib", "win32": "_wasmtime.dll"}.get(
        sys.platform, "_libwasmtime.so")
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    return os.path.join(site, "wasmtime", f"{platform}-{machine}", name)


def load(site: str) -> None:
    """Load wasmtime's library from the package in ``site``. Raises ``WasmError`` when the
    installed package is not the release this file was checked against."""
    if _lib:
        return
    found = [n for n in os.listdir(site) if n.startswith("wasmtime-") and n.endswith(".dist-info")]
    versions = [n[len("wasmtime-"):-len(".dist-info")] for n in found]
    if not any(v.split(".")[0] == WASMTIME_MAJOR for v in versions):
        raise WasmError(f"wasmtime {', '.join(versions) or '(none)'} is installed; the sandbox "
                        f"needs {WASMTIME_MAJOR}.x")
    _lib.append(_Library(library_path(site)))


def _bytes_message(fill: Callable[..., None], handle: int) -> str:
    vec = ByteVec()
    fill(handle, byref(vec))
    text = ctypes.string_at(vec.data, vec.size).decode("utf-8", "replace").rstrip("\0")
    _lib[0].wasm_byte_vec_delete(byref(vec))
    return text


def _check(error: int | None, trap: c_void_p | None = None) -> None:
    """Raise ``WasmError`` for an error handle or a trap handle (the library owns neither
    afterwards: the process ends soon, so they are not deleted)."""
    lib = _lib[0]
    if error:
        code = c_int(0)
        if lib.wasmtime_error_exit_status(error, byref(code)):
            raise WasmError(f"exit status {code.value}", code.value)
        raise WasmError(_bytes_message(lib.wasmtime_error_message, error))
    if trap is not None and trap.value:
        raise WasmError(_bytes_message(lib.wasm_trap_message, trap.value))


def new_engine(settings: dict[str, object]) -> int:
    """An engine configured with ``settings`` (name -> bool, int, or the names of
    ``ENUM_SETTINGS``), as ``wasmtime.Config`` attributes would set them."""
    lib = _lib[0]
    config = lib.wasm_config_new()
    for name, value in settings.items():
        try:
            setter = getattr(lib.dll, f"wasmtime_config_{name}_set")
        except AttributeError:
            raise WasmError(f"unknown engine setting {name!r}") from None
        arg: int
        if isinstance(value, bool):
            setter.argtypes, arg = [_p, c_bool], int(value)
        elif isinstance(value, int):
            setter.argtypes, arg = [_p, ctypes.c_uint64], value
        elif isinstance(value, str) and value in ENUM_SETTINGS.get(name, {}):
            setter.argtypes, arg = [_p, ctypes.c_uint8], ENUM_SETTINGS[name][value]
        else:
            raise WasmError(f"engine setting {name}={value!r} is not supported")
        setter.restype = None
        setter(config, arg)
    return int(lib.wasm_engine_new_with_config(config))


def deserialize_file(engine: int, path: str) -> int:
    """A module from a file that ``wasmtime.Module.serialize`` wrote (mapped, not copied)."""
    module = c_void_p()
    _check(_lib[0].wasmtime_module_deserialize_file(engine, path.encode(), byref(module)))
    return int(module.value or 0)


def new_linker(engine: int) -> int:
    """A linker with WASI preview 1 defined (one per engine is enough)."""
    linker = _lib[0].wasmtime_linker_new(engine)
    _check(_lib[0].wasmtime_linker_define_wasi(linker))
    return int(linker)


def define_i32_func(linker: int, module: str, name: str, params: int,
                    handler: Callable[[ctypes.Array], int]) -> None:
    """Define ``module.name`` in ``linker``: ``params`` i32 parameters, one i32 result, given
    by ``handler(args)`` (``args[i].i32`` the parameters). The handler runs on the guest's
    thread, with the GIL; it must not raise (an exception is taken as the result -1)."""
    lib = _lib[0]

    def vec(count: int) -> ValtypeVec:
        out = ValtypeVec()
        types = (c_void_p * count)(*(lib.wasm_valtype_new(VALKIND_I32) for _ in range(count)))
        lib.wasm_valtype_vec_new(byref(out), count, types)
        return out

    def trampoline(_env: int, _caller: int, args: ctypes.Array, _count: int) -> int:
        try:
            result = handler(args)
        except Exception:
            result = -1
        args[0].i64 = result & 0xFFFFFFFF
        return 0  # no trap

    params_vec, results_vec = vec(params), vec(1)
    functype = lib.wasm_functype_new(byref(params_vec), byref(results_vec))
    callback, finalize = HostCallback(trampoline), Finalizer(lambda _env: None)
    _keep.extend((callback, finalize))
    module_b, name_b = module.encode(), name.encode()
    _check(lib.wasmtime_linker_define_func_unchecked(
        linker, module_b, len(module_b), name_b, len(name_b), functype, callback, None, finalize))


def _strings(values: Sequence[str | bytes]) -> ctypes.Array:
    return (c_char_p * len(values))(*(v if isinstance(v, bytes) else v.encode() for v in values))


class Guest:
    """One store with one instance of a WASI module.

    ``argv`` the guest's argv, no environment; ``preopen`` (host folder, guest path) opened
    read-only; stdin and stdout inherited from this process unless ``stdout_file`` names a
    file; ``stderr`` a callback given each write's bytes (else inherited); ``memory_bytes`` the
    store's memory limit; the epoch deadline is ``epoch_deadline`` ticks from now.
    """

    def __init__(self, engine: int, linker: int, module: int, argv: Sequence[str | bytes],
                 preopen: tuple[str, str] | None = None, stdout_file: str | None = None,
                 stderr: Callable[[bytes], object] | None = None, memory_bytes: int = -1,
                 epoch_deadline: int = 1) -> None:
        lib = _lib[0]
        self.store = lib.wasmtime_store_new(engine, None, Finalizer())
        self.context = lib.wasmtime_store_context(self.store)
        lib.wasmtime_store_limiter(self.store, memory_bytes, -1, -1, -1, -1)
        lib.wasmtime_context_set_epoch_deadline(self.context, epoch_deadline)
        wasi = lib.wasi_config_new()
        if not lib.wasi_config_set_argv(wasi, len(argv), _strings(argv)):
            raise WasmError("cannot set the guest's argv")
        lib.wasi_config_set_env(wasi, 0, _strings([]), _strings([]))
        if preopen is not None and not lib.wasi_config_preopen_dir(
                wasi, preopen[0].encode(), preopen[1].encode(), False):
            raise WasmError(f"cannot preopen {preopen[0]}")
        lib.wasi_config_inherit_stdin(wasi)
        if stdout_file is None:
            lib.wasi_config_inherit_stdout(wasi)
        elif not lib.wasi_config_set_stdout_file(wasi, stdout_file.encode()):
            raise WasmError(f"cannot open {stdout_file}")
        if stderr is None:
            lib.wasi_config_inherit_stderr(wasi)
        else:
            callback = OutputCallback(lambda _id, data, size: _call(stderr, data, size))
            finalize = Finalizer(lambda _id: None)
            _keep.extend((callback, finalize))
            lib.wasi_config_set_stderr_custom(wasi, callback, None, finalize)
        _check(lib.wasmtime_context_set_wasi(self.context, wasi))
        self.instance = Instance()
        trap = c_void_p()
        _check(lib.wasmtime_linker_instantiate(linker, self.context, module,
                                               byref(self.instance), byref(trap)), trap)

    def _export(self, name: str, kind: int) -> Extern | None:
        item = Extern()
        raw = name.encode()
        found = _lib[0].wasmtime_instance_export_get(self.context, byref(self.instance), raw,
                                                     len(raw), byref(item))
        return item if found and item.kind == kind else None

    def function(self, name: str) -> Func:
        """The exported function ``name``; ``WasmError`` when there is none."""
        item = self._export(name, EXTERN_FUNC)
        if item is None:
            raise WasmError(f"the module exports no function {name}")
        return item.of.func

    def call(self, func: Func) -> None:
        """Call ``func`` (no parameters, no results) until it returns; ``WasmError`` when it
        traps, fails or exits (``exit_code`` set, even for 0)."""
        trap = c_void_p()
        _check(_lib[0].wasmtime_func_call(self.context, byref(func), None, 0, None, 0,
                                          byref(trap)), trap)

    def memory(self) -> Memory | None:
        """The exported ``memory``, or None when there is none."""
        item = self._export("memory", EXTERN_MEMORY)
        return None if item is None else item.of.memory

    def memory_bytes(self) -> int | None:
        """The size of the exported ``memory`` in bytes, or None when there is none."""
        item = self._export("memory", EXTERN_MEMORY)
        if item is None:
            return None
        return int(_lib[0].wasmtime_memory_data_size(self.context, byref(item.of.memory)))


def _call(callback: Callable[[bytes], object], data: int, size: int) -> int:
    try:
        callback(ctypes.string_at(data, size))
    except Exception:
        return -5  # EIO: the guest sees a failed write, never a Python traceback
    return size
