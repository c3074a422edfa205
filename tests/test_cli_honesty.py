"""The command line says what is wrong in one sentence, once, before anything starts."""

from __future__ import annotations

import json

import pytest

from tui.cli import main


def _one_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "usage:" not in err
    return lines[0]


@pytest.mark.parametrize("argv", [
    ["--pace", "-1"],
    ["--pace", "nan"],
    ["bench", "--pace", "-1"],
])
def test_a_negative_pace_is_one_sentence_and_exit_2(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    line = _one_sentence(capsys.readouterr().err)
    assert "--pace must be a number of 0 or more" in line


@pytest.mark.parametrize("argv, named", [
    (["--pace", "fast"], "--pace"),
    (["--rate"], "--rate"),
    (["--bogus"], "--bogus"),
    (["bench", "--format", "pdf"], "--format"),
    (["bench", "--repeat", "two"], "--repeat"),
])
def test_a_malformed_flag_is_one_sentence_and_exit_2(argv: list[str], named: str,
                                                     capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    line = _one_sentence(capsys.readouterr().err)
    assert named in line and "--help" in line


def test_mistral_without_a_key_is_said_once_before_the_app_opens(capsys) -> None:
    assert main(["--provider", "mistral"]) == 2
    line = _one_sentence(capsys.readouterr().err)
    assert "MISTRAL_API_KEY" in line


@pytest.mark.parametrize("argv", [
    ["--model", "mistral-large-latest"],
    ["--provider", "scripted", "--model", "mistral-large-latest"],
    ["bench", "--model", "mistral-large-latest"],
])
def test_a_model_for_the_scripted_agent_is_refused(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    line = _one_sentence(capsys.readouterr().err)
    assert "--model" in line and "scripted" in line and "not a model" in line


def test_good_flags_reach_the_terminal_check(capsys) -> None:
    # With nothing wrong in the flags, the only complaint under pytest is the missing terminal.
    assert main(["--pace", "0.5", "--task", "user-team-info"]) == 2
    assert "needs a terminal" in _one_sentence(capsys.readouterr().err)


def test_bench_pace_zero_still_runs(capsys, warm_wasm_cache) -> None:
    assert main(["bench", "--tasks", "no-recent-time", "--pace", "0", "--format", "json",
                 "--no-record"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tasks"][0]["runs"]["tool_calling"]["success"]


@pytest.mark.parametrize("argv", [["--provider", "openai"], ["bench", "--provider", "openai"]])
def test_openai_without_a_server_or_a_key_is_said_once_before_anything_starts(
    argv: list[str], capsys, monkeypatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert main(argv) == 2
    line = _one_sentence(capsys.readouterr().err)
    assert "--server-url or OPENAI_BASE_URL" in line and "OPENAI_API_KEY" in line


@pytest.mark.parametrize("argv", [[], ["bench"]])
def test_a_home_that_is_a_file_is_one_sentence_before_anything_runs(
    argv: list[str], capsys, monkeypatch, tmp_path
) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("a file")
    monkeypatch.setenv("CODEACT_EXPLORER_HOME", str(home))
    assert main(argv) == 2
    line = _one_sentence(capsys.readouterr().err)
    assert "is a file, not a folder" in line and "CODEACT_EXPLORER_HOME" in line


@pytest.mark.parametrize("url, said", [
    ("http://localhost:99999", "Port out of range"),
    ("notaurl", "not an http(s) URL with a host"),
    ("ftp://x", "not an http(s) URL with a host"),
    ("http://", "not an http(s) URL with a host"),
])
@pytest.mark.parametrize("command", [["bench", "--provider", "openai"], ["--provider", "openai"]])
def test_a_server_url_that_cannot_work_is_one_sentence_before_anything_starts(
        url: str, said: str, command: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*command, "--server-url", url])
    assert stop.value.code == 2
    line = _one_sentence(capsys.readouterr().err)
    assert said in line and repr(url) in line
