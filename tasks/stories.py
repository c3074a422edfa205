"""The facts the bundled tasks ask about, staged deterministically on the generic records.

The checkers never read these constants' outcomes as literals: they recompute every answer from
the dataset. What is staged here only makes sure each task has an interesting answer (a unique
least-loaded person, more records than one page, distractors next to the right records).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

Record = dict[str, Any]
UNRESOLVED = ("open", "triaged", "in_progress")


def _d(today: date, offset: int) -> str:
    return (today + timedelta(days=offset)).isoformat()


def _by_name(rows: list[Record], name: str) -> Record:
    return next(r for r in rows if r.get("name") == name)


def _rename_member(data: dict[str, list[Record]], team: str, index: int, name: str) -> Record:
    team_id = _by_name(data["teams"], team)["id"]
    user = [u for u in data["users"] if u["team_id"] == team_id][index]
    user["name"] = name
    user["email"] = name.lower().replace(" ", ".") + "@example.com"
    user["active"] = True
    return user


def stage_stories(data: dict[str, list[Record]], rng: random.Random, today: date) -> None:
    """Overwrite a few generic records so every bundled task has a definite, interesting answer;
    ``today`` is the dataset's fixed date (``tasks.dataset.TODAY``), dates are staged around it."""
    users = data["users"]
    _rename_member(data, "Design Studio", 2, "Lena Okafor")
    _rename_member(data, "Product", 1, "Mara Quinn")
    jordan = _rename_member(data, "Mobile", 1, "Jordan Blake")
    priya = _rename_member(data, "Mobile", 2, "Priya Raman")
    sam = _rename_member(data, "Platform", 1, "Sam Ortiz")
    projects = {p["name"]: p for p in data["projects"]}
    tasks, bugs = data["tasks"], data["bugs"]
    engineers = [u for u in users if u["role"] == "engineer" and u["active"]
                 and u["id"] not in (jordan["id"], priya["id"])]

    # Comment task: exactly four Atlas tasks in review with high or urgent priority.
    atlas = [t for t in tasks if t["project_id"] == projects["Atlas Mobile App"]["id"]]
    for t in atlas:
        if t["status"] == "review" and t["priority"] in ("high", "urgent"):
            t["priority"] = "medium"
    for i, t in enumerate(rng.sample([t for t in atlas if t["status"] != "done"], 4)):
        t["status"], t["priority"] = "review", ("urgent", "high")[i % 2]

    # Reassignment task: Jordan has 27 tasks (more than one page), 7 of them done.
    mobile_projects = {p["id"] for p in data["projects"] if p["team_id"] == jordan["team_id"]}
    for t in tasks:
        if t["assignee_id"] == jordan["id"]:
            t["assignee_id"] = priya["id"]
    live = [t for t in tasks if t["project_id"] in mobile_projects and t["status"] != "done"]
    done = [t for t in tasks if t["project_id"] in mobile_projects and t["status"] == "done"]
    for t in rng.sample(live, 20) + rng.sample(done, 7):
        t["assignee_id"] = jordan["id"]

    # Bug stories. Generic bug titles never mention payments, Safari or VAT.
    pool = iter(rng.sample(bugs, 10))
    billing = projects["Billing Revamp"]["id"]
    checkout = projects["Checkout Redesign"]["id"]
    payment_bugs = (
        ("Payment confirmation email not sent", "critical", "open", billing),
        ("Duplicate payment charged on retry", "critical", "triaged", checkout),
        ("Payment webhook retries forever", "critical", "in_progress", billing),
        ("Payment page slow on mobile", "high", "open", checkout),
        ("Refund payment rounding error", "critical", "resolved", billing),
    )
    for (title, severity, status, project), assignee in zip(
            payment_bugs, rng.sample(engineers, len(payment_bugs)), strict=True):
        next(pool).update(title=title, severity=severity, status=status, project_id=project,
                          assignee_id=assignee["id"])
    next(pool).update(title="Invoice PDF shows wrong VAT rate", severity="high",
                      status="in_progress", project_id=billing, assignee_id=sam["id"],
                      description="Germany invoices use 16% instead of 19%.")
    safari = next(pool)
    safari.update(title="Checkout button unresponsive on Safari", severity="high",
                  status="open", project_id=checkout, assignee_id=None)

    # Least-loaded QA: distinct unresolved counts; the inactive QA person has none.
    quality_id = _by_name(data["teams"], "Quality")["id"]
    qa = [u for u in users if u["team_id"] == quality_id]
    for u in qa:
        u["active"] = True
    qa[-1].update(name="Victor Hale", email="victor.hale@example.com", active=False)
    staged = {b["id"] for b in bugs if b["assignee_id"] is None or b["title"].startswith(
        ("Payment", "Duplicate", "Refund", "Invoice PDF"))}
    free = [b for b in bugs if b["status"] in UNRESOLVED and b["id"] not in staged]
    rng.shuffle(free)
    for u, count in zip(qa[:-1], (3, 5, 2, 4, 6, 7, 4), strict=False):
        for _ in range(count):
            free.pop()["assignee_id"] = u["id"]

    # Milestone window task: three open milestones in the next two weeks, one just outside.
    active = [projects[n]["id"] for n in ("Atlas Mobile App", "Patient Portal",
                                          "Analytics Dashboard", "Helios Website")]
    for m in data["milestones"]:
        due = date.fromisoformat(m["due_date"])
        if m["status"] == "open" and 0 <= (due - today).days <= 18:
            m["due_date"] = _d(today, 25)
    for project_id, offset in zip(active, (3, 9, 12, 17), strict=True):
        m = [m for m in data["milestones"] if m["project_id"] == project_id][1]
        m.update(status="open", due_date=_d(today, offset))

    # Join task: exactly four failed production deployments in May 2025.
    deployers = [u for u in users if u["role"] == "engineer"]
    for dep in data["deployments"]:
        if dep["environment"] == "production" and dep["status"] == "failed":
            dep["status"] = "succeeded"
    for day, dep in zip((3, 14, 21, 28), rng.sample(data["deployments"], 4), strict=True):
        dep.update(environment="production", status="failed",
                   deployed_on=date(2025, 5, day).isoformat(),
                   deployed_by=rng.choice(deployers)["id"])
