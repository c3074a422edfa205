"""The interpreter file and the compiled-module cache: verified, keyed, rebuilt when wrong."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from sandbox_support import SMALL, TOY_API, shared_cache

from wasm_sandbox import Sandbox, SandboxError, runtime


def copy_cache(tmp_path: Path) -> Path:
    target = tmp_path / "cache"
    shutil.copytree(shared_cache(), target)
    return target


def cache_files(folder: Path) -> tuple[Path, Path]:
    module = next(folder.glob("*.cwasm"))
    return module, module.with_suffix(".json")


@pytest.fixture
def fake_compile(monkeypatch):
    """Count rebuilds, and rebuild by copying the good module (compiling takes seconds)."""
    calls: list[Path] = []
    good_module, good_sidecar = cache_files(shared_cache())

    def compile_(wasm, module, sidecar, expect):
        calls.append(module)
        tmp = module.with_suffix(".tmp")
        shutil.copyfile(good_module, tmp)
        tmp.replace(module)
        sidecar.write_text(good_sidecar.read_text())

    monkeypatch.setattr(runtime, "_compile", compile_)
    return calls


def test_the_cache_key_names_wasm_hash_wasmtime_version_and_settings():
    info = runtime.prepare(shared_cache())
    assert info.pinned and info.wasm_sha256 == runtime.PINNED_SHA256
    name = info.module_path.name
    assert name.startswith(f"python-{runtime.PINNED_SHA256[:16]}-wasmtime")
    assert runtime.wasmtime_version() in name and runtime.settings_key() in name
    meta = json.loads(info.module_path.with_suffix(".json").read_text())
    assert meta["wasm_sha256"] == runtime.PINNED_SHA256 and meta["size"] == info.module_size


def test_a_valid_cache_is_used_as_is(tmp_path, fake_compile):
    folder = copy_cache(tmp_path)
    runtime.prepare(folder)
    assert fake_compile == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "sidecar", "stale", "missing"])
def test_a_corrupt_or_stale_cache_is_rebuilt_not_trusted(tmp_path, fake_compile, damage):
    folder = copy_cache(tmp_path)
    module, sidecar = cache_files(folder)
    if damage == "flip":
        data = bytearray(module.read_bytes())
        data[len(data) // 2] ^= 0xFF
        module.write_bytes(bytes(data))
    elif damage == "truncate":
        module.write_bytes(module.read_bytes()[:1000])
    elif damage == "sidecar":
        sidecar.write_text("{not json")
    elif damage == "stale":
        meta = json.loads(sidecar.read_text())
        meta["wasmtime"] = "0.0.1"
        sidecar.write_text(json.dumps(meta))
    else:
        module.unlink()
    runtime.prepare(folder)
    assert fake_compile == [module]


def test_a_rebuilt_cache_runs(tmp_path, fake_compile):
    folder = copy_cache(tmp_path)
    module, _ = cache_files(folder)
    module.write_bytes(b"\0garbage" * 1000)
    with Sandbox(lambda n, a: {"ok": True, "value": None}, TOY_API, SMALL, folder) as sandbox:
        assert sandbox.run("print(6 * 7)").output == "42\n"
    assert fake_compile == [module]


def test_a_mismatched_packaged_wasm_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(runtime, "PINNED_SHA256", "0" * 64)
    with pytest.raises(SandboxError) as err:
        runtime.prepare(shared_cache())
    message = str(err.value)
    assert "not the expected" in message and "reinstall codeact-explorer" in message
    assert message.count(".") >= 1 and "\n" not in message


def test_a_missing_override_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(runtime.WASM_ENV, str(tmp_path / "nope.wasm"))
    with pytest.raises(SandboxError, match="not a file; fix or unset it"):
        runtime.prepare(tmp_path / "cache")


def test_an_override_is_reported_with_its_hash(monkeypatch, tmp_path, caplog):
    fake = tmp_path / "other-python.wasm"
    fake.write_bytes(b"\0asm\1\0\0\0")  # a valid, empty module: not a CPython
    monkeypatch.setenv(runtime.WASM_ENV, str(fake))
    digest = runtime._sha256(fake)
    with caplog.at_level(logging.WARNING):
        sandbox = Sandbox(lambda n, a: {}, TOY_API, SMALL, tmp_path / "cache")
    assert digest in caplog.text
    assert sandbox.runtime.wasm_sha256 == digest and digest in sandbox.runtime.note
    with sandbox, pytest.raises(SandboxError, match=r"cannot start python\.wasm"):
        sandbox.run("print(1)")


def test_runtime_note_names_an_unverified_build():
    info = runtime.RuntimeInfo(Path("/x/py.wasm"), "ab" * 32, False, Path("/c"), 1, 1)
    assert info.note is not None and "ab" * 32 in info.note and "not the verified" in info.note
    assert runtime.prepare(shared_cache()).note is None


def test_default_cache_dir_follows_the_home_switch(monkeypatch, tmp_path):
    monkeypatch.setenv("CODEACT_EXPLORER_HOME", str(tmp_path))
    assert runtime.default_cache_dir() == tmp_path / "cache" / "wasm"


FILL_CACHE = """
import sys, time
from pathlib import Path
from wasm_sandbox import runtime

