"""State that stays consistent, as a user sees it: another task clears the panes, a broken task
file is not kept, a stop while the race starts is not lost, errors show once, folding shows at
once, the prompt reset asks first and touches only the edited task, and the pane, the meter and
the chart agree after a stop."""

from __future__ import annotations

from pathlib import Path

from conftest import notified, until
from fakes import TASKS, FakeBackend

from engine.events import ExecutionResult, RunFinished
from tui.messages import RaceEvents
from tui.screens.confirm import ConfirmScreen
from tui.screens.prompts import PromptEditorScreen
from tui.widgets.agent_pane import ResultCard
from tui.widgets.round_view import ErrorView, ExecutionView


async def race_to_end(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.race_screen.tasks, "the task list")
    await pilot.press("r")
    await app.workers.wait_for_complete()
    await until(pilot, lambda: not app.race_screen.running, "the race to end")


async def test_another_task_clears_the_panes_the_meter_and_the_chart(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await race_to_end(pilot)
        assert screen.panes["tool_calling"].rounds and screen.tally.modes
        screen.set_choice(screen.choice.with_(task_id=TASKS[1].id))
        await pilot.pause(0.2)
        for mode in screen.choice.modes:
            pane = screen.panes[mode]
            assert not pane.rounds and pane.finished is None
            assert TASKS[1].title in str(pane.stream.children[0].render())
        assert not screen.tally.modes
        assert "No run yet" in str(screen.meter.table.render())
        assert "Each bar will be" in str(screen.chart.render())


async def test_a_broken_task_file_is_dropped_and_a_good_one_says_how_many_loaded(make_app):
    app = make_app()
    messages: list = []
    async with app.run_test(size=(120, 40), notifications=True,
                            message_hook=messages.append) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        screen.use_task_file(Path("broken.toml"))
        await until(pilot, lambda: any("no prompt" in n for n in notified(messages)), "the error")
        assert screen.choice.task_file is None  # not kept: r and e work at once
        await race_to_end(pilot)
        assert screen.tally.complete
        screen.use_task_file(Path("mine.toml"))
        await until(pilot, lambda: any("2 tasks loaded from mine.toml" in n
                                       for n in notified(messages)), "the count")
        assert screen.choice.task_id == "mine-1"  # the file's first task is selected
        assert "My task 1" in str(screen.banner.summary.render())


async def test_stop_pressed_while_the_race_is_starting_is_not_lost(make_app):
    messages: list = []
    app = make_app(FakeBackend(build_delay=0.5))
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await pilot.press("r")
        await pilot.press("x")  # the race is still being built
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the race to stop")
        finished = {e.mode: e.stop_reason for m in messages if isinstance(m, RaceEvents)
                    for e in m.events if isinstance(e, RunFinished)}
        assert set(finished.values()) == {"cancelled"}
        assert all(screen.panes[m].status == "cancelled" for m in screen.choice.modes)


async def test_an_error_shows_once_in_its_pane_and_once_as_a_notification(make_app):
    app = make_app(FakeBackend(error_mode="codeact"))
    messages: list = []
    async with app.run_test(size=(160, 48), notifications=True,
                            message_hook=messages.append) as pilot:
        await race_to_end(pilot)
        pane = app.race_screen.panes["codeact"]
        assert len(pane.query(ErrorView)) == 1
        card = str(pane.query_one(ResultCard).render())
        assert "MISTRAL_API_KEY" not in card  # the verdict does not repeat the error line
        assert sum("MISTRAL_API_KEY" in n for n in notified(messages)) == 1


async def test_f_folds_every_round_but_the_latest_at_once_then_opens_them(make_app):
    app = make_app(FakeBackend(tool_rounds=5))
    messages: list = []
    async with app.run_test(size=(160, 48), notifications=True,
                            message_hook=messages.append) as pilot:
        screen = app.race_screen
        await race_to_end(pilot)
        pane = screen.panes["tool_calling"]
        await until(pilot, lambda: not pane.unfolding, "the rounds to open")
        assert not any(s.box.has_class("-folded") for s in pane.rounds.values())
        await pilot.press("f")  # the first press already changes what is on screen
        assert [n for n, s in pane.rounds.items() if s.box.has_class("-folded")] == [1, 2, 3, 4]
        assert any("folded" in n for n in notified(messages))
        await pilot.press("f")
        assert not any(s.box.has_class("-folded") for s in pane.rounds.values())


async def test_reset_to_defaults_asks_first_and_resets_only_this_tasks_prompts(make_app):
    backend = FakeBackend()
    app = make_app(backend)
    messages: list = []
    async with app.run_test(size=(160, 48), notifications=True,
                            message_hook=messages.append) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "the editor")
        await pilot.click("#reset")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "Other tasks' prompts stay" in str(app.screen.query_one(".dialog-title")
                                                  .render())
        await pilot.press("n")  # no: nothing is reset, the editor is still open
        assert isinstance(app.screen, PromptEditorScreen) and backend.resets == []
        await pilot.click("#reset")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: backend.resets, "the reset")
        task, names = backend.resets[0]
        assert task == screen.choice.task_id
        assert set(names) == {s.prompt for s in screen.choice.mode_specs}
        await until(pilot, lambda: any("reset" in n for n in notified(messages)), "the notice")
        assert not any("saved" in n for n in notified(messages))


async def test_one_api_call_is_singular():
    event = ExecutionResult(run_id="r", mode="codeact", round=1, output="x\n", error=None,
                            content="x", host_calls=1, wall_ms=3.0)
    assert "1 API call ·" in str(ExecutionView(event).render())
    two = ExecutionResult(run_id="r", mode="codeact", round=1, output="x\n", error=None,
                          content="x", host_calls=2, wall_ms=3.0)
    assert "2 API calls" in str(ExecutionView(two).render())


async def test_rounds_unfold_at_the_end_without_moving_the_result(make_app):
    app = make_app(FakeBackend(tool_rounds=8))
    async with app.run_test(size=(160, 40)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await pilot.press("r")
        pane = screen.panes["tool_calling"]
        await until(pilot, lambda: pane.query(ResultCard) and pane.query(ResultCard)
                    .first().region.height, "the result card")
        first = pane.query(ResultCard).first().region
        await until(pilot, lambda: not pane.unfolding and not screen.running, "unfolded")
        await pilot.pause(0.1)
        assert not any(s.box.has_class("-folded") for s in pane.rounds.values())
        assert pane.query(ResultCard).first().region == first  # the pane did not jump
        assert pane.stream.scroll_y == pane.stream.max_scroll_y  # still at its end
