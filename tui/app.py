"""The Textual app: wiring only. The race screen does the work; the engine stays outside."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from tui import textual_fixes
from tui.backend import Backend
from tui.choices import RunChoice
from tui.commands import ExplorerCommands
from tui.palette import ON_COLOUR_DEFAULTS, legible_variables
from tui.screens.help import HelpScreen
from tui.screens.race import RaceScreen
from tui.settings import AppSettings, default_export_dir, save_settings


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
        settings: AppSettings | None = None,
    ) -> None:
        """``settings``: what the last session remembered (theme, export folder; the choice's
        task, modes and pace were merged into ``choice`` by the command line)."""
        super().__init__()
        textual_fixes.apply()
        self.backend = backend or Backend()
        self.choice = choice or RunChoice()
        self.settings = settings or AppSettings()
        self.export_dir = export_dir or self.settings.export_dir or default_export_dir()
        self.race_screen = RaceScreen(self.backend, self.choice, step_mode=step_mode)
        self._autostart = autostart

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **ON_COLOUR_DEFAULTS}

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables, its text colours made legible (WCAG AA) on its backgrounds:
        several bundled themes draw $text-error, $text-success or the footer keys under
        4.5:1 (tests/tui/test_tui_contrast.py checks every theme)."""
        return legible_variables(super().get_css_variables())

    def on_mount(self) -> None:
        if self.settings.theme and self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.push_screen(self.race_screen)
        if self._autostart:
            self.call_after_refresh(self.race_screen.action_run)

    def watch_theme(self, theme: str) -> None:
        self.remember(theme=theme)

    def remember(self, **changes: object) -> None:
        """Keep changed settings for the next session (written in a worker)."""
        updated = self.settings.with_(**changes)
        if updated != self.settings:
            self.settings = updated
            self._write_settings(updated)

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def _write_settings(self, settings: AppSettings) -> None:
        try:
            save_settings(settings)
        except OSError as exc:
            self.call_from_thread(self.notify, f"Settings not saved: {exc}.",
                                  severity="warning")

    def set_export_dir(self, folder: Path) -> None:
        self.export_dir = folder
        self.remember(export_dir=folder)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
