"""One checker per task: did the run succeed, judged from the data, not from literals.

A checker reads the final answer text, the initial dataset and the final platform state. It
recomputes the right answer from the initial data (the task's ``params`` only carry what the
prompt itself says, such as a person's name), then checks that the answer states the right facts
and that the writes are exactly right: every record that should change did, no other record
did, nothing extra was created.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tasks.checking import (
    State,
    by_id,
    diff,
    find,
    mentions,
    mentions_all_or_count,
    mentions_count,
    mentions_number,
    mentions_record,
    norm,
    only_changes,
    rows,
    says_none,
    segment,
)
from tasks.demos.checks import DEMO_CHECKERS
from tasks.task import Task

UNRESOLVED = ("open", "triaged", "in_progress")
Checker = Callable[[Task, str, State, State], list[str]]
CHECKERS: dict[str, Checker] = {}


@dataclass(frozen=True)
class Verdict:
    """Whether a run succeeded, and why not."""

    success: bool
    reasons: list[str] = field(default_factory=list)


def checker(fn: Checker) -> Checker:
    CHECKERS[fn.__name__] = fn
    return fn


def check(task: Task, answer: str, initial: State, final: Any) -> Verdict:
    """Judge a run; ``final`` is the run's Platform (or a resource -> records mapping)."""
    state = final.state() if hasattr(final, "state") else final
    fn = CHECKERS.get(task.checker)
    if fn is None:
        return Verdict(False, [f"task {task.id} names an unknown checker {task.checker!r}"])
    try:
        reasons = fn(task, answer or "", initial, state)
    except LookupError as exc:  # the data the task talks about is missing (a user's task file)
        reasons = [f"the checker could not find its data: {exc}"]
    return Verdict(not reasons, reasons)


def _need(answer: str, phrase: str, what: str) -> list[str]:
    subject = f"{what} {phrase!r}" if what else repr(phrase)
    return [] if mentions(answer, phrase) else [f"the answer does not mention {subject}"]


def _no_writes(initial: State, final: State) -> list[str]:
    changes = diff(initial, final)
    return [] if not changes.count() else [f"nothing should change, but: {changes.describe()}"]


@checker
def answer_mentions(task: Task, answer: str, initial: State, final: State) -> list[str]:
    """Generic checker for users' tasks: ``params.mentions`` must all be in the answer; with
    ``params.writes = "none"`` the platform must be unchanged."""
    reasons = [r for p in task.params.get("mentions", []) for r in _need(answer, p, "")]
    if task.params.get("writes") == "none":
        reasons += _no_writes(initial, final)
    return reasons


@checker
def user_team_info(task: Task, answer: str, initial: State, final: State) -> list[str]:
    user = find(initial, "users", name=task.params["user"])
    team = by_id(initial, "teams")[user["team_id"]]
    lead = by_id(initial, "users")[team["lead_id"]]
    members = [u for u in rows(initial, "users") if u["team_id"] == team["id"]]
    reasons = _need(answer, team["name"], "the team")
    reasons += _need(answer, team["department"], "the department")
    reasons += _need(answer, lead["name"], "the team lead")
    active = sum(1 for u in members if u["active"])
    if not (mentions_count(answer, len(members)) or mentions_count(answer, active)):
        reasons.append(f"the answer does not give the team size ({len(members)})")
    return reasons + _no_writes(initial, final)


@checker
def comment_review_tasks(task: Task, answer: str, initial: State, final: State) -> list[str]:
    author = find(initial, "users", name=task.params["author"])
    project = find(initial, "projects", name=task.params["project"])
    targets = {t["id"] for t in rows(initial, "tasks") if t["project_id"] == project["id"]
               and t["status"] == "review" and t["priority"] in ("high", "urgent")}
    changes = diff(initial, final)
    reasons = only_changes(changes, {"comments": {"created"}})
    comments = changes.created.get("comments", [])
    on = Counter(c["task_id"] for c in comments)
    reasons += [f"task {t} got no comment" for t in sorted(targets - on.keys())]
    reasons += [f"task {t} should not get a comment" for t in sorted(on.keys() - targets)]
    reasons += [f"task {t} got {n} comments, not one" for t, n in on.items() if n > 1]
    for c in comments:
        if c["author_id"] != author["id"]:
            reasons.append(f"comment {c['id']} is not from {author['name']}")
        if not mentions(c["body"] or "", task.params["text"]):
            reasons.append(f"comment {c['id']} does not say {task.params['text']!r}")
    titles = [t["title"] for t in rows(initial, "tasks") if t["id"] in targets]
    if not mentions_all_or_count(answer, len(targets), titles):
        reasons.append(f"the answer does not say which or how many tasks ({len(targets)})")
    return reasons


