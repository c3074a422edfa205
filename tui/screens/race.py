"""The main screen: one pane per raced agent, the token meter and the input-token chart.

It owns the race on screen. Every engine call happens in a worker; the worker's results come
back as ``tui.messages`` and the handlers here hand events to the panes and the tally. The panes
are the mode registry's (``engine.modes.MODES``): those of the chosen modes are shown, side by
side when each gets at least ``PANE_MIN_WIDTH`` columns, stacked otherwise.

What the next race would do differently from a fresh install is said from the moment the screen
opens: saved prompt edits (they carry over between sessions) in the banner and the affected
panes, and the sandbox's one-time compile while it runs in the background (a race started
meanwhile waits for it; it is never compiled twice).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from engine.errors import one_sentence
from engine.events import Event, RunError, RunFinished, RunStarted, StepWaiting
from engine.modes import MODES, label
from engine.prompts import PromptSet
from tui.backend import Backend, BackendError, SavedPrompts, TaskInfo
from tui.choices import RunChoice, describe_modes, ordered
from tui.gc_policy import TICK, RaceGarbagePolicy
from tui.messages import (
    PromptsLoaded,
    PromptsSaved,
    RaceEnded,
    RaceEvents,
    SandboxPreparing,
    SavedPromptsLoaded,
    ScreenshotSaved,
    TasksLoaded,
)
from tui.pump import RaceLike, RaceRunner
from tui.screens.confirm import ConfirmScreen
from tui.screens.history import HistoryScreen
from tui.screens.prompts import PromptEdit, PromptEditorScreen, reset_question
from tui.screens.setup import SetupScreen
from tui.screens.summary import SummaryScreen
from tui.tally import RaceTally
from tui.throttle import Throttle
from tui.widgets.agent_pane import AgentPane
from tui.widgets.footer import ExplorerFooter
from tui.widgets.round_chart import RoundChart
from tui.widgets.run_banner import RunBanner
from tui.widgets.stream_text import warm_up
from tui.widgets.token_meter import TokenMeter

if TYPE_CHECKING:
    from tui.app import ExplorerApp

MEDIUM = 180  # columns below which the meter shows its compact table (the chart gets room)
NARROW = 110  # columns below which the meter compacts and the chart becomes sparklines
PANE_MIN_WIDTH = 40  # columns a pane needs to sit beside the others; fewer: panes stack
SHORT = 34  # rows below which the dashboard is a few lines (sparklines, compact meter)
IDLE_ONLY = ("cycle_mode", "settings", "edit_prompts", "history")
# The meter and chart redraw at most this often while a race streams (a redraw of the chart
# costs ~5 ms at 200x60; a fast stream changes the counts in nearly every batch).
METER_INTERVAL = 0.25


class RaceScreen(Screen[None]):
    """The raced agents on one task, live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run"),
        Binding("x", "stop", "Stop"),
        Binding("p", "toggle_step", "Step"),
        Binding("n", "next_round", "Next"),
        Binding("m", "cycle_mode", "Modes"),
        Binding("s", "settings", "Setup"),
        Binding("e", "edit_prompts", "Prompts"),
        Binding("h", "history", "History"),
        Binding("v", "summary", "Summary", show=False),
        Binding("f", "toggle_folding", "Fold rounds", show=False),
        Binding("c", "screenshot", "Screenshot", show=False),
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
        self.panes = {spec.id: AgentPane(spec.id, id=f"pane-{spec.id}") for spec in MODES}
        self.banner = RunBanner(id="banner")
        self.meter = TokenMeter(id="meter")
        self.chart = RoundChart(id="chart")
        self.numbers = Throttle(METER_INTERVAL, self._draw_numbers, self.set_timer)
        self._notified: set[str] = set()  # error sentences already notified in this race
        self._shown_modes: tuple[str, ...] = ()
        self.saved_prompts: SavedPrompts | None = None  # edits the next race would send
        self._saved_check = 0  # number of the latest look at the saved prompts
        self.preparing_sandbox = False  # the interpreter is being compiled (once per install)

    def compose(self) -> ComposeResult:
        yield self.banner
        with Horizontal(id="panes"):
            yield from self.panes.values()
        with Horizontal(id="dashboard"):
            yield self.meter
            yield self.chart
        yield ExplorerFooter()

    @property
    def explorer(self) -> ExplorerApp:
        """The app, with its settings and export folder (the race screen lives only in it)."""
        return cast("ExplorerApp", self.app)

    def on_mount(self) -> None:
        self._apply_modes(self.choice.modes)
        self._draw_banner()
        self.load_tasks()
        self.garbage.app_started()
        self.app.set_interval(TICK, self.garbage.tick)
        self.run_worker(self._warm_up, thread=True, group="warm-up", exit_on_error=False)
        # Its own thread: compiling is a child process, so it overlaps the loads above.
        self.run_worker(self._prepare_sandbox, thread=True, group="warm-up", exit_on_error=False)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._draw_numbers())

    def _warm_up(self) -> None:
        """The first race's one-time costs, paid while the app waits for a key (a thread)."""
        warm_up()
        self.backend.warm_up()

    def _prepare_sandbox(self) -> None:
        """Compile the sandbox's interpreter now if this install never did (a thread: seconds),
        so the first race's CodeAct run does not pay for it on stage; the banner says so while
        it compiles. A race started meanwhile waits for this compile."""
        error: str | None = None
        try:
            self.backend.prepare_sandbox(
                on_compile=lambda: self.post_message(SandboxPreparing(True)))
        except BackendError as exc:
            error = one_sentence(exc)
        self.post_message(SandboxPreparing(False, error=error))

    def on_sandbox_preparing(self, message: SandboxPreparing) -> None:
        self.preparing_sandbox = message.preparing
        self.banner.show_preparing(message.preparing, compact=0 < self.size.width < NARROW)
        if message.error:
            self.notify(f"The sandbox is not ready: {message.error} CodeAct runs will say so.",
                        title="Sandbox", severity="warning", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "warm-up" and event.worker.is_finished:
            self.garbage.app_ready()  # what the warm-up built is long-lived too

    def on_unmount(self) -> None:
        self.garbage.app_closing()

    def on_resize(self, event: Resize) -> None:
        width, height = event.size
        self.set_class(width < MEDIUM, "-medium")
        self.set_class(width < NARROW, "-narrow")
        self.set_class(height < SHORT, "-short")
        self._layout_panes()
        footer = self.query_one(ExplorerFooter)
        footer.compact = width < NARROW
        # At 80 columns every key fits only without the palette hint (ctrl+p still works).
        # Footer reads it only when it composes: a resize across NARROW recomposes it.
        if footer.show_command_palette != (width >= NARROW):
            footer.show_command_palette = width >= NARROW
            footer.refresh(recompose=True)
        self._draw_banner()

    # -- what the footer offers now ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return None if self.running else True
        if action == "stop":
            return True if self.running else None
        if action == "next_round":
            return True if self.running and self.step_mode else None
        if action == "summary":
            return True if self.tally.over else None
        if action in IDLE_ONLY:
            return None if self.running else True
        if action == "reset_prompts":  # the palette's (no key: e opens the editor that resets)
            edited = self.saved_prompts is not None and self.saved_prompts.any
            return True if edited and not self.running else None
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
        """Take new settings for the next run (reloads the tasks if the task file changed).

        Another task clears the panes, the meter and the chart: what they showed was the
        previous task's run.
        """
        reload = choice.task_file != self.choice.task_file
        new_task = choice.task_id != self.choice.task_id
        previous_file = self.choice.task_file
        self.choice = choice
        if not self.running:
            self.replaying = None
            if new_task or choice.modes != self._shown_modes:
                self._clear_run()
            self._apply_modes(choice.modes)
        self._changed()
        self.explorer.remember(task=choice.task_id, modes=choice.modes, pace=choice.pace)
        if reload:
            self.load_tasks(previous_file)
        else:
            self.load_saved_prompts()

    def _clear_run(self) -> None:
        """Forget the run on screen (the panes say what r will do now)."""
        self.tally.reset((), self.choice.task_id or "")
        title = self.chosen_task.title if self.chosen_task else "this task"
        for mode in self.choice.modes:
            self.run_worker(self.panes[mode].reset(f"Press r to race on “{title}”."),
                            group="clear", exclusive=False)
        self._draw_numbers()

    def _apply_modes(self, modes: tuple[str, ...]) -> None:
        """Show the panes of ``modes`` (registry order), hide the others."""
        self._shown_modes = modes
        for mode, pane in self.panes.items():
            pane.display = mode in modes
        self._layout_panes()

    def _layout_panes(self) -> None:
        count = max(len(self._shown_modes), 1)
        width = self.size.width
        self.set_class(count == 1, "-single")
        self.set_class(bool(width) and width < count * PANE_MIN_WIDTH, "-stacked")

    def _draw_banner(self) -> None:
        task = self.chosen_task
        title, prompt = (task.title, task.prompt) if task else ("", "")
        if self.replaying:  # the recorded run's task, not the one picked for the next run
            title, prompt = self.tally.task_title or title, self.tally.task_prompt
        elif task is not None and self.tally.task_id == task.id and self.tally.task_prompt:
            prompt = self.tally.task_prompt  # what the last run of this task sent (an edit)
        elif (task is not None and self.saved_prompts is not None
              and self.saved_prompts.choice.task_id == task.id and self.saved_prompts.task_prompt):
            prompt = self.saved_prompts.task_prompt  # the saved edit the next run will send
        choice = self.choice.with_(modes=self._shown_modes) if self._shown_modes else self.choice
        compact = 0 < self.size.width < NARROW
        self.banner.show(
            choice, title, prompt,
            step_mode=self.step_mode, replaying=self.replaying,
            provider_label=f"{self.tally.provider} {self.tally.model}".strip() or None,
            compact=compact,
            edited_prompts=self.saved_prompts is not None and self.saved_prompts.any,
            task_prompt_edited=bool(task and prompt and not self.replaying
                                    and " ".join(prompt.split()) != " ".join(task.prompt.split())),
        )
        self.banner.show_preparing(self.preparing_sandbox, compact=compact)

    @work(thread=True, exclusive=True, group="tasks", exit_on_error=False)
    def load_tasks(self, previous_file: Path | None = None) -> None:
        """Read the tasks (the user's file's after the bundled ones); a file that cannot be
        read is reported and dropped, and the previous list stays."""
        file = self.choice.task_file
        try:
            tasks = self.backend.list_tasks(file)
            from_file = [t for t in tasks if t.source != "bundled"] if file else []
            self.post_message(TasksLoaded(tasks, loaded_from=file, from_file=len(from_file),
                                          first=from_file[0].id if from_file else None))
        except BackendError as exc:
            fallback = self.backend.list_tasks(previous_file) if file else []
            self.post_message(TasksLoaded(fallback, error=one_sentence(exc), rejected=file,
                                          fallback_file=previous_file))
        except Exception as exc:  # the app must open even if the suite cannot be read
            error = f"could not load the tasks: {one_sentence(exc)}"
            self.post_message(TasksLoaded([], error=error))

    def on_tasks_loaded(self, message: TasksLoaded) -> None:
        self.tasks = message.tasks
        if message.error:
            self.notify(message.error, title="Task file", severity="error", timeout=10)
            if message.rejected is not None and self.choice.task_file == message.rejected:
                # Not kept: r and e keep working on the tasks that did load.
                self.choice = self.choice.with_(task_file=message.fallback_file)
        elif message.loaded_from is not None and message.first is not None:
            count = message.from_file
            self.notify(f"{count} task{'s' if count != 1 else ''} loaded from "
                        f"{message.loaded_from.name}.", title="Task file", timeout=5)
            if self.choice.task_id not in {t.id for t in self.tasks if t.source != "bundled"}:
                self.set_choice(self.choice.with_(task_id=message.first))
        ids = [t.id for t in self.tasks]
        if self.choice.task_id not in ids and ids:
            wanted = self.choice.task_id
            self.choice = self.choice.with_(task_id=ids[0])
            if wanted:
                self.notify(f"No task called {wanted!r}; showing {ids[0]!r}.", severity="warning")
        self._changed()
        self.load_saved_prompts()

    # -- saved prompt edits ----------------------------------------------------------------------

    def load_saved_prompts(self) -> None:
        """Find which saved prompt edits the next race would send (they carry over from the
        last session); the banner and the panes say so before anyone presses r."""
        self._saved_check += 1
        self._read_saved_prompts(self._saved_check, self.choice)

    # Not exclusive (a cancelled worker would fail whoever waits for the workers): an answer
    # that is not the latest check's is dropped instead.
    @work(thread=True, group="saved-prompts", exit_on_error=False)
    def _read_saved_prompts(self, check: int, choice: RunChoice) -> None:
        try:
            saved = self.backend.saved_prompts(choice)
        except Exception:  # the task cannot be read: its list already said why
            saved = SavedPrompts(choice)
        self.post_message(SavedPromptsLoaded(saved, check))

    def on_saved_prompts_loaded(self, message: SavedPromptsLoaded) -> None:
        saved: SavedPrompts = message.saved
        if message.check != self._saved_check:
            return  # the choice or the prompts changed meanwhile; the latest check follows
        self.saved_prompts = saved
        for mode, pane in self.panes.items():
            pane.show_saved_prompts(saved.modes.get(mode))
        self._changed()

    def action_reset_prompts(self) -> None:
        """Go back to the bundled prompts of the raced modes and this task (after asking), as
        the prompt editor's "Reset to defaults" does."""
        title = self.chosen_task.title if self.chosen_task else ""
        specs = self.choice.mode_specs

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.save_prompts(PromptEdit(PromptSet.defaults(), reset=True,
                                             names=tuple(spec.prompt for spec in specs)))

        self.app.push_screen(ConfirmScreen(reset_question(specs, title), yes="Reset"), confirmed)

    # -- running -------------------------------------------------------------------------------

    async def action_run(self) -> None:
        """Start a race with the current choice and the saved prompts."""
        if self.running:
            return
        self.replaying = None
        self._apply_modes(self.choice.modes)
        runner = await self._begin(self.choice.modes, self.choice.task_id or "")
        self.run_race(self.generation, self.choice, None, runner)

    async def start_replay(self, run_id: str, modes: tuple[str, ...] = ()) -> None:
        """Play a recorded run into the panes (from the history screen)."""
        if self.running:
            self.notify("Stop the current run first.", severity="warning")
            return
        shown = ordered(modes) or self.choice.modes
        self.replaying = run_id
        self._apply_modes(shown)
        runner = await self._begin(shown, "")
        self.run_race(self.generation, self.choice, run_id, runner)

    async def _begin(self, modes: tuple[str, ...], task_id: str) -> RaceRunner:
        self.generation += 1
        self.running = True
        self._notified.clear()
        # The runner exists before the race does: a stop pressed while it starts is kept.
        self.race = runner = RaceRunner(self.step_mode)
        self.tally.reset(modes, task_id)
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
            self._notify_error(event.message, event.kind)
        return counted

    def _notify_error(self, message: str, title: str) -> None:
        """One notification per sentence per race (both agents failing alike say it once)."""
        if message not in self._notified:
            self._notified.add(message)
            self.notify(message, title=title, severity="error", timeout=8)

    async def on_race_ended(self, message: RaceEnded) -> None:
        if message.generation != self.generation:
            return
        self.running = False
        self.race = None
        self.numbers.flush()  # counts still waiting for their redraw
        self.set_timer(0.3, self._collect_garbage)  # once the last frames are drawn
        if message.error:
            self._notify_error(message.error, "Run")
            for mode in self.tally.modes:
                pane = self.panes.get(mode)
                if pane is not None and pane.finished is None:
                    await pane.show_message(message.error)
                    pane.set_status("error")
        elif self.tally.over:
            self._announce_result()
        self._changed()

    def _announce_result(self) -> None:
        """A short notice of the result and of ``v`` (not at 80 columns: it would cover the
        big number, the one thing a room reads there)."""
        if 0 < self.size.width < NARROW:
            return
        head = self.tally.headline
        savings = self.tally.savings
        if head is not None and savings is not None:
            word = "saved" if savings >= 0 else "cost"
            text = f"{label(head)} {word} {abs(savings) * 100:.1f}%"
        elif head is not None:
            text = "No savings to show: a run failed, was stopped or is not comparable"
        else:
            text = "The race is over"
        self.notify(f"{text}. v shows the summary.", title="Race over", timeout=4)

    def _collect_garbage(self) -> None:
        if any(pane.unfolding for pane in self.panes.values()):
            self.set_timer(0.3, self._collect_garbage)  # the panes are still settling
        elif not self.running:  # a new race may have started meanwhile: keep deferring
            self.garbage.race_ended()

    def action_stop(self) -> None:
        if self.race is not None:
            self.race.cancel()
        self.notify("Stopping every agent…", timeout=2)

    def action_toggle_step(self) -> None:
        self.step_mode = not self.step_mode
        if self.race is not None:
            self.race.step_mode = self.step_mode  # turning it off releases waiting agents
        self._changed()

    def action_toggle_folding(self) -> None:
        """Fold every round but the latest of each pane if any is open, else open them all."""
        shown = [self.panes[m] for m in self._shown_modes]
        fold = any(pane.has_open_old_rounds for pane in shown)
        for pane in shown:
            pane.fold_all(fold)
        if not any(pane.rounds for pane in shown):
            text = "No rounds yet: f folds or opens them once a race has run."
        else:
            text = "Rounds folded: click one to open it." if fold else "Every round is open."
        self.notify(text, timeout=2)

    def action_next_round(self) -> None:
        if self.race is not None:
            self.race.step()

    def action_cycle_mode(self) -> None:
        self.set_choice(self.choice.next_modes())
        self.notify(describe_modes(self.choice.modes), title="Modes", timeout=2)

    # -- presenter -------------------------------------------------------------------------------

    def action_summary(self) -> None:
        if self.tally.over:
            self.app.push_screen(SummaryScreen(self.tally))

    def action_screenshot(self) -> None:
        """Save an SVG of the screen as it is now in the export folder (path notified)."""
        svg = self.app.export_screenshot()
        self.save_screenshot(svg, self.explorer.export_dir)

    @work(thread=True, exclusive=False, group="screenshot", exit_on_error=False)
    def save_screenshot(self, svg: str, folder: Path) -> None:
        try:
            path = self.backend.save_screenshot(svg, folder)
            self.post_message(ScreenshotSaved(str(path)))
        except (BackendError, OSError) as exc:
            error = f"could not save the screenshot: {one_sentence(exc)}"
            self.post_message(ScreenshotSaved(None, error=error))

    def on_screenshot_saved(self, message: ScreenshotSaved) -> None:
        if message.error:
            self.notify(message.error, title="Screenshot", severity="error")
        else:
            self.notify(f"Saved to {message.path}", title="Screenshot", timeout=6)

    # -- other screens -------------------------------------------------------------------------

    def action_settings(self) -> None:
        self.app.push_screen(SetupScreen(self.choice, self.tasks, self.saved_prompts),
                             self._setup_done)

    def _setup_done(self, choice: RunChoice | None) -> None:
        if choice is not None:
            self.set_choice(choice)

    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen(self.backend, self.explorer.export_dir,
                                           on_folder=self.explorer.set_export_dir),
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
            check = self.backend.prompt_checker(self.choice)
            self.post_message(PromptsLoaded(prompts, task_prompt, check=check))
        except Exception as exc:
            error = f"could not read the prompts: {one_sentence(exc)}"
            self.post_message(PromptsLoaded(None, "", error=error))

    def on_prompts_loaded(self, message: PromptsLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error")
            return
        title = self.chosen_task.title if self.chosen_task else ""
        self.app.push_screen(
            PromptEditorScreen(message.prompts, message.task_prompt, title,
                               modes=self.choice.modes, scripted=self.choice.scripted,
                               warnings=message.check),
            self._prompts_done)

    def _prompts_done(self, result: object) -> None:
        if isinstance(result, PromptEdit):
            self.save_prompts(result)

    @work(thread=True, exclusive=True, group="prompts", exit_on_error=False)
    def save_prompts(self, edit: object) -> None:
        assert isinstance(edit, PromptEdit)
        try:
            if edit.reset:
                self.backend.reset_prompts(self.choice.task_id, edit.names)
            else:
                self.backend.save_prompts(edit.prompts, self.choice.task_id)
            self.post_message(PromptsSaved(edit.rerun, reset=edit.reset))
        except Exception as exc:
            error = f"could not save the prompts: {one_sentence(exc)}"
            self.post_message(PromptsSaved(False, error=error))

    async def on_prompts_saved(self, message: PromptsSaved) -> None:
        if message.error:
            self.notify(message.error, severity="error")
            return
        if message.reset:
            self.notify("Prompts reset to the defaults for this task; the next run uses them.",
                        timeout=4)
        else:
            self.notify("Prompts saved; the next run uses them.", timeout=3)
        self.load_saved_prompts()
        if message.rerun:
            await self.action_run()

    def use_task_file(self, path: Path) -> None:
        self.set_choice(self.choice.with_(task_file=path))

