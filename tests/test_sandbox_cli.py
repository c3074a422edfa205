"""`codeact-explorer sandbox run FILE|-` against a fresh platform."""

from __future__ import annotations

import io
import json

import pytest
from sandbox_support import link_cache_into, shared_cache

from engine.settings import paths
from tui.cli import main


@pytest.fixture(autouse=True)
def _compiled_module_in_home():
    link_cache_into(shared_cache(), paths().wasm_cache)


def test_runs_a_file_against_the_platform(tmp_path, capsys):
    program = tmp_path / "prog.py"
    program.write_text(
        "found = api.users.search('Adams')\n"
        "print(sorted(u['name'] for u in found['items']))\n"
    )
    assert main(["sandbox", "run", str(program)]) == 0
    out, err = capsys.readouterr()
    assert "Adams" in out
    assert "1 host call" in err


def test_reads_stdin_and_prints_json(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("print(len(api.users.list()['items']) > 0)\n"))
    assert main(["sandbox", "run", "-", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output"] == "True\n" and data["error"] is None
    assert data["host_calls"] == ["users_list"] and data["host_call_count"] == 1
    assert data["limit"] is None and data["wall_ms"] > 0


def test_a_failing_program_exits_1_with_its_traceback(tmp_path, capsys):
    program = tmp_path / "bad.py"
    program.write_text("x = 1\napi.users.get(10**9)\n")
    assert main(["sandbox", "run", str(program)]) == 1
    _, err = capsys.readouterr()
    assert 'File "<code>", line 2' in err and "ToolError" in err


def test_nothing_printed_is_said(tmp_path, capsys):
    program = tmp_path / "quiet.py"
    program.write_text("x = 1\n")
    assert main(["sandbox", "run", str(program)]) == 0
    assert "nothing was printed" in capsys.readouterr().err


def test_a_missing_file_is_one_sentence(tmp_path, capsys):
    assert main(["sandbox", "run", str(tmp_path / "nope.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codeact-explorer: There is no file") and err.count("\n") == 1


def test_the_command_ends_at_once_with_all_its_output_and_status(tmp_path):
    # Run as the installed command does (argv from sys.argv): the process ends with os._exit,
    # so this checks that every printed line and the status still come out through pipes.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # pipes buffer
    program = "for i in range(400):\n    print(f'line {i:04d}', 'x' * 20)\n1 / 0\n"
    proc = subprocess.run([sys.executable, "-m", "tui", "sandbox", "run", "-"], input=program,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 400 and lines[-1] == "line 0399 " + "x" * 20
    assert "ZeroDivisionError" in proc.stderr and "0 host calls" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "tui", "sandbox", "run", "-", "--json"],
                          input="print(2)", capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["output"] == "2\n"


def test_a_limit_that_stops_the_interpreter_is_said_once(tmp_path, capsys):
    # The crash stands for every limit the sandbox enforces from outside (CPU, wall clock,
    # flood): its own sentence already names the limit, so no second notice repeats it.
    program = tmp_path / "crash.py"
    program.write_text("import os\nos._exit(3)\n")
    assert main(["sandbox", "run", str(program)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines  # the sentence, then the bracketed count and time
    assert "crashed" in lines[0] and "status 3" in lines[0]
    assert lines[1].startswith("[0 host calls, ")


def test_a_limit_inside_the_program_keeps_its_traceback_and_notice(tmp_path, capsys):
    program = tmp_path / "calls.py"
    program.write_text("words = 'x' * (2 << 20)\nprint(api.users.search(words))\n")
    assert main(["sandbox", "run", str(program)]) == 1
    err = capsys.readouterr().err
    assert 'File "<code>", line 2' in err and "SandboxLimit" in err
    assert "The sandbox stopped the program: the argument-size limit was hit." in err


def test_a_home_that_is_a_file_is_one_sentence(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    monkeypatch.setenv("CODEACT_EXPLORER_HOME", str(home))
    monkeypatch.setattr("sys.stdin", io.StringIO("print(1)\n"))
    assert main(["sandbox", "run", "-"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "is a file, not a folder" in err


def test_a_cache_folder_that_cannot_be_made_is_one_sentence(tmp_path):
    from wasm_sandbox import SandboxError
    from wasm_sandbox.runtime import prepare

    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("")
    with pytest.raises(SandboxError, match="cannot be made"):
        prepare(blocker / "wasm")


def test_a_compile_is_said_once_and_a_cached_module_says_nothing(tmp_path, monkeypatch, capsys):
    """A cold (or corrupt, rebuilt) cache costs seconds: the user is told before they pass."""
    from wasm_sandbox import runtime

    compiled = shared_cache()
    compiles: list[str] = []

    def compile_stand_in(wasm, module, sidecar, expect):  # the session's module, not 5-10 s
        compiles.append(str(module))
        link_cache_into(compiled, module.parent)

    monkeypatch.setenv("CODEACT_EXPLORER_HOME", str(tmp_path / "cold-home"))
    monkeypatch.setattr(runtime, "_compile", compile_stand_in)
    for expected in ("compiling the interpreter (once", None):
        monkeypatch.setattr("sys.stdin", io.StringIO("print(1)\n"))
        assert main(["sandbox", "run", "-"]) == 0
        out, err = capsys.readouterr()
        assert out == "1\n"
        assert (expected in err) if expected else ("compiling" not in err)
    assert len(compiles) == 1
