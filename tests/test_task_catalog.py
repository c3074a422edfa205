"""One task catalogue for the app, `bench` and `tasks`: the same tasks, the same sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.commands.bench_cmd import select_tasks
from tasks.suite import TaskCatalog, TaskFileError, UnknownTaskError, load_tasks
from tui.backend import Backend, BackendError
from tui.cli import main

BUNDLED_ID = "user-team-info"


def user_file(tmp_path: Path, task_id: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(f'[[task]]\nid = "{task_id}"\ntitle = "Mine"\nprompt = "Who leads Lena?"\n'
                    'checker = "answer_mentions"\nparams = { mentions = ["Rosa"] }\n',
                    encoding="utf-8")
    return path


def clash_sentence(path: Path) -> str:
    return (f"{path}: task {BUNDLED_ID!r}, field 'id': is already the id of a bundled task; "
            "give your task another id.")


def test_the_catalogue_lists_bundled_then_user_tasks_and_gets_by_id(tmp_path: Path) -> None:
    path = user_file(tmp_path, "mine")
    catalog = TaskCatalog.load(path)
    bundled = [t.id for t in load_tasks()]
    assert catalog.ids() == (*bundled, "mine")
    assert catalog.get("mine").title == "Mine" and catalog.from_user_file(catalog.get("mine"))
    assert not catalog.from_user_file(catalog.get(BUNDLED_ID))
    with pytest.raises(UnknownTaskError, match="There is no task 'nope'; the tasks are: "):
        catalog.get("nope")


def test_a_user_task_reusing_a_bundled_id_is_one_sentence(tmp_path: Path) -> None:
    path = user_file(tmp_path, BUNDLED_ID)
    with pytest.raises(TaskFileError) as caught:
        TaskCatalog.load(path)
    assert str(caught.value) == clash_sentence(path)


def test_the_app_bench_and_tasks_read_the_same_catalogue(tmp_path: Path) -> None:
    path = user_file(tmp_path, "mine")
    ids = TaskCatalog.load(path).ids()
    assert tuple(t.id for t in Backend().list_tasks(path)) == ids
    assert tuple(t.id for t in select_tasks("all", path)) == ids
    with pytest.raises(BackendError, match="already the id of a bundled task"):
        Backend().list_tasks(user_file(tmp_path, BUNDLED_ID))


@pytest.mark.parametrize("argv", [
    ["tasks", "--file", "{path}"],
    ["bench", "--task-file", "{path}", "--tasks", BUNDLED_ID],
    ["--task-file", "{path}"],  # the app: its flags are checked before it opens
], ids=["tasks", "bench", "app"])
def test_each_command_says_the_same_sentence_for_a_reused_id(tmp_path: Path, capsys,
                                                              argv: list[str]) -> None:
    path = user_file(tmp_path, BUNDLED_ID)
    assert main([a.format(path=path) for a in argv]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"codeact-explorer: {clash_sentence(path)}\n"
    assert captured.out == ""


def test_bench_without_tasks_runs_the_task_file_s_own(tmp_path: Path) -> None:
    """`bench --task-file F` with no --tasks races F's tasks, not the article's five."""
    path = user_file(tmp_path, "mine")
    assert [t.id for t in select_tasks(None, path)] == ["mine"]
    assert all(t.article for t in select_tasks(None, None)) and len(select_tasks(None, None)) == 5
