"""The line at the top: which task, which mode, which provider, and whether it is a real model.

The scripted agent must never pass for a model, so when it runs the banner says so in a badge
that cannot be missed. Two more things a room must see before a race: prompts edited from the
bundled ones (they carry over between sessions; ``EDITED_BADGE``), and the sandbox being
compiled on a fresh install (``PREPARING``), which the first CodeAct run would wait for.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from tui.choices import RunChoice, describe_modes

SCRIPTED_BADGE = " SCRIPTED reference agent — not a model "
SCRIPTED_SHORT = " SCRIPTED · not a model "
EDITED_BADGE = " ✎ EDITED PROMPTS · e "
EDITED_SHORT = " ✎ EDITED "
PREPARING = " preparing the sandbox (once)… "
PREPARING_SHORT = " sandbox… "


class RunBanner(Vertical):
    """Task, mode, provider badge, step mode, and the task's prompt in one or two lines."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.badge = Static(classes="provider-badge")
        self.summary = Static(classes="run-summary")
        self.flags = Static(Content.styled(" STEP MODE ", "bold"), classes="run-flags")
        self.edited = Static(classes="run-flags edited-prompts")
        self.preparing = Static(classes="run-notice")
        self.prompt = Static(classes="task-prompt")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="banner-top"):
            yield self.badge
            yield self.summary
            yield self.preparing
            yield self.edited
            yield self.flags
        yield self.prompt

    def on_mount(self) -> None:
        self.edited.display = False
        self.preparing.display = False

    def show_preparing(self, preparing: bool, *, compact: bool = False) -> None:
        """Say (or stop saying) that the sandbox is being compiled (once per install)."""
        self.preparing.update(Content.styled(PREPARING_SHORT if compact else PREPARING, "bold"))
        self.preparing.display = preparing

    def show(self, choice: RunChoice, task_title: str, task_prompt: str, *, step_mode: bool,
             replaying: str | None = None, provider_label: str | None = None,
             compact: bool = False, edited_prompts: bool = False,
             task_prompt_edited: bool = False) -> None:
        """Redraw for the current choice (cheap; called whenever a control changes).

        ``compact`` (80 columns): a shorter badge and the modes' short labels, so the task and
        the modes still fit on the line. ``edited_prompts``: a raced prompt is not the bundled
        one (a badge says so, with the key of the editor that resets them);
        ``task_prompt_edited``: ``task_prompt`` is an edited one (marked).
        """
        if replaying:
            text = f" REPLAY {replaying} " if compact else (
                f" REPLAY of a recorded run ({replaying}) ")
            self.badge.update(Content.styled(text, "bold"), layout=False)
            self.badge.set_classes("provider-badge -replay")
        elif choice.scripted:
            self.badge.update(Content.styled(SCRIPTED_SHORT if compact else SCRIPTED_BADGE,
                                             "bold"))
            self.badge.set_classes("provider-badge -scripted")
        else:
            label = provider_label or f"{choice.provider} {choice.model or ''}".strip()
            self.badge.update(Content.styled(f" ● LIVE {label} ", "bold"))
            self.badge.set_classes("provider-badge -live")
        if compact:
            modes = " vs ".join(spec.short_label for spec in choice.mode_specs)
        else:
            modes = describe_modes(choice.modes)
        parts: list[tuple[str, str] | str] = [
            ("  Task " if not compact else " ", "$text-muted"), (task_title or "—", "bold"),
            ("  ·  " if not compact else " · ", "$text-muted"), modes]
        if choice.paced and not replaying:
            parts += [("  ·  pace " if not compact else " · pace ", "$text-muted"),
                      f"{choice.pace:g}x"]
        self.summary.update(Content.assemble(*parts), layout=False)
        self.flags.display = step_mode
        self.edited.update(Content.styled(EDITED_SHORT if compact else EDITED_BADGE, "bold"))
        self.edited.display = edited_prompts and not replaying
        mark: tuple[str, str] | str = ("✎ edited: ", "$text-warning") if task_prompt_edited else ""
        self.prompt.update(Content.assemble(mark, ("“", "$text-muted"),
                                            " ".join(task_prompt.split()), ("”", "$text-muted"))
                           if task_prompt else Content(""))
