"""A task file's reference programs never run on the host unless the user says they trust it.

The scripted tool-calling agent plays a reference program by executing it in the app's own
process (engine.providers.program_play); the CodeAct modes send it to the sandbox. A task file
from someone else could otherwise write files or hang the app (found by a newcomer's pass:
``reference = ["while True: pass"]`` froze the app and the bench for good).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main

pytestmark = pytest.mark.usefixtures("warm_wasm_cache")

HOSTILE = '''
[[task]]
id = "writes-on-the-host"
title = "A reference program that writes a file where it runs"
prompt = "What is Lena Okafor's email address?"
checker = "answer_mentions"
params = {{ mentions = ["lena"], writes = "none" }}
reference = ["open({path!r}, 'w').write('host'); print('lena')"]
'''


def test_bench_refuses_to_play_a_task_file_on_the_host(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEACT_EXPLORER_PLAY_TASK_FILES", raising=False)
    target = tmp_path / "PWNED"
    task_file = tmp_path / "hostile.toml"
    task_file.write_text(HOSTILE.format(path=str(target)))
    status = main(["bench", "--task-file", str(task_file), "--tasks", "writes-on-the-host",
                   "--format", "json"])
    out = capsys.readouterr()
    assert status == 1 and not target.exists()
    [task] = json.loads(out.out)["tasks"]
    refused = task["runs"]["tool_calling"]
    assert not refused["success"]
    assert "outside the sandbox" in json.dumps(refused)
    assert "CODEACT_EXPLORER_PLAY_TASK_FILES=1" in json.dumps(refused)
    assert "Traceback" not in out.out + out.err


def test_a_trusted_task_file_is_played_and_bundled_tasks_always_are(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "written"
    task_file = tmp_path / "trusted.toml"
    task_file.write_text(HOSTILE.format(path=str(target)))
    monkeypatch.setenv("CODEACT_EXPLORER_PLAY_TASK_FILES", "1")
    main(["bench", "--task-file", str(task_file), "--tasks", "writes-on-the-host",
          "--modes", "tool_calling", "--format", "json"])
    assert target.read_text() == "host"  # what the user asked for, on their word
    capsys.readouterr()
    monkeypatch.delenv("CODEACT_EXPLORER_PLAY_TASK_FILES")
    assert main(["bench", "--tasks", "user-team-info", "--modes", "tool_calling"]) == 0
