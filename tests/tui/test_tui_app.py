"""Pilot tests of each interaction, on the fake engine (deterministic, instant)."""

from __future__ import annotations

from pathlib import Path

from conftest import notified, until
from fakes import FakeBackend

from engine.events import RunFinished, StepWaiting
from engine.modes import BASELINE, DEFAULT_RACE, MODE_IDS, MODES
from tui.choices import mode_sets
from tui.commands import race_commands
from tui.messages import RaceEnded, RaceEvents
from tui.screens.help import HelpScreen
from tui.screens.history import ExportScreen, HistoryScreen
from tui.screens.prompts import PromptEditorScreen
from tui.widgets.round_view import ErrorView, ToolCallView, ToolResultView


def events_of(messages, kind=None):
    # The message hook sees a message at each node that dispatches it: count each batch once.
    batches = {id(m): m for m in messages if isinstance(m, RaceEvents)}
    out = [e for m in batches.values() for e in m.events]
    return [e for e in out if kind is None or isinstance(e, kind)]


async def test_a_race_runs_both_agents_to_their_verdicts(make_app):
    messages: list = []
    app = make_app()
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the race to end")
        finished = {e.mode: e for e in events_of(messages, RunFinished)}
        assert set(finished) == {"tool_calling", "codeact"}
        assert all(e.success for e in finished.values())
        assert any(isinstance(m, RaceEnded) and m.error is None for m in messages)
        tool_pane = screen.panes["tool_calling"]
        assert len(tool_pane.rounds) == 4 and tool_pane.status == "answered"
        assert tool_pane.query(ToolCallView) and tool_pane.query(ToolResultView)
        result = tool_pane.query(ToolResultView).first()
        assert "\n" not in str(result.render())  # one line until opened
        await pilot.click(result)
        assert result.expanded and '"team_id": 3' in str(result.render())  # pretty JSON
        assert screen.tally.savings is not None and screen.tally.savings > 0.5
        assert app.screen.check_action("run", ()) is True
        assert app.screen.check_action("next_round", ()) is None  # greyed in the footer


async def test_step_mode_pauses_before_each_round_and_next_advances_both(make_app):
    messages: list = []
    app = make_app()
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await pilot.press("p")
        assert screen.step_mode
        await pilot.press("r")
        await until(pilot, lambda: len(events_of(messages, StepWaiting)) == 2, "both to pause")
        assert screen.check_action("next_round", ()) is True
        assert not screen.panes["tool_calling"].rounds
        await pilot.press("n")
        await until(pilot, lambda: len(events_of(messages, StepWaiting)) == 4, "round 2 pause")
        assert list(screen.panes["tool_calling"].rounds) == [1]
        assert list(screen.panes["codeact"].rounds) == [1]
        assert screen.panes["tool_calling"].status == "waiting"
        await pilot.press("x")  # stop while paused
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the race to stop")
        stops = {e.mode: e.stop_reason for e in events_of(messages, RunFinished)}
        assert stops == {"tool_calling": "cancelled", "codeact": "cancelled"}
        assert screen.panes["codeact"].status == "cancelled"


async def test_editing_a_prompt_saves_it_reruns_and_compares_with_the_last_run(make_app):
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the first race")
        first = screen.tally.modes["tool_calling"].total
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "the editor")
        editor = app.screen
        editor.editors["tool_calling_system"].text = "Call one tool per round. Be brief."
        await pilot.press("ctrl+r")
        await until(pilot, lambda: len(backend.started) == 2, "the rerun")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the second race")
        assert backend.saved.system_template("tool_calling_system") == (
            "Call one tool per round. Be brief.")
        assert backend.started[1][1].system_template("tool_calling_system") == (
            "Call one tool per round. Be brief.")
        assert screen.tally.previous["tool_calling"] == first
        assert screen.tally.modes["tool_calling"].total < first
        assert "vs previous run" in str(screen.meter.previous.render())


async def test_a_past_run_replays_into_the_panes_and_exports(make_app, tmp_path: Path):
    messages: list = []
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        history = app.screen
        await until(pilot, lambda: history.runs, "the run list")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "export formats")
        await pilot.press("down", "enter")  # json
        await until(pilot, lambda: backend.exports, "the export")
        assert backend.exports[0].name.endswith(".json") and backend.exports[0].parent == tmp_path
        await until(pilot, lambda: app.screen is history, "back in history")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        screen = app.race_screen
        await until(pilot, lambda: not screen.running, "the replay to end")
        replayed = events_of(messages, RunFinished)
        assert {e.run_id for e in replayed} == {"replayed"}
        assert screen.panes["codeact"].finished is not None
        assert "REPLAY" in str(screen.banner.badge.render())


async def test_m_cycles_the_registrys_mode_sets_and_the_race_follows(make_app):
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = app.race_screen
        shown = lambda: tuple(m for m, p in screen.panes.items() if p.display)  # noqa: E731
        assert screen.choice.modes == DEFAULT_RACE and shown() == DEFAULT_RACE
        await pilot.press("m")  # every mode: three panes side by side at 200 columns
        assert screen.choice.modes == MODE_IDS and shown() == MODE_IDS
        assert not screen.has_class("-stacked")
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the three-way race")
        assert backend.started[-1][0].modes == MODE_IDS
        assert set(screen.tally.modes) == set(MODE_IDS)
        meter = str(screen.meter.table.render())
        for spec in MODES:  # every raced mode has its row, the others their savings
            assert spec.label in meter
        assert all(screen.tally.savings_of(m) is not None for m in MODE_IDS
                   if m != BASELINE.id)
        seen = []
        for _ in range(len(mode_sets()) - 2):
            await pilot.press("m")
            seen.append(screen.choice.modes)
            assert shown() == screen.choice.modes
        assert {(m,) for m in MODE_IDS} <= set(seen)  # each mode alone is one of the sets
        await pilot.press("m")
        assert screen.choice.modes == DEFAULT_RACE  # back to the start


