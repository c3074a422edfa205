"""The system prompts every mode sends, and the task prompt, with the user's overrides.

The defaults are the ``*.md`` files beside this module (package data). A user's edited prompts
live in ``paths().prompt_overrides`` as files of the same names; ``load_prompts()`` prefers them.
A task's prompt can be overridden too (``tasks/<task id>.md`` there), and a single run can take
any ``PromptSet`` without saving it. Every run record stores the prompts it used.

Each mode of ``engine.modes`` names the prompt it sends. A prompt may carry placeholders that the
agent fills from its toolbox: ``{about}`` (every mode: what the tools work on, e.g. "a
project-management platform" or "the tools of the MCP server git"), ``{api}`` (CodeAct: the
Python API text) and ``{summary}`` (discovery: how many functions there are and where); no
other braces are touched, so an edited prompt may contain code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from engine.settings import paths

API_PLACEHOLDER = "{api}"
SUMMARY_PLACEHOLDER = "{summary}"
ABOUT_PLACEHOLDER = "{about}"
# The placeholders a system prompt may carry, filled by the agent from its toolbox; no other
# braces are touched, so an edited prompt may contain code with braces.
PLACEHOLDERS: tuple[str, ...] = (API_PLACEHOLDER, SUMMARY_PLACEHOLDER, ABOUT_PLACEHOLDER)
_SUFFIX = "_system.md"


@cache
def prompt_names() -> tuple[str, ...]:
    """Every bundled system prompt's name (``<name>.md`` files ending in ``_system``), sorted.

    The mode registry (``engine.modes``) says which one each mode sends.
    """
    folder = resources.files("engine.prompts")
    return tuple(sorted(f.name[: -len(".md")] for f in folder.iterdir()
                        if f.name.endswith(_SUFFIX)))


def _check_name(name: str) -> None:
    if name not in prompt_names():
        raise ValueError(f"unknown prompt {name!r}; expected one of {', '.join(prompt_names())}")


@cache
def default_text(name: str) -> str:
    """The bundled default of one system prompt; ``ValueError`` for an unknown name."""
    _check_name(name)
    return resources.files("engine.prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class PromptSet:
    """The prompts of one run: each system prompt by name, and optionally the task prompt.

    ``systems`` maps a prompt name (``engine.modes.ModeSpec.prompt``) to its text; a name it
    lacks is the bundled default. ``task`` is None to use the task's own prompt; a string
    replaces it for this run.
    """

    systems: Mapping[str, str] = field(default_factory=dict)
    task: str | None = None

    def __post_init__(self) -> None:
        # Complete and in name order, so two sets that send the same prompts compare equal.
        full = {n: self.systems.get(n) or default_text(n) for n in prompt_names()}
        object.__setattr__(self, "systems", full)

    @classmethod
    def defaults(cls) -> PromptSet:
        return cls()

    def system_template(self, name: str) -> str:
        """The system prompt ``name`` as written (placeholders still in it)."""
        _check_name(name)
        return self.systems[name]

    def system_prompt(self, name: str, **values: str) -> str:
        """The system prompt as sent: each placeholder ``{key}`` replaced by ``values[key]``."""
        text = self.system_template(name)
        for key, value in values.items():
            text = text.replace("{" + key + "}", value.strip())
        return text.strip()

    def task_prompt(self, task_prompt: str) -> str:
        """The task prompt as sent: this set's override, else the task's own."""
        return (self.task if self.task is not None else task_prompt).strip()

    def with_system(self, name: str, text: str) -> PromptSet:
        """A copy with one system prompt replaced."""
        _check_name(name)
        return PromptSet({**self.systems, name: text}, self.task)

    def overridden(self) -> list[str]:
        """Names of the prompts that differ from the bundled defaults ("task" if overridden)."""
        names = [n for n in prompt_names()
                 if self.system_template(n).strip() != default_text(n).strip()]
        if self.task is not None:
            names.append("task")
        return names

    def fingerprint(self) -> str:
        """A short hash (12 hex digits of SHA-256) of every prompt as written: equal prompts,
        equal fingerprints, so a table can say which runs used the same prompts."""
        h = hashlib.sha256()
        for n in prompt_names():
            h.update(n.encode() + b"\0" + self.system_template(n).encode() + b"\0")
        h.update(b"task\0" + (self.task or "").encode())
        return h.hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {**{n: self.system_template(n) for n in prompt_names()}, "task": self.task}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromptSet:
        """The inverse of ``to_dict``; names it lacks (an older record) are the defaults."""
        return cls({n: data[n] for n in prompt_names() if isinstance(data.get(n), str)
                    and data[n]}, data.get("task"))


def _override_dir() -> Path:
    return paths().prompt_overrides


def _task_file(task_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in task_id)
    return _override_dir() / "tasks" / f"{safe}.md"


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        # An unreadable override falls back to the default rather than breaking every run.
        return None
    return text if text.strip() else None


def load_prompts(task_id: str | None = None) -> PromptSet:
    """The defaults with the user's saved overrides (and the task's, when ``task_id`` is given)."""
    texts = {n: text for n in prompt_names()
             if (text := _read(_override_dir() / f"{n}.md")) is not None}
    task = _read(_task_file(task_id)) if task_id else None
    return PromptSet(texts, task=task)


def save_override(
    what: PromptSet | str, text: str | None = None, *, task_id: str | None = None
) -> list[Path]:
    """Save edited prompts as the user's overrides; returns the files written.

    Either ``save_override(prompt_set, task_id=...)`` (every prompt that differs from the
    default is saved, one equal to the default removes its override; the set's task prompt is
    saved for ``task_id``), or ``save_override("codeact_system", text)`` for one prompt.
    """
    if isinstance(what, str):
        if text is None:
            raise ValueError("save_override(name, text) needs the text")
        what = load_prompts().with_system(what, text)
    written: list[Path] = []
    folder = _override_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in prompt_names():
        value = what.system_template(name)
        target = folder / f"{name}.md"
        if value.strip() == default_text(name).strip():
            target.unlink(missing_ok=True)
        else:
            target.write_text(value, encoding="utf-8")
            written.append(target)
    if task_id is not None:
        target = _task_file(task_id)
        if what.task is None or not what.task.strip():
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(what.task, encoding="utf-8")
            written.append(target)
    return written


def reset_overrides(name: str | None = None, *, task_id: str | None = None) -> None:
    """Remove saved overrides: all of them, or one system prompt, or one task's prompt."""
    folder = _override_dir()
    if task_id is not None:
        _task_file(task_id).unlink(missing_ok=True)
        if name is None:
            return
    names = prompt_names() if name is None else (name,)
    for n in names:
        (folder / f"{n}.md").unlink(missing_ok=True)
    if name is None and task_id is None and (folder / "tasks").is_dir():
        for file in (folder / "tasks").glob("*.md"):
            file.unlink(missing_ok=True)


__all__ = [
    "API_PLACEHOLDER",
    "PLACEHOLDERS",
    "SUMMARY_PLACEHOLDER",
    "PromptSet",
    "default_text",
    "load_prompts",
    "prompt_names",
    "reset_overrides",
    "save_override",
]
