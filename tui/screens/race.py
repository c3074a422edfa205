"""The main screen: the two agents' panes, the token meter and the round chart.

It owns the race on screen. Every engine call happens in a worker; the worker's results come
back as ``tui.messages`` and the handlers here hand events to the panes and the tally.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

from engine.errors import one_sentence
from engine.events import Event, RunError, RunFinished, RunStarted, StepWaiting
from engine.modes import DEFAULT_RACE
from tui.backend import Backend, BackendError, TaskInfo
from tui.choices import MODE_CHOICE_LABELS, RunChoice
from tui.gc_policy import RaceGarbagePolicy
from tui.messages import (
    PromptsLoaded,
    PromptsSaved,
    RaceEnded,
    RaceEvents,
    TasksLoaded,
)
from tui.pump import RaceLike, RaceRunner
from tui.screens.history import HistoryScreen
from tui.screens.prompts import PromptEdit, PromptEditorScreen
from tui.screens.setup import SetupScreen
from tui.tally import RaceTally
from tui.throttle import Throttle
from tui.widgets.agent_pane import AgentPane
from tui.widgets.round_chart import RoundChart
from tui.widgets.run_banner import RunBanner
from tui.widgets.token_meter import TokenMeter

MEDIUM = 150  # columns below which the dashboard drops the big savings digits
NARROW = 110  # columns below which the meter compacts and the chart becomes sparklines
STACK = 70  # columns below which the panes stack vertically
SHORT = 34  # rows below which the chart becomes one sparkline per agent
IDLE_ONLY = ("cycle_mode", "settings", "edit_prompts", "history")
# The meter and chart redraw at most this often while a race streams (a redraw of the chart
# costs ~5 ms at 200x60; a fast stream changes the counts in nearly every batch).
METER_INTERVAL = 0.25


class RaceScreen(Screen[None]):
    """Two agents racing on one task, live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run"),
        Binding("x", "stop", "Stop"),
        Binding("p", "toggle_step", "Step"),
        Binding("n", "next_round", "Next"),
        Binding("m", "cycle_mode", "Mode"),
        Binding("s", "settings", "Setup"),
        Binding("e", "edit_prompts", "Prompts"),
        Binding("h", "history", "History"),
        Binding("f", "toggle_folding", "Fold rounds", show=False),
    ]

    def __init__(self, backend: Backend, choice: RunChoice, *, step_mode: bool = False) -> None:
        super().__init__()
        self.backend = backend
        self.choice = choice
        self.step_mode = step_mode
        self.tasks: list[TaskInfo] = []
        self.race: RaceRunner | None = None
        self.running = False
        self.generation = 0
        self.replaying: str | None = None
        self.tally = RaceTally()
        self.garbage = RaceGarbagePolicy()
        self.panes = {mode: AgentPane(mode, id=f"pane-{mode}") for mode in DEFAULT_RACE}
        self.banner = RunBanner(id="banner")
        self.meter = TokenMeter(id="meter")
        self.chart = RoundChart(id="chart")
        self.numbers = Throttle(METER_INTERVAL, self._draw_numbers, self.set_timer)

    def compose(self) -> ComposeResult:
        yield self.banner
        with Horizontal(id="panes"):
            yield from self.panes.values()
        with Horizontal(id="dashboard"):
            yield self.meter
            yield self.chart
        yield Footer()

    def on_mount(self) -> None:
        self._apply_mode()
        self._draw_banner()
        self.load_tasks()
        self.call_after_refresh(self.garbage.app_ready)

    def on_resize(self, event: Resize) -> None:
        width, height = event.size
        self.set_class(width < MEDIUM, "-medium")
        self.set_class(width < NARROW, "-narrow")
        self.set_class(width < STACK, "-stacked")
        self.set_class(height < SHORT, "-short")
        footer = self.query_one(Footer)
        footer.compact = width < NARROW
        # At 80 columns every key fits only without the palette hint (ctrl+p still works).
        footer.show_command_palette = width >= NARROW

    # -- what the footer offers now ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return None if self.running else True
        if action == "stop":
            return True if self.running else None
        if action == "next_round":
            return True if self.running and self.step_mode else None
        if action in IDLE_ONLY:
            return None if self.running else True
        return True

    def _changed(self) -> None:
        self.refresh_bindings()
        self._draw_banner()

    # -- choices -------------------------------------------------------------------------------

    @property
    def chosen_task(self) -> TaskInfo | None:
        """The task the next run plays (not ``task``: that is Textual's message-pump task)."""
        return next((t for t in self.tasks if t.id == self.choice.task_id), None)

    def set_choice(self, choice: RunChoice) -> None:
        """Take new settings for the next run (reloads the tasks if the task file changed)."""
        reload = choice.task_file != self.choice.task_file
        self.choice = choice
        self.replaying = None
        self._apply_mode()
        self._changed()
        if reload:
            self.load_tasks()

    def _apply_mode(self) -> None:
        shown = self.choice.modes
        for mode, pane in self.panes.items():
            pane.display = mode in shown
        self.set_class(len(shown) == 1, "-single")

    def _draw_banner(self) -> None:
        task = self.chosen_task
        title, prompt = (task.title, task.prompt) if task else ("", "")
        if self.replaying:  # the recorded run's task, not the one picked for the next run
            title, prompt = self.tally.task_title or title, self.tally.task_prompt
        self.banner.show(
            self.choice, title, prompt,
            step_mode=self.step_mode, replaying=self.replaying,
            provider_label=f"{self.tally.provider} {self.tally.model}".strip() or None,
        )

    @work(thread=True, exclusive=True, group="tasks", exit_on_error=False)
    def load_tasks(self) -> None:
        try:
            tasks = self.backend.list_tasks(self.choice.task_file)
            self.post_message(TasksLoaded(tasks))
        except BackendError as exc:
            fallback = self.backend.list_tasks(None) if self.choice.task_file else []
            self.post_message(TasksLoaded(fallback, error=one_sentence(exc)))
        except Exception as exc:  # the app must open even if the suite cannot be read
            error = f"could not load the tasks: {one_sentence(exc)}"
            self.post_message(TasksLoaded([], error=error))

    def on_tasks_loaded(self, message: TasksLoaded) -> None:
        self.tasks = message.tasks
        if message.error:
            self.notify(message.error, title="Task file", severity="error", timeout=10)
        ids = [t.id for t in self.tasks]
        if self.choice.task_id not in ids and ids:
            wanted = self.choice.task_id
            self.choice = self.choice.with_(task_id=ids[0])
            if wanted:
                self.notify(f"No task called {wanted!r}; showing {ids[0]!r}.", severity="warning")
        self._changed()

    # -- running -------------------------------------------------------------------------------

    async def action_run(self) -> None:
        """Start a race with the current choice and the saved prompts."""
        if self.running:
            return
        self.replaying = None
        runner = await self._begin(self.choice.modes)
        self.run_race(self.generation, self.choice, None, runner)

    async def start_replay(self, run_id: str, modes: tuple[str, ...] = DEFAULT_RACE) -> None:
        """Play a recorded run into the panes (from the history screen)."""
        if self.running:
            self.notify("Stop the current run first.", severity="warning")
            return
        self.replaying = run_id[:12]
        shown = tuple(m for m in DEFAULT_RACE if m in modes) or DEFAULT_RACE
        self.choice = self.choice.with_(mode="both" if len(shown) == 2 else shown[0])
        self._apply_mode()
        runner = await self._begin(shown)
        self.run_race(self.generation, self.choice, run_id, runner)

    async def _begin(self, modes: tuple[str, ...]) -> RaceRunner:
        self.generation += 1
        self.running = True
        # The runner exists before the race does: a stop pressed while it starts is kept.
        self.race = runner = RaceRunner(self.step_mode)
        self.garbage.race_started()
        self.tally.reset(modes)
        for mode, pane in self.panes.items():
            await pane.reset()
            if mode in modes:
                pane.set_status("running")
        self.numbers.flush(force=True)
        self._changed()
        return runner

    @work(thread=True, exclusive=True, group="race", exit_on_error=False)
    def run_race(self, generation: int, choice: RunChoice, replay_run: str | None,
                 runner: RaceRunner) -> None:
        """Build the race, then play it on its own event loop in this thread (see RaceRunner);
        its events come back to the UI in batches."""
        error: str | None = None
        race: RaceLike
        try:
            if replay_run is not None:
                race = self.backend.replay(replay_run, choice.pace)
            else:
                prompts = self.backend.load_prompts(choice.task_id)
                race = self.backend.new_race(choice, prompts)
            worker = get_current_worker()
            runner.run(race, lambda batch: self.post_message(RaceEvents(generation, batch)),
                       stop_when=lambda: worker.is_cancelled)
        except BackendError as exc:
            error = one_sentence(exc)
        except Exception as exc:  # the engine promised not to raise; never let it crash the UI
            error = f"the run stopped unexpectedly: {one_sentence(exc)}"
        finally:
            self.post_message(RaceEnded(generation, error))

    async def on_race_events(self, message: RaceEvents) -> None:
        if message.generation != self.generation:
            return  # a batch of a race that was replaced
        numbers_changed = now = False
        for event in message.events:
            numbers_changed = await self._show(event) or numbers_changed
            now = now or isinstance(event, StepWaiting | RunFinished)  # the counts stop here
        for pane in self.panes.values():
            await pane.settle()
        if numbers_changed:  # most events change no count: spare the meter and chart a redraw
            self.numbers.changed(now)

    def _draw_numbers(self) -> None:
        self.meter.show(self.tally)
        self.chart.show(self.tally)

    async def _show(self, event: Event) -> bool:
        """Hand ``event`` to its pane; True if it changed the counts."""
        counted = self.tally.apply(event)
        pane = self.panes.get(event.mode)
        if pane is not None:
            await pane.apply(event)
        if isinstance(event, RunStarted):
            self._draw_banner()
        elif isinstance(event, RunError) and event.fatal:
            self.notify(event.message, title=f"{pane.mode if pane else ''} {event.kind}",
                        severity="error", timeout=8)
        return counted

    async def on_race_ended(self, message: RaceEnded) -> None:
        if message.generation != self.generation:
            return
        self.running = False
        self.race = None
        self.numbers.flush()  # counts still waiting for their redraw
        self.set_timer(0.3, self._collect_garbage)  # once the last frames are drawn
        if message.error:
            self.notify(message.error, title="Run", severity="error", timeout=10)
            for mode in self.tally.modes:
                pane = self.panes[mode]
                if pane.finished is None:
                    await pane.show_message(message.error)
                    pane.set_status("error")
        self._changed()

    def _collect_garbage(self) -> None:
        if any(pane.unfolding for pane in self.panes.values()):
            self.set_timer(0.3, self._collect_garbage)  # the panes are still settling
        elif not self.running:  # a new race may have started meanwhile: keep deferring
            self.garbage.race_ended()

    def action_stop(self) -> None:
        if self.race is not None:
            self.race.cancel()
        self.notify("Stopping both agents…", timeout=2)

    def action_toggle_step(self) -> None:
        self.step_mode = not self.step_mode
        if self.race is not None:
            self.race.step_mode = self.step_mode  # turning it off releases waiting agents
        self._changed()

    def action_toggle_folding(self) -> None:
        """Fold rounds older than the last three (the default), or show every round."""
        enabled = not self.panes["tool_calling"].fold_old_rounds
        for pane in self.panes.values():
            pane.set_folding(enabled)
        self.notify("Old rounds fold as new ones start." if enabled else "Every round is open.",
                    timeout=2)

    def action_next_round(self) -> None:
        if self.race is not None:
            self.race.step()

    def action_cycle_mode(self) -> None:
        self.set_choice(self.choice.next_mode())
        self.notify(MODE_CHOICE_LABELS[self.choice.mode], title="Mode", timeout=2)

    # -- other screens -------------------------------------------------------------------------

    def action_settings(self) -> None:
        self.app.push_screen(SetupScreen(self.choice, self.tasks), self._setup_done)

    def _setup_done(self, choice: RunChoice | None) -> None:
        if choice is not None:
            self.set_choice(choice)

    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen(self.backend, getattr(self.app, "export_dir", None)),
                             self._history_done)

    async def _history_done(self, picked: tuple[str, tuple[str, ...]] | None) -> None:
        if picked is not None:
            await self.start_replay(*picked)

    def action_edit_prompts(self) -> None:
        self.load_prompts_for_editor()

    @work(thread=True, exclusive=True, group="prompts", exit_on_error=False)
    def load_prompts_for_editor(self) -> None:
        try:
            prompts = self.backend.load_prompts(self.choice.task_id)
            task_prompt = self.backend.task_prompt(self.choice.task_id, self.choice.task_file)
            self.post_message(PromptsLoaded(prompts, task_prompt))
        except Exception as exc:
            error = f"could not read the prompts: {one_sentence(exc)}"
            self.post_message(PromptsLoaded(None, "", error=error))

    def on_prompts_loaded(self, message: PromptsLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error")
            return
        title = self.chosen_task.title if self.chosen_task else ""
        self.app.push_screen(PromptEditorScreen(message.prompts, message.task_prompt, title),
                             self._prompts_done)

    def _prompts_done(self, result: object) -> None:
        if isinstance(result, PromptEdit):
            self.save_prompts(result)

    @work(thread=True, exclusive=True, group="prompts", exit_on_error=False)
    def save_prompts(self, edit: object) -> None:
        assert isinstance(edit, PromptEdit)
        try:
            if edit.reset:
                self.backend.reset_prompts(self.choice.task_id)
            else:
                self.backend.save_prompts(edit.prompts, self.choice.task_id)
            self.post_message(PromptsSaved(edit.rerun))
        except Exception as exc:
            error = f"could not save the prompts: {one_sentence(exc)}"
            self.post_message(PromptsSaved(False, error=error))

    async def on_prompts_saved(self, message: PromptsSaved) -> None:
        if message.error:
            self.notify(message.error, severity="error")
            return
        self.notify("Prompts saved; the next run uses them.", timeout=3)
        if message.rerun:
            await self.action_run()

    def use_task_file(self, path: Path) -> None:
        self.set_choice(self.choice.with_(task_file=path))
