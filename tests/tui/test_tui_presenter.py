"""What a presenter relies on, at the level they use it: the end-of-race summary, a screenshot
key, exports into a chosen folder, settings kept between sessions, the key table in the README,
the modes picked in setup and by flag, and 80x24 still telling the story."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import notified, until
from fakes import FakeBackend
from textual.widgets import Checkbox, Digits, Select

from engine.modes import DEFAULT_RACE, MODE_IDS, MODES
from engine.providers import PROVIDERS as PROVIDER_REGISTRY
from engine.settings import paths
from tui.app import ExplorerApp
from tui.choices import RunChoice
from tui.cli import add_app_flags, build_parser, check_flags, choice_from_args
from tui.screens.history import ExportScreen, HistoryScreen
from tui.screens.prompts import PromptEditorScreen
from tui.screens.race import RaceScreen
from tui.screens.setup import SetupScreen
from tui.screens.summary import SummaryScreen
from tui.settings import default_export_dir, load_settings
from tui.widgets.round_chart import short_count

README = Path(__file__).resolve().parents[2] / "README.md"


async def race_to_end(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.race_screen.tasks, "the task list")
    await pilot.press("r")
    await app.workers.wait_for_complete()
    await until(pilot, lambda: not app.race_screen.running, "the race to end")


async def test_the_race_ends_with_a_summary_of_every_mode_on_v(make_app):
    app = make_app(modes=MODE_IDS)
    messages: list = []
    async with app.run_test(size=(200, 60), notifications=True,
                            message_hook=messages.append) as pilot:
        screen = app.race_screen
        assert screen.check_action("summary", ()) is None  # nothing to sum up yet
        await race_to_end(pilot)
        assert any("saved" in n and "v shows the summary" in n for n in notified(messages))
        await pilot.press("v")
        assert isinstance(app.screen, SummaryScreen)
        text = str(app.screen.body.render())
        for spec in MODES:
            t = screen.tally.modes[spec.id]
            row = next(line for line in text.splitlines() if spec.label in line)
            assert f"{t.total:,}" in row and f"{len(t.counted)}" in row and "$" in row
            if not spec.baseline:
                assert f"{screen.tally.savings_of(spec.id) * 100:.1f}%" in row
        assert "s " in text  # model time and wall clock columns
        await pilot.press("escape")
        assert app.screen is screen


async def test_c_saves_an_svg_screenshot_in_the_export_folder(make_app, tmp_path: Path):
    app = make_app()
    messages: list = []
    async with app.run_test(size=(120, 40), notifications=True,
                            message_hook=messages.append) as pilot:
        await until(pilot, lambda: app.race_screen.tasks, "the task list")
        await pilot.press("c")
        await until(pilot, lambda: any("Saved to" in n for n in notified(messages)), "the path")
        [shot] = list(tmp_path.glob("codeact-screen-*.svg"))
        assert shot.read_text().startswith("<svg") and str(shot) in " ".join(notified(messages))


async def test_exports_go_to_the_data_folder_by_default_or_to_the_folder_picked(tmp_path):
    backend = FakeBackend()
    app = ExplorerApp(RunChoice(pace=0), backend=backend)
    messages: list = []
    async with app.run_test(size=(160, 40), notifications=True,
                            message_hook=messages.append) as pilot:
        assert app.export_dir == default_export_dir() == paths().data / "exports"
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.runs,
                    "the history")
        assert str(default_export_dir()) in str(app.screen.note.render())  # path shown
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        await pilot.press("enter")  # markdown, into the default folder
        await until(pilot, lambda: backend.exports, "the first export")
        assert backend.exports[0].parent == default_export_dir()
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "history again")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        chosen = tmp_path / "talk"
        app.screen.query_one("#export-folder").value = str(chosen)
        app.screen.query_one("#formats").focus()
        await pilot.press("down", "enter")  # json, into the folder typed
        await until(pilot, lambda: len(backend.exports) == 2, "the second export")
        assert backend.exports[1].parent == chosen and app.export_dir == chosen
        await until(pilot, lambda: load_settings()[0].export_dir == chosen, "remembered")


async def test_a_folder_that_failed_is_not_remembered_one_that_worked_is(tmp_path):
    backend = FakeBackend()
    app = ExplorerApp(RunChoice(pace=0), backend=backend)
    messages: list = []
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    bad, good = not_a_folder / "x", tmp_path / "talk"

    async def export_to(pilot, folder: Path) -> None:
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.runs,
                    "the history")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        app.screen.query_one("#export-folder").value = str(folder)
        app.screen.query_one("#formats").focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()

    async with app.run_test(size=(160, 40), notifications=True,
                            message_hook=messages.append) as pilot:
        before = app.export_dir
        await pilot.press("h")
        await export_to(pilot, bad)
        await until(pilot, lambda: any("Not a directory" in n for n in notified(messages)),
                    "the error")
        await app.workers.wait_for_complete()
        assert app.export_dir == before and load_settings()[0].export_dir != bad
        assert str(bad) not in str(app.screen.note.render())
        await export_to(pilot, good)
        await until(pilot, lambda: backend.exports, "the export")
        assert backend.exports[0].parent == good and app.export_dir == good
        await until(pilot, lambda: load_settings()[0].export_dir == good, "remembered")


async def test_theme_modes_pace_and_task_are_remembered_for_the_next_session(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        app.theme = "textual-light"
        await pilot.press("m")  # every mode
        screen.set_choice(screen.choice.with_(task_id="aggregate-projects", pace=2.0))
        await until(pilot, lambda: load_settings()[0].task == "aggregate-projects", "saved")
    settings, problem = load_settings()
    assert problem is None
    assert settings.theme == "textual-light" and settings.modes == MODE_IDS
    assert settings.pace == 2.0
    parser = build_parser()
    add_app_flags(parser)
    choice = choice_from_args(parser.parse_args([]), settings)
    assert choice.modes == MODE_IDS and choice.pace == 2.0
    assert choice.task_id == "aggregate-projects"
    assert choice_from_args(parser.parse_args(["--modes", "codeact", "--pace", "0.5"]),
                            settings).modes == ("codeact",)  # a flag wins
    restored = ExplorerApp(choice, backend=FakeBackend(), settings=settings)
    async with restored.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert restored.theme == "textual-light"


def test_a_settings_file_that_cannot_be_read_is_one_sentence_and_the_defaults():
    path = paths().config / "app.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("theme = [unclosed")
    settings, problem = load_settings()
    assert settings.theme is None and problem and problem.count(".") >= 1
    assert "using the defaults" in problem


def test_the_modes_flag_takes_registry_ids_and_refuses_others_in_one_sentence():
    parser = build_parser()
    add_app_flags(parser)
    args = parser.parse_args(["--modes", "tool_calling,codeact,codeact_discovery"])
    assert check_flags(args) is None and choice_from_args(args).modes == MODE_IDS
    assert choice_from_args(parser.parse_args(["--modes", "all"])).modes == MODE_IDS
    assert choice_from_args(parser.parse_args([])).modes == DEFAULT_RACE
    problem = check_flags(parser.parse_args(["--modes", "codeact,telepathy"]))
    assert problem and "telepathy" in problem and "tool_calling" in problem


async def test_setup_picks_any_modes_and_offers_the_registrys_providers(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen), "setup")
        setup = app.screen
        boxes = {box.name: box for box in setup.query(Checkbox)}
        assert list(boxes) == list(MODE_IDS)
        assert [b.value for b in boxes.values()] == [m in DEFAULT_RACE for m in MODE_IDS]
        offered = [value for _, value in setup.query_one("#setup-provider", Select)._options
                   if value != Select.NULL]
        assert offered == [s.name for s in PROVIDER_REGISTRY.values() if not s.replays]
        for box in boxes.values():
            box.value = box.name != MODE_IDS[0]  # everything but the baseline
        await pilot.press("ctrl+s")
        assert app.screen is screen
        assert screen.choice.modes == MODE_IDS[1:]
        assert tuple(m for m, p in screen.panes.items() if p.display) == MODE_IDS[1:]


@pytest.mark.parametrize("modes", [MODE_IDS, ("codeact",)])
async def test_the_prompt_editor_shows_each_raced_modes_system_prompt(make_app, modes):
    app = make_app(modes=modes)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.race_screen.tasks, "the task list")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "editor")
        tabs = [str(t.label) for t in app.screen.query("Tab")]
        expected = [f"{spec.label} system" for spec in MODES if spec.id in modes]
        assert [t for t in tabs if t.endswith("system")] == expected
        assert app.screen.warnings()  # the scripted agent does not read prompts: said


@pytest.mark.parametrize("modes", [DEFAULT_RACE, MODE_IDS])
async def test_80x24_keeps_modes_task_totals_savings_and_the_big_number(make_app, modes):
    app = make_app(modes=modes)
    async with app.run_test(size=(80, 24)) as pilot:
        await race_to_end(pilot)
        await pilot.pause(0.3)
        screen: RaceScreen = app.race_screen
        banner = str(screen.banner.summary.render())
        assert "Find user" in banner
        for spec in MODES:
            if spec.id in modes:
                assert spec.short_label in banner
        table = str(screen.meter.table.render())
        for mode_id in modes:
            t = screen.tally.modes[mode_id]
            assert f"{t.total:,}" in table
            saving = screen.tally.savings_of(mode_id)
            if saving is not None:
                assert f"{saving * 100:.1f}%" in table
        digits = screen.meter.query_one(Digits)
        assert digits.region.height >= 3 and digits.region.width > 0  # the big number
        assert digits.value == f"{screen.tally.savings * 100:.1f}"
        chart = str(screen.chart.render())
        for mode_id in modes:  # each mode's running input total, labelled
            sent = screen.tally.modes[mode_id].cumulative_input()[-1]
            assert re.search(rf"{spec_short(mode_id)}\s+[▁▂▃▄▅▆▇█]+ {short_count(sent)}",
                             chart), chart


def spec_short(mode_id: str) -> str:
    return next(s.short_label for s in MODES if s.id == mode_id)


def test_the_readme_key_table_lists_every_key_of_the_race_screen_and_the_app():
    text = README.read_text()
    table = text[text.index("| key | does |"):]
    table = table[: table.index("\n\n")]
    keys = {k for b in [*RaceScreen.BINDINGS, *ExplorerApp.BINDINGS]
            for k in b.key.split(",")}  # type: ignore[union-attr]
    missing = [k for k in keys if f"`{k}`" not in table]
    assert not missing, f"keys missing from the README's table: {missing}"


async def test_setup_picks_the_tool_source_or_an_mcp_server_of_your_own(make_app):
    from engine.toolboxes import TOOL_SOURCES

    demo = next(s for s in TOOL_SOURCES.values() if s.tasks is not None)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen), "setup")
        setup = app.screen
        tools = setup.query_one("#setup-tools", Select)
        offered = [value for _, value in tools._options if value != Select.NULL]
        assert offered[0] == "platform" and demo.id in offered
        tools.value = demo.id
        await pilot.pause()
        assert setup.query_one("#setup-task-file").value == str(demo.tasks)
        setup.query_one("#setup-mcp").value = "python -m my_server --db x.sqlite"
        await pilot.press("ctrl+s")
        assert app.screen is screen
        assert screen.choice.task_file == demo.tasks
        assert screen.choice.tool_source == {"mcp": "python -m my_server --db x.sqlite"}
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen), "setup again")
        assert app.screen.query_one("#setup-tools", Select).value == demo.id
        app.screen.query_one("#setup-tools", Select).value = "platform"
        app.screen.query_one("#setup-mcp").value = "http://127.0.0.1:9/mcp"
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert screen.choice.task_file is None
        assert screen.choice.tool_source == {"mcp_url": "http://127.0.0.1:9/mcp"}


async def test_every_key_fits_at_80_columns_after_a_resize_from_a_wide_terminal(make_app):
    from tui.widgets.footer import ExplorerFooter

    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        footer = app.race_screen.query_one(ExplorerFooter)
        assert not footer.query(".-command-palette")  # the palette hint gives way
        assert sum(k.region.width for k in footer.children) <= 80


async def test_history_shows_whole_run_ids_and_its_columns_follow_a_resize(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.runs,
                    "the history")
        history = app.screen
        run_id = history.runs[0].run_id

        def column(name: str) -> int:
            return next(c.width for c in history.table.columns.values()
                        if str(c.label) == name)

        narrow = column("task")
        assert column("run") >= len(run_id)
        assert str(history.table.get_row_at(0)[-1]) == run_id  # whole, not cut
        await pilot.resize_terminal(200, 30)
        await pilot.pause(0.2)
        assert column("task") > narrow  # the task title takes the room it gets
        assert str(history.table.get_row_at(0)[-1]) == run_id
