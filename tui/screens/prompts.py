"""The prompt editor: each mode's system prompt and the task prompt, in editors.

It returns a ``PromptEdit`` (save, save and rerun, or reset to the defaults after asking) or
None when cancelled; the race screen saves it in a worker. Placeholders such as CodeAct's
``{api}`` stay in the text: the engine fills them when the run starts. Above the buttons the
editor says what a rerun with the edited prompts would not show truthfully (a provider that
does not read prompts, a prompt that lost its tools placeholder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TabbedContent, TabPane, TextArea

from engine.modes import DEFAULT_RACE, MODE_IDS, ModeSpec, mode
from engine.prompts import PromptSet, prompt_names
from tui.screens.confirm import ConfirmScreen


def _slug(mode_id: str) -> str:
    return mode_id.replace("_", "-")


def reset_question(specs: Sequence[ModeSpec], task_title: str) -> str:
    """What "Reset to defaults" asks first: the system prompts of ``specs`` and the prompt of
    the task go back to the bundled ones; other tasks' prompts stay."""
    shown = " and ".join(spec.label for spec in specs)
    task = f"“{task_title}”" if task_title else "this task"
    return (f"Reset the {shown} system prompt{'s' if len(specs) > 1 else ''} and the prompt of "
            f"{task} to their defaults? Other tasks' prompts stay as they are.")


@dataclass(frozen=True)
class PromptEdit:
    """What the editor asks for: save ``prompts`` (or ``reset`` the prompts ``names`` and the
    task's own to their defaults), then maybe rerun."""

    prompts: PromptSet
    rerun: bool = False
    reset: bool = False
    names: tuple[str, ...] = ()


class PromptEditorScreen(ModalScreen[PromptEdit | None]):
    """Edit the prompts of the next run: each raced mode's system prompt and the task's."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "save_rerun", "Save & rerun"),
    ]

    def __init__(self, prompts: PromptSet, task_prompt: str, task_title: str = "", *,
                 modes: Sequence[str] = DEFAULT_RACE, scripted: bool = False,
                 warnings: Callable[[PromptSet], list[str]] | None = None) -> None:
        """``modes``: the raced modes (their system prompts are shown); ``scripted``: the
        provider does not read prompts (said above the editors); ``warnings``: sentences about
        a rerun with the edited prompts (None: none are checked)."""
        super().__init__()
        self.prompts = prompts
        self.task_prompt = task_prompt
        self.task_title = task_title
        self.specs = [mode(m) for m in modes if m in MODE_IDS] or [mode(DEFAULT_RACE[0])]
        self.scripted = scripted
        self.check = warnings
        # One editor per raced mode's system prompt (keyed by prompt name), then the task prompt.
        self.editors = {
            spec.prompt: TextArea(prompts.system_template(spec.prompt), soft_wrap=True,
                                  id=f"edit-{_slug(spec.id)}", language="markdown")
            for spec in self.specs
        }
        self.editors["task"] = TextArea(prompts.task if prompts.task is not None else task_prompt,
                                        soft_wrap=True, id="edit-task")
        self.notes = Static(classes="dialog-note prompt-warnings")

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog", classes="dialog"):
            yield Static(Content.assemble(
                ("Prompts of the next run", "bold"),
                ("  ·  saved as your overrides; a {placeholder} is filled in when the run "
                 "starts", "$text-muted")), classes="dialog-title")
            with TabbedContent(id="prompt-tabs"):
                for spec in self.specs:
                    with TabPane(f"{spec.label} system", id=f"tab-{_slug(spec.id)}"):
                        yield self.editors[spec.prompt]
                with TabPane(f"Task: {self.task_title}"[:40] if self.task_title else "Task",
                             id="tab-task"):
                    yield self.editors["task"]
            yield self.notes
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save & rerun", id="save-rerun", variant="primary")
                yield Button("Save", id="save")
                yield Button("Reset to defaults", id="reset", variant="warning")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._check()

    @on(TextArea.Changed)
    def _edited(self) -> None:
        self._check()

    def warnings(self) -> list[str]:
        """What the user should know before a rerun with the prompts as edited now."""
        found = list(self.check(self.edited())) if self.check is not None else []
        if self.scripted and not found:
            found.append("The scripted agent does not read prompts: an edit changes the token "
                         "counts, not what it does.")
        return found

    def _check(self) -> None:
        found = self.warnings()
        self.notes.update(Content("\n").join(
            Content.assemble(("⚠ ", "$text-warning bold"), (text, "$text-warning"))
            for text in found))
        self.notes.display = bool(found)

    def edited(self) -> PromptSet:
        task = self.editors["task"].text
        systems = {name: self.prompts.system_template(name) for name in prompt_names()}
        systems.update({spec.prompt: self.editors[spec.prompt].text for spec in self.specs})
        # The task's own words are not an override; only a changed task prompt is saved.
        return PromptSet(systems, task=None if task.strip() == self.task_prompt.strip() else task)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.dismiss(PromptEdit(self.edited()))

    def action_save_rerun(self) -> None:
        self.dismiss(PromptEdit(self.edited(), rerun=True))

    def action_reset(self) -> None:
        """Ask first; then reset the prompts shown here (not other tasks' prompts)."""
        self.app.push_screen(ConfirmScreen(reset_question(self.specs, self.task_title),
                                           yes="Reset"), self._reset_confirmed)

    def _reset_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.dismiss(PromptEdit(PromptSet.defaults(), reset=True,
                                    names=tuple(spec.prompt for spec in self.specs)))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-rerun":
            self.action_save_rerun()
        elif event.button.id == "save":
            self.action_save()
        elif event.button.id == "reset":
            self.action_reset()
        else:
            self.action_cancel()