async def test_three_panes_stack_when_the_terminal_is_narrow(make_app):
    app = make_app(modes=MODE_IDS)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.race_screen
        await pilot.pause()
        assert screen.has_class("-stacked")  # 100 columns: not 40 for each of three
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert not screen.has_class("-stacked")


async def test_a_provider_error_shows_in_its_pane_and_the_other_agent_finishes(make_app):
    messages: list = []
    app = make_app(FakeBackend(error_mode="codeact"))
    async with app.run_test(size=(160, 48), notifications=True,
                            message_hook=messages.append) as pilot:
        screen = app.race_screen
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the race")
        codeact = screen.panes["codeact"]
        assert codeact.status == "error"
        assert "MISTRAL_API_KEY" in str(codeact.query_one(ErrorView).render())
        assert screen.panes["tool_calling"].finished.success
        assert any("MISTRAL_API_KEY" in text for text in notified(messages))


async def test_a_bad_task_file_is_one_notification_and_the_app_carries_on(make_app):
    messages: list = []
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True,
                            message_hook=messages.append) as pilot:
        screen = app.race_screen
        screen.use_task_file(Path("broken.toml"))
        await app.workers.wait_for_complete()
        await until(pilot, lambda: any("no prompt" in text for text in notified(messages)),
                    "the notification")
        assert screen.tasks  # the bundled tasks are still offered
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "a race after the error")


async def test_an_unexpected_failure_is_one_sentence_not_its_raw_text(make_app):
    class BrokenBackend(FakeBackend):
        def new_race(self, choice, prompts):
            raise KeyError("'tool_calls'\n  File \"engine/agents/common.py\", line 3")

    messages: list = []
    app = make_app(BrokenBackend())
    async with app.run_test(size=(120, 40), notifications=True,
                            message_hook=messages.append) as pilot:
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: notified(messages), "the notification")
        assert notified(messages) == [
            "the run stopped unexpectedly: an unexpected internal error (KeyError)."]
        assert not app.race_screen.running


async def test_palette_commands_help_and_setup(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        titles = [title for title, _, _ in race_commands(screen)]
        assert "Run the race" in titles and "Next round" not in titles
        assert "Task: Aggregate data across projects" in titles
        pick = dict((t, cb) for t, cb, _ in race_commands(screen))
        pick["Task: Aggregate data across projects"]()
        assert screen.choice.task_id == "aggregate-projects"
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("s")
        await until(pilot, lambda: app.screen.__class__.__name__ == "SetupScreen", "setup")
        await pilot.press("escape")
        assert app.screen is screen


async def test_old_rounds_fold_while_running_and_open_at_the_end(make_app):
    messages: list = []
    app = make_app(FakeBackend(tool_rounds=6))
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await pilot.press("p", "r")
        pane = screen.panes["tool_calling"]
        for expected in (1, 2, 3, 4):
            await until(pilot, lambda: pane.status == "waiting" or pane.finished, "a pause")
            await pilot.press("n")
            await until(pilot, lambda n=expected: n in pane.rounds, f"round {expected}")
        assert pane.rounds[1].box.has_class("-folded")  # round 4 runs: round 1 is folded
        assert not pane.rounds[2].box.has_class("-folded")
        assert "users_search ✓" in str(pane.rounds[1].header.render())
        await pilot.click(pane.rounds[1].header)
        assert not pane.rounds[1].box.has_class("-folded")  # a click opens it
        await pilot.press("p")  # step mode off: the run finishes
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the end")
        # the rounds open one per screen update, newest first
        await until(pilot, lambda: not any(s.box.has_class("-folded")
                                           for s in pane.rounds.values()), "every round open")


def test_the_bare_command_refuses_to_open_the_app_without_a_terminal(capsys):
    from tui.cli import main

    assert main(["--task", "user-team-info"]) == 2  # pytest's stdin is not a terminal
    assert "needs a terminal" in capsys.readouterr().err


def test_the_app_flags_are_checked_before_the_app_opens(tmp_path: Path):
    from tui.cli import add_app_flags, build_parser, check_flags

    parser = build_parser()
    add_app_flags(parser)
    missing = check_flags(parser.parse_args(["--task-file", str(tmp_path / "none.toml")]))
    assert missing and "no task file" in missing
    assert "no task 'nope'" in check_flags(parser.parse_args(["--task", "nope"]))
    assert check_flags(parser.parse_args(["--task", "user-team-info"])) is None


def test_the_app_opens_on_a_tool_sources_own_tasks_and_checks_mcp_flags():
    from engine.toolboxes import TOOL_SOURCES
    from tui.cli import (
        add_app_flags,
        build_parser,
        check_flags,
        choice_from_args,
        use_source_tasks,
    )

    parser = build_parser()
    add_app_flags(parser)
    args = parser.parse_args(["--tools", "demo-git"])
    use_source_tasks(args)
    assert args.task_file == TOOL_SOURCES["demo-git"].tasks and args.task == "git-top-fixer"
    assert check_flags(args) is None
    assert "no tool source 'nope'" in check_flags(parser.parse_args(["--tools", "nope"]))
    assert "cannot be split into words" in check_flags(parser.parse_args(["--mcp", "'open"]))
    choice = choice_from_args(parser.parse_args(["--mcp", "python -m my_server"]))
    assert choice.tool_source == {"mcp": "python -m my_server"}
