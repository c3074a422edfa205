"""How checkers read answers: tolerant of formatting, strict about facts."""

from __future__ import annotations

from tasks.checkers import check
from tasks.checking import (
    diff,
    mentions,
    mentions_count,
    mentions_number,
    mentions_record,
    says_none,
)
from tasks.dataset import initial_dataset
from tasks.platform import new_platform
from tasks.reference import run_reference
from tasks.suite import get_task


def test_numbers_in_any_common_format_match() -> None:
    for text in ("1,234.5 hours", "1234.50 hours", "1 234.5", "€1,234.50", "about 1234"):
        assert mentions_number(text, 1234.5), text
    assert not mentions_number("1,200 hours", 1234.5)
    assert mentions_number("241 hours", 241.0) and mentions_number("241.00", 241.0)


def test_dates_are_not_read_as_quantities() -> None:
    assert not mentions_count("due 2025-06-05", 6)
    assert not mentions_count("due 2025-06-05", 5)
    assert mentions_count("due 2025-06-05: six tasks left", 6)


def test_names_ignore_case_spacing_and_quote_style() -> None:
    assert mentions("Please wrap this up before Friday\u2019s demo.",
                    "please wrap this up  before friday's demo")
    assert mentions_record("Fix bug 72 please", 72, "Some title")
    assert not mentions_record("Fix bug 172 please", 72, "Some title")


def test_saying_there_is_nothing() -> None:
    assert says_none("No one has logged time there in the last 30 days.")
    assert says_none("There were no entries.")
    assert not says_none("Yes, no problem: Alex logged 12 hours.")
    assert not says_none("Alex logged 12 hours.")


def test_diff_sees_creates_updates_and_deletes() -> None:
    platform = new_platform()
    platform.call("labels_create", {"name": "new"})
    platform.call("labels_update", {"id": 1, "name": "renamed"})
    platform.call("labels_delete", {"id": 2})
    changes = diff(initial_dataset(), platform.state())
    assert [r["name"] for r in changes.created["labels"]] == ["new"]
    assert [a["name"] for _, a in changes.updated["labels"]] == ["renamed"]
    assert [r["id"] for r in changes.deleted["labels"]] == [2]
    assert changes.count() == 3


def test_comment_checker_accepts_titles_instead_of_a_count() -> None:
    task = get_task("comment-review-tasks")
    run = run_reference(task)
    titles = [w.fields["task_id"] for w in run.platform.writes]
    names = [run.platform.record("tasks", t)["title"] for t in titles]
    answer = "Done! I commented on: " + ", ".join(names) + "."
    assert check(task, answer, initial_dataset(), run.platform).success
    assert not check(task, "Done!", initial_dataset(), run.platform).success
