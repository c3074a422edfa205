"""One agent's pane: its name and status in the border, and the stream of its rounds.

``AgentPane.apply(event)`` is the only way in: the race screen hands it every event of its mode.
The stream is a scroll container anchored to the bottom while the agent writes.
``show_saved_prompts`` marks a pane whose next run would send prompts edited from the bundled
ones: "✎ edited" in its title, and before the run a short note of what is edited, what the run
will report about it and how to go back to the bundled prompts (full sentences in its tooltip).
"""

from __future__ import annotations

import asyncio
import contextlib

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from engine import modes
from engine.events import (
    CodeBlock,
    Event,
    ExecutionResult,
    Retrying,
    RoundFinished,
    RoundStarted,
    RunError,
    RunFinished,
    RunStarted,
    StepWaiting,
    TextDelta,
    ToolCall,
    ToolResult,
    Usage,
)
from engine.prompt_checks import EditedPrompts
from tui.palette import GRAPHIC_CONTRAST, TEXT_CONTRAST, legible, theme_background
from tui.widgets.round_view import (
    CodeView,
    ErrorView,
    ExecutionView,
    RoundState,
    ToolCallView,
    ToolResultView,
    fmt_tokens,
)

SETTLE_TIMEOUT = 2.0  # seconds a batch waits at most for its new widgets to mount
KEEP_OPEN = 3  # rounds left unfolded: the current one and the two before it

STATUS_TEXT: dict[str, tuple[str, str]] = {
    "idle": ("ready", "$text-muted"),
    "running": ("running", "$text-accent"),
    "waiting": ("paused — n for the next round", "$text-warning bold"),
    "answered": ("answered", "$text-success bold"),
    "max_rounds": ("round limit hit", "$text-warning bold"),
    "cancelled": ("stopped", "$text-warning"),
    "error": ("failed", "$text-error bold"),
}


# What each prompt warning (engine.prompt_checks) means for the pane's run, in a few words.
WARNING_SHORT = {
    "not_judged": "not judged",
    "tokens_only": "tokens only",
    "not_comparable": "not comparable",
}
RESET_HINT = "e: prompt editor · “Reset to defaults” brings back the bundled prompts"


def edited_words(edit: EditedPrompts) -> str:
    """ "its system prompt and the task prompt": what ``edit`` says is edited, for people."""
    names = {"system": "its system prompt", "task": "the task prompt"}
    return " and ".join(names.get(name, name) for name in edit.edited)


