"""The token meter: each raced agent's tokens, rounds, time and cost so far, and its savings.

It draws a ``RaceTally``; the race screen tells it when the tally changed. Savings are each
mode's against the baseline mode of the registry (tool calling). The headline saving is big
(``Digits``) because it is the one number a room wants to read; it stays on screen at 80x24.
"vs previous run" compares only a finished run with the last finished run of the same task and
modes. Rows and columns come from the mode registry; nothing here names a mode.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Digits, Static

from engine.modes import MODE_IDS, label, mode
from engine.providers import PROVIDERS
from tui.palette import GRAPHIC_CONTRAST, legible
from tui.tally import ModeTally, RaceTally
from tui.widgets.round_view import fmt_tokens

RESULT_MARKS: dict[str, tuple[str, str]] = {
    "answered": ("answered", "$text-success"),
    "max_rounds": ("round limit", "$text-warning"),
    "cancelled": ("stopped", "$text-warning"),
    "error": ("error", "$text-error"),
    "running": ("running", "$text-accent"),
    "waiting": ("paused", "$text-warning"),
    "idle": ("—", "$text-muted"),
}
WIDE_TABLE = 96  # columns the full table needs; below it the meter shows the compact one


def fmt_cost(cost: float, scripted: bool) -> str:
    if cost <= 0:
        return "—"
    prefix = "≈" if scripted else ""  # a scripted run is priced as if the model had said it
    return f"{prefix}${cost:.4f}" if cost < 1 else f"{prefix}${cost:.2f}"


def fmt_seconds(ms: float) -> str:
    if ms <= 0:
        return "—"
    return f"{ms / 1000:.1f} s" if ms < 100_000 else f"{ms / 60_000:.1f} min"


def fmt_savings(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def fmt_delta(now: int, before: int) -> tuple[str, str]:
    diff = now - before
    if before <= 0:
        return ("new", "$text-muted")
    pct = diff / before * 100
    style = "$text-success" if diff < 0 else ("$text-error" if diff > 0 else "$text-muted")
    return (f"{diff:+,} ({pct:+.0f}%)", style)


def mode_marker(mode_id: str, background: Color) -> tuple[str, str]:
    """A "●" in the mode's colour (a graphic: 3:1 against the background)."""
    colour = mode(mode_id).colour if mode_id in MODE_IDS else "#888888"
    return ("● ", legible(colour, background, GRAPHIC_CONTRAST).hex)


def status_mark(t: ModeTally) -> tuple[str, str]:
    if t.finished and not t.judged:  # played for another task prompt: neither ✓ nor ✗
        return ("· not judged", "$text-warning bold")
    mark, style = RESULT_MARKS.get(t.status, (t.status, ""))
    if t.success is not None and t.finished:
        return ("✓ " + mark, f"{style} bold") if t.success else ("✗ " + mark,
                                                                 "$text-error bold")
    return mark, style


