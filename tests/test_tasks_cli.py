"""`codeact-explorer tasks` and `codeact-explorer tools`."""

from __future__ import annotations

import json

from tasks.suite import load_tasks
from tui.cli import main


def test_tasks_lists_id_title_and_tags(capsys) -> None:
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    for task in load_tasks():
        assert task.id in out and task.title in out
    assert "article, lookup" in out


def test_tasks_json_is_for_machines(capsys) -> None:
    assert main(["tasks", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in payload] == [t.id for t in load_tasks()]
    assert {"id", "title", "tags", "prompt", "max_rounds"} <= set(payload[0])


def test_tasks_file_adds_the_users_tasks_and_reports_a_broken_file(tmp_path, capsys) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[[task]]\nid = "mine"\ntitle = "Mine"\nprompt = "Hi"\n'
                    'checker = "answer_mentions"\n', encoding="utf-8")
    assert main(["tasks", "--file", str(path)]) == 0
    assert "mine" in capsys.readouterr().out
    path.write_text('[[task]]\nid = "mine"\nprompt = "Hi"\nchecker = "answer_mentions"\n',
                    encoding="utf-8")
    assert main(["tasks", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "field 'title'" in err and "Traceback" not in err and err.count("\n") == 1


def test_tools_prints_each_rendering_and_its_token_count(capsys) -> None:
    assert main(["tools", "--format", "python"]) == 0
    captured = capsys.readouterr()
    assert "class Task:" in captured.out and "Tekken tokens" in captured.err
    assert main(["tools", "--format", "mistral-json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 120 and "Tekken tokens" in captured.err


def test_tools_without_format_compares_both(capsys) -> None:
    assert main(["tools"]) == 0
    out = capsys.readouterr().out
    assert "mistral-json" in out and "python" in out
