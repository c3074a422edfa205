"""Saved prompt edits carry over between sessions: the app says so from the moment it opens (the
banner, the affected panes, the setup screen), and the prompt editor's "Reset to defaults" (or
the palette) takes every marker away. Pilot tests on the fake engine, one on the real engine."""

from __future__ import annotations

from conftest import until
from fakes import TASKS, FakeBackend

from engine.prompts import PromptSet, default_text, save_override
from tui.app import ExplorerApp
from tui.choices import RunChoice
from tui.commands import race_commands
from tui.screens.confirm import ConfirmScreen
from tui.screens.prompts import PromptEditorScreen
from tui.screens.setup import SetupScreen
from tui.widgets.agent_pane import RESET_HINT

RESET_COMMAND = "Prompts: reset to the bundled ones"
EDITED_CODEACT = default_text("codeact_system") + "\nAnswer in one sentence."


def edited_backend(task: str | None = None) -> FakeBackend:
    """A backend whose prompts were saved in an earlier session: CodeAct's system prompt, and
    the task's prompt when ``task`` is given."""
    backend = FakeBackend()
    backend.saved = PromptSet({"codeact_system": EDITED_CODEACT}, task=task)
    return backend


def text(widget) -> str:
    return str(widget.render())


async def opened(pilot) -> None:
    screen = pilot.app.race_screen
    await until(pilot, lambda: screen.tasks and screen.saved_prompts is not None,
                "the tasks and the saved prompts")
    await pilot.pause(0.05)


async def test_saved_edits_are_said_before_any_run_in_the_banner_and_the_affected_pane(make_app):
    app = make_app(edited_backend())
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        screen = app.race_screen
        assert screen.banner.edited.display and "EDITED PROMPTS" in text(screen.banner.edited)
        codeact, tools = screen.panes["codeact"], screen.panes["tool_calling"]
        assert "edited" in str(codeact.border_title)
        assert "edited" not in str(tools.border_title)  # its prompts are the bundled ones
        note = text(codeact.prompt_note)
        assert codeact.prompt_note.display and "its system prompt" in note
        assert "tokens only" in note and RESET_HINT in note  # what follows, and the way back
        assert "does not read prompts" in str(codeact.prompt_note.tooltip)
        assert not tools.prompt_note.display
        # Racing: round 1 reports it in the stream; the note before the run goes.
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the race to end")
        assert not codeact.prompt_note.display and "edited" in str(codeact.border_title)


async def test_an_edited_task_prompt_marks_every_pane_and_the_banner_shows_it(make_app):
    app = make_app(edited_backend(task="Who leads Ada Lovelace's team? Keep it short."))
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        screen = app.race_screen
        assert "Keep it short." in text(screen.banner.prompt)
        assert "edited" in text(screen.banner.prompt)
        assert TASKS[0].prompt.split()[0] not in text(screen.banner.prompt)
        for pane in screen.panes.values():
            if pane.display:
                assert "not judged" in text(pane.prompt_note), pane.mode


async def test_the_setup_screen_says_which_edits_are_in_use_and_how_to_go_back(make_app):
    app = make_app(edited_backend())
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen), "setup")
        note = app.screen.prompts_note
        assert note.display
        assert "the CodeAct system prompt" in text(note)
        assert "Reset to defaults" in text(note)
        assert "does not read prompts" in text(note)


async def test_bundled_prompts_show_no_marker_anywhere(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        screen = app.race_screen
        assert not screen.banner.edited.display
        assert not any(p.prompt_note.display for p in screen.panes.values())
        assert RESET_COMMAND not in [title for title, _, _ in race_commands(screen)]
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen), "setup")
        assert not app.screen.prompts_note.display


async def test_reset_to_defaults_in_the_editor_takes_every_marker_away(make_app):
    backend = edited_backend(task="Who leads Ada Lovelace's team?")
    app = make_app(backend)
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        screen = app.race_screen
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "the editor")
        await pilot.click("#reset")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: backend.resets and screen.saved_prompts is not None
                    and not screen.saved_prompts.any, "the reset")
        await pilot.pause(0.05)
        assert not screen.banner.edited.display
        assert "edited" not in text(screen.banner.prompt)
        assert not any("edited" in str(p.border_title) for p in screen.panes.values())
        assert not any(p.prompt_note.display for p in screen.panes.values())


async def test_the_palette_offers_the_same_reset_while_edits_are_in_use(make_app):
    backend = edited_backend()
    app = make_app(backend)
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        screen = app.race_screen
        [reset] = [callback for title, callback, _ in race_commands(screen)
                   if title == RESET_COMMAND]
        reset()
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "CodeAct system prompt" in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: backend.resets, "the reset")
        assert backend.resets == [(TASKS[0].id, ("tool_calling_system", "codeact_system"))]
        await until(pilot, lambda: not screen.saved_prompts.any, "the markers to go")
        assert RESET_COMMAND not in [title for title, _, _ in race_commands(screen)]


async def test_edits_saved_in_an_earlier_session_are_said_on_the_real_engine(real_engine):
    task = "user-team-info"
    save_override("codeact_system", EDITED_CODEACT)  # an earlier session's, in this home
    app = ExplorerApp(RunChoice(task_id=task, pace=0))
    async with app.run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        screen = app.race_screen
        assert screen.banner.edited.display
        assert "tokens only" in text(screen.panes["codeact"].prompt_note)
        assert not screen.panes["tool_calling"].prompt_note.display
