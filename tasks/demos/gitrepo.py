"""A generated git repository for the ``mcp-server-git`` demo: same commits and hashes every run.

The history is a year of work by six people on a small Python package (``ledger``): about 90
commits with conventional messages (``fix(tax): ...``, ``feat(reports): ...``), each changing
one to three files; some add ``# TODO(handle): ...`` notes, some fixes remove one. ``history()``
is that history as data, which the demo's checkers read to compute the right answers;
``build_repository(path)`` writes it as a real git repository with one ``git fast-import`` (tens
of milliseconds), so each run of each agent gets its own fresh copy.

Needs the ``git`` program (``GitRepositoryError`` says so if it is missing). Only the standard
library: ``tasks`` imports nothing of ``engine``.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from tasks.errors import TasksError

SEED = 20250106
START = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
COMMITS = 90
MODULES = ("accounts", "invoices", "tax", "rounding", "currency", "reports", "storage", "cli")
VERBS = ("compute", "validate", "load", "format", "merge", "split", "apply", "check")
NOUNS = ("total", "balance", "rate", "entry", "period", "ledger", "report", "amount")
TODO_NOTES = ("handle leap years", "cache this lookup", "support negative amounts",
              "log the rejected rows", "use Decimal here", "drop the legacy path",
              "read the limit from settings", "test the empty case")


class GitRepositoryError(TasksError):
    """The demo repository could not be built; the message is one sentence."""


@dataclass(frozen=True)
class Person:
    """An author: ``name`` as git shows it, ``handle`` as TODO notes write it."""

    name: str
    email: str
    handle: str


PEOPLE = (
    Person("Priya Raman", "priya@ledger.example", "priya"),
    Person("Tomás Ortega", "tomas@ledger.example", "tomas"),
    Person("Mei Chen", "mei@ledger.example", "mei"),
    Person("Jonas Berg", "jonas@ledger.example", "jonas"),
    Person("Amara Okoye", "amara@ledger.example", "amara"),
    Person("Lukas Weber", "lukas@ledger.example", "lukas"),
)
# How often each person commits (Lukas stops in the autumn, Amara only starts in spring).
_WEIGHTS = (5, 4, 4, 3, 3, 2)


@dataclass(frozen=True)
class Commit:
    """One commit: who, when, the message, and every changed file's new content."""

    author: Person
    when: datetime
    message: str
    files: tuple[tuple[str, str], ...]  # (path, full new content), sorted by path

    @property
    def kind(self) -> str:
        """The conventional-commit type: ``fix``, ``feat``, ``docs``, ``test``, ``refactor``."""
        return self.message.split("(", 1)[0].split(":", 1)[0]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self.files)


def _module_path(module: str) -> str:
    return f"src/ledger/{module}.py"