good = Path(sys.argv[1])
def slow_copy(*args):
    out = args[-1]
    script = (
        "import sys, time\\n"
        "data = open(sys.argv[1], 'rb').read()\\n"
        "with open(sys.argv[2], 'wb') as fh:\\n"
        "    for i in range(0, len(data), 1 << 22):\\n"
        "        fh.write(data[i:i + (1 << 22)]); fh.flush(); time.sleep(0.02)\\n"
    )
    return [sys.executable, "-c", script, str(good), out]
runtime.child_command = slow_copy
info = runtime.prepare(Path(sys.argv[2]))
print(info.module_path.stat().st_size)
"""


def test_two_processes_filling_the_cache_at_once_leave_it_valid(tmp_path):
    import subprocess
    import sys

    good, _ = cache_files(shared_cache())
    folder = tmp_path / "race"
    procs = [
        subprocess.Popen([sys.executable, "-c", FILL_CACHE, str(good), str(folder)],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    sizes = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sizes == [good.stat().st_size] * 2
    assert sorted(p.name for p in folder.iterdir() if p.name != runtime.HASHES_FILE) == sorted(
        [good.name, good.with_suffix(".json").name]
    )
    assert runtime._sidecar_ok(
        folder / good.name, folder / good.with_suffix(".json").name,
        {"wasm_sha256": runtime.PINNED_SHA256},
    )


def test_hashes_are_remembered_by_stat_and_redone_when_a_file_changes(
    tmp_path, fake_compile, monkeypatch
):
    folder = copy_cache(tmp_path)
    (folder / runtime.HASHES_FILE).unlink(missing_ok=True)
    module, _ = cache_files(folder)
    monkeypatch.setattr(runtime, "RACY_SECONDS", 0.0)  # the copies are seconds old, not older
    read: list[str] = []
    real_sha256 = runtime._sha256
    monkeypatch.setattr(runtime, "_sha256", lambda p: read.append(p.name) or real_sha256(p))
    checked: list[str] = []
    real_code_ok = runtime._code_ok
    monkeypatch.setattr(runtime, "_code_ok",
                        lambda p, source: checked.append(p.name) or real_code_ok(p, source))

    def prepare_in_a_new_process() -> None:
        runtime._hash_memo.clear()  # what a new process starts with
        runtime.prepare(folder)

    prepare_in_a_new_process()
    assert sorted(read) == sorted([module.name, runtime.locate_wasm()[0].name, runtime.STDLIB_ZIP,
                                   runtime.DRIVER_SOURCE.name])
    assert len(checked) == 1  # the marshalled driver's header against its bytes
    read.clear()
    checked.clear()
    prepare_in_a_new_process()
    assert read == [] and checked == [] and fake_compile == []
    data = bytearray(module.read_bytes())
    data[len(data) // 3] ^= 0xFF  # same size, new bytes: its stat moved, so it is read again
    module.write_bytes(bytes(data))
    prepare_in_a_new_process()
    assert read and set(read) == {module.name} and fake_compile == [module]


def test_a_file_changed_just_now_is_not_recorded(tmp_path, fake_compile, monkeypatch):
    folder = copy_cache(tmp_path)
    (folder / runtime.HASHES_FILE).unlink(missing_ok=True)
    monkeypatch.setattr(runtime, "RACY_SECONDS", 3600.0)
    runtime._hash_memo.clear()
    runtime.prepare(folder)
    hashes = folder / runtime.HASHES_FILE
    records = json.loads(hashes.read_text()) if hashes.exists() else {}
    module, _ = cache_files(folder)
    assert str(module) not in records  # copied seconds ago: racily clean, hashed every time


def test_a_tampered_stdlib_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(runtime, "STDLIB_SHA256", "0" * 64)
    with pytest.raises(SandboxError) as err:
        runtime.prepare(shared_cache())
    message = str(err.value)
    assert runtime.STDLIB_ZIP in message and "reinstall codeact-explorer" in message
    assert "\n" not in message


def test_the_guest_imports_its_stdlib_read_only_and_sees_nothing_else():
    with Sandbox(lambda n, a: {"ok": True, "value": None}, TOY_API, SMALL,
                 shared_cache()) as sandbox:
        result = sandbox.run(
            "import json, re, collections, datetime, decimal, os\n"
            "print(json.dumps(sorted(os.listdir('/usr/local/lib'))))\n"
            "try:\n"
            "    open('/usr/local/lib/x.py', 'w')\n"
            "except OSError as exc:\n"
            "    print('no write', exc.errno)\n"
            "try:\n"
            "    os.listdir('/')\n"
            "except OSError:\n"
            "    print('no root')\n"
        )
    assert result.error is None, result.error
    lines = result.output.splitlines()
    assert lines[0] == '["python3.13", "python313.zip"]'
    assert lines[1].startswith("no write") and lines[2] == "no root"


def load_child_script():
    from wasm_sandbox import child

    return child


def test_the_guest_driver_is_cached_as_the_guests_own_code_and_a_tampered_file_is_remade(
    tmp_path,
):
    folder = copy_cache(tmp_path)
    info = runtime.prepare(folder)
    assert info.driver_code is not None and info.driver_code.parent == folder
    assert runtime.module_args(info)[-1] == str(info.driver_code)
    source = runtime.DRIVER_SOURCE.read_bytes()
    head, _, payload = info.driver_code.read_bytes().partition(b"\n")
    info.driver_code.write_bytes(head + b"\n" + payload[:-8] + b"tampered")
    assert not runtime._code_ok(info.driver_code, source)
    again = runtime.prepare(folder)
    assert again.driver_code == info.driver_code and runtime._code_ok(again.driver_code, source)
    with Sandbox(lambda name, args: {}, TOY_API, limits=SMALL, cache_dir=folder) as sandbox:
        result = sandbox.run("import sys\nprint(sys.argv[0], len(sys.argv))\n1/0")
    assert result.output == "-c 1\n"  # the program sees what the driver run from source saw
    assert result.error is not None and 'File "<code>", line 3' in result.error


def test_the_child_compiles_the_driver_from_source_without_cached_code(tmp_path):
    child = load_child_script()
    info = runtime.prepare(shared_cache())
    assert info.driver_code is not None
    argv = child.driver_argv(str(info.driver_code))
    assert argv[:2] == ["-c", child.DRIVER_STUB]
    assert bytes.fromhex(argv[2]) == info.driver_code.read_bytes().partition(b"\n")[2]
    source = runtime.DRIVER_SOURCE.read_text(encoding="utf-8")
    empty = tmp_path / "empty.code"
    empty.write_bytes(b"")
    for name in (str(empty), str(tmp_path / "missing.code"), "-"):
        assert child.driver_argv(name) == ["-c", source], name
