"""History: the recorded runs, newest first; replay one into the panes or export it.

The list is read in a worker (records are files); picking a run dismisses the screen with its
id and modes, and the race screen replays it.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import one_sentence
from engine.modes import DEFAULT_RACE, MODE_IDS
from engine.records import RunSummary
from tui.backend import Backend, BackendError
from tui.messages import RunExported, RunsLoaded
from tui.widgets.round_view import fmt_tokens

EXPORT_FORMATS = ("markdown", "json", "csv")


def _verdict(value: bool | None) -> tuple[str, str]:
    if value is None:
        return ("·", "dim")
    return ("✓", "$success bold") if value else ("✗", "$error bold")


class ExportScreen(ModalScreen[str | None]):
    """Pick a format to export a run in."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(Content.styled("Export the run as", "bold"), classes="dialog-title")
            yield OptionList(*[Option(fmt, id=fmt) for fmt in EXPORT_FORMATS], id="formats")

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HistoryScreen(Screen[tuple[str, tuple[str, ...]] | None]):
    """Past runs: replay (enter) or export (x)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("enter", "replay", "Replay", priority=True),
        Binding("x", "export", "Export"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self, backend: Backend, export_dir: Path | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.export_dir = export_dir
        self.runs: list[RunSummary] = []
        self.table: DataTable[str | Content] = DataTable(id="runs", cursor_type="row",
                                                         zebra_stripes=True)
        self.note = Static(classes="history-note")

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("History", "bold"),
                                      ("  ·  enter replays a run into the panes, x exports it",
                                       "dim")), classes="screen-title")
        yield self.table
        yield self.note
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns("started", "task", "provider", "tool calling", "CodeAct",
                               "savings", "run")
        self.note.update(Content.styled("Reading the run records…", "dim"))
        self.load_runs()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("replay", "export"):
            return True if self.runs else None
        return True

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_runs(self) -> None:
        try:
            self.post_message(RunsLoaded(self.backend.list_runs()))
        except Exception as exc:
            error = f"could not read the run records: {one_sentence(exc)}"
            self.post_message(RunsLoaded([], error=error))

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self.runs = message.runs
        self.table.clear()
        for run in self.runs:
            self.table.add_row(*self._row(run), key=run.run_id)
        if message.error:
            self.note.update(Content.styled(message.error, "$error"))
        elif not self.runs:
            self.note.update(Content.styled("No runs recorded yet: press escape, then r.", "dim"))
        else:
            count = len(self.runs)
            self.note.update(Content.styled(f"{count} run{'s' if count != 1 else ''}", "dim"))
        self.refresh_bindings()
        self.table.focus()

    @staticmethod
    def _row(run: RunSummary) -> list[str | Content]:
        def cell(mode: str) -> str | Content:
            if mode not in run.tokens:
                return Content.styled("—", "dim")
            return Content.assemble(_verdict(run.success.get(mode)), " ",
                                    fmt_tokens(run.tokens[mode]))

        if run.problem:
            unreadable = Content.styled(f"unreadable: {run.problem}", "$error")
            return [run.started[:19], unreadable, "", "", "", "", run.run_id[:12]]
        tool, code = run.tokens.get("tool_calling"), run.tokens.get("codeact")
        savings = f"{(1 - code / tool) * 100:.1f}%" if tool and code else "—"
        scripted = run.scripted and run.provider != "scripted"
        provider = run.provider + (" (scripted)" if scripted else "")
        return [run.started[:19].replace("T", " "), run.task_title, provider,
                cell("tool_calling"), cell("codeact"), savings, run.run_id[:12]]

    def _selected(self) -> RunSummary | None:
        if not self.runs:
            return None
        row = self.table.cursor_row
        return self.runs[row] if 0 <= row < len(self.runs) else None

    def action_replay(self) -> None:
        run = self._selected()
        if run is not None:
            modes = tuple(m for m in MODE_IDS if m in run.modes) or DEFAULT_RACE
            self.dismiss((run.run_id, modes))

    def action_export(self) -> None:
        run = self._selected()
        if run is not None:
            self.app.push_screen(ExportScreen(), lambda fmt: self._export(run, fmt))

    def _export(self, run: RunSummary, fmt: str | None) -> None:
        if fmt:
            self.export_run(run.run_id, fmt)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_run(self, run_id: str, fmt: str) -> None:
        folder = self.export_dir or Path.cwd()
        try:
            self.post_message(RunExported(str(self.backend.export_run(run_id, fmt, folder))))
        except (BackendError, OSError) as exc:
            self.post_message(RunExported(None, error=one_sentence(exc)))

    def on_run_exported(self, message: RunExported) -> None:
        if message.error:
            self.notify(message.error, title="Export", severity="error")
        else:
            self.notify(f"Written to {message.path}", title="Export", timeout=6)

    def action_reload(self) -> None:
        self.load_runs()

    def action_close(self) -> None:
        self.dismiss(None)
