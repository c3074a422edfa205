"""History: the recorded runs, newest first; replay one into the panes or export it.

The list is read in a worker (records are files); picking a run dismisses the screen with its
id and modes, and the race screen replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import one_sentence
from engine.modes import BASELINE, MODE_IDS, label, mode
from engine.records import RunSummary
from tui.backend import Backend, BackendError
from tui.messages import RunExported, RunsLoaded
from tui.widgets.footer import ExplorerFooter
from tui.widgets.round_view import fmt_tokens

EXPORT_FORMATS = ("markdown", "json", "csv")


def _verdict(value: bool | None) -> tuple[str, str]:
    if value is None:
        return ("·", "$text-muted")
    return ("✓", "$text-success bold") if value else ("✗", "$text-error bold")


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Pick a format and the folder to export a run into (the folder is remembered)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(Content.styled("Export the run as", "bold"), classes="dialog-title")
            yield OptionList(*[Option(fmt, id=fmt) for fmt in EXPORT_FORMATS], id="formats")
            yield Static(Content.styled("into the folder", "$text-muted"))
            yield Input(str(self.folder), id="export-folder", compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        text = self.query_one("#export-folder", Input).value.strip()
        folder = Path(text).expanduser() if text else self.folder
        if event.option.id:
            self.dismiss((event.option.id, folder))

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

    def __init__(self, backend: Backend, export_dir: Path,
                 on_folder: Callable[[Path], None] | None = None) -> None:
        """``export_dir``: where exports go; ``on_folder`` hears of another folder picked."""
        super().__init__()
        self.backend = backend
        self.export_dir = export_dir
        self.on_folder = on_folder
        self.runs: list[RunSummary] = []
        self.table: DataTable[str | Content] = DataTable(id="runs", cursor_type="row",
                                                         zebra_stripes=True)
        self.note = Static(classes="history-note")

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("History", "bold"),
                                      ("  ·  enter replays a run into the panes, x exports it",
                                       "$text-muted")), classes="screen-title")
        yield self.table
        yield self.note
        yield ExplorerFooter()

    def on_mount(self) -> None:
        self.note.update(Content.styled("Reading the run records…", "$text-muted"))
        self.load_runs()

    def on_resize(self) -> None:
        if self.runs:
            self._fill()

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
        self._fill()
        if message.error:
            self.note.update(Content.styled(message.error, "$text-error"))
        elif not self.runs:
            self.note.update(Content.styled("No runs recorded yet: press escape, then r.",
                                            "$text-muted"))
        else:
            count = len(self.runs)
            self.note.update(Content.styled(
                f"{count} run{'s' if count != 1 else ''} · exports go to {self.export_dir}",
                "$text-muted"))
        self.refresh_bindings()
        self.table.focus()

    def _modes(self) -> list[str]:
        """The modes any listed run raced, in registry order (old recordings' modes last)."""
        seen = {m for run in self.runs for m in run.modes}
        return [m for m in MODE_IDS if m in seen] + sorted(seen - set(MODE_IDS))

    def _fill(self) -> None:
        """(Re)build the table for the runs and the screen's width: every column but the task
        keeps its full width (run ids whole); the task title gets what is left."""
        row = self.table.cursor_row
        modes = self._modes()
        savers = [m for m in modes if m != BASELINE.id and BASELINE.id in modes]
        id_width = max((len(run.run_id) for run in self.runs), default=6)
        saver_titles = {m: f"{mode(m).short_label if m in MODE_IDS else m} saves"
                        for m in savers}
        saver_width = max((len(t) for t in saver_titles.values()), default=0)
        fixed = 19 + 14 + 12 * len(modes) + saver_width * len(savers) + id_width
        gutters = 2 * (4 + len(modes) + len(savers))
        task_width = max(self.size.width - fixed - gutters - 2, 16) if self.size.width else 40
        self.table.clear(columns=True)
        self.table.add_column("started", width=19)
        self.table.add_column("task", width=task_width)
        self.table.add_column("provider", width=14)
        for m in modes:
            self.table.add_column(label(m), width=12)
        for m in savers:
            self.table.add_column(saver_titles[m], width=saver_width)
        self.table.add_column("run", width=id_width)
        for run in self.runs:
            self.table.add_row(*self._row(run, modes, savers, task_width), key=run.run_id)
        if self.runs:
            self.table.move_cursor(row=min(max(row, 0), len(self.runs) - 1))

    @staticmethod
    def _row(run: RunSummary, modes: list[str], savers: list[str],
             task_width: int) -> list[str | Content]:
        def cell(mode_id: str) -> str | Content:
            if mode_id not in run.tokens:
                return Content.styled("—", "$text-muted")
            return Content.assemble(_verdict(run.success.get(mode_id)), " ",
                                    fmt_tokens(run.tokens[mode_id]))

        def saves(mode_id: str) -> str:
            # As in the bench: savings only where both runs succeeded.
            base, other = run.tokens.get(BASELINE.id), run.tokens.get(mode_id)
            both = run.success.get(BASELINE.id) and run.success.get(mode_id)
            return f"{(1 - other / base) * 100:.1f}%" if base and other and both else "—"

        started = run.started[:19].replace("T", " ")
        if run.problem:
            unreadable = Content.styled(f"unreadable: {run.problem}"[:task_width], "$text-error")
            return [started, unreadable, "", *["" for _ in modes], *["" for _ in savers],
                    run.run_id]
        scripted = run.scripted and run.provider != "scripted"
        provider = run.provider + (" (scripted)" if scripted else "")
        title = run.task_title if len(run.task_title) <= task_width else (
            run.task_title[: task_width - 1] + "…")
        return [started, title, provider, *[cell(m) for m in modes],
                *[saves(m) for m in savers], run.run_id]

    def _selected(self) -> RunSummary | None:
        if not self.runs:
            return None
        row = self.table.cursor_row
        return self.runs[row] if 0 <= row < len(self.runs) else None

    def action_replay(self) -> None:
        run = self._selected()
        if run is not None:
            self.dismiss((run.run_id, tuple(run.modes)))

    def action_export(self) -> None:
        run = self._selected()
        if run is not None:
            self.app.push_screen(ExportScreen(self.export_dir),
                                 lambda picked: self._export(run, picked))

    def _export(self, run: RunSummary, picked: tuple[str, Path] | None) -> None:
        if picked:
            fmt, folder = picked
            self.export_run(run.run_id, fmt, folder)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_run(self, run_id: str, fmt: str, folder: Path) -> None:
        try:
            written = self.backend.export_run(run_id, fmt, folder)
            self.post_message(RunExported(str(written), folder=folder))
        except (BackendError, OSError) as exc:
            self.post_message(RunExported(None, error=one_sentence(exc)))

    def on_run_exported(self, message: RunExported) -> None:
        if message.error:
            self.notify(message.error, title="Export", severity="error")
            return
        self.notify(f"Written to {message.path}", title="Export", timeout=6)
        # Another folder is remembered only once a file was written there: a folder that
        # failed would break every later export and screenshot (c), session after session.
        folder = message.folder
        if folder is not None and folder != self.export_dir:
            self.export_dir = folder
            if self.on_folder is not None:
                self.on_folder(folder)

    def action_reload(self) -> None:
        self.load_runs()

    def action_close(self) -> None:
        self.dismiss(None)
