"""SVG snapshots of what the screen shows (pytest-textual-snapshot; update with
``pytest tests/tui --snapshot-update`` and look at the SVGs before accepting them).

They run on the fake engine: its events are fixed (no clocks, ids or timings are drawn), so the
pictures are the same on every machine.
"""

from __future__ import annotations

from pathlib import Path

from conftest import until
from fakes import FakeBackend

from engine.modes import MODE_IDS
from engine.prompts import PromptSet, default_text
from tui.app import ExplorerApp
from tui.choices import RunChoice
from tui.screens.history import HistoryScreen
from tui.screens.prompts import PromptEditorScreen
from tui.screens.summary import SummaryScreen


def app_with(backend: FakeBackend | None = None, modes=None, **kwargs) -> ExplorerApp:
    choice = RunChoice(pace=0) if modes is None else RunChoice(pace=0, modes=modes)
    # A fixed export folder: the history shows it, and a temporary path would differ each run.
    kwargs.setdefault("export_dir", Path("/home/presenter/exports"))
    return ExplorerApp(choice, backend=backend or FakeBackend(), **kwargs)


async def finish_race(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.race_screen.tasks, "the task list")
    await pilot.press("r")
    await app.workers.wait_for_complete()
    await until(pilot, lambda: not app.race_screen.running, "the race to end")
    await pilot.pause(0.1)


def test_main_screen_mid_race_in_step_mode(snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await pilot.press("r")

        def paused(count: int) -> bool:
            return sum(p.status == "waiting" for p in screen.panes.values()) == count

        await until(pilot, lambda: paused(2), "both agents paused")
        await pilot.press("n")  # round 1 of both agents, then a pause before round 2
        await until(pilot, lambda: paused(2) and 1 in screen.panes["codeact"].rounds,
                    "the pause before round 2")
        await pilot.press("n")  # round 2: CodeAct answers, tool calling pauses again
        await until(pilot, lambda: screen.panes["codeact"].finished is not None
                    and screen.panes["tool_calling"].status == "waiting", "round 2")
        await pilot.pause(0.1)

    assert snap_compare(app_with(step_mode=True), terminal_size=(200, 60),
                        run_before=run_before)


def test_main_screen_at_the_end_of_a_race(snap_compare):
    assert snap_compare(app_with(), terminal_size=(200, 60), run_before=finish_race)


def test_main_screen_at_the_end_in_80x24(snap_compare):
    assert snap_compare(app_with(), terminal_size=(80, 24), run_before=finish_race)


def test_prompt_editor(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptEditorScreen), "editor")
        await pilot.pause(0.1)

    assert snap_compare(app_with(), terminal_size=(120, 36), run_before=run_before)


def test_history(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.press("h")
        await until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen)
                    and pilot.app.screen.runs, "history")
        await pilot.pause(0.1)

    assert snap_compare(app_with(), terminal_size=(120, 30), run_before=run_before)


def test_three_modes_side_by_side(snap_compare):
    assert snap_compare(app_with(modes=MODE_IDS), terminal_size=(200, 60),
                        run_before=finish_race)


def test_three_modes_in_80x24(snap_compare):
    assert snap_compare(app_with(modes=MODE_IDS), terminal_size=(80, 24),
                        run_before=finish_race)


def test_light_theme_at_the_end_of_a_race(snap_compare):
    async def run_before(pilot) -> None:
        pilot.app.theme = "textual-light"
        await finish_race(pilot)

    assert snap_compare(app_with(), terminal_size=(160, 45), run_before=run_before)


def test_race_summary(snap_compare):
    async def run_before(pilot) -> None:
        await finish_race(pilot)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(pilot.app.screen, SummaryScreen), "summary")
        await pilot.pause(0.1)

    assert snap_compare(app_with(modes=MODE_IDS), terminal_size=(160, 45),
                        run_before=run_before)


def test_saved_prompt_edits_are_said_at_start_up(snap_compare):
    """An earlier session saved CodeAct's system prompt and the task prompt: before any run the
    banner, both panes (what their runs will report, how to go back) say so."""
    backend = FakeBackend()
    backend.saved = PromptSet({"codeact_system": default_text("codeact_system") + "\nBe brief."},
                              task="Find Ada Lovelace's team and its lead. Keep it short.")

    async def run_before(pilot) -> None:
        screen = pilot.app.race_screen
        await until(pilot, lambda: screen.tasks and screen.saved_prompts is not None
                    and screen.saved_prompts.any, "the saved prompts")
        await pilot.pause(0.1)

    assert snap_compare(app_with(backend), terminal_size=(160, 45), run_before=run_before)
