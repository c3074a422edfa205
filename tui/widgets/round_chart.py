"""Tokens per round as stacked bars, one group per agent, drawn big enough for a room.

Each bar is one request to the model, split by where its tokens came from. Both groups share
one scale, so tool calling's bars climb round after round (every request resends the schemas
and the growing history) while CodeAct's stay low. When there is no room for bars (a short
terminal) each agent gets a one-line sparkline on the same scale instead.
"""

from __future__ import annotations

import math

from textual.content import Content
from textual.widget import Widget

from engine.modes import label as mode_label
from tui.tally import CHART_SOURCES, RaceTally, RoundTally

# Fixed colours, distinct from each other on dark and light themes alike (theme accents are
# often two shades of one hue, which a room cannot tell apart).
SEGMENT_STYLES: dict[str, str] = {
    "tools": "#e8703a",
    "prompt": "#4f8fd6",
    "history": "#a97fd0",
    "results": "#e3c04f",
    "output": "#5fb86a",
}
EIGHTHS = " ▁▂▃▄▅▆▇█"
SLOTS = 10  # bars reserved per agent, so the layout does not shift as rounds arrive


def short_count(count: int, width: int = 5) -> str:
    """13,402 -> "13k", 1,250 -> "1.2k" (or "1k" when only 3 cells fit), 812 -> "812"."""
    if count >= 10_000 or (count >= 1000 and width < 4):
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


LEGEND_LABELS: dict[str, str] = {
    "tools": "tool schemas / API",
    "prompt": "prompts",
    "history": "history",
    "results": "results / output",
    "output": "model output",
}


def legend() -> Content:
    parts: list[tuple[str, str] | str] = []
    for source in CHART_SOURCES:
        parts += [("■ ", SEGMENT_STYLES[source]), LEGEND_LABELS[source], "  "]
    return Content.assemble(*parts)


def _cell(bar: RoundTally, row: int, rows: int, scale: int) -> tuple[str, str]:
    """The character and style of one cell of a bar (``row`` 0 is the bottom)."""
    height = bar.total / scale * rows
    if height <= row:
        return " ", ""
    fill = min(height - row, 1.0)
    middle = row + fill / 2  # the segment under the middle of the filled part colours the cell
    edge = 0.0
    style = SEGMENT_STYLES["output"]
    for source in CHART_SOURCES:
        edge += bar.segments.get(source, 0) / scale * rows
        if middle < edge:
            style = SEGMENT_STYLES[source]
            break
    if fill >= 1.0:
        return "█", style
    return EIGHTHS[max(1, round(fill * 8))], style


class RoundChart(Widget):
    """Stacked bars of tokens per round for each agent of the race."""

    DEFAULT_CSS = """
    RoundChart { height: 1fr; min-height: 3; text-wrap: nowrap; text-overflow: clip; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.tally = RaceTally()

    def show(self, tally: RaceTally) -> None:
        self.tally = tally
        self.refresh()

    def render(self) -> Content:
        width, height = self.size
        modes = [t for t in self.tally.modes.values()]
        if not modes or not any(t.rounds for t in modes):
            return Content.assemble(
                ("Tokens per round", "bold"), "\n", legend(), "\n\n",
                ("Each bar will be one request to the model.", "dim"))
        if height < 8:
            return self._sparklines(width)
        return self._bars(width, height)

    def _sparklines(self, width: int) -> Content:
        scale = max(self.tally.largest_round, 1)
        lines: list[Content] = []
        for tally in self.tally.modes.values():
            cells = [(EIGHTHS[max(1, round(r.total / scale * 8))] * 2, SEGMENT_STYLES["tools"])
                     for r in tally.rounds]
            lines.append(Content.assemble(
                (f"{mode_label(tally.mode):<13}", "bold"), *cells,
                (f" {short_count(tally.total)}", "dim")))
        return Content("\n").join(lines)

    def _bars(self, width: int, height: int) -> Content:
        modes = list(self.tally.modes.values())
        rows = height - 3  # legend above; round numbers and agent names below
        # The tallest bar leaves one row above it for its value.
        scale = max(int(self.tally.largest_round * rows / max(rows - 1, 1)), 1)
        group_width = max(width // len(modes), 12)
        bar_width = max(1, min(6, group_width // SLOTS - 1))
        slot = bar_width + 1
        lines: list[list[tuple[str, str] | str]] = [[] for _ in range(rows)]
        numbers: list[tuple[str, str] | str] = []
        names: list[tuple[str, str] | str] = []
        for tally in modes:
            slots = max(SLOTS, len(tally.rounds))
            used = 0
            for index in range(slots):
                bar = tally.rounds[index] if index < len(tally.rounds) else None
                top = math.ceil(bar.total / scale * rows) - 1 if bar else -1
                for r in range(rows):
                    line = lines[rows - 1 - r]
                    if bar is None:
                        line.append(" " * slot)
                    elif r == top + 1 and bar_width >= 3 and top + 1 < rows:
                        line.append((short_count(bar.total, bar_width).center(bar_width) + " ",
                                     "dim"))
                    else:
                        char, style = _cell(bar, r, rows, scale)
                        line.append((char * bar_width, style))
                        line.append(" ")
                numbers.append((str(index + 1).center(bar_width) + " ", "dim") if bar else
                               " " * slot)
                used += slot
            pad = max(group_width - used, 1)
            for line in lines:
                line.append(" " * pad)
            numbers.append(" " * pad)
            label = f"{mode_label(tally.mode)} · {short_count(tally.total)} tokens"
            names.append((label[: group_width - 1].ljust(group_width), "bold"))
        out = [legend()]
        out += [Content.assemble(*line) for line in lines]
        out += [Content.assemble(*numbers), Content.assemble(*names)]
        return Content("\n").join(out)