def plural(count: int, word: str) -> str:
    """ "1 round", "2 rounds"."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class ResultCard(Static):
    """The end of a run: ✓/✗, the answer, and the checker's reasons.

    ``rounds`` and ``tokens`` are the pane's own counts (rounds whose usage arrived), the same
    numbers the meter and the chart show. ``shown`` holds error sentences the pane already shows:
    a verdict line that repeats one is left out.
    """

    def __init__(self, event: RunFinished, rounds: int, tokens: int,
                 shown: frozenset[str] = frozenset()) -> None:
        mark, style = (("✓ success", "$text-success bold") if event.success
                       else ("✗ failed", "$text-error bold"))
        if not event.judged:  # played for another task prompt: neither a success nor a failure
            mark, style = ("· not judged", "$text-warning bold")
        reason = {"answered": "answered", "max_rounds": "round limit hit",
                  "cancelled": "stopped", "error": "ended by an error"}[event.stop_reason]
        parts: list[tuple[str, str] | str] = [
            (mark, style),
            (f"  {reason} after {plural(rounds, 'round')} · {fmt_tokens(tokens)} tokens",
             "$text-muted"),
        ]
        if event.answer.strip():
            parts += ["\n", (event.answer.strip(), "bold")]
        for line in event.verdict:
            if any(message in line for message in shown):
                continue
            parts += ["\n", ("  • ", "$text-muted"), (line, "italic")]
        if not event.comparable:
            parts += ["\n", ("  not comparable: ", "$text-warning bold"),
                      ("its system prompt does not show the model its tools", "$text-warning")]
        super().__init__(Content.assemble(*parts), classes="result-card")
        self.add_class("-success" if event.success else "-failure")


class PaneStream(VerticalScroll):
    """The scrolling stream of rounds, pinned to its end once it overflows.

    Anchoring a stream that does not fill the pane would push its first lines to the bottom,
    so the anchor is set only while the content is taller than the pane, re-checked whenever
    the content's height changes.
    """

    BLANK = True  # no border, background or content of its own: cheap to redraw as it scrolls

    def watch_virtual_size(self) -> None:
        self.follow()

    def follow(self) -> None:
        if not self.size.height:
            return
        overflowing = self.virtual_size.height > self.size.height
        if overflowing and not self.is_anchored:
            self.anchor()
        elif not overflowing and self.is_anchored:
            self.anchor(False)  # it fits again (a transient overflow): read from the top
            self.scroll_home(animate=False, immediate=True)


class AgentPane(Vertical):
    """The live view of one agent (one mode of the registry), in that mode's colour."""

    def __init__(self, mode: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="agent-pane")
        self.mode = mode
        self.spec = modes.mode(mode) if mode in modes.MODE_IDS else None
        self._errors: set[str] = set()  # error sentences shown in this pane (each shown once)
        self.status = "idle"
        self.rounds: dict[int, RoundState] = {}
        self.stream = PaneStream(classes="pane-stream")
        self.waiting = Static(classes="waiting-note")
        self.prompt_note = Static(classes="prompt-note")
        self.edited: EditedPrompts | None = None  # saved prompt edits its next run would send
        self.finished: RunFinished | None = None
        self.fold_old_rounds = True
        self._mounting: list[AwaitMount] = []
        self._retry_shown = False  # the note line says "retrying (2/5) in 4 s"

    def compose(self) -> ComposeResult:
        yield self.prompt_note
        with self.stream:
            yield Static(Content.styled("Press r to start the race.", "$text-muted"),
                         classes="placeholder")
        yield self.waiting

    def on_mount(self) -> None:
        self.waiting.display = False
        self._draw_title()
        self._paint()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._paint())

    def _paint(self) -> None:
        """Border and title in the mode's colour, made legible on this theme's background."""
        back = theme_background(self.app.theme_variables)
        colour = self.spec.colour if self.spec else "#888888"
        self.styles.border = ("round", legible(colour, back, GRAPHIC_CONTRAST))
        self.styles.border_title_color = legible(colour, back, TEXT_CONTRAST)

    async def reset(self, note: str | None = None) -> None:
        """Clear the pane (for a new run, or another task: then ``note`` says what to do)."""
        self.rounds.clear()
        self._mounting.clear()  # widgets about to be removed: nothing to wait for
        self._errors.clear()
        self.finished = None
        self.status = "idle"
        await self.stream.remove_children()
        if note:
            await self.stream.mount(Static(Content.styled(note, "$text-muted"),
                                           classes="placeholder"))
        self.stream.anchor(False)
        self.waiting.display = False
        self._draw_title()

    def follow(self) -> None:
        self.stream.follow()

    def _fold_old_rounds(self, current: int) -> None:
        """Fold rounds older than the last few while the agent runs (click a folded header to
        open it again); the layout then costs the same in round 10 as in round 3."""
        if not self.fold_old_rounds:
            return
        for number, state in self.rounds.items():
            if number <= current - KEEP_OPEN:
                state.fold(True)

    @property
    def has_open_old_rounds(self) -> bool:
        """A round before the latest is open (``f`` would fold it)."""
        latest = max(self.rounds, default=0)
        return any(not state.box.has_class("-folded")
                   for number, state in self.rounds.items() if number < latest)

    def fold_all(self, fold: bool) -> None:
        """Fold every round but the latest (and keep folding old rounds as new ones start), or
        open every round (and stop folding)."""
        self.fold_old_rounds = fold
        latest = max(self.rounds, default=0)
        for number, state in self.rounds.items():
            state.box.user_choice = None
            state.fold(fold and number < latest)

    def set_status(self, status: str) -> None:
        self.status = status
        self._draw_title()

    def show_saved_prompts(self, edit: EditedPrompts | None) -> None:
        """Mark the pane while its next run would send edited prompts (None: the bundled)."""
        self.edited = edit
        if edit is not None:
            kinds = list(dict.fromkeys(WARNING_SHORT.get(w.kind, w.kind) for w in edit.warnings))
            parts: list[tuple[str, str] | str] = [
                ("✎ ", "$text-warning bold"), f"Saved edits in use: {edited_words(edit)}"]
            if kinds:
                parts += [", so this run is ", (", ".join(kinds), "bold")]
            parts += [".\n", (RESET_HINT, "$text-muted")]
            self.prompt_note.update(Content.assemble(*parts))
            self.prompt_note.tooltip = "\n".join(w.message for w in edit.warnings) or None
        self._draw_title()

    def _draw_title(self) -> None:
        text, style = STATUS_TEXT.get(self.status, (self.status, ""))
        title = Content.styled(f" {modes.label(self.mode)} ", "bold")
        if self.edited is not None:
            title = Content.assemble(title, ("✎ edited ", "bold"))
        self.border_title = title
        self.border_subtitle = Content.styled(f" {text} ", style)
        # Said before the run; once it runs, round 1 reports the same warnings in the stream.
        self.prompt_note.display = self.edited is not None and self.status == "idle"

    def _append(self, widget: Widget, parent: Widget | None = None) -> None:
        """Add a widget at the end of the stream, or of ``parent`` (a round's box).

        Not awaited here (order is kept by appending); ``settle`` awaits them all at once.
        """
        self._mounting.append((parent or self.stream).mount(widget))

    async def settle(self) -> None:
        """Wait for the widgets added since the last call to be mounted.

        The race screen calls it after each batch: the new widgets are then laid out in the same
        screen update as the batch's text, instead of in a second full layout a frame later.
        """
        mounting, self._mounting = self._mounting, []
        if mounting:  # bounded: a widget removed before it mounted would never say so
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(m() for m in mounting)), SETTLE_TIMEOUT)

    def _round(self, number: int) -> RoundState:
        state = self.rounds.get(number)
        if state is None:  # an event of a round whose start we did not see (a cut recording)
            state = self.rounds[number] = RoundState(number, 0, self._append)
        return state

    async def apply(self, event: Event) -> None:
        """Show one event of this pane's agent."""
        if self._retry_shown:  # the retry has started (or the run moved on): drop its note
            self._retry_shown = False
            self.waiting.display = False
        if isinstance(event, TextDelta):  # by far the most frequent: first
            self._round(event.round).append_text(event.text)
        elif isinstance(event, RunStarted):
            await self.reset()
            self.set_status("running")
        elif isinstance(event, RoundStarted):
            self.waiting.display = False
            if self.status == "waiting":
                self.set_status("running")
            if event.round not in self.rounds:
                self.rounds[event.round] = RoundState(event.round, event.input_tokens,
                                                      self._append)
                self._fold_old_rounds(event.round)
        elif isinstance(event, StepWaiting):
            self.set_status("waiting")
            self.waiting.update(Content.assemble(
                ("⏸ ", "$text-warning bold"), f"before round {event.round}: press ",
                ("n", "bold reverse"), " to run it"))
            self.waiting.display = True
        elif isinstance(event, Retrying):
            if event.discarded_text:
                self._round(event.round).add(Static(Content.styled(
                    "↻ the reply was cut off; it starts again below", "$text-warning"),
                    classes="pane-note"))
            self.waiting.update(Content.assemble(("↻ ", "$text-warning bold"), event.message,
                                                 (f" · {event.reason}", "$text-muted")))
            self.waiting.display = True
            self._retry_shown = True
        elif isinstance(event, ToolCall):
            self._round(event.round).add(ToolCallView(event))
        elif isinstance(event, ToolResult):
            mark = "✓" if event.ok else "✗"
            self._round(event.round).add(ToolResultView(event), f"{event.name} {mark}")
        elif isinstance(event, CodeBlock):
            state = self._round(event.round)
            state.add(CodeView(event, shown_above=state.code_was_streamed(event.code)))
        elif isinstance(event, ExecutionResult):
            mark = "✗ error" if event.error or event.limit else "✓"
            self._round(event.round).add(
                ExecutionView(event), f"program, {plural(event.host_calls, 'API call')} {mark}")
        elif isinstance(event, Usage):
            self._round(event.round).header.set_usage(
                event.api_input_tokens or event.input_tokens,
                event.api_output_tokens or event.output_tokens,
                event.total_ms,
            )
        elif isinstance(event, RoundFinished):
            self._round(event.round).reply.finish()
        elif isinstance(event, RunError):
            failed = self.rounds.get(event.round)
            if failed is not None:
                failed.reply.finish()
            if event.message not in self._errors:  # each error once in a pane
                self._errors.add(event.message)
                self._append(ErrorView(event))
        elif isinstance(event, RunFinished):
            counted = [s for s in self.rounds.values() if s.header.output_tokens is not None]
            for state in self.rounds.values():
                state.reply.finish()
                if state.header.output_tokens is None:  # its reply never completed
                    state.header.set_note("not counted: the reply did not complete")
            self.finished = event
            self.waiting.display = False
            self.set_status(event.stop_reason)
            tokens = sum(s.header.input_tokens + (s.header.output_tokens or 0) for s in counted)
            self._append(ResultCard(event, len(counted), tokens, frozenset(self._errors)))
            # The run is over: every round can be read again. One round per screen update,
            # newest first: unfolding ten rounds at once restyles and lays out hundreds of
            # widgets in one go (a 100-250 ms stall at 200x60, measured).
            self._unfold_next(event, sorted(self.rounds.values(), key=lambda r: r.number))

    @property
    def unfolding(self) -> bool:
        """Rounds are still being unfolded after the end of the run."""
        return any(state.box.has_class("-folded") and state.box.user_choice is None
                   for state in self.rounds.values()) and self.finished is not None

    def _unfold_next(self, run: RunFinished, pending: list[RoundState]) -> None:
        if self.finished is not run:  # a new run started meanwhile
            return
        while pending:
            state = pending.pop()
            if state.box.has_class("-folded"):
                state.fold(False)
                self.call_after_refresh(self._unfold_next, run, pending)
                return

    async def show_message(self, text: str, style: str = "$text-error") -> None:
        """A line in the pane that is not an event (a run that could not start, say); a
        sentence the pane already shows is not repeated."""
        if text in self._errors:
            return
        self._errors.add(text)
        self._append(Static(Content.styled(text, style), classes="pane-note"))
