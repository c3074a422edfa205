"""Everything the app asks of the engine, in one place, called only from workers.

The methods are plain (blocking) functions: loading tasks, reading run records or building a
race touches the disk and the tokenizer, so the app calls them from thread workers and gets the
results back as messages. Tests hand the app another ``Backend`` to script what it returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine import records
from engine.errors import ExplorerError, one_sentence
from engine.events import Event
from engine.prompt_checks import EditedPrompts, edited_prompts, rerun_warnings
from engine.prompts import PromptSet, load_prompts, reset_overrides, save_override
from engine.record_export import export_run
from engine.records import RunSummary
from engine.replay import RecordedRace
from engine.run import RunConfig
from tasks.suite import Task, TaskCatalog
from tui.choices import RunChoice
from tui.pump import RaceLike


class BackendError(ExplorerError):
    """Something the user can fix, in one sentence (shown as a notification or in a pane)."""


@dataclass(frozen=True)
class TaskInfo:
    """What the pickers show of a task."""

    id: str
    title: str
    prompt: str
    article: bool = False
    source: str = "bundled"


@dataclass(frozen=True)
class SavedPrompts:
    """The saved prompt edits the next race of ``choice`` would send, for the screen to say
    before any run (saved edits carry over from one session to the next).

    ``modes`` maps each raced mode id that would send an edited prompt to what is edited and
    what its run will report (``engine.prompt_checks.EditedPrompts``); ``task_prompt`` is the
    edited task prompt it would send, or None for the task's own.
    """

    choice: RunChoice
    modes: Mapping[str, EditedPrompts] = field(default_factory=dict)
    task_prompt: str | None = None

    @property
    def any(self) -> bool:
        """Some raced prompt is not the bundled one."""
        return bool(self.modes)

    @classmethod
    def of(cls, choice: RunChoice, task: Any, prompts: PromptSet) -> SavedPrompts:
        """What racing ``task`` (anything with a ``prompt``) in ``choice`` with ``prompts``
        would send. Raises ``ProviderError`` for an unknown provider."""
        found = edited_prompts(task, prompts, choice.provider, choice.mode_specs)
        edited_task = any("task" in e.edited for e in found)
        return cls(choice, {e.mode: e for e in found},
                   prompts.task_prompt(task.prompt) if edited_task else None)


class Backend:
    """The engine as the app uses it."""

    def catalog(self, task_file: Path | None = None) -> TaskCatalog:
        """The bundled tasks, then the user's file's (``BackendError`` with the catalogue's
        sentence for a file that cannot be used, or that reuses a bundled task's id)."""
        try:
            return TaskCatalog.load(task_file)
        except Exception as exc:  # TaskFileError, or a bug: one sentence either way
            raise BackendError(one_sentence(exc)) from exc

    def list_tasks(self, task_file: Path | None = None) -> list[TaskInfo]:
        """What the pickers show of ``catalog(task_file)``, each task with where it came from."""
        catalog = self.catalog(task_file)
        return [_task_info(task, task_file.name if task_file and catalog.from_user_file(task)
                           else "bundled") for task in catalog]

    def warm_up(self) -> None:
        """Load now what the first race would load on the clock (call from a thread once the
        app is on screen): the engine's race modules (469 ms of imports, see ``new_race``) and
        the Tekken tokenizer. Measured with tests/perf/tui_perf.py: without it the first two
        seconds of the first race froze the screen for 230-450 ms at a time (load 6)."""
        # Lazy on purpose: this is the deferred import of ``new_race``, done early in a thread.
        import engine.controller  # noqa: F401
        from engine.tokens import tokenizer

        tokenizer()

    def prepare_sandbox(self, on_compile: Callable[[], object] | None = None) -> None:
        """Build the sandbox's compiled-module cache now (call from a thread at start-up), so
        the first race's CodeAct run does not wait for the compile: seconds on a fresh
        install (``on_compile`` is called first then), milliseconds after. A race started
        meanwhile waits for this compile instead of compiling again. ``BackendError`` (one
        sentence) when the interpreter cannot be set up."""
        # Lazy, as in ``new_race``: the agents' modules are what the warm-up imports in a thread.
        from engine.agents.codeact import prepare_sandbox

        try:
            prepare_sandbox(on_compile)
        except Exception as exc:
            raise BackendError(one_sentence(exc)) from exc

    def saved_prompts(self, choice: RunChoice) -> SavedPrompts:
        """The saved prompt edits the next race of ``choice`` would send (reads the task and
        the prompt files: call from a worker). ``BackendError`` when the task cannot be read."""
        catalog = self.catalog(choice.task_file)
        try:
            task = catalog.tasks[0] if choice.task_id is None else catalog.get(choice.task_id)
            return SavedPrompts.of(choice, task, self.load_prompts(task.id))
        except Exception as exc:
            raise BackendError(one_sentence(exc)) from exc

    def new_race(self, choice: RunChoice, prompts: PromptSet | None) -> RaceLike:
        """A ready race for ``choice`` (not started: iterating its events starts it)."""
        catalog = self.catalog(choice.task_file)
        try:
            # Imported when the first race is built (in a worker), not when the app opens: the
            # controller brings the agents, the providers and their SDKs, 469 ms
            # (python -X importtime -c "import engine.controller", load 2.9 on 2 cores).
            from engine.controller import Race

            task = catalog.tasks[0] if choice.task_id is None else catalog.get(choice.task_id)
            if choice.tool_source is not None:
                task = dataclasses.replace(task, tool_source=choice.tool_source)
            config = RunConfig(provider=choice.provider, model=choice.model or None,
                               pace=choice.pace, prompts=prompts,
                               server_url=choice.server_url, rate=choice.rate)
            return Race(task, choice.modes, config)
        except ImportError as exc:
            raise BackendError(f"the engine is not complete here ({exc.name} is missing).") from exc
        except Exception as exc:
            raise BackendError(one_sentence(exc)) from exc

    def prompt_checker(self, choice: RunChoice) -> Callable[[PromptSet], list[str]] | None:
        """What the prompt editor calls on every edit: the sentences a rerun of ``choice``
        with those prompts would need said (``engine.prompt_checks``); None if the task cannot
        be found. Reads the task here (in a worker); the function it returns only compares
        strings."""
        try:
            catalog = self.catalog(choice.task_file)
            task = catalog.tasks[0] if choice.task_id is None else catalog.get(choice.task_id)
        except Exception:
            return None
        specs = choice.mode_specs
        provider = choice.provider

        def check(prompts: PromptSet) -> list[str]:
            try:
                return [w.message for w in rerun_warnings(task, prompts, provider, specs)]
            except ExplorerError as exc:
                return [one_sentence(exc)]

        return check

    def load_prompts(self, task_id: str | None) -> PromptSet:
        return load_prompts(task_id)

    def task_prompt(self, task_id: str | None, task_file: Path | None) -> str:
        """The task's own prompt (what the editor shows when no override is saved)."""
        for info in self.list_tasks(task_file):
            if info.id == task_id or task_id is None:
                return info.prompt
        return ""

    def save_prompts(self, prompts: PromptSet, task_id: str | None) -> None:
        save_override(prompts, task_id=task_id)

    def reset_prompts(self, task_id: str | None, names: tuple[str, ...]) -> None:
        """Remove the saved overrides of the system prompts ``names`` and of ``task_id``'s
        prompt; every other task's prompt stays as the user saved it."""
        for name in names:
            reset_overrides(name)
        if task_id:
            reset_overrides(task_id=task_id)

    def list_runs(self) -> list[RunSummary]:
        """Past races, newest first (an unreadable record is listed with its problem)."""
        return records.list_runs()

    def replay(self, run_id: str, pace: float) -> RecordedRace:
        return RecordedRace(self.run_events(run_id), pace=pace)

    def run_events(self, run_id: str) -> list[Event]:
        try:
            return list(records.load_events(run_id))
        except Exception as exc:
            raise BackendError(one_sentence(exc)) from exc

    def export_run(self, run_id: str, fmt: str, folder: Path) -> Path:
        """Write the run as markdown, json or csv into ``folder``; returns the file."""
        try:
            text = export_run(run_id, fmt)
        except Exception as exc:
            raise BackendError(one_sentence(exc)) from exc
        suffix = {"markdown": "md"}.get(fmt, fmt)
        return _write_into(folder, f"codeact-run-{run_id}.{suffix}", text)

    def save_screenshot(self, svg: str, folder: Path) -> Path:
        """Write an SVG screenshot into ``folder`` (made if missing), named by the time."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
        return _write_into(folder, f"codeact-screen-{stamp}.svg", svg)


def _write_into(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` (UTF-8) as ``folder/name``, making the folder; ``BackendError`` in one
    sentence when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BackendError(f"could not write to {folder} ({exc.strerror or exc}).") from exc
    return target


def _task_info(task: Task, source: str) -> TaskInfo:
    return TaskInfo(id=task.id, title=task.title, prompt=task.prompt,
                    article=task.article, source=source)
