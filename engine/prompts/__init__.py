"""The prompts both agents send, with the user's overrides.

The defaults are the ``*.md`` files beside this module (package data). A user's edited prompts
live in ``paths().prompt_overrides`` as files of the same names; ``load_prompts()`` prefers them.
A task's prompt can be overridden too (``tasks/<task id>.md`` there), and a single run can take
any ``PromptSet`` without saving it. Every run record stores the prompts it used.

The CodeAct system prompt carries an ``{api}`` placeholder that the agent fills with the Python
API text (``tasks.render.python_api_text()``); it is the only placeholder, so other braces in an
edited prompt are left alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from engine.settings import paths

PromptName = Literal["tool_calling_system", "codeact_system"]
PROMPT_NAMES: tuple[PromptName, ...] = ("tool_calling_system", "codeact_system")
API_PLACEHOLDER = "{api}"


def default_text(name: PromptName) -> str:
    """The bundled default of one system prompt."""
    if name not in PROMPT_NAMES:
        raise ValueError(f"unknown prompt {name!r}; expected one of {', '.join(PROMPT_NAMES)}")
    return resources.files("engine.prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class PromptSet:
    """The prompts of one run: each mode's system prompt, and optionally the task prompt.

    ``task`` is None to use the task's own prompt; a string replaces it for this run.
    """

    tool_calling_system: str
    codeact_system: str
    task: str | None = None

    @classmethod
    def defaults(cls) -> PromptSet:
        return cls(default_text("tool_calling_system"), default_text("codeact_system"))

    def system_template(self, mode: str) -> str:
        """The system prompt of ``mode`` as written (CodeAct's still has ``{api}``)."""
        return self.codeact_system if mode == "codeact" else self.tool_calling_system

    def system_prompt(self, mode: str, api_text: str = "") -> str:
        """The system prompt as sent: CodeAct's ``{api}`` replaced by the API text."""
        text = self.system_template(mode)
        if mode == "codeact":
            text = text.replace(API_PLACEHOLDER, api_text.strip())
        return text.strip()

    def task_prompt(self, task_prompt: str) -> str:
        """The task prompt as sent: this set's override, else the task's own."""
        return (self.task if self.task is not None else task_prompt).strip()

    def overridden(self) -> list[str]:
        """Names of the prompts that differ from the bundled defaults ("task" if overridden)."""
        names = [n for n in PROMPT_NAMES if getattr(self, n).strip() != default_text(n).strip()]
        if self.task is not None:
            names.append("task")
        return names

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromptSet:
        base = cls.defaults()
        return cls(
            tool_calling_system=data.get("tool_calling_system") or base.tool_calling_system,
            codeact_system=data.get("codeact_system") or base.codeact_system,
            task=data.get("task"),
        )


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
    base = PromptSet.defaults()
    texts = {n: _read(_override_dir() / f"{n}.md") or getattr(base, n) for n in PROMPT_NAMES}
    task = _read(_task_file(task_id)) if task_id else None
    return PromptSet(**texts, task=task)


def save_override(
    what: PromptSet | PromptName, text: str | None = None, *, task_id: str | None = None
) -> list[Path]:
    """Save edited prompts as the user's overrides; returns the files written.

    Either ``save_override(prompt_set, task_id=...)`` (every prompt that differs from the
    default is saved, one equal to the default removes its override; the set's task prompt is
    saved for ``task_id``), or ``save_override("codeact_system", text)`` for one prompt.
    """
    if isinstance(what, str):
        if text is None:
            raise ValueError("save_override(name, text) needs the text")
        current = load_prompts()
        what = dataclasses.replace(current, **{what: text}) if what in PROMPT_NAMES else None
        if what is None:
            raise ValueError(f"unknown prompt name; expected one of {', '.join(PROMPT_NAMES)}")
    written: list[Path] = []
    folder = _override_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in PROMPT_NAMES:
        value = getattr(what, name)
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


def reset_overrides(name: PromptName | None = None, *, task_id: str | None = None) -> None:
    """Remove saved overrides: all of them, or one system prompt, or one task's prompt."""
    folder = _override_dir()
    if task_id is not None:
        _task_file(task_id).unlink(missing_ok=True)
        if name is None:
            return
    names = PROMPT_NAMES if name is None else (name,)
    for n in names:
        (folder / f"{n}.md").unlink(missing_ok=True)
    if name is None and task_id is None and (folder / "tasks").is_dir():
        for file in (folder / "tasks").glob("*.md"):
            file.unlink(missing_ok=True)


__all__ = [
    "API_PLACEHOLDER",
    "PROMPT_NAMES",
    "PromptName",
    "PromptSet",
    "default_text",
    "load_prompts",
    "reset_overrides",
    "save_override",
]