@checker
def create_project(task: Task, answer: str, initial: State, final: State) -> list[str]:
    p = task.params
    client = find(initial, "clients", name=p["client"])
    team = find(initial, "teams", name=p["team"])
    changes = diff(initial, final)
    reasons = only_changes(changes, {r: {"created"} for r in ("projects", "milestones", "tasks")})
    projects = changes.created.get("projects", [])
    milestones = changes.created.get("milestones", [])
    tasks = changes.created.get("tasks", [])
    if len(projects) != 1 or len(milestones) != 1:
        return [*reasons, f"expected one project and one milestone, got {len(projects)} and "
                f"{len(milestones)}"]
    proj, mile = projects[0], milestones[0]
    expected = {"name": p["project"], "client_id": client["id"], "team_id": team["id"],
                "start_date": p["start"]}
    reasons += [f"project {k} is {proj[k]!r}, not {v!r}" for k, v in expected.items()
                if norm(str(proj[k])) != norm(str(v))]
    wanted_m = {"project_id": proj["id"], "name": p["milestone"], "due_date": p["milestone_due"]}
    reasons += [f"milestone {k} is {mile[k]!r}, not {v!r}" for k, v in wanted_m.items()
                if norm(str(mile[k])) != norm(str(v))]
    titles = sorted(norm(t["title"]) for t in tasks)
    if titles != sorted(norm(t) for t in p["tasks"]):
        reasons.append(f"tasks created are {titles}, not {list(p['tasks'])}")
    reasons += [f"task {t['id']} is not in the new project under the milestone" for t in tasks
                if t["project_id"] != proj["id"] or t["milestone_id"] != mile["id"]]
    return reasons + _need(answer, p["project"], "the project")


@checker
def aggregate_projects(task: Task, answer: str, initial: State, final: State) -> list[str]:
    # Scoped to one client's projects, so a one-call-per-round agent can finish in 10 rounds.
    client = task.params.get("client")
    client_ids = {c["id"] for c in rows(initial, "clients")
                  if client is None or c["name"] == client}
    active = [p for p in rows(initial, "projects")
              if p["status"] == "active" and p["client_id"] in client_ids]
    reasons = []
    for p in active:
        hours = sum(e["hours"] for e in rows(initial, "time_entries")
                    if e["project_id"] == p["id"])
        open_tasks = sum(1 for t in rows(initial, "tasks")
                         if t["project_id"] == p["id"] and t["status"] != "done")
        invoiced = sum(i["amount"] for i in rows(initial, "invoices")
                       if i["project_id"] == p["id"] and i["status"] != "void")
        part = segment(answer, p["name"], [q["name"] for q in active]) or answer
        if not mentions(answer, p["name"]):
            reasons.append(f"the answer does not mention {p['name']}")
            continue
        for label, value in (("hours", hours), ("invoiced", invoiced)):
            if not (mentions_number(part, value) or mentions_number(answer, value)):
                reasons.append(f"{p['name']}: {label} should be {value:,.2f}")
        if not mentions_count(part, open_tasks):
            reasons.append(f"{p['name']}: open tasks should be {open_tasks}")
    return reasons + _no_writes(initial, final)


@checker
def notify_bug_assignees(task: Task, answer: str, initial: State, final: State) -> list[str]:
    p = task.params
    words = norm(p["words"]).split()
    targets = [b for b in rows(initial, "bugs") if b["severity"] == p["severity"]
               and b["status"] in UNRESOLVED
               and all(w in norm(f"{b['title']} {b['description'] or ''}") for w in words)]
    people = by_id(initial, "users")
    changes = diff(initial, final)
    reasons = only_changes(changes, {"notifications": {"created"}})
    sent = changes.created.get("notifications", [])
    unused = list(sent)
    for bug in targets:
        match = next((n for n in unused if n["user_id"] == bug["assignee_id"]
                      and mentions_record(n["message"] or "", bug["id"], bug["title"])), None)
        if match is None:
            reasons.append(f"no notification to {people[bug['assignee_id']]['name']} naming "
                           f"bug {bug['id']} ({bug['title']})")
            continue
        unused.remove(match)
        if match["kind"] != p["kind"]:
            reasons.append(f"notification {match['id']} is {match['kind']!r}, not {p['kind']!r}")
        if not (mentions(answer, bug["title"]) or mentions(answer, people[bug["assignee_id"]]
                                                            ["name"])):
            reasons.append(f"the answer does not mention bug {bug['title']!r} or its assignee")
    reasons += [f"notification {n['id']} to user {n['user_id']} is not for a target bug"
                for n in unused]
    return reasons


