"""The line at the top: which task, which mode, which provider, and whether it is a real model.

The scripted agent must never pass for a model, so when it runs the banner says so in a badge
that cannot be missed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from tui.choices import MODE_CHOICE_LABELS, RunChoice

SCRIPTED_BADGE = " SCRIPTED reference agent — not a model "


class RunBanner(Vertical):
    """Task, mode, provider badge, step mode, and the task's prompt in one or two lines."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.badge = Static(classes="provider-badge")
        self.summary = Static(classes="run-summary")
        self.flags = Static(classes="run-flags")
        self.prompt = Static(classes="task-prompt")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="banner-top"):
            yield self.badge
            yield self.summary
            yield self.flags
        yield self.prompt

    def show(self, choice: RunChoice, task_title: str, task_prompt: str, *, step_mode: bool,
             replaying: str | None = None, provider_label: str | None = None) -> None:
        """Redraw for the current choice (cheap; called whenever a control changes)."""
        if replaying:
            self.badge.update(Content.styled(f" REPLAY of a recorded run ({replaying}) ",
                                             "bold reverse $secondary"))
            self.badge.set_classes("provider-badge -replay")
        elif choice.scripted:
            self.badge.update(Content.styled(SCRIPTED_BADGE, "bold"))
            self.badge.set_classes("provider-badge -scripted")
        else:
            label = provider_label or f"{choice.provider} {choice.model or ''}".strip()
            self.badge.update(Content.styled(f" ● LIVE {label} ", "bold"))
            self.badge.set_classes("provider-badge -live")
        self.summary.update(Content.assemble(
            ("  Task ", "dim"), (task_title or "—", "bold"),
            ("  ·  ", "dim"), MODE_CHOICE_LABELS[choice.mode],
            ("  ·  pace ", "dim"), f"{choice.pace:g}x" if choice.scripted else "live",
        ))
        self.flags.update(Content.styled(" STEP MODE ", "bold reverse $warning") if step_mode
                          else Content(""))
        self.prompt.update(Content.assemble(("“", "dim"), " ".join(task_prompt.split()),
                                            ("”", "dim")) if task_prompt else Content(""))
