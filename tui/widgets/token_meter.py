"""The token meter: each agent's input, output and cost so far, and what CodeAct saves.

It draws a ``RaceTally``; the race screen tells it when the tally changed. The savings figure is
big (``Digits``) because it is the one number a room wants to read; the comparison with the
previous run shows what an edited prompt changed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Digits, Static

from engine.modes import label as mode_label
from engine.providers import PROVIDERS
from tui.tally import ModeTally, RaceTally
from tui.widgets.round_view import fmt_tokens

RESULT_MARKS: dict[str, tuple[str, str]] = {
    "answered": ("answered", "$success"),
    "max_rounds": ("round limit", "$warning"),
    "cancelled": ("stopped", "$warning"),
    "error": ("error", "$error"),
    "running": ("running", "$accent"),
    "waiting": ("paused", "$warning"),
    "idle": ("—", "dim"),
}


def fmt_cost(cost: float, scripted: bool) -> str:
    if cost <= 0:
        return "—"
    prefix = "≈" if scripted else ""  # a scripted run is priced as if the model had said it
    return f"{prefix}${cost:.4f}" if cost < 1 else f"{prefix}${cost:.2f}"


def fmt_delta(now: int, before: int) -> tuple[str, str]:
    diff = now - before
    if before <= 0:
        return ("new", "dim")
    pct = diff / before * 100
    style = "$success" if diff < 0 else ("$error" if diff > 0 else "dim")
    return (f"{diff:+,} ({pct:+.0f}%)", style)


class TokenMeter(Vertical):
    """Cumulative tokens per agent, the savings so far, the cost, and the previous run."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table = Static(classes="meter-table")
        self.savings = Digits("-", classes="savings-digits")
        self.savings_label = Static(classes="savings-label")
        self.previous = Static(classes="meter-previous")
        self._tally: RaceTally | None = None

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

    def show(self, tally: RaceTally) -> None:
        """Redraw from ``tally`` (cheap: a handful of lines)."""
        self._tally = tally
        wide = self.size.width == 0 or self.size.width >= 74
        head: list[tuple[str, str]] = [
            ("".ljust(13), ""), ("input".rjust(9), "dim"), ("output".rjust(8), "dim"),
            ("total".rjust(9), "dim")]
        if wide:
            head += [("  rounds", "dim"), ("     cost", "dim")]
        rows: list[Content] = [Content.assemble(*head)]
        for mode_tally in tally.modes.values():
            rows.append(self._row(mode_tally, tally.scripted, wide))
        if not tally.modes:
            rows.append(Content.styled("No run yet.", "dim"))
        if any(t.api_reported for t in tally.modes.values()):
            rows.append(self._local_counts(tally))
        savings = tally.savings
        digits_hidden = 0 < self.size.width < 90  # the app's CSS hides them below that width
        if digits_hidden and savings is not None:  # say it in the table instead
            rows.append(Content.assemble(("CodeAct saves ", "dim"),
                                         (f"{savings * 100:.1f}%", "bold $success"),
                                         (" so far", "dim")))
        self.table.update(Content("\n").join(rows))
        self.savings.update("-" if savings is None else f"{savings * 100:.1f}")
        more = savings is not None and savings < 0
        self.savings_label.update(Content.styled(
            "% more for CodeAct" if more else "% saved so far", "dim"))
        self.previous.update(self._previous(tally))

    @staticmethod
    def _row(t: ModeTally, scripted: bool, wide: bool) -> Content:
        mark, style = RESULT_MARKS.get(t.status, (t.status, ""))
        if t.success is not None:
            mark, style = ("✓ " + mark, "$success bold") if t.success else ("✗ " + mark,
                                                                           "$error bold")
        cells: list[tuple[str, str] | str] = [
            (f"{mode_label(t.mode):<13}", "bold"),
            fmt_tokens(t.input_tokens).rjust(9),
            fmt_tokens(t.output_tokens).rjust(8),
            (fmt_tokens(t.total).rjust(9), "bold"),
        ]
        if wide:
            cells += [str(len(t.rounds)).rjust(8), fmt_cost(t.cost_usd, scripted).rjust(9), "  ",
                      (mark, style)]
        else:
            cells += [" ", (mark.split(" ")[0], style)]
        return Content.assemble(*cells)

    @staticmethod
    def _local_counts(tally: RaceTally) -> Content:
        """The API's usage is the truth; our Tekken count beside it, with the difference
        (approximate for a model that is not Mistral's: ``ProviderSpec.local_counts``)."""
        spec = PROVIDERS.get(tally.provider)
        approximate = spec is not None and spec.local_counts == "approximate"
        label = "local count (approximate): " if approximate else "local count: "
        parts: list[tuple[str, str] | str] = [(f"API usage above; {label}", "dim")]
        for t in tally.modes.values():
            if t.api_reported:
                diff = t.local_tokens - t.total
                parts += [f"{mode_label(t.mode)} {fmt_tokens(t.local_tokens)} ",
                          (f"({diff:+,})", "dim"), "  "]
        return Content.assemble(*parts)

    @staticmethod
    def _previous(tally: RaceTally) -> Content:
        if not tally.previous:
            return Content.styled("e edits prompts · r reruns and compares", "dim")
        parts: list[tuple[str, str] | str] = [("vs previous run: ", "dim")]
        for mode, before in tally.previous.items():
            now = tally.modes.get(mode)
            if now is None:
                continue
            parts += [f"{mode_label(mode)} ", fmt_delta(now.total, before), "  "]
        return Content.assemble(*parts)
