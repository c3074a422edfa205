"""The task suite: tasks are data, read from TOML files.

The bundled tasks live in ``tasks/suite/*.toml``; a user's own file has the same shape::

    [[task]]
    id = "my-task"                 # unique, lowercase words joined by hyphens
    title = "Short title"
    prompt = "What a user would type."
    max_rounds = 10                # optional, default 10
    tags = ["lookup"]              # optional
    checker = "answer_mentions"    # a checker from tasks.checkers.CHECKERS
    params = { mentions = ["Lena Okafor"] }   # optional, read by the checker
    reference = ["print(api.users.list()['total'])"]   # optional reference programs
    tools = "demo-git"             # optional tool source: a registered id, or
    # tools = { mcp = "python -m my_server --flag" }     an MCP server started over stdio, or
    # tools = { mcp_url = "http://127.0.0.1:8000/mcp" }  one reached over streamable HTTP;
    # without it, the mock platform's 120 tools.

A broken file raises ``TaskFileError`` whose message is one sentence naming the file, the task
and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tasks.errors import TasksError
from tasks.task import DEFAULT_MAX_ROUNDS, Task

SUITE_DIR = Path(__file__).parent / "suite"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KNOWN = {"id", "title", "prompt", "max_rounds", "tags", "checker", "article", "reference",
          "params", "tools"}
_TOOL_KEYS = ("mcp", "mcp_url")  # a task's own MCP server: a command line, or a URL


class TaskFileError(TasksError):
    """A task file the suite cannot use; the message is one sentence naming file, task, field."""

    kind = "task_file"


class UnknownTaskError(TasksError, LookupError):
    """No task has the id asked for; the message lists the ids there are."""

    kind = "usage"


def _fail(path: Path, task: str, key: str, problem: str) -> TaskFileError:
    return TaskFileError(f"{path}: task {task!r}, field {key!r}: {problem}.")


def _parse_task(path: Path, raw: Any, index: int, checkers: Mapping[str, Any]) -> Task:
    if not isinstance(raw, dict):
        raise TaskFileError(f"{path}: task #{index + 1} must be a [[task]] table.")
    name = str(raw.get("id") or f"#{index + 1}")
    if not isinstance(raw.get("id"), str) or not _ID.match(raw["id"]):
        raise _fail(path, name, "id", "must be lowercase words joined by hyphens, "
                    "like 'find-user-team'")
    for key in ("title", "prompt", "checker"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(path, name, key, "is missing or empty; it must be a non-empty string")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        fields = ", ".join(sorted(_KNOWN))
        raise _fail(path, name, unknown[0], f"is not a task field (fields: {fields})")
    if raw["checker"] not in checkers:
        raise _fail(path, name, "checker", f"names no checker; use one of: {', '.join(checkers)}")
    rounds = raw.get("max_rounds", DEFAULT_MAX_ROUNDS)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= 100:
        raise _fail(path, name, "max_rounds", "must be a whole number from 1 to 100")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _fail(path, name, "tags", "must be a list of strings")
    reference = raw.get("reference", [])
    if isinstance(reference, str):
        reference = [reference]
    if not isinstance(reference, list) or not all(isinstance(r, str) for r in reference):
        raise _fail(path, name, "reference", "must be a list of program strings")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise _fail(path, name, "params", "must be a table")
    article = raw.get("article", False)
    if not isinstance(article, bool):
        raise _fail(path, name, "article", "must be true or false")
    return Task(id=raw["id"], title=raw["title"].strip(), prompt=raw["prompt"].strip(),
                checker=raw["checker"], max_rounds=rounds, tags=tuple(tags), article=article,
                reference=tuple(reference), params=MappingProxyType(dict(params)),
                source=str(path), tool_source=_parse_tools(path, name, raw.get("tools")))


def _parse_tools(path: Path, name: str, value: Any) -> str | Mapping[str, str] | None:
    """A task's ``tools`` field: None, a source id, or one ``mcp``/``mcp_url`` entry."""
    if value is None:
        return None
    if isinstance(value, str):
        if not _ID.match(value):
            raise _fail(path, name, "tools", "must name a tool source (lowercase words joined by "
                        "hyphens, like 'demo-git') or be a table such as { mcp = \"command\" }")
        return value
    if not isinstance(value, dict):
        raise _fail(path, name, "tools", "must be a tool source name or a table such as "
                    "{ mcp = \"command\" }")
    keys = sorted(value)
    if len(keys) != 1 or keys[0] not in _TOOL_KEYS:
        raise _fail(path, name, "tools", "must have exactly one of 'mcp' (a command that starts "
                    "a stdio MCP server) or 'mcp_url' (a streamable HTTP URL)")
    text = value[keys[0]]
    if not isinstance(text, str) or not text.strip():
        raise _fail(path, name, "tools", f"'{keys[0]}' must be a non-empty string")
    if keys[0] == "mcp_url" and not text.startswith(("http://", "https://")):
        raise _fail(path, name, "tools", "'mcp_url' must be an http:// or https:// URL")
    return MappingProxyType({keys[0]: text.strip()})