class TokenMeter(Vertical):
    """Tokens per agent, the savings so far, the cost, and the previous run."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table = Static(classes="meter-table")
        self.savings = Digits("-", classes="savings-digits")
        self.savings_label = Static(classes="savings-label")
        self.previous = Static(classes="meter-previous")
        self._tally: RaceTally | None = None
        self._lines = {"table": -1, "label": -1, "previous": -1}

    def compose(self) -> ComposeResult:
        with Horizontal(classes="meter-top"):
            yield self.table
            with Vertical(classes="savings"):
                yield self.savings
                yield self.savings_label
        yield self.previous

    def on_mount(self) -> None:
        self.show(RaceTally())

    def on_resize(self) -> None:
        if self._tally is not None:
            self.show(self._tally)

    def _update(self, name: str, widget: Static, content: Content) -> None:
        """A new layout only when the text's line count changes (it costs a screen layout)."""
        lines = content.plain.count("\n") + 1
        widget.update(content, layout=lines != self._lines[name])
        self._lines[name] = lines

    def show(self, tally: RaceTally) -> None:
        """Redraw from ``tally`` (cheap: a handful of lines)."""
        self._tally = tally
        background = self.visual_style.background or Color(0, 0, 0)
        wide = self.table.size.width == 0 or self.table.size.width >= WIDE_TABLE
        names = {m: (label(m) if wide else mode(m).short_label if m in MODE_IDS else m)
                 for m in tally.modes}
        width = min(max((len(n) for n in names.values()), default=8), 20) + 1
        rows = [self._head(wide, width)]
        for mode_tally in tally.modes.values():
            rows.append(self._row(tally, mode_tally, wide, background,
                                  names[mode_tally.mode][: width - 1].ljust(width)))
        if not tally.modes:
            rows.append(Content.styled("No run yet: r starts the race.", "$text-muted"))
        if any(t.api_reported for t in tally.modes.values()):
            rows.append(self._local_counts(tally))
        self._update("table", self.table, Content("\n").join(rows))
        head = tally.headline
        savings = tally.savings
        self.savings.update("-" if savings is None else f"{savings * 100:.1f}")
        if head is None:
            text = "% saved over tool calling" if len(tally.modes) != 1 else "one agent alone"
            caption = Content.styled(text, "$text-muted")
        else:
            base = tally.baseline
            word = "more" if savings is not None and savings < 0 else "saved"
            caption = Content.assemble((f"% {word} by {label(head)}", "$text-muted"))
            if base is not None and not tally.comparable(head):
                caption = Content.assemble(caption, ("\nnot comparable: see the panes",
                                                     "$text-warning"))
        self._update("label", self.savings_label, caption)
        self._update("previous", self.previous, self._previous(tally))

    @staticmethod
    def _head(wide: bool, name_width: int) -> Content:
        cells: list[tuple[str, str]] = [("".ljust(name_width + 2), "")]
        if wide:
            cells += [("input".rjust(9), "$text-muted"), ("output".rjust(8), "$text-muted"),
                      ("total".rjust(9), "$text-muted"), ("rounds".rjust(7), "$text-muted"),
                      ("model".rjust(8), "$text-muted"), ("cost".rjust(10), "$text-muted"),
                      ("saves".rjust(7), "$text-muted")]
        else:
            cells += [("total".rjust(9), "$text-muted"), ("saves".rjust(7), "$text-muted")]
        return Content.assemble(*cells)

    @staticmethod
    def _row(tally: RaceTally, t: ModeTally, wide: bool, background: Color,
             name: str) -> Content:
        savings = tally.savings_of(t.mode)
        saves_style = "$text-success bold" if savings is not None and savings >= 0 else (
            "$text-error bold")
        saves = fmt_savings(savings)
        if savings is not None and t.finished and not tally.comparable(t.mode):
            saves, saves_style = "n/c", "$text-warning bold"  # not comparable: no figure
        cells: list[tuple[str, str] | str] = [mode_marker(t.mode, background),
                                              (name, "bold")]
        if wide:
            cells += [fmt_tokens(t.input_tokens).rjust(9), fmt_tokens(t.output_tokens).rjust(8),
                      (fmt_tokens(t.total).rjust(9), "bold"), str(len(t.counted)).rjust(7),
                      fmt_seconds(t.model_ms).rjust(8),
                      fmt_cost(t.cost_usd, tally.scripted).rjust(10),
                      (saves.rjust(7), saves_style), "  ", status_mark(t)]
        else:
            mark, style = status_mark(t)
            cells += [(fmt_tokens(t.total).rjust(9), "bold"),
                      (saves.rjust(7), saves_style), " ",
                      (mark.split(" ")[0], style)]
        return Content.assemble(*cells)

    @staticmethod
    def _local_counts(tally: RaceTally) -> Content:
        """The API's usage is the truth; our Tekken count beside it, with the difference
        (approximate for a model that is not Mistral's: ``ProviderSpec.local_counts``)."""
        spec = PROVIDERS.get(tally.provider)
        approximate = spec is not None and spec.local_counts == "approximate"
        what = "local count (approximate): " if approximate else "local count: "
        parts: list[tuple[str, str] | str] = [(f"API usage above; {what}", "$text-muted")]
        for t in tally.modes.values():
            if t.api_reported:
                diff = t.local_tokens - t.total
                parts += [f"{label(t.mode)} {fmt_tokens(t.local_tokens)} ",
                          (f"({diff:+,})", "$text-muted"), "  "]
        return Content.assemble(*parts)

    @staticmethod
    def _previous(tally: RaceTally) -> Content:
        previous = tally.previous
        if previous:
            parts: list[tuple[str, str] | str] = [("vs previous run: ", "$text-muted")]
            for mode_id, before in previous.items():
                now = tally.modes.get(mode_id)
                if now is not None:
                    parts += [f"{label(mode_id)} ", fmt_delta(now.total, before), "  "]
            return Content.assemble(*parts)
        if tally.over:
            return Content.styled("v: race summary · e edits prompts · r reruns", "$text-muted")
        return Content.styled("e edits prompts · r reruns and compares", "$text-muted")
