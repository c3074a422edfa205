"""Run setup: the task (bundled or from the user's file), mode, provider, model and pace.

A modal that returns a new ``RunChoice`` (or None when cancelled); the race screen takes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from tui.backend import TaskInfo
from tui.choices import KEY_ENV, MODE_CHOICE_LABELS, MODE_CHOICES, PROVIDERS, RunChoice


class SetupScreen(ModalScreen[RunChoice | None]):
    """Choose what the next run does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, choice: RunChoice, tasks: list[TaskInfo]) -> None:
        super().__init__()
        self.choice = choice
        self.tasks = tasks

    def compose(self) -> ComposeResult:
        choice = self.choice
        task_options = [(self._task_label(t), t.id) for t in self.tasks]
        with Vertical(id="setup-dialog", classes="dialog"):
            yield Static(Content.styled("Setup of the next run", "bold"), classes="dialog-title")
            with Grid(id="setup-grid"):
                yield Label("Task")
                yield Select(task_options, value=choice.task_id if choice.task_id in
                             {t.id for t in self.tasks} else Select.NULL,
                             allow_blank=not task_options, id="setup-task", compact=True)
                yield Label("Task file")
                yield Input(str(choice.task_file or ""), placeholder="path to your tasks .toml",
                            id="setup-task-file", compact=True)
                yield Label("Mode")
                with RadioSet(id="setup-mode", compact=True):
                    for mode in MODE_CHOICES:
                        yield RadioButton(MODE_CHOICE_LABELS[mode], value=mode == choice.mode,
                                          name=mode)
                yield Label("Provider")
                yield Select([(p, p) for p in PROVIDERS], value=choice.provider,
                             allow_blank=False, id="setup-provider", compact=True)
                yield Label("Model")
                yield Input(choice.model or "", placeholder="provider default",
                            id="setup-model", compact=True)
                yield Label("Pace (x)")
                yield Input(f"{choice.pace:g}", placeholder="1 = the model's real speed",
                            id="setup-pace", type="number", compact=True)
            key = "set" if os.environ.get(KEY_ENV) else "not set: mistral will not start"
            yield Static(Content.styled(f"{KEY_ENV} is {key}. Pace applies to the scripted "
                                        "agent and replays.", "dim"), classes="dialog-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Cancel", id="cancel")

    @staticmethod
    def _task_label(task: TaskInfo) -> str:
        mark = "★ " if task.article else ""
        source = "" if task.source == "bundled" else f"  [{task.source}]"
        return f"{mark}{task.title}{source}"

    def chosen(self) -> RunChoice:
        task = self.query_one("#setup-task", Select).value
        radio = self.query_one("#setup-mode", RadioSet).pressed_button
        provider = self.query_one("#setup-provider", Select).value
        model = self.query_one("#setup-model", Input).value.strip()
        pace_text = self.query_one("#setup-pace", Input).value.strip()
        file_text = self.query_one("#setup-task-file", Input).value.strip()
        try:
            pace = max(0.0, float(pace_text)) if pace_text else self.choice.pace
        except ValueError:
            pace = self.choice.pace
        return self.choice.with_(
            task_id=task if isinstance(task, str) else self.choice.task_id,
            mode=radio.name if radio is not None and radio.name else self.choice.mode,
            provider=provider if isinstance(provider, str) else self.choice.provider,
            model=model or None,
            pace=pace,
            task_file=Path(file_text).expanduser() if file_text else None,
        )

    def action_apply(self) -> None:
        self.dismiss(self.chosen())

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()
