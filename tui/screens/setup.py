"""Run setup: the tools (a registered tool source's own tasks, or every task on an MCP server of
your own), the task (bundled or from the user's file), the modes that race, the provider, model
and pace. Modes, providers and tool sources are the registries' (``engine.modes``,
``engine.providers``, ``engine.toolboxes``).

A modal that returns a new ``RunChoice`` (or None when cancelled); the race screen takes it.
When the current choice would race saved prompt edits, it says so (they carry over between
sessions) and where to go back to the bundled prompts.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from engine.modes import MODES, label
from engine.providers import PROVIDERS as PROVIDER_REGISTRY
from engine.toolboxes import DEFAULT_SOURCE, TOOL_SOURCES
from tui.backend import SavedPrompts, TaskInfo
from tui.choices import PROVIDERS, RunChoice, ordered


class SetupScreen(ModalScreen[RunChoice | None]):
    """Choose what the next run does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, choice: RunChoice, tasks: list[TaskInfo],
                 saved_prompts: SavedPrompts | None = None) -> None:
        """``saved_prompts``: the saved prompt edits a race of ``choice`` would send (said
        above the buttons; None or none: nothing is said)."""
        super().__init__()
        self.choice = choice
        self.tasks = tasks
        self.saved_prompts = saved_prompts
        self.note = Static(classes="dialog-note")
        self.prompts_note = Static(classes="dialog-note setup-prompts")

    def compose(self) -> ComposeResult:
        choice = self.choice
        task_options = [(self._task_label(t), t.id) for t in self.tasks]
        with Vertical(id="setup-dialog", classes="dialog"):
            yield Static(Content.styled("Setup of the next run", "bold"), classes="dialog-title")
            with Grid(id="setup-grid"):
                yield Label("Tools")
                yield Select(self._source_options(), value=self._current_source(),
                             allow_blank=False, id="setup-tools", compact=True)
                yield Label("MCP server")
                server = choice.tool_source or {}
                yield Input(server.get("mcp") or server.get("mcp_url") or "",
                            placeholder="command or http(s) URL: every task runs on it",
                            id="setup-mcp", compact=True)
                yield Label("Task")
                yield Select(task_options, value=choice.task_id if choice.task_id in
                             {t.id for t in self.tasks} else Select.NULL,
                             allow_blank=not task_options, id="setup-task", compact=True)
                yield Label("Task file")
                yield Input(str(choice.task_file or ""), placeholder="path to your tasks .toml",
                            id="setup-task-file", compact=True)
                yield Label("Modes")
                with Horizontal(id="setup-modes"):
                    for spec in MODES:
                        yield Checkbox(spec.label, value=spec.id in choice.modes,
                                       id=f"setup-mode-{spec.id}", name=spec.id, compact=True,
                                       tooltip=spec.description)
                yield Label("Provider")
                yield Select([(PROVIDER_REGISTRY[p].label, p) for p in PROVIDERS],
                             value=choice.provider, allow_blank=False, id="setup-provider",
                             compact=True)
                yield Label("Model")
                yield Input(choice.model or "", placeholder="provider default",
                            id="setup-model", compact=True)
                yield Label("Pace (x)")
                yield Input(f"{choice.pace:g}", placeholder="1 = the model's real speed",
                            id="setup-pace", type="number", compact=True)
            yield self.note
            yield self.prompts_note
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._describe_provider(self.choice.provider)
        self._describe_saved_prompts()

    def _describe_saved_prompts(self) -> None:
        """Which saved prompt edits the current choice races, what its runs will report, and
        how to go back to the bundled prompts."""
        saved = self.saved_prompts
        self.prompts_note.display = saved is not None and saved.any
        if saved is None or not saved.any:
            return
        names: list[str] = []
        warnings: list[str] = []
        for mode, edit in saved.modes.items():
            if "system" in edit.edited:
                names.append(f"the {label(mode)} system prompt")
            warnings += [w.message for w in edit.warnings if w.message not in warnings]
        if saved.task_prompt is not None:
            names.append("this task's prompt")
        parts: list[tuple[str, str] | str] = [
            ("✎ Saved prompt edits in use: ", "$text-warning bold"),
            f"{' and '.join(names)} (saved edits stay from one session to the next until "
            "reset)."]
        for message in warnings:
            parts += ["\n", ("⚠ ", "$text-warning bold"), message]
        parts += ["\n", ("Prompts (e) → “Reset to defaults” brings back the bundled prompts.",
                          "$text-muted")]
        self.prompts_note.update(Content.assemble(*parts))

    @on(Select.Changed, "#setup-provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._describe_provider(event.value)

    def _describe_provider(self, name: str) -> None:
        """What the chosen provider is, whether it can start, and what pace does for it."""
        spec = PROVIDER_REGISTRY.get(name)
        if spec is None:
            return
        parts: list[tuple[str, str] | str] = [(f"{spec.label}: {spec.description}.",
                                               "$text-muted")]
        missing = spec.missing()
        if missing:
            parts += ["\n", (missing, "$text-warning")]
        parts += ["\n", ("Pace applies to this provider (1 = the model's real speed)."
                         if spec.paced else "Pace does not apply: a live model answers at its "
                         "own speed.", "$text-muted")]
        self.note.update(Content.assemble(*parts))

    @staticmethod
    def _source_options() -> list[tuple[str, str]]:
        """The registered tool sources: the default one, and each that brings its own tasks."""
        return [(spec.label, spec.id) for spec in TOOL_SOURCES.values()
                if spec.id == DEFAULT_SOURCE or spec.tasks is not None]

    def _current_source(self) -> str:
        for spec in TOOL_SOURCES.values():
            if spec.tasks is not None and self.choice.task_file == spec.tasks:
                return spec.id
        return DEFAULT_SOURCE

    @on(Select.Changed, "#setup-tools")
    def _source_changed(self, event: Select.Changed) -> None:
        """A source with tasks of its own puts its task file in the task-file field (applied,
        its tasks replace the list); the default source clears a source's file."""
        spec = TOOL_SOURCES.get(str(event.value))
        field = self.query_one("#setup-task-file", Input)
        if spec is not None and spec.tasks is not None:
            field.value = str(spec.tasks)
        elif any(s.tasks is not None and field.value == str(s.tasks)
                 for s in TOOL_SOURCES.values()):
            field.value = ""

    def chosen_modes(self) -> tuple[str, ...]:
        """The ticked modes, in registry order (none ticked: the current ones)."""
        ticked = [box.name for box in self.query(Checkbox) if box.value and box.name]
        return ordered(ticked) or self.choice.modes

    @staticmethod
    def _task_label(task: TaskInfo) -> str:
        mark = "★ " if task.article else ""
        source = "" if task.source == "bundled" else f"  [{task.source}]"
        return f"{mark}{task.title}{source}"

    def chosen(self) -> RunChoice:
        task = self.query_one("#setup-task", Select).value
        provider = self.query_one("#setup-provider", Select).value
        model = self.query_one("#setup-model", Input).value.strip()
        pace_text = self.query_one("#setup-pace", Input).value.strip()
        file_text = self.query_one("#setup-task-file", Input).value.strip()
        server_text = self.query_one("#setup-mcp", Input).value.strip()
        server = None
        if server_text:
            is_url = server_text.startswith(("http://", "https://"))
            server = {"mcp_url" if is_url else "mcp": server_text}
        try:
            pace = max(0.0, float(pace_text)) if pace_text else self.choice.pace
        except ValueError:
            pace = self.choice.pace
        provider = provider if isinstance(provider, str) else self.choice.provider
        spec = PROVIDER_REGISTRY.get(provider)
        return self.choice.with_(
            task_id=task if isinstance(task, str) else self.choice.task_id,
            modes=self.chosen_modes(),
            provider=provider,
            # A model name means something only to a live provider (the scripted agent has none).
            model=(model or None) if spec is not None and spec.live else None,
            pace=pace,
            task_file=Path(file_text).expanduser() if file_text else None,
            tool_source=server,
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
