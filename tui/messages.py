"""The typed messages that carry engine results back to the UI.

Harlequin's rule: workers call the engine, handlers update widgets, and these messages are the
only way between the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message

from engine.events import Event


class RaceEvents(Message):
    """A coalesced batch of events of the race numbered ``generation``."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, generation: int, events: list[Event]) -> None:
        super().__init__()
        self.generation = generation
        self.events = events


class RaceEnded(Message):
    """The race's event stream is over (normally, or with ``error`` when it broke)."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, generation: int, error: str | None = None) -> None:
        super().__init__()
        self.generation = generation
        self.error = error


class TasksLoaded(Message):
    """The task list for the pickers.

    ``error``: the user's task file ``rejected`` could not be read; the list is then the one of
    ``fallback_file`` (the file that loaded before, or None: the bundled tasks). Otherwise
    ``loaded_from`` is the user's file, which gave ``from_file`` tasks, the first being ``first``.
    """

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, tasks: list[Any], error: str | None = None, *,
                 rejected: Path | None = None, fallback_file: Path | None = None,
                 loaded_from: Path | None = None, from_file: int = 0,
                 first: str | None = None) -> None:
        super().__init__()
        self.tasks = tasks
        self.error = error
        self.rejected = rejected
        self.fallback_file = fallback_file
        self.loaded_from = loaded_from
        self.from_file = from_file
        self.first = first


class RunsLoaded(Message):
    """Past runs for the history screen, newest first (``error`` when they could not be read)."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, runs: list[Any], error: str | None = None) -> None:
        super().__init__()
        self.runs = runs
        self.error = error


class RunExported(Message):
    """A run was written to ``path`` in ``folder`` (or could not be: ``error``)."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, path: str | None, error: str | None = None,
                 folder: Path | None = None) -> None:
        super().__init__()
        self.path = path
        self.error = error
        self.folder = folder


class PromptsLoaded(Message):
    """The prompts the next run would use, and the task's own prompt, for the editor."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, prompts: Any, task_prompt: str, error: str | None = None,
                 check: Any = None) -> None:
        super().__init__()
        self.prompts = prompts
        self.task_prompt = task_prompt
        self.error = error
        self.check = check  # prompts -> sentences about a rerun with them (or None)


class PromptsSaved(Message):
    """Edited prompts were saved (or ``reset``); ``rerun`` asks for a new run with them."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, rerun: bool, error: str | None = None, *, reset: bool = False) -> None:
        super().__init__()
        self.rerun = rerun
        self.error = error
        self.reset = reset


class ScreenshotSaved(Message):
    """An SVG screenshot was written to ``path`` (or could not be: ``error``)."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, path: str | None, error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.error = error


class SavedPromptsLoaded(Message):
    """Which saved prompt edits the next race would send (``tui.backend.SavedPrompts``), as
    found by the screen's look number ``check``."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, saved: Any, check: int) -> None:
        super().__init__()
        self.saved = saved
        self.check = check


class SandboxPreparing(Message):
    """The sandbox's one-time compile started (``preparing``) or is over (``error``: why the
    sandbox could not be set up, or None)."""

    bubble = False  # handled by the screen that started the work; the app need not see it

    def __init__(self, preparing: bool, error: str | None = None) -> None:
        super().__init__()
        self.preparing = preparing
        self.error = error