@checker
def least_loaded_qa(task: Task, answer: str, initial: State, final: State) -> list[str]:
    bug = find(initial, "bugs", title=task.params["bug"])
    qa = [u for u in rows(initial, "users") if u["role"] == task.params["role"] and u["active"]]
    load = {u["id"]: sum(1 for b in rows(initial, "bugs") if b["assignee_id"] == u["id"]
                         and b["status"] in UNRESOLVED) for u in qa}
    best = min(load.values())
    right = {u["id"]: u["name"] for u in qa if load[u["id"]] == best}
    changes = diff(initial, final)
    reasons = only_changes(changes, {"bugs": {"updated"}})
    updated = changes.updated.get("bugs", [])
    reasons += [f"bug {after['id']} should not change" for _, after in updated
                if after["id"] != bug["id"]]
    now = by_id(final, "bugs").get(bug["id"], {})
    if now.get("assignee_id") not in right:
        reasons.append(f"the bug is assigned to user {now.get('assignee_id')}, not to "
                       f"{' or '.join(right.values())} ({best} unresolved bugs)")
    if not any(mentions(answer, name) for name in right.values()):
        reasons.append(f"the answer does not name {' or '.join(right.values())}")
    return reasons


@checker
def overdue_tasks(task: Task, answer: str, initial: State, final: State) -> list[str]:
    today = task.params["today"]
    overdue = [t for t in rows(initial, "tasks")
               if t["due_date"] and t["due_date"] < today and t["status"] != "done"]
    per = Counter(t["project_id"] for t in overdue)
    top = max(per.values(), default=0)
    names = [by_id(initial, "projects")[pid]["name"] for pid, n in per.items() if n == top]
    reasons = [] if mentions_count(answer, len(overdue)) else [
        f"the answer does not give the overdue count ({len(overdue)})"]
    reasons += [r for name in names for r in _need(answer, name, "the top project")]
    return reasons + _no_writes(initial, final)


@checker
def fix_vat_bug(task: Task, answer: str, initial: State, final: State) -> list[str]:
    p = task.params
    bug = find(initial, "bugs", title=p["bug"])
    user = find(initial, "users", name=p["user"])
    changes = diff(initial, final)
    reasons = only_changes(changes, {"bugs": {"updated"}, "time_entries": {"created"}})
    reasons += [f"bug {a['id']} should not change" for _, a in changes.updated.get("bugs", [])
                if a["id"] != bug["id"]]
    if by_id(final, "bugs").get(bug["id"], {}).get("status") not in ("resolved", "closed"):
        reasons.append("the bug is not marked resolved")
    entries = changes.created.get("time_entries", [])
    if len(entries) != 1:
        return [*reasons, f"expected one time entry, got {len(entries)}"]
    e = entries[0]
    expected = {"user_id": user["id"], "project_id": bug["project_id"], "date": p["date"]}
    reasons += [f"time entry {k} is {e[k]!r}, not {v!r}" for k, v in expected.items()
                if e[k] != v]
    if abs((e["hours"] or 0) - p["hours"]) > 1e-9:
        reasons.append(f"time entry hours are {e['hours']}, not {p['hours']}")
    if not mentions(e["note"] or "", p["note"]):
        reasons.append(f"time entry note does not say {p['note']!r}")
    if not (mentions(answer, "resolved") or mentions(answer, "closed")
            or mentions(answer, bug["title"])):
        reasons.append("the answer does not say what happened to the bug")
    return reasons


@checker
def no_recent_time(task: Task, answer: str, initial: State, final: State) -> list[str]:
    p = task.params
    project = find(initial, "projects", name=p["project"])
    today = date.fromisoformat(p["today"])
    since = (today - timedelta(days=p["days"])).isoformat()
    recent = [e for e in rows(initial, "time_entries") if e["project_id"] == project["id"]
              and since <= e["date"] <= today.isoformat()]
    reasons = _no_writes(initial, final)
    if not recent:
        if not says_none(answer):
            reasons.append("nobody logged time there recently, and the answer does not say so")
        return reasons
    people = by_id(initial, "users")
    for uid in {e["user_id"] for e in recent}:
        reasons += _need(answer, people[uid]["name"], "who logged time")
    total = sum(e["hours"] for e in recent)
    if not mentions_number(answer, total):
        reasons.append(f"the answer does not give the hours ({total})")
    return reasons


