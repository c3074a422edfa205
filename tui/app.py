"""The Textual app: wiring only. The race screen does the work; the engine stays outside."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from tui.backend import Backend
from tui.choices import RunChoice
from tui.commands import ExplorerCommands
from tui.screens.help import HelpScreen
from tui.screens.race import RaceScreen


class ExplorerApp(App[None]):
    """CodeAct Explorer: race a tool-calling agent against a CodeAct agent, live."""

    TITLE = "CodeAct Explorer"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ExplorerCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+t", "change_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        choice: RunChoice | None = None,
        *,
        backend: Backend | None = None,
        step_mode: bool = False,
        autostart: bool = False,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend or Backend()
        self.choice = choice or RunChoice()
        self.export_dir = export_dir
        self.race_screen = RaceScreen(self.backend, self.choice, step_mode=step_mode)
        self._autostart = autostart

    def on_mount(self) -> None:
        self.push_screen(self.race_screen)
        if self._autostart:
            self.call_after_refresh(self.race_screen.action_run)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
