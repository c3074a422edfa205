"""The task suite: every bundled task is solved by its reference program and judged right;
every checker turns down plausible wrong outcomes; broken task files say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.api import native_api
from tasks.checkers import CHECKERS, check
from tasks.dataset import initial_dataset
from tasks.reference import run_reference
from tasks.suite import TaskFileError, UnknownTaskError, get_task, load_tasks

TASKS = load_tasks()
IDS = [t.id for t in TASKS]
WRITING = [t for t in TASKS if "write" in t.tags]


def test_the_suite_has_the_article_five_and_the_other_shapes() -> None:
    assert len(TASKS) >= 12 and len(set(IDS)) == len(IDS)
    assert sum(t.article for t in TASKS) == 5
    tags = {tag for t in TASKS for tag in t.tags}
    for shape in ("decide", "pagination", "repair", "no-data", "dates", "bulk-update", "join"):
        assert shape in tags
    assert all(t.max_rounds >= 10 and t.reference and t.checker in CHECKERS for t in TASKS)
    assert len(get_task("fix-vat-bug").reference) == 2


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_reference_program_solves_the_task_natively(task) -> None:
    run = run_reference(task)
    *attempts, last = run.runs
    assert last.error is None, last.error
    assert all(a.error and "ToolError" in a.error for a in attempts)  # the repair case
    verdict = check(task, run.answer, initial_dataset(), run.platform)
    assert verdict.success, verdict.reasons


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_checker_rejects_an_extra_write(task) -> None:
    run = run_reference(task)
    native_api(run.platform).comments.create(body="Stray note.", author_id=1, task_id=1)
    verdict = check(task, run.answer, initial_dataset(), run.platform)
    assert not verdict.success and any("comments" in r or "comment" in r
                                       for r in verdict.reasons)


@pytest.mark.parametrize("task", WRITING, ids=[t.id for t in WRITING])
def test_checker_rejects_a_missed_record(task) -> None:
    run = run_reference(task)
    platform, api = run.platform, native_api(run.platform)
    last = platform.writes[-1]
    if last.action == "create":
        getattr(api, last.resource).delete(last.id)
    elif last.action == "update":
        before = dict(initial_dataset()[last.resource][last.id - 1])
        getattr(api, last.resource).update(last.id, **{k: before[k] for k in last.fields})
    else:  # a delete: put it back (under a new id, as a real API would)
        fields = {k: v for k, v in last.fields.items() if k != "id"}
        getattr(api, last.resource).create(**fields)
    verdict = check(task, run.answer, initial_dataset(), platform)
    assert not verdict.success


@pytest.mark.parametrize("task", WRITING, ids=[t.id for t in WRITING])
def test_checker_rejects_a_write_to_the_wrong_record(task) -> None:
    run = run_reference(task)
    platform = run.platform
    api = native_api(platform)
    last = platform.writes[-1]
    table = getattr(api, last.resource)
    if last.action == "create":  # point the new record at a different parent
        ref = next(k for k, v in last.fields.items() if k.endswith("_id") and v and k != "id")
        table.update(last.id, **{ref: 2 if last.fields[ref] != 2 else 3})
    elif last.action == "update":  # the same change applied to a neighbour instead
        before = dict(initial_dataset()[last.resource][last.id - 1])
        table.update(last.id, **{k: before[k] for k in last.fields})
        table.update(last.id % 5 + 1 if last.id % 5 + 1 != last.id else 6, **last.fields)
    else:
        record = platform.state()[last.resource][0]
        fields = {k: v for k, v in last.fields.items() if k != "id"}
        table.create(**fields)
        table.delete(record["id"])
    verdict = check(task, run.answer, initial_dataset(), platform)
    assert not verdict.success, verdict


WRONG_ANSWERS = {
    "user-team-info": "Lena Okafor is on the Mobile team, led by nobody in particular.",
    "aggregate-projects": "Atlas Mobile App: 20 hours, 20 open tasks, 1,000.00 invoiced.",
    "overdue-tasks": "20 tasks are overdue, mostly in Atlas Mobile App.",
    "no-recent-time": "Yes: Alex Adams logged 12 hours last week.",
    "milestones-next-two-weeks": "Helios Beta (Helios Website) has 3 tasks not done.",
    "failed-prod-deploys": "There were none.",
}


@pytest.mark.parametrize("task_id", sorted(WRONG_ANSWERS))
def test_read_only_checkers_reject_a_wrong_answer(task_id) -> None:
    task = get_task(task_id)
    run = run_reference(task)
    verdict = check(task, WRONG_ANSWERS[task_id], initial_dataset(), run.platform)
    assert not verdict.success


def test_least_loaded_checker_rejects_the_inactive_person() -> None:
    task = get_task("least-loaded-qa")
    run = run_reference(task)
    api = native_api(run.platform)
    victor = api.users.search("Victor Hale")["items"][0]
    bug = api.bugs.search("Safari")["items"][0]
    api.bugs.update(bug["id"], assignee_id=victor["id"])
    verdict = check(task, run.answer, initial_dataset(), run.platform)
    assert not verdict.success and "assigned to user" in verdict.reasons[0]


def test_aggregate_checker_accepts_other_number_formats() -> None:
    task = get_task("aggregate-projects")
    answer = run_reference(task).answer
    reformatted = answer.replace(",", "").replace(".00 hours", " hours")
    assert check(task, reformatted, initial_dataset(), run_reference(task).platform).success


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = '''[[task]]
id = "count-users"
title = "Count users"
prompt = "How many users are there?"
checker = "answer_mentions"
params = { mentions = ["64"], writes = "none" }
reference = ["print(api.users.list()['total'], 'users')"]
'''


def test_a_users_file_loads_and_its_task_is_found_beside_the_bundled_ones(tmp_path) -> None:
    path = _write(tmp_path, GOOD)
    (task,) = load_tasks(path)
    assert task.max_rounds == 10 and task.source == str(path)
    assert get_task("count-users", path) == task
    run = run_reference(task)
    assert check(task, run.answer, initial_dataset(), run.platform).success
    with pytest.raises(UnknownTaskError, match="There is no task 'nope'"):
        get_task("nope", path)


@pytest.mark.parametrize(("edit", "field"), [
    (lambda s: s.replace('title = "Count users"\n', ""), "title"),
    (lambda s: s.replace('"answer_mentions"', '"magic"'), "checker"),
    (lambda s: s.replace('checker =', 'max_rounds = "ten"\nchecker ='), "max_rounds"),
    (lambda s: s.replace('id = "count-users"', 'id = "Count Users!"'), "id"),
    (lambda s: s.replace('prompt =', 'promt = "x"\nprompt ='), "promt"),
    (lambda s: s.replace('reference = [', 'tags = "a"\nreference = ['), "tags"),
])
def test_a_broken_file_gives_one_sentence_naming_file_task_and_field(tmp_path, edit,
                                                                     field) -> None:
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(TaskFileError) as info:
        load_tasks(path)
    message = str(info.value)
    assert str(path) in message and f"field {field!r}" in message and "task " in message
    assert message.endswith(".") and "\n" not in message


def test_invalid_toml_and_reused_ids_are_named_too(tmp_path) -> None:
    path = _write(tmp_path, GOOD.replace('title = "Count users"', 'title = "Count'))
    with pytest.raises(TaskFileError, match="is not valid TOML"):
        load_tasks(path)
    path = _write(tmp_path, GOOD.replace("count-users", "overdue-tasks"))
    with pytest.raises(TaskFileError, match="already the id of a bundled task"):
        get_task("overdue-tasks", path)