@checker
def milestones_due_soon(task: Task, answer: str, initial: State, final: State) -> list[str]:
    today = date.fromisoformat(task.params["today"])
    end = (today + timedelta(days=task.params["days"])).isoformat()
    open_ms = [m for m in rows(initial, "milestones") if m["status"] == "open"]
    due = [m for m in open_ms if today.isoformat() <= m["due_date"] <= end]
    names = [m["name"] for m in open_ms]
    reasons = []
    for m in due:
        left = sum(1 for t in rows(initial, "tasks")
                   if t["milestone_id"] == m["id"] and t["status"] != "done")
        if not mentions(answer, m["name"]):
            reasons.append(f"the answer does not mention milestone {m['name']!r}")
        elif not mentions_count(segment(answer, m["name"], names), left):
            reasons.append(f"{m['name']}: {left} tasks are not done")
        project = by_id(initial, "projects")[m["project_id"]]["name"]
        reasons += _need(answer, project, "the project")
    wrong = [m["name"] for m in open_ms if m not in due and mentions(answer, m["name"])]
    reasons += [f"milestone {n!r} is not due in the window" for n in wrong]
    return reasons + _no_writes(initial, final)


@checker
def reassign_leaver(task: Task, answer: str, initial: State, final: State) -> list[str]:
    leaver = find(initial, "users", name=task.params["leaver"])
    successor = find(initial, "users", name=task.params["successor"])
    targets = {t["id"] for t in rows(initial, "tasks")
               if t["assignee_id"] == leaver["id"] and t["status"] != "done"}
    changes = diff(initial, final)
    reasons = only_changes(changes, {"tasks": {"updated"}, "users": {"updated"}})
    moved = {a["id"]: a for _, a in changes.updated.get("tasks", [])}
    reasons += [f"task {t} was not reassigned" for t in sorted(targets - moved.keys())]
    reasons += [f"task {t} should not change" for t in sorted(moved.keys() - targets)]
    reasons += [f"task {t} is assigned to {a['assignee_id']}, not {successor['id']}"
                for t, a in moved.items() if t in targets and a["assignee_id"] != successor["id"]]
    users = {a["id"]: a for _, a in changes.updated.get("users", [])}
    if users.get(leaver["id"], {}).get("active") is not False:
        reasons.append(f"{leaver['name']}'s account is still active")
    reasons += [f"user {u} should not change" for u in users if u != leaver["id"]]
    titles = [t["title"] for t in rows(initial, "tasks") if t["id"] in targets]
    if not mentions_all_or_count(answer, len(targets), titles):
        reasons.append(f"the answer does not say how many tasks moved ({len(targets)})")
    return reasons


@checker
def failed_deployments(task: Task, answer: str, initial: State, final: State) -> list[str]:
    p = task.params
    repos, projects = by_id(initial, "repositories"), by_id(initial, "projects")
    people = by_id(initial, "users")
    failed = [d for d in rows(initial, "deployments") if d["environment"] == p["environment"]
              and d["status"] == "failed" and (d["deployed_on"] or "").startswith(p["month"])]
    reasons = [] if failed or says_none(answer) else ["the answer should say there were none"]
    for d in failed:
        repo = repos[d["repository_id"]]
        reasons += _need(answer, repo["name"], "the repository")
        reasons += _need(answer, projects[repo["project_id"]]["name"], "the project")
        reasons += _need(answer, people[d["deployed_by"]]["name"], "the deployer")
    return reasons + _no_writes(initial, final)


@checker
def delete_inactive_webhooks(task: Task, answer: str, initial: State, final: State) -> list[str]:
    targets = {h["id"] for h in rows(initial, "webhooks") if not h["active"]}
    changes = diff(initial, final)
    reasons = only_changes(changes, {"webhooks": {"deleted"}})
    gone = {h["id"] for h in changes.deleted.get("webhooks", [])}
    reasons += [f"webhook {h} was not deleted" for h in sorted(targets - gone)]
    reasons += [f"webhook {h} is active and should stay" for h in sorted(gone - targets)]
    urls = [h["url"] for h in rows(initial, "webhooks") if h["id"] in targets]
    if not mentions_all_or_count(answer, len(targets), urls):
        reasons.append(f"the answer does not say how many were removed ({len(targets)})")
    return reasons


# The bundled demos' checkers (tasks on other tool sources) share the one registry.
CHECKERS.update(DEMO_CHECKERS)
