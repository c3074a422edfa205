"""The interpreter's process calls wasmtime's C library itself (``wasm_sandbox.wasmtime_capi``);
these pin its declarations to the wasmtime package's own generated bindings, so a wasmtime
upgrade that changes a signature or a struct fails here instead of corrupting memory."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path

import pytest
from wasmtime import _bindings as theirs

from wasm_sandbox import child, launch
from wasm_sandbox import wasmtime_capi as capi


def shape(t: object) -> object:
    """What matters of a ctypes type at a call: a pointer, or an integer's code and size."""
    if t is None:
        return None
    assert isinstance(t, type)
    if issubclass(t, (ctypes._Pointer, ctypes.c_void_p, ctypes.c_char_p)) or hasattr(
            t, "_flags_"):  # _flags_: a CFUNCTYPE
        return "pointer"
    return (t._type_.lower() if t._type_ != "?" else "?", ctypes.sizeof(t))  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(capi.SIGNATURES))
def test_each_declared_function_matches_the_packages_binding(name):
    restype, argtypes = capi.SIGNATURES[name]
    binding = getattr(theirs, "_" + name)
    assert shape(restype) == shape(binding.restype)
    assert [shape(a) for a in argtypes] == [shape(a) for a in binding.argtypes]
    for ours, their in zip(argtypes, binding.argtypes, strict=True):
        if shape(ours) != "pointer" and ctypes.sizeof(ours) > 1:
            # same size and signedness (c_int64 and c_long are one type on 64-bit Linux)
            assert ours._type_ == their._type_, (name, ours, their)


@pytest.mark.parametrize(("ours", "their"), [
    (capi.ByteVec, theirs.wasm_byte_vec_t),
    (capi.Func, theirs.wasmtime_func_t),
    (capi.Memory, theirs.wasmtime_memory_t),
    (capi.Extern, theirs.wasmtime_extern_t),
    (capi.ExternUnion, theirs.wasmtime_extern_union_t),
    (capi.Instance, theirs.wasmtime_instance_t),
])
def test_each_struct_has_the_packages_size_and_layout(ours, their):
    assert ctypes.sizeof(ours) == ctypes.sizeof(their)
    assert ctypes.alignment(ours) == ctypes.alignment(their)
    if issubclass(ours, ctypes.Structure):
        assert [getattr(ours, f[0]).offset for f in ours._fields_] == [
            getattr(their, f[0]).offset for f in their._fields_]


def test_extern_kinds_and_the_library_path_are_the_packages():
    from wasmtime import _ffi

    assert _ffi.WASMTIME_EXTERN_FUNC.value == capi.EXTERN_FUNC
    assert _ffi.WASMTIME_EXTERN_MEMORY.value == capi.EXTERN_MEMORY
    assert Path(capi.library_path(launch.wasmtime_site())) == Path(_ffi.filename)


def test_another_wasmtime_release_is_refused_in_one_sentence(tmp_path):
    (tmp_path / "wasmtime-49.0.0.dist-info").mkdir()
    loaded = list(capi._lib)
    capi._lib.clear()
    try:
        with pytest.raises(capi.WasmError, match=r"wasmtime 49\.0\.0 is installed; the sandbox "
                                                  r"needs 50\.x"):
            capi.load(str(tmp_path))
    finally:
        capi._lib[:] = loaded


def test_the_engine_settings_are_all_understood_and_an_unknown_one_is_refused():
    capi.load(launch.wasmtime_site())
    assert capi.new_engine(launch.ENGINE_SETTINGS)
    with pytest.raises(capi.WasmError, match="unknown engine setting 'no_such_thing'"):
        capi.new_engine({"no_such_thing": True})
    with pytest.raises(capi.WasmError, match="not supported"):
        capi.new_engine({"cranelift_opt_level": "fastest"})


def test_a_missing_module_file_is_a_wasm_error():
    capi.load(launch.wasmtime_site())
    engine = capi.new_engine(launch.ENGINE_SETTINGS)
    with pytest.raises(capi.WasmError):
        capi.deserialize_file(engine, "/nonexistent/python.cwasm")


@pytest.mark.parametrize("text", ['{"token": "ab", "limits": {"cpu_seconds": 1.5}, "m": [1, "-"]}',
                                  '{"a": [true, false, null, -1e3, "\\u00e9"]}', "[]"])
def test_the_childs_json_reader_reads_what_json_does(text):
    assert child.loads(text) == json.loads(text)
    assert child.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ["", "{", '{"a": 1} x', "{'a': 1}", "NaN x"])
def test_the_childs_json_reader_refuses_what_is_not_json(text):
    with pytest.raises(ValueError):
        child.loads(text)
