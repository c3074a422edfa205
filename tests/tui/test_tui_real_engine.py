"""The app on the real engine: the scripted reference agent at pace 0 (deterministic).

These are the end-to-end checks: a real race (tool calling against the mock platform, CodeAct
in the WebAssembly sandbox), step mode on the real controller, a real run record replayed from
the history, and the mistral provider without a key failing in its panes, not in the app.
"""

from __future__ import annotations

from conftest import notified, until

from engine.events import RunError, RunFinished, StepWaiting
from engine.toolboxes import TOOL_SOURCES
from tasks.suite import load_tasks
from tui.app import ExplorerApp
from tui.choices import RunChoice
from tui.commands import race_commands
from tui.messages import RaceEvents
from tui.screens.history import HistoryScreen
from tui.screens.prompts import PromptEditorScreen
from tui.widgets.round_view import CodeView, ErrorView, ExecutionView, ToolCallView

TASK = "user-team-info"


def events_of(messages, kind=None):
    batches = {id(m): m for m in messages if isinstance(m, RaceEvents)}
    out = [e for m in batches.values() for e in m.events]
    return [e for e in out if kind is None or isinstance(e, kind)]


async def run_to_end(pilot, app) -> None:
    await pilot.press("r")
    await app.workers.wait_for_complete()
    await until(pilot, lambda: not app.race_screen.running, "the race to end", tries=600)


async def test_a_real_scripted_race_ends_with_both_verdicts(real_engine):
    messages: list = []
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the bundled tasks")
        assert "SCRIPTED reference agent" in str(screen.banner.badge.render())
        await run_to_end(pilot, app)
        finished = {e.mode: e for e in events_of(messages, RunFinished)}
        assert finished["tool_calling"].success and finished["codeact"].success
        assert finished["codeact"].total_tokens < finished["tool_calling"].total_tokens
        assert screen.panes["tool_calling"].query(ToolCallView)
        assert screen.panes["codeact"].query(CodeView) and screen.panes["codeact"].query(
            ExecutionView)
        assert screen.tally.savings > 0.5
        assert len(screen.tally.modes["tool_calling"].rounds) > 1


async def test_real_step_mode_advances_one_round_at_a_time_and_stops(real_engine):
    messages: list = []
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0), step_mode=True)
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await pilot.press("r")
        await until(pilot, lambda: len(events_of(messages, StepWaiting)) >= 2, "both paused",
                    tries=600)
        assert not screen.panes["tool_calling"].rounds
        await pilot.press("n")
        await until(pilot, lambda: len(events_of(messages, StepWaiting)) >= 4,
                    "both paused before round 2", tries=600)
        assert list(screen.panes["tool_calling"].rounds) == [1]
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the stop", tries=600)
        stops = {e.mode: e.stop_reason for e in events_of(messages, RunFinished)}
        assert stops == {"tool_calling": "cancelled", "codeact": "cancelled"}


async def test_an_edited_prompt_reaches_the_next_real_run(real_engine):
    messages: list = []
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the bundled tasks")
        await run_to_end(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "the editor")
        editor = app.screen
        edited = editor.editors["tool_calling_system"].text + "\nAnswer in one sentence."
        editor.editors["tool_calling_system"].text = edited
        await pilot.press("ctrl+r")

        def starts():
            return [e for e in events_of(messages)
                    if e.type == "run_started" and e.mode == "tool_calling"]

        await until(pilot, lambda: len(starts()) == 2, "the rerun", tries=600)
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the rerun to end", tries=600)
        starts = starts()
        assert len(starts) == 2
        assert starts[1].prompts["system"].strip() == edited.strip()
        assert "tool_calling_system" in starts[1].prompts.get("overridden", "")
        assert screen.tally.previous  # the meter compares with the first run


async def test_a_recorded_real_run_replays_from_the_history(real_engine):
    messages: list = []
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await run_to_end(pilot, app)
        first = {e.mode: e.total_tokens for e in events_of(messages, RunFinished)}
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        history = app.screen
        await until(pilot, lambda: history.runs, "the recorded run", tries=600)
        assert history.runs[0].task_id == TASK
        messages.clear()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: screen.replaying and not screen.running, "the replay",
                    tries=600)
        replayed = {e.mode: e.total_tokens for e in events_of(messages, RunFinished)}
        assert replayed == first
        assert screen.panes["codeact"].finished is not None


