"""The end-of-race summary: per raced mode its tokens, savings, rounds, time, cost and verdict.

Opened with ``v`` once every agent's run has ended (the notification at the end of a race says
so). Built from the same ``RaceTally`` the meter draws, so the numbers agree with it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.modes import MODE_IDS, label, mode
from tui.tally import RaceTally
from tui.widgets.round_view import fmt_tokens
from tui.widgets.token_meter import (
    fmt_cost,
    fmt_savings,
    fmt_seconds,
    mode_marker,
    status_mark,
)


def summary_lines(tally: RaceTally, background: Color, wide: bool = True) -> list[Content]:
    """The summary as lines of text (also what the tests read); ``wide`` adds the input,
    output and wall-clock columns (about 110 columns; the narrow table fits in 70)."""
    muted = "$text-muted"
    name_width = 20 if wide else 10
    head: list[tuple[str, str]] = [("".ljust(name_width + 2), "")]
    if wide:
        head += [("input".rjust(10), muted), ("output".rjust(9), muted)]
    head += [("total".rjust(10), muted), ("saves".rjust(8), muted), ("rounds".rjust(7), muted),
             ("model time".rjust(11), muted)]
    if wide:
        head += [("wall".rjust(8), muted)]
    head += [("cost".rjust(10), muted), ("  verdict" if wide else "", muted)]
    lines = [Content.assemble(*head)]
    for t in tally.modes.values():
        savings = tally.savings_of(t.mode)
        name = label(t.mode) if wide else (mode(t.mode).short_label if t.mode in MODE_IDS
                                           else t.mode)
        cells: list[tuple[str, str] | str] = [mode_marker(t.mode, background),
                                              (name[:name_width - 1].ljust(name_width), "bold")]
        if wide:
            cells += [fmt_tokens(t.input_tokens).rjust(10), fmt_tokens(t.output_tokens).rjust(9)]
        cells += [(fmt_tokens(t.total).rjust(10), "bold"),
                  (fmt_savings(savings).rjust(8), "$text-success bold" if savings is None or
                   savings >= 0 else "$text-error bold"),
                  str(len(t.counted)).rjust(7), fmt_seconds(t.model_ms).rjust(11)]
        if wide:
            cells += [fmt_seconds(t.wall_s * 1000).rjust(8)]
        mark, style = status_mark(t)
        cells += [fmt_cost(t.cost_usd, tally.scripted).rjust(10), "  ",
                  (mark if wide else mark.split(" ")[0], style)]
        lines.append(Content.assemble(*cells))
    notes: list[Content] = []
    for mode_id in tally.modes:
        if tally.savings_of(mode_id) is not None and not tally.comparable(mode_id):
            notes.append(Content.styled(
                f"{label(mode_id)}'s savings are not comparable: a run failed or was stopped.",
                "$text-warning"))
    if tally.scripted:
        notes.append(Content.styled(
            "Scripted reference agent: the token economics are real, the answers are not a "
            "model's; cost is what the model would charge for these tokens.", "$text-muted"))
    notes.append(Content.styled(
        "Model time: the model's own latency over the counted rounds (modeled for the "
        "scripted agent); wall: the run as it played at this pace.", "$text-muted"))
    return [*lines, Content(""), *notes]


def _split(lines: list[Content]) -> tuple[list[Content], list[Content]]:
    """The table (up to the blank line) and the notes after it."""
    blank = next(i for i, line in enumerate(lines) if not line.plain)
    return lines[:blank], lines[blank + 1:]


class SummaryScreen(ModalScreen[None]):
    """The race's result at a glance, for the room (escape, enter or v closes it)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,v,q", "close", "Close")]

    def __init__(self, tally: RaceTally) -> None:
        super().__init__()
        self.tally = tally
        self.body = Static(classes="summary-table")
        self.notes = Static(classes="summary-notes")

    def compose(self) -> ComposeResult:
        title = self.tally.task_title or "the race"
        with Vertical(id="summary-dialog", classes="dialog"):
            yield Static(Content.assemble(("Race summary", "bold"), ("  ·  ", "$text-muted"),
                                          (title, "bold")), classes="dialog-title")
            yield self.body
            yield self.notes

    def on_mount(self) -> None:
        background = self.body.visual_style.background or Color(0, 0, 0)
        wide = self.app.size.width >= 130
        table, notes = _split(summary_lines(self.tally, background, wide))
        self.body.update(Content("\n").join(table))
        self.notes.update(Content("\n").join(notes))

    def action_close(self) -> None:
        self.dismiss(None)
