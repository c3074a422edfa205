"""`codeact-explorer doctor`: one line per check, fixes for problems, exit 1 on any problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.commands import doctor_cmd
from engine.providers import PROVIDERS
from tui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    status = main(["doctor", *argv])
    out = capsys.readouterr().out
    return status, out.splitlines()


def line(lines: list[str], name: str) -> str:
    [found] = [ln for ln in lines if ln.split(maxsplit=1)[1].startswith(f"{name}:")]
    return found


def test_a_fresh_home_passes_with_notes_for_the_key_and_the_unbuilt_cache(capsys):
    status, lines = run(capsys)
    assert status == 0, lines
    assert line(lines, "python.wasm").startswith("ok ") and "SHA-256 verified" in lines[0]
    assert line(lines, "compiled cache").startswith("note ")
    assert "--build-cache" in line(lines, "compiled cache")
    assert line(lines, "tokenizer").startswith("ok ")
    key = line(lines, "MISTRAL_API_KEY")
    assert key.startswith("note ") and "scripted" in key
    for name in ("config folder", "data folder", "cache folder", "prices"):
        assert line(lines, name).startswith("ok "), lines
    assert lines[-1] == "Everything needed is in place."


def test_the_key_is_reported_present_but_never_printed(capsys, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-very-secret-value-123")
    status, lines = run(capsys)
    assert status == 0
    assert line(lines, "MISTRAL_API_KEY") == "ok       MISTRAL_API_KEY: set (value not shown)."
    assert not any("sk-very-secret" in ln for ln in lines)


def test_an_unwritable_data_folder_is_a_problem_with_a_fix(capsys, _isolated_home):
    (Path(_isolated_home) / "data").write_text("a file where the folder should be")
    status, lines = run(capsys)
    assert status == 1
    data = line(lines, "data folder")
    assert data.startswith("problem ") and "Fix:" in data and "CODEACT_EXPLORER_HOME" in data
    assert lines[-1] == "1 problem(s) found."


def test_a_tampered_python_wasm_is_a_problem(capsys, monkeypatch, tmp_path):
    fake = tmp_path / "python.wasm"
    fake.write_bytes(b"\0asm not the real thing")
    pinned = "0" * 64
    monkeypatch.setattr(doctor_cmd, "_locate_wasm", lambda: (fake, True, pinned))
    monkeypatch.setattr(
        doctor_cmd,
        "check_cache",
        lambda build=False: doctor_cmd.Check("compiled cache", "ok", "skipped here."),
    )
    status, lines = run(capsys)
    assert status == 1
    wasm = line(lines, "python.wasm")
    assert wasm.startswith("problem ") and "reinstall codeact-explorer" in wasm


def test_a_missing_python_wasm_from_the_environment_is_a_problem(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CODEACT_EXPLORER_PYTHON_WASM", str(tmp_path / "nowhere.wasm"))
    status, lines = run(capsys)
    assert status == 1
    assert line(lines, "python.wasm").startswith("problem ")
    assert "nowhere.wasm" in line(lines, "python.wasm")


def test_a_broken_tokenizer_is_a_problem(capsys, monkeypatch):
    from engine import tokens

    def broken(text: str) -> int:
        raise OSError("vocabulary file missing")

    monkeypatch.setattr(tokens, "count_text", broken)
    status, lines = run(capsys)
    assert status == 1
    tok = line(lines, "tokenizer")
    assert (
        tok.startswith("problem ") and "vocabulary file missing" in tok and "mistral-common" in tok
    )


def test_a_broken_price_file_is_a_problem(capsys):
    from engine.pricing import user_prices_path

    path = user_prices_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[models.mistral-small-latest]\ninput = 'free'\noutput = 1\n")
    status, lines = run(capsys)
    assert status == 1
    assert line(lines, "prices").startswith("problem ") and str(path) in line(lines, "prices")


def test_build_cache_flag_builds_through_the_sandbox_runtime(capsys, monkeypatch, tmp_path):
    from wasm_sandbox import runtime

    class Info:
        module_path = tmp_path / "python.cwasm"

    monkeypatch.setattr(runtime, "prepare", lambda cache_dir=None: Info())
    status, lines = run(capsys, "--build-cache")
    assert status == 0
    cache = line(lines, "compiled cache")
    assert cache.startswith("ok ") and "python.cwasm ready" in cache


def test_every_check_is_one_line():
    checks = doctor_cmd.run_checks()
    live = sum(1 for p in PROVIDERS.values() if p.live and p.key_env)
    assert len(checks) == 7 + live
    assert all("\n" not in c.line() for c in checks)


def test_every_live_provider_of_the_registry_gets_its_line(capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    _, lines = run(capsys)
    openai = line(lines, "OPENAI_API_KEY")
    assert openai.startswith("note ") and "OPENAI_BASE_URL" in openai
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434")
    _, lines = run(capsys)
    assert line(lines, "OPENAI_API_KEY").startswith("ok ")
    assert "127.0.0.1:11434" in line(lines, "OPENAI_API_KEY")