async def test_mistral_without_a_key_fails_in_both_panes_not_in_the_app(real_engine):
    messages: list = []
    app = ExplorerApp(RunChoice(task_id=TASK, provider="mistral", pace=0))
    async with app.run_test(size=(160, 48), notifications=True,
                            message_hook=messages.append) as pilot:
        screen = app.race_screen
        assert "LIVE" in str(screen.banner.badge.render())
        await run_to_end(pilot, app)
        for mode in ("tool_calling", "codeact"):
            pane = screen.panes[mode]
            assert pane.status == "error"
            assert "MISTRAL_API_KEY" in str(pane.query_one(ErrorView).render())
        assert app.is_running
        assert any("MISTRAL_API_KEY" in text for text in notified(messages))
        assert not [e for e in screen.tally.modes.values() if e.success]
        # The errors came as events, one fatal error per agent, shown in the panes.
        fatal = [e for e in events_of(messages, RunError) if e.fatal]
        assert sorted(e.mode for e in fatal) == ["codeact", "tool_calling"]
        assert all("MISTRAL_API_KEY" in e.message for e in fatal)


async def test_the_git_demo_races_in_the_app_on_the_real_mcp_server(real_engine):
    # What `codeact-explorer --tools demo-git` opens: the demo's tasks, starting on the first.
    own = TOOL_SOURCES["demo-git"].tasks
    first = load_tasks(own)[0]
    messages: list = []
    app = ExplorerApp(RunChoice(task_id=first.id, task_file=own, pace=0))
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the tasks")
        await run_to_end(pilot, app)
        finished = {e.mode: e for e in events_of(messages, RunFinished)}
        assert finished["tool_calling"].success and finished["codeact"].success, finished
        assert "Tomás Ortega" in finished["codeact"].answer
        assert screen.panes["tool_calling"].query(ToolCallView)
        assert screen.panes["codeact"].query(ExecutionView)


async def test_the_editor_says_before_a_rerun_what_would_not_be_judged_or_comparable(
        real_engine):
    from textual.widgets import TextArea

    from tui.widgets.agent_pane import ResultCard

    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(200, 50)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the bundled tasks")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "the editor")
        editor = app.screen
        assert not any("not judged" in w for w in editor.warnings())
        editor.query_one("#edit-task", TextArea).text = "Who leads the Design Studio team?"
        code = editor.query_one("#edit-codeact", TextArea)
        code.text = code.text.replace("{api}", "")
        await pilot.pause(0.1)
        notes = str(editor.notes.render())
        assert "not judged" in notes and "not comparable" in notes  # said before the rerun
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running and screen.tally.over, "the rerun",
                    tries=600)
        card = str(screen.panes["codeact"].query_one(ResultCard).render())
        assert "not judged" in card and "✓ success" not in card
        assert "not comparable" in card
        meter = str(screen.meter.table.render())
        assert "not judged" in meter and "n/c" in meter  # no savings figure for it
        assert not screen.tally.comparable("codeact")


async def test_the_header_shows_the_task_prompt_the_run_sent(real_engine):
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the bundled tasks")
        await run_to_end(pilot, app)
        assert "Keep it short." not in str(screen.banner.prompt.render())
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "the editor")
        app.screen.editors["task"].text += " Keep it short."
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Keep it short." in screen.tally.task_prompt, "the rerun",
                    tries=600)
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the rerun to end", tries=600)
        assert "Keep it short." in str(screen.banner.prompt.render())


async def test_after_a_race_another_task_shows_its_own_prompt_unedited(real_engine):
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the bundled tasks")
        await run_to_end(pilot, app)
        other = next(t for t in screen.tasks if t.id != TASK)
        pick = {title: cb for title, cb, _ in race_commands(screen)}
        pick[f"Task: {other.title}"]()  # the palette's "Task: …"
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        banner = " ".join(str(screen.banner.prompt.render()).split())
        assert other.prompt.split()[0] in banner and "edited" not in banner
        assert " ".join(other.prompt.split())[:40] in banner
