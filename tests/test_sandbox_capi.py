"""The interpreter's process calls wasmtime's C library itself (``wasm_sandbox.wasmtime_capi``);
these pin its declarations to the wasmtime package's own generated bindings, so a wasmtime
upgrade that changes a signature or a struct fails here instead of corrupting memory."""

from __future__ import annotations

import ctypes
import json
import os
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
    (capi.ValRaw, theirs.wasmtime_val_raw_t),
    (capi.ValtypeVec, theirs.wasm_valtype_vec_t),
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
    assert _ffi.WASM_I32.value == capi.VALKIND_I32
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


@pytest.mark.parametrize(("ours", "their"), [
    (capi.HostCallback, theirs.wasmtime_func_unchecked_callback_t),
])
def test_each_callback_type_has_the_packages_signature(ours, their):
    assert shape(ours._restype_) == shape(their._restype_)
    assert [shape(a) for a in ours._argtypes_] == [shape(a) for a in their._argtypes_]


# A guest that calls the bridge's imports with what a hostile module could pass (the bundled
# python.wasm only passes its own buffers): each export stores call's or take's result at 0.
BRIDGE_CALLS = {
    "past_the_end": ("call", 65530, 7, 64, 0),
    "wrapped": ("call", -1, 2, 64, 0),
    "negative": ("call", 16, -5, 64, 0),
    "buffer_past_the_end": ("call", 16, 16, 65000, 4096),
    "take_first": ("take", 64, 4),
    "request": ("call", 16, 16, 64, 2),  # no room in the buffer: the answer waits for take
    "request_small": ("call", 16, 16, 128, 64),  # the answer lands at 128 at once
    "take_short": ("take", 64, 3),
    "take_outside": ("take", 65534, 6),
    "take": ("take", 64, 6),
}
BRIDGE_WAT = "\n".join([
    "(module",
    '  (import "codeact" "call" (func $call (param i32 i32 i32 i32) (result i32)))',
    '  (import "codeact" "take" (func $take (param i32 i32) (result i32)))',
    '  (memory (export "memory") 1)',
    '  (data (i32.const 16) "c1\\tusers_get\\t{}\\n")',
    *(f'  (func (export "{name}") (i32.store (i32.const 0) (call ${fn} '
      + " ".join(f"(i32.const {v})" for v in values) + ")))"
      for name, (fn, *values) in BRIDGE_CALLS.items()),
    ")",
])


def test_the_bridge_refuses_pointers_outside_memory_and_calls_out_of_turn(tmp_path):
    import wasmtime

    capi.load(launch.wasmtime_site())
    module_file = tmp_path / "bridge.cwasm"
    package_engine = child.make_engine(launch.ENGINE_SETTINGS)
    module_file.write_bytes(wasmtime.Module(package_engine, wasmtime.wat2wasm(BRIDGE_WAT))
                            .serialize())
    engine = capi.new_engine(launch.ENGINE_SETTINGS)
    loaded = child.Loaded(engine, capi.deserialize_file(engine, str(module_file)), None, [])
    guest = capi.Guest(engine, loaded.linker, loaded.module, ["bridge"])
    bridge = child.BRIDGE
    bridge.attach(guest)
    memory = guest.memory()
    assert memory is not None
    base = capi._lib[0].wasmtime_memory_data(guest.context, ctypes.byref(memory))

    def result_of(export: str) -> int:
        guest.call(guest.function(export))
        return ctypes.c_int32.from_address(base).value

    app_in, guest_out = os.pipe()  # what the guest sends (its stdout)
    guest_in, app_out = os.pipe()  # what the app answers (its stdin)
    saved = os.dup(0), os.dup(1)
    try:
        os.dup2(guest_out, 1)
        os.dup2(guest_in, 0)
        for export in ("past_the_end", "wrapped", "negative", "buffer_past_the_end",
                       "take_first"):
            assert result_of(export) == -1, export
        os.write(app_out, b"a1\tok\n")
        assert result_of("request") == 6
        assert os.read(app_in, 100) == b"c1\tusers_get\t{}\n"
        assert result_of("take_short") == -1  # not the answer's length
        assert result_of("take_outside") == -1
        assert result_of("take") == 6
        assert ctypes.string_at(base + 64, 6) == b"a1\tok\n"
        assert result_of("take") == -1  # handed over once
        os.write(app_out, b"a2\tok!\n")
        assert result_of("request_small") == 7
        assert ctypes.string_at(base + 128, 7) == b"a2\tok!\n"
        assert os.read(app_in, 100) == b"c1\tusers_get\t{}\n"
        assert result_of("take") == -1  # nothing kept
        os.close(app_out)  # the app closed the bridge
        assert result_of("request") == 0
    finally:
        os.dup2(saved[0], 0)
        os.dup2(saved[1], 1)
        for fd in (*saved, app_in, guest_out, guest_in):
            os.close(fd)
