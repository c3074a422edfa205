"""Checkers of the git demo's tasks: the right answer is computed from ``gitrepo.history()``.

Each has the signature of ``tasks.checkers`` (task, answer, initial, final) -> reasons. For these
tasks ``initial`` is unused (the history is the initial state) and ``final`` is what a read-only
look through the same MCP server saw after the run: ``{"branches": <git_branch text>,
"head": <git_log text of the last commit>}`` (see ``engine.toolboxes.demos``). ``params`` carry
only what the prompt says (a window, a date, a path, a branch name).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tasks.checking import mentions, mentions_count
from tasks.demos.gitrepo import history, person, todos
from tasks.task import Task

DemoChecker = Callable[[Task, str, Any, Any], list[str]]
DEMO_CHECKERS: dict[str, DemoChecker] = {}


def _demo(fn: DemoChecker) -> DemoChecker:
    DEMO_CHECKERS[fn.__name__] = fn
    return fn


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _names(answer: str, name: str) -> bool:
    """The answer names the person (accents optional)."""
    return mentions(answer, name) or mentions(_plain(answer), _plain(name))


def _no_writes(final: Any) -> list[str]:
    branches = str((final or {}).get("branches", "")) if isinstance(final, Mapping) else ""
    extra = [b.strip("* ").strip() for b in branches.splitlines()
             if b.strip("* ").strip() not in ("", "main")]
    return [f"nothing should change, but the repository has new branches: {', '.join(extra)}"] \
        if extra else []


@_demo
def git_top_fixer(task: Task, answer: str, initial: Any, final: Any) -> list[str]:
    """Who made the most ``fix`` commits, and how many."""
    fixes = Counter(c.author.name for c in history() if c.kind == "fix")
    (name, count), *_ = fixes.most_common(1)
    reasons = [] if _names(answer, name) else [f"the answer does not name {name}"]
    if not mentions_count(answer, count):
        reasons.append(f"the answer does not give their number of fixes ({count})")
    return reasons + _no_writes(final)


@_demo
def git_busiest_file(task: Task, answer: str, initial: Any, final: Any) -> list[str]:
    """Which file the last ``params.window`` commits changed most often, and how often."""
    window = int(task.params.get("window", 20))
    counts = Counter(p for c in history()[-window:] for p in c.paths)
    (path, count), *_ = counts.most_common(1)
    reasons = [] if mentions(answer, path) or mentions(answer, path.rsplit("/", 1)[-1]) \
        else [f"the answer does not name {path}"]
    if not mentions_count(answer, count):
        reasons.append(f"the answer does not say how many commits changed it ({count})")
    return reasons + _no_writes(final)


@_demo
def git_todo_count(task: Task, answer: str, initial: Any, final: Any) -> list[str]:
    """How many TODO notes are under ``params.path``, and which file has the most."""
    prefix = str(task.params.get("path", "src/ledger")).rstrip("/") + "/"
    notes = [t for t in todos() if t[0].startswith(prefix)]
    per_file = Counter(path for path, _, _ in notes)
    (top, count), *_ = per_file.most_common(1)
    reasons = [] if mentions_count(answer, len(notes)) else [
        f"the answer does not give the number of TODO notes ({len(notes)})"]
    if not (mentions(answer, top) or mentions(answer, top.rsplit("/", 1)[-1])):
        reasons.append(f"the answer does not name {top}, which has the most ({count})")
    return reasons + _no_writes(final)


def _handle(name: str) -> str:
    return _plain(name.split()[0]).lower()


@_demo
def git_stale_todo_owners(task: Task, answer: str, initial: Any, final: Any) -> list[str]:
    """Who has TODO notes under ``params.path`` but no commit since ``params.since``."""
    prefix = str(task.params.get("path", "src/ledger")).rstrip("/") + "/"
    since = datetime.fromisoformat(str(task.params["since"])).replace(tzinfo=UTC)
    owners = {handle for path, handle, _ in todos() if path.startswith(prefix)}
    recent = {_handle(c.author.name) for c in history() if c.when >= since}
    stale = [person(h) for h in sorted(owners - recent)]
    reasons = [f"the answer does not name {p.name}" for p in stale
               if not (_names(answer, p.name) or mentions(answer, p.handle))]
    if not stale:
        reasons.append("the demo data has no stale owner; the task needs regenerating")
    return reasons + _no_writes(final)


@_demo
def git_release_branch(task: Task, answer: str, initial: Any, final: Any) -> list[str]:
    """A branch ``params.branch`` now exists, and the answer gives the commit it starts at."""
    branch = str(task.params["branch"])
    state = final if isinstance(final, Mapping) else {}
    branches = [b.strip("* ").strip() for b in str(state.get("branches", "")).splitlines()]
    reasons = [] if branch in branches else [f"there is no branch {branch!r} after the run"]
    match = re.search(r"\b[0-9a-f]{40}\b", str(state.get("head", "")))
    if match is None:
        return [*reasons, "the check could not read the repository's last commit"]
    if match.group(0)[:7] not in answer:
        reasons.append(f"the answer does not give the commit the branch starts at "
                       f"({match.group(0)[:7]})")
    extra = [b for b in branches if b not in ("", "main", branch)]
    if extra:
        reasons.append(f"only {branch!r} should be created, but so were: {', '.join(extra)}")
    return reasons


