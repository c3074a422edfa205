"""The staged facts keep every bundled task interesting: one right choice, more than a page,
distractors next to the right records, and truly nothing where the answer is "none"."""

from __future__ import annotations

from collections import Counter

from tasks.checking import by_id, find, rows
from tasks.dataset import initial_dataset

DATA = initial_dataset()
UNRESOLVED = ("open", "triaged", "in_progress")


def test_one_active_qa_person_has_the_fewest_unresolved_bugs_and_an_inactive_one_has_none() -> None:
    qa = [u for u in rows(DATA, "users") if u["role"] == "qa"]
    load = Counter(b["assignee_id"] for b in rows(DATA, "bugs") if b["status"] in UNRESOLVED)
    active = sorted(load[u["id"]] for u in qa if u["active"])
    assert active[0] < active[1]
    assert any(not u["active"] and load[u["id"]] == 0 for u in qa)


def test_the_leaver_has_more_tasks_than_one_default_page() -> None:
    jordan = find(DATA, "users", name="Jordan Blake")
    mine = [t for t in rows(DATA, "tasks") if t["assignee_id"] == jordan["id"]]
    assert len(mine) > 20 and any(t["status"] == "done" for t in mine)


def test_payment_bugs_have_distractors_of_the_wrong_severity_and_status() -> None:
    payment = [b for b in rows(DATA, "bugs") if "payment" in b["title"].lower()]
    right = [b for b in payment if b["severity"] == "critical" and b["status"] in UNRESOLVED]
    assert len(right) >= 3 and len({b["assignee_id"] for b in right}) == len(right)
    assert any(b["severity"] != "critical" for b in payment)
    assert any(b["status"] not in UNRESOLVED for b in payment)


def test_the_finished_project_has_old_time_entries_but_none_recent() -> None:
    project = find(DATA, "projects", name="Legacy CRM Sunset")
    dates = [e["date"] for e in rows(DATA, "time_entries") if e["project_id"] == project["id"]]
    assert dates and max(dates) < "2025-05-03"


def test_the_milestone_window_has_matches_and_one_just_outside() -> None:
    due = sorted(m["due_date"] for m in rows(DATA, "milestones") if m["status"] == "open"
                 and "2025-06-02" <= m["due_date"] <= "2025-06-23")
    inside = [d for d in due if d <= "2025-06-16"]
    assert len(inside) >= 2 and len(due) > len(inside)


def test_failed_production_deployments_in_may_join_to_real_people_and_projects() -> None:
    failed = [d for d in rows(DATA, "deployments") if d["environment"] == "production"
              and d["status"] == "failed" and d["deployed_on"].startswith("2025-05")]
    assert len(failed) >= 3
    repos = by_id(DATA, "repositories")
    assert all(repos[d["repository_id"]]["project_id"] and d["deployed_by"] for d in failed)


def test_overdue_work_spans_many_pages() -> None:
    overdue = [t for t in rows(DATA, "tasks")
               if t["due_date"] < "2025-06-02" and t["status"] != "done"]
    assert len(overdue) > 40
