"""The prompt editor: each mode's system prompt and the task prompt, in editors.

It returns a ``PromptEdit`` (save, save and rerun, or reset to the defaults) or None when
cancelled; the race screen saves it in a worker. CodeAct's ``{api}`` placeholder stays in the
text: the engine fills it with the Python API when the run starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TabbedContent, TabPane, TextArea

from engine.modes import MODES
from engine.prompts import PromptSet


def _slug(mode_id: str) -> str:
    return mode_id.replace("_", "-")


@dataclass(frozen=True)
class PromptEdit:
    """What the editor asks for: save ``prompts`` (or reset them all), then maybe rerun."""

    prompts: PromptSet
    rerun: bool = False
    reset: bool = False


class PromptEditorScreen(ModalScreen[PromptEdit | None]):
    """Edit the prompts of the next run."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "save_rerun", "Save & rerun"),
    ]

    def __init__(self, prompts: PromptSet, task_prompt: str, task_title: str = "") -> None:
        super().__init__()
        self.prompts = prompts
        self.task_prompt = task_prompt
        self.task_title = task_title
        # One editor per mode's system prompt (keyed by prompt name), then the task prompt.
        self.editors = {
            spec.prompt: TextArea(prompts.system_template(spec.prompt), soft_wrap=True,
                                  id=f"edit-{_slug(spec.id)}", language="markdown")
            for spec in MODES
        }
        self.editors["task"] = TextArea(prompts.task if prompts.task is not None else task_prompt,
                                        soft_wrap=True, id="edit-task")

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog", classes="dialog"):
            yield Static(Content.assemble(
                ("Prompts of the next run", "bold"),
                ("  ·  saved as your overrides; {api} in CodeAct's prompt becomes the API text",
                 "dim")), classes="dialog-title")
            with TabbedContent(id="prompt-tabs"):
                for spec in MODES:
                    with TabPane(f"{spec.label} system", id=f"tab-{_slug(spec.id)}"):
                        yield self.editors[spec.prompt]
                with TabPane(f"Task: {self.task_title}"[:40] if self.task_title else "Task",
                             id="tab-task"):
                    yield self.editors["task"]
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save & rerun", id="save-rerun", variant="primary")
                yield Button("Save", id="save")
                yield Button("Reset to defaults", id="reset", variant="warning")
                yield Button("Cancel", id="cancel")

    def edited(self) -> PromptSet:
        task = self.editors["task"].text
        return PromptSet(
            {spec.prompt: self.editors[spec.prompt].text for spec in MODES},
            # The task's own words are not an override; only a changed task prompt is saved.
            task=None if task.strip() == self.task_prompt.strip() else task,
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.dismiss(PromptEdit(self.edited()))

    def action_save_rerun(self) -> None:
        self.dismiss(PromptEdit(self.edited(), rerun=True))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-rerun":
            self.action_save_rerun()
        elif event.button.id == "save":
            self.action_save()
        elif event.button.id == "reset":
            self.dismiss(PromptEdit(PromptSet.defaults(), reset=True))
        else:
            self.action_cancel()