@cache
def history() -> tuple[Commit, ...]:
    """The whole history, oldest first (deterministic: a fixed seed, no clock)."""
    rng = random.Random(SEED)
    contents: dict[str, str] = {
        "README.md": "# ledger\n\nBook-keeping helpers: accounts, invoices, tax, reports.\n",
        **{_module_path(m): f'"""ledger.{m}"""\n' for m in MODULES},
        **{f"tests/test_{m}.py": f"from ledger import {m}\n" for m in MODULES},
    }
    first = Commit(PEOPLE[0], START, "chore: start the ledger package", tuple(sorted(
        contents.items())))
    commits = [first]
    when = START
    for counter in range(1, COMMITS):
        when += timedelta(days=rng.randint(2, 5), hours=rng.randint(0, 8),
                          minutes=rng.randint(0, 59))
        people = [p for p in PEOPLE
                  if not (p.handle == "lukas" and when.month >= 9)
                  and not (p.handle == "amara" and when.month < 4)]
        weights = [_WEIGHTS[PEOPLE.index(p)] for p in people]
        author = rng.choices(people, weights)[0]
        module = rng.choice(MODULES)
        kind = rng.choices(("fix", "feat", "refactor", "test", "docs"), (4, 4, 2, 2, 1))[0]
        changed: dict[str, str] = {}
        path = _module_path(module)
        text = contents[path]
        if kind == "docs":
            path = "README.md"
            text = contents[path] + f"\n## {module}\n\nSee `ledger.{module}` ({counter}).\n"
            changed[path] = text
            message = f"docs: describe the {module} module"
        elif kind == "test":
            path = f"tests/test_{module}.py"
            name = f"test_{rng.choice(VERBS)}_{rng.choice(NOUNS)}_{counter}"
            changed[path] = contents[path] + f"\n\ndef {name}():\n    assert {module}\n"
            message = f"test({module}): cover {name.removeprefix('test_').rsplit('_', 1)[0]}"
        else:
            func = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
            lines = text.rstrip("\n").split("\n")
            todos = [i for i, line in enumerate(lines) if "# TODO(" in line]
            if kind == "fix" and todos and rng.random() < 0.6:
                del lines[todos[0]]
                message = f"fix({module}): resolve a TODO in {func}"
            elif kind == "fix":
                message = f"fix({module}): {func} returned the wrong value"
            elif kind == "feat":
                message = f"feat({module}): add {func}"
            else:
                message = f"refactor({module}): simplify {func}"
            lines += ["", "", f"def {func}_{counter}(value):",
                      f"    return value  # {kind} {counter}"]
            if kind in ("feat", "refactor") and rng.random() < 0.45:
                owner = rng.choice(PEOPLE)
                lines.insert(len(lines) - 1, f"    # TODO({owner.handle}): "
                             f"{rng.choice(TODO_NOTES)}")
            changed[path] = "\n".join(lines) + "\n"
            if rng.random() < 0.5:
                test = f"tests/test_{module}.py"
                changed[test] = contents[test] + (
                    f"\n\ndef test_{func}_{counter}():\n    assert {module}.{func}_{counter}(1) "
                    "== 1\n")
        contents.update(changed)
        commits.append(Commit(author, when, message, tuple(sorted(changed.items()))))
    return tuple(commits)


@cache
def head_files() -> dict[str, str]:
    """Path -> content of every file at the last commit."""
    files: dict[str, str] = {}
    for commit in history():
        files.update(commit.files)
    return files


def todos() -> list[tuple[str, str, str]]:
    """(path, handle, note) of every ``# TODO(handle): note`` at the last commit, by path."""
    found = []
    for path, text in sorted(head_files().items()):
        for line in text.splitlines():
            if "# TODO(" in line:
                handle, note = line.split("# TODO(", 1)[1].split("): ", 1)
                found.append((path, handle, note))
    return found


def person(handle: str) -> Person:
    """The person whose handle this is."""
    return next(p for p in PEOPLE if p.handle == handle)


def _fast_import_stream() -> bytes:
    out: list[bytes] = []

    def data(text: str) -> None:
        raw = text.encode("utf-8")
        out.append(f"data {len(raw)}\n".encode() + raw + b"\n")

    for mark, commit in enumerate(history(), start=1):
        stamp = f"{int(commit.when.timestamp())} +0000"
        who = f"{commit.author.name} <{commit.author.email}> {stamp}"
        out.append(f"commit refs/heads/main\nmark :{mark}\nauthor {who}\n"
                   f"committer {who}\n".encode())
        data(commit.message + "\n")
        if mark > 1:
            out.append(f"from :{mark - 1}\n".encode())
        for path, content in commit.files:
            out.append(f"M 100644 inline {path}\n".encode())
            data(content)
    return b"".join(out)


def build_repository(path: Path) -> Path:
    """Write the history as a git repository at ``path`` (created; must not exist or be
    empty), with ``main`` checked out. Returns ``path``; ``GitRepositoryError`` on failure."""
    git = shutil.which("git")
    if git is None:
        raise GitRepositoryError("The demo needs the git program, which is not installed; "
                                 "install git and try again.")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    # No user or system config may change what is written (hooks, templates, default branch).
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(path), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
    steps = (
        ([git, "init", "-q", "-b", "main", str(path)], None),
        ([git, "-C", str(path), "fast-import", "--quiet"], _fast_import_stream()),
        ([git, "-C", str(path), "checkout", "-q", "-f", "main"], None),
    )
    for argv, stdin in steps:
        done = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False,
                              timeout=60)
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitRepositoryError(f"git {argv[3] if argv[1] == '-C' else argv[1]} failed "
                                     f"while building the demo repository: "
                                     f"{message[-1] if message else done.returncode}.")
    return path
