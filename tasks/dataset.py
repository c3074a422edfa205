"""The seeded dataset of the mock platform: the same records, byte for byte, on every run.

``initial_dataset()`` builds it once (a few milliseconds) and caches a read-only master;
``tasks.platform.new_platform()`` copies it so every run starts from the same state and no run
sees another's writes. Dates sit around a fixed ``TODAY`` so date questions have fixed answers.
The stories the bundled tasks ask about are staged by ``tasks.stories`` on top of the generic
records.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any

from tasks.resources import RESOURCES, RESOURCES_BY_NAME
from tasks.stories import stage_stories

TODAY = date(2025, 6, 2)
SEED = 20250602

Record = dict[str, Any]
Dataset = Mapping[str, tuple[Mapping[str, Any], ...]]

FIRST = ("Alex", "Bea", "Chen", "Dana", "Eli", "Farah", "Gus", "Hana", "Ivan", "Jae", "Kofi",
         "Lia", "Mateo", "Nina", "Omar", "Pia", "Quinn", "Rosa", "Tariq", "Uma", "Vera", "Wen",
         "Yusuf", "Zoe", "Arjun", "Carla", "Diego", "Emma", "Felix", "Greta")
LAST = ("Adams", "Brandt", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
        "Jensen", "Kowalski", "Lund", "Moreau", "Novak", "Oduya", "Petrov", "Rossi", "Silva",
        "Tanaka", "Vogel", "Walsh", "Young", "Zimmer", "Bauer", "Kim", "Nakamura")
TEAMS = (  # name, department, role of its members
    ("Platform", "engineering", "engineer"),
    ("Mobile", "engineering", "engineer"),
    ("Data", "engineering", "engineer"),
    ("Design Studio", "design", "designer"),
    ("Quality", "engineering", "qa"),
    ("Product", "product", "manager"),
    ("Operations", "operations", "support"),
    ("Sales", "sales", "sales"),
)
CLIENTS = (("Northwind Traders", "retail", "GB"), ("Globex", "media", "US"),
           ("Initech", "finance", "US"), ("Umbrella Health", "health", "DE"),
           ("Stark Logistics", "logistics", "NL"), ("Wayne Media", "media", "US"),
           ("Acme Retail", "retail", "FR"), ("Cyberdyne Finance", "finance", "CH"),
           ("Tyrell Public Services", "public", "GB"), ("Soylent Foods", "retail", "DK"),
           ("Hooli", "media", "US"), ("Vandelay Industries", "logistics", "IT"))
PROJECTS = (  # name, team, client, status, start offset (days from TODAY), length (days)
    ("Atlas Mobile App", "Mobile", "Acme Retail", "active", -150, 240),
    ("Helios Website", "Platform", "Wayne Media", "active", -120, 200),
    ("Billing Revamp", "Platform", "Cyberdyne Finance", "active", -180, 260),
    ("Data Lake Migration", "Data", "Stark Logistics", "active", -100, 220),
    ("Patient Portal", "Mobile", "Umbrella Health", "active", -90, 180),
    ("Legacy CRM Sunset", "Platform", "Initech", "completed", -300, 240),
    ("Warehouse Scanner", "Mobile", "Stark Logistics", "on_hold", -200, 300),
    ("Analytics Dashboard", "Data", "Globex", "active", -130, 200),
    ("Checkout Redesign", "Design Studio", "Acme Retail", "active", -60, 120),
    ("Ticketing System", "Platform", "Tyrell Public Services", "planning", 20, 180),
    ("Recommendation Engine", "Data", "Hooli", "planning", 30, 200),
    ("Brand Refresh", "Design Studio", "Wayne Media", "completed", -260, 150),
    ("Compliance Reporting", "Data", "Cyberdyne Finance", "on_hold", -160, 200),
    ("Field Service App", "Mobile", "Vandelay Industries", "cancelled", -220, 200),
    ("Internal Tools", "Operations", "Soylent Foods", "completed", -240, 180),
)
VERBS = ("Implement", "Refactor", "Test", "Document", "Review", "Design", "Optimize", "Fix",
         "Migrate", "Prototype")
OBJECTS = ("login flow", "search API", "onboarding screens", "CSV export", "audit log",
           "notification settings", "user profile page", "caching layer", "access control",
           "report builder", "offline mode", "data import", "dashboard widgets", "sync job",
           "error pages", "rate limiter", "settings page", "push notifications")
BUG_SUBJECTS = ("Login", "Search", "Export", "Sync", "Dashboard", "Profile page", "Upload",
                "Session", "Report", "Settings")
BUG_SYMPTOMS = ("times out under load", "crashes on empty input", "shows stale data",
                "fails on slow networks", "renders blank on Android", "loses unsaved changes",
                "returns 500 for long names", "double-counts items")


def _d(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


class _Builder:
    """Generic records; ids are 1-based list positions."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.data: dict[str, list[Record]] = {r.name: [] for r in RESOURCES}

    def add(self, resource: str, **fields: Any) -> Record:
        rows = self.data[resource]
        # Every record carries every field of its resource, in catalog order.
        rec = {"id": len(rows) + 1}
        for f in RESOURCES_BY_NAME[resource].fields:
            rec[f.name] = fields.pop(f.name, None)
        assert not fields, f"unknown {resource} fields {sorted(fields)}"
        rows.append(rec)
        return rec

    def build(self) -> dict[str, list[Record]]:
        rng = self.rng
        for name, dept, _role in TEAMS:
            self.add("teams", name=name, department=dept, lead_id=None)
        names = [f"{f} {la}" for f in FIRST for la in LAST]
        rng.shuffle(names)
        for i, full in enumerate(names[:64]):
            team = TEAMS[i % len(TEAMS)]
            self.add("users", name=full, email=full.lower().replace(" ", ".") + "@example.com",
                     role=team[2], team_id=i % len(TEAMS) + 1, active=rng.random() > 0.05,
                     joined_on=_d(-rng.randint(60, 1500)))
        for team_rec in self.data["teams"]:
            members = [u for u in self.data["users"] if u["team_id"] == team_rec["id"]]
            team_rec["lead_id"] = members[0]["id"]
        for name, industry, country in CLIENTS:
            slug = name.split()[0].lower()
            self.add("clients", name=name, industry=industry,
                     contact_email=f"billing@{slug}.example", country=country)
        team_ids = {t["name"]: t["id"] for t in self.data["teams"]}
        client_ids = {c["name"]: c["id"] for c in self.data["clients"]}
        for name, team_name, client, status, start, length in PROJECTS:
            self.add("projects", name=name, client_id=client_ids[client],
                     team_id=team_ids[team_name],
                     status=status, start_date=_d(start), due_date=_d(start + length),
                     budget=float(rng.randrange(40, 400) * 1000),
                     description=f"{name} for {client}.")
        for p in self.data["projects"]:
            self._project_children(p)
        self._tasks()
        self._bugs()
        self._activity()
        self._delivery()
        return self.data

    def _project_children(self, p: Record) -> None:
        rng, short = self.rng, p["name"].split()[0]
        start = date.fromisoformat(p["start_date"])
        length = (date.fromisoformat(p["due_date"]) - start).days
        for i, phase in enumerate(("Design sign-off", "Beta", "Launch")):
            due = start + timedelta(days=length * (i + 1) // 3)
            status = "open" if due >= TODAY else rng.choice(("reached", "reached", "missed"))
            self.add("milestones", project_id=p["id"], name=f"{short} {phase}",
                     due_date=due.isoformat(), status=status)
        for n in range(1, 4):
            s = TODAY + timedelta(days=14 * (n - 2) - 7)
            state = "closed" if n == 1 else ("active" if n == 2 else "planned")
            self.add("sprints", project_id=p["id"], name=f"{short} Sprint {n}",
                     start_date=s.isoformat(), end_date=(s + timedelta(days=13)).isoformat(),
                     status=state)
        for label in rng.sample(("backend", "frontend", "ux", "infra", "urgent-fix", "docs"), 3):
            self.add("labels", name=label, project_id=p["id"])

    def _team_members(self, team_id: int) -> list[Record]:
        return [u for u in self.data["users"] if u["team_id"] == team_id]

    def _tasks(self) -> None:
        rng = self.rng
        projects = self.data["projects"]
        weights = [5 if p["status"] == "active" else 2 for p in projects]
        for _ in range(420):
            p = rng.choices(projects, weights)[0]
            done_project = p["status"] in ("completed", "cancelled")
            members = self._team_members(p["team_id"])
            sprints = [s["id"] for s in self.data["sprints"] if s["project_id"] == p["id"]]
            miles = [m["id"] for m in self.data["milestones"] if m["project_id"] == p["id"]]
            status = "done" if done_project else rng.choices(
                ("todo", "in_progress", "review", "done"), (4, 3, 1, 4))[0]
            self.add("tasks", title=f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}",
                     project_id=p["id"],
                     description="Acceptance criteria in the linked spec.",
                     assignee_id=rng.choice(members)["id"] if rng.random() > 0.08 else None,
                     sprint_id=rng.choice(sprints) if rng.random() > 0.3 else None,
                     milestone_id=rng.choice(miles) if rng.random() > 0.4 else None,
                     status=status,
                     priority=rng.choices(("low", "medium", "high", "urgent"), (3, 5, 3, 1))[0],
                     estimate_hours=float(rng.choice((1, 2, 3, 4, 6, 8, 12, 16))),
                     due_date=_d(rng.randint(-75, 60)))

    def _bugs(self) -> None:
        rng = self.rng
        projects = self.data["projects"]
        engineers = [u for u in self.data["users"] if u["role"] == "engineer" and u["active"]]
        for _ in range(150):
            p = rng.choice(projects)
            closed = p["status"] in ("completed", "cancelled")
            self.add("bugs", title=f"{rng.choice(BUG_SUBJECTS)} {rng.choice(BUG_SYMPTOMS)}",
                     project_id=p["id"],
                     severity=rng.choices(("low", "medium", "high", "critical"), (3, 4, 3, 1))[0],
                     description="Seen in production; see attached logs.",
                     status="closed" if closed else rng.choice(
                         ("open", "triaged", "in_progress", "resolved", "closed")),
                     assignee_id=rng.choice(engineers)["id"],
                     reporter_id=rng.choice(self.data["users"])["id"],
                     reported_on=_d(-rng.randint(0, 150)))

    def _activity(self) -> None:
        rng, data = self.rng, self.data
        tasks, users = data["tasks"], data["users"]
        for _ in range(300):
            on_task = rng.random() < 0.7
            target = rng.choice(tasks if on_task else data["bugs"])
            self.add("comments",
                     body=rng.choice(("Looks good to me.", "Can we split this up?",
                                      "Blocked on review.", "Updated the estimate.",
                                      "Pairing on this tomorrow.", "Reproduced locally.")),
                     author_id=rng.choice(users)["id"],
                     task_id=target["id"] if on_task else None,
                     bug_id=None if on_task else target["id"],
                     created_on=_d(-rng.randint(0, 90)))
        worked = [t for t in tasks if t["assignee_id"] and t["status"] != "todo"]
        for _ in range(900):
            t = rng.choice(worked)
            p = data["projects"][t["project_id"] - 1]
            end = min(date.fromisoformat(p["due_date"]), TODAY)
            day = end - timedelta(days=rng.randint(0, 120))
            self.add("time_entries", user_id=t["assignee_id"], project_id=p["id"],
                     date=day.isoformat(), hours=rng.choice((0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0,
                                                             6.0, 7.5, 8.0)),
                     task_id=t["id"], billable=rng.random() > 0.15,
                     note=f"Worked on {t['title'].lower()}.")
        n = 0
        for p in data["projects"]:
            if p["status"] in ("planning",):
                continue
            for _ in range(rng.randint(2, 6)):
                n += 1
                issued = rng.randint(-160, -5)
                self.add("invoices", number=f"INV-2025-{n:03d}", client_id=p["client_id"],
                         project_id=p["id"], amount=rng.randrange(150000, 2500000) / 100,
                         currency="EUR", status=rng.choices(
                             ("draft", "sent", "paid", "overdue", "void"), (1, 2, 5, 1, 1))[0],
                         issued_on=_d(issued), due_on=_d(issued + 30))
        for _ in range(120):
            p = rng.choice(data["projects"])
            self.add("expenses", project_id=p["id"],
                     user_id=rng.choice(self._team_members(p["team_id"]))["id"],
                     amount=rng.randrange(1000, 120000) / 100,
                     category=rng.choice(("travel", "software", "hardware", "meals", "other")),
                     status=rng.choice(("submitted", "approved", "rejected", "reimbursed")),
                     spent_on=_d(-rng.randint(0, 120)),
                     description=rng.choice(("Train to client site", "IDE licences",
                                             "Test devices", "Team lunch", "Conference")))
        for _ in range(110):
            self.add("notifications", user_id=rng.choice(users)["id"],
                     message=rng.choice(("You were mentioned in a comment.",
                                         "A task assigned to you is due soon.",
                                         "Your expense was approved.", "Sprint review at 3pm.")),
                     kind=rng.choice(("info", "reminder", "alert", "mention")),
                     read=rng.random() < 0.6, created_on=_d(-rng.randint(0, 30)))
        for _ in range(60):
            p = rng.choice(data["projects"])
            self.add("meetings", title=rng.choice(("Standup", "Planning", "Retro", "Demo",
                                                   "Client sync")) + f" — {p['name']}",
                     project_id=p["id"], organizer_id=rng.choice(users)["id"],
                     date=_d(rng.randint(-30, 30)),
                     duration_minutes=rng.choice((15, 30, 45, 60, 90)))
            self.add("documents", title=rng.choice(("Architecture", "Test plan", "Runbook",
                                                    "Status report", "Requirements"))
                     + f": {p['name']}", project_id=p["id"], author_id=rng.choice(users)["id"],
                     kind=rng.choice(("spec", "design", "runbook", "notes", "report")),
                     content=f"Working notes for {p['name']}.", updated_on=_d(-rng.randint(0, 200)))

    def _delivery(self) -> None:
        rng, data = self.rng, self.data
        for p in data["projects"]:
            slug = p["name"].lower().replace(" ", "-")
            for suffix in ("api", "web")[: 1 + (p["id"] % 2)]:
                self.add("repositories", name=f"{slug}-{suffix}", project_id=p["id"],
                         language=rng.choice(("python", "typescript", "go", "rust", "java")),
                         visibility=rng.choice(("private", "private", "internal", "public")))
            for minor in range(rng.randint(2, 4)):
                released = minor < 2
                self.add("releases", project_id=p["id"], version=f"1.{minor}.0",
                         status="released" if released else "planned",
                         released_on=_d(-90 + 30 * minor) if released else None)
        engineers = [u for u in data["users"] if u["role"] in ("engineer", "support")]
        for _ in range(110):
            repo = rng.choice(data["repositories"])
            rels = [r["id"] for r in data["releases"] if r["project_id"] == repo["project_id"]]
            self.add("deployments", repository_id=repo["id"],
                     environment=rng.choice(("dev", "staging", "production")),
                     status=rng.choices(("succeeded", "failed", "rolled_back", "pending"),
                                        (12, 1, 1, 1))[0],
                     release_id=rng.choice(rels), deployed_by=rng.choice(engineers)["id"],
                     deployed_on=_d(-rng.randint(0, 75)),
                     summary=rng.choice(("Routine release", "Hotfix", "Config change",
                                         "Dependency bumps")))
        for i in range(24):
            p = data["projects"][i % len(data["projects"])]
            self.add("webhooks", project_id=p["id"],
                     url=f"https://hooks.example.net/{p['name'].split()[0].lower()}/{i + 1}",
                     event=rng.choice(("task_created", "bug_reported", "deployment_finished",
                                       "invoice_paid")), active=rng.random() > 0.25)


def _freeze(data: dict[str, list[Record]]) -> Dataset:
    return MappingProxyType(
        {name: tuple(MappingProxyType(dict(r)) for r in rows) for name, rows in data.items()})


@cache
def initial_dataset() -> Dataset:
    """The seeded dataset, built once: resource -> tuple of read-only records, ids ascending."""
    builder = _Builder()
    data = builder.build()
    stage_stories(data, builder.rng, TODAY)  # the bundled tasks' facts, staged on the records
    return _freeze(data)


def copy_dataset(dataset: Dataset | None = None) -> dict[str, list[Record]]:
    """A mutable, independent copy: records are flat dicts of scalars, so a shallow copy is
    enough."""
    source = initial_dataset() if dataset is None else dataset
    return {name: [dict(r) for r in rows] for name, rows in source.items()}


def dataset_json(dataset: Dataset | None = None) -> str:
    """Canonical JSON of the dataset, the bytes that must not change between runs."""
    source = initial_dataset() if dataset is None else dataset
    plain = {name: [dict(r) for r in rows] for name, rows in source.items()}
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def dataset_fingerprint() -> str:
    """SHA-256 of ``dataset_json()``."""
    return hashlib.sha256(dataset_json().encode()).hexdigest()