def load_file(path: Path) -> list[Task]:
    """The tasks of one TOML file; a ``TaskFileError`` if the file cannot be used."""
    # Imported here, not at the top: the checkers (and the git demo's) cost 18 ms to import
    # (python -X importtime, load 2.3 on 2 cores), which every CLI command would pay, since
    # tui.cli imports this module to build its parser.
    from tasks.checkers import CHECKERS

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaskFileError(f"{path}: is not valid TOML ({exc}).") from None
    raw_tasks = doc.get("task")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise TaskFileError(f"{path}: has no [[task]] tables; each task starts with [[task]].")
    tasks = [_parse_task(path, raw, i, CHECKERS) for i, raw in enumerate(raw_tasks)]
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise _fail(path, t.id, "id", "is used by two tasks in this file")
        seen.add(t.id)
    return tasks


def load_tasks(path: Path | None = None) -> list[Task]:
    """The bundled tasks (every ``tasks/suite/*.toml``), or the tasks of the user's file."""
    if path is not None:
        return load_file(Path(path))
    tasks: list[Task] = []
    for file in sorted(SUITE_DIR.glob("*.toml")):
        tasks.extend(load_file(file))
    return tasks


@dataclass(frozen=True)
class TaskCatalog:
    """The tasks one session can run: the base tasks (the bundled suite, or a tool source's own
    task file) followed by the user's file's, every id unique. The app, ``bench`` and ``tasks``
    all read tasks through it, so a bad or clashing user file is the same sentence in each.

    ``tasks``: base then user tasks, in file order; ``user_file``: the user's file, if any.
    """

    tasks: tuple[Task, ...]
    user_file: Path | None = None

    @classmethod
    def load(cls, user_file: Path | None = None, *, base: Path | None = None) -> TaskCatalog:
        """The catalogue of ``base`` (None: the bundled suite) and ``user_file``.

        Raises ``TaskFileError`` (one sentence naming the file, the task and the field) for a
        file that cannot be used, and for a user task that reuses an id of the base tasks.
        """
        tasks = load_tasks(base)
        if user_file is not None:
            user_file = Path(user_file)
            taken = {t.id for t in tasks}
            what = "a bundled task" if base is None else f"a task of {Path(base).name}"
            for t in load_tasks(user_file):
                if t.id in taken:
                    raise _fail(user_file, t.id, "id", f"is already the id of {what}; "
                                "give your task another id")
                tasks.append(t)
        return cls(tuple(tasks), user_file)

    def ids(self) -> tuple[str, ...]:
        """Every task id, in catalogue order."""
        return tuple(t.id for t in self.tasks)

    def get(self, task_id: str) -> Task:
        """The task called ``task_id``; ``UnknownTaskError`` listing the ids there are."""
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise UnknownTaskError(f"There is no task {task_id!r}; the tasks are: "
                               f"{', '.join(self.ids())}.")

    def from_user_file(self, task: Task) -> bool:
        """True for a task of the user's file (not of the base tasks)."""
        return self.user_file is not None and Path(task.source) == self.user_file

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)


def get_task(task_id: str, user_file: Path | None = None) -> Task:
    """``TaskCatalog.load(user_file).get(task_id)``: a bundled task or one of ``user_file``."""
    return TaskCatalog.load(user_file).get(task_id)
