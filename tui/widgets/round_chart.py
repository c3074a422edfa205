"""Input tokens sent so far, round by round, one group of bars per raced agent.

Each bar is the running total of input tokens after that round: the part sent in earlier
rounds in grey, this round's request on top, split by where its tokens came from. Every group
shares one scale, so someone at the back of the room sees tool calling's staircase climb (every
request resends the schemas and the growing history) while CodeAct's stays low. Under each
group, the input tokens of its counted rounds (the meter's figure); a request still running is
drawn as a bar before it counts. When there is no room for bars (a short terminal, 80x24) each
agent gets a one-line sparkline of the same running total, labelled.
"""

from __future__ import annotations

import math

from textual.color import Color
from textual.content import Content
from textual.widget import Widget

from engine.modes import MODE_IDS, label, mode
from tui.palette import GRAPHIC_CONTRAST, legible
from tui.tally import CHART_SOURCES, RaceTally, RoundTally

# Fixed hues, distinct from each other on dark and light themes alike (theme accents are often
# two shades of one hue, which a room cannot tell apart); drawn at 3:1 against the background.
SEGMENT_COLOURS: dict[str, str] = {
    "earlier": "#8a8a8a",
    "tools": "#e8703a",
    "prompt": "#4f8fd6",
    "history": "#a97fd0",
    "results": "#d9b43c",
}
LEGEND_LABELS: dict[str, str] = {
    "earlier": "earlier rounds",
    "tools": "tools / API",
    "prompt": "prompts",
    "history": "history",
    "results": "results",
}
EIGHTHS = " ▁▂▃▄▅▆▇█"
SLOTS = 10  # bars reserved per agent, so the layout does not shift as rounds arrive
SPARK_BELOW = 8  # rows below which the chart draws sparklines instead of bars

Cells = list[tuple[str, str]]


def short_count(count: int, width: int = 5) -> str:
    """13,402 -> "13k", 1,250 -> "1.2k" (or "1k" when only 3 cells fit), 812 -> "812"."""
    if count >= 10_000 or (count >= 1000 and width < 4):
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


def _merge(cells: Cells) -> Content:
    """One line from (text, style) cells, runs of one style merged (a few spans, not hundreds)."""
    runs: Cells = []
    for text, style in cells:
        if runs and runs[-1][1] == style:
            runs[-1] = (runs[-1][0] + text, style)
        else:
            runs.append((text, style))
    return Content.assemble(*runs)


class RoundChart(Widget):
    """Running totals of input tokens per round for each agent of the race."""

    DEFAULT_CSS = """
    RoundChart { height: 1fr; min-height: 3; text-wrap: nowrap; text-overflow: clip; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.tally = RaceTally()

    def show(self, tally: RaceTally) -> None:
        self.tally = tally
        self.refresh()

    def _colours(self) -> dict[str, str]:
        background = self.visual_style.background or Color(0, 0, 0)
        return {k: legible(v, background, GRAPHIC_CONTRAST).hex
                for k, v in SEGMENT_COLOURS.items()}

    def _mode_colour(self, mode_id: str) -> str:
        background = self.visual_style.background or Color(0, 0, 0)
        colour = mode(mode_id).colour if mode_id in MODE_IDS else "#888888"
        return legible(colour, background, GRAPHIC_CONTRAST).hex

    def legend(self, colours: dict[str, str]) -> Content:
        cells: Cells = []
        for key in ("earlier", *CHART_SOURCES):
            cells += [("■ ", colours[key]), (LEGEND_LABELS[key] + "  ", "")]
        return _merge(cells)

    def render(self) -> Content:
        width, height = self.size
        modes = list(self.tally.modes.values())
        colours = self._colours()
        if not modes or not any(t.rounds for t in modes):
            title = "Input tokens sent so far, by round" if width >= 40 else "input tokens so far"
            return Content("\n").join([
                Content.styled(title, "bold"),
                self.legend(colours),
                Content.styled("Each bar will be the running total after one request.",
                               "$text-muted")][: max(height, 1)])
        if height < SPARK_BELOW:
            return self._sparklines(width, height, colours)
        return self._bars(width, height, colours)

    def _sparklines(self, width: int, height: int, colours: dict[str, str]) -> Content:
        scale = max(self.tally.largest_cumulative, 1)
        lines: list[Content] = []
        if height > len(self.tally.modes):
            lines.append(Content.styled("input tokens so far", "$text-muted"))
        name_width = max(len(mode(m).short_label) if m in MODE_IDS else len(m)
                         for m in self.tally.modes) + 1
        for tally in self.tally.modes.values():
            name = mode(tally.mode).short_label if tally.mode in MODE_IDS else tally.mode
            running = tally.cumulative_input()
            total = f" {short_count(tally.input_tokens)}"  # counted rounds: the meter's figure
            room = max(width - name_width - 2 - len(total), 1)
            values = running[-room:]
            cells: Cells = [("● ", self._mode_colour(tally.mode)),
                            (name.ljust(name_width), "bold")]
            cells += [(EIGHTHS[max(1, round(v / scale * 8))], colours["tools"])
                      for v in values]
            cells.append((total, "bold"))
            lines.append(_merge(cells))
        return Content("\n").join(lines[:height])

    def _bars(self, width: int, height: int, colours: dict[str, str]) -> Content:
        modes = list(self.tally.modes.values())
        rows = height - 3  # legend above; round numbers and agent names below
        # The tallest bar leaves one row above it for its value.
        top_value = self.tally.largest_cumulative
        scale = max(int(top_value * rows / max(rows - 1, 1)), 1)
        group_width = max(width // len(modes), 12)
        bar_width = max(1, min(6, group_width // SLOTS - 1))
        slot = bar_width + 1
        lines: list[Cells] = [[] for _ in range(rows)]
        numbers: Cells = []
        names: Cells = []
        for tally in modes:
            running = tally.cumulative_input()
            slots = max(SLOTS, len(tally.rounds))
            used = 0
            for index in range(slots):
                bar = tally.rounds[index] if index < len(tally.rounds) else None
                before = running[index - 1] if bar is not None and index else 0
                total = running[index] if bar is not None else 0
                top = math.ceil(total / scale * rows) - 1 if bar else -1
                last = bar is not None and index == len(tally.rounds) - 1
                for r in range(rows):
                    line = lines[rows - 1 - r]
                    if bar is None:
                        line.append((" " * slot, ""))
                    elif r == top + 1 and last and bar_width >= 3:
                        line.append((short_count(total, bar_width).center(bar_width) + " ",
                                     "bold"))
                    else:
                        char, style = _cell(bar, before, r, rows, scale, colours)
                        line.append((char * bar_width + " ", style))
                numbers.append(((str(index + 1).center(bar_width) + " ") if bar else " " * slot,
                                "$text-muted"))
                used += slot
            pad = max(group_width - used, 1)
            for line in lines:
                line.append((" " * pad, ""))
            numbers.append((" " * pad, ""))
            sent = short_count(tally.input_tokens)  # counted rounds: the meter's figure
            name = label(tally.mode)
            if len(name) + len(sent) + 4 > group_width and tally.mode in MODE_IDS:
                name = mode(tally.mode).short_label
            text = f"{name} {sent}"
            names += [("● ", self._mode_colour(tally.mode)),
                      (text[: group_width - 3].ljust(group_width - 2), "bold")]
        legend = self.legend(colours)
        title = Content.styled("input tokens so far  ", "bold")
        out = [title + legend if title.cell_length + legend.cell_length <= width else legend]
        out += [_merge(line) for line in lines]
        out += [_merge(numbers), _merge(names)]
        return Content("\n").join(out)


def _cell(bar: RoundTally, before: int, row: int, rows: int, scale: int,
          colours: dict[str, str]) -> tuple[str, str]:
    """The character and colour of one cell of a bar (``row`` 0 is the bottom)."""
    height = (before + bar.input_tokens) / scale * rows
    if height <= row:
        return " ", ""
    fill = min(height - row, 1.0)
    middle = row + fill / 2  # the segment under the middle of the filled part colours the cell
    edge = before / scale * rows
    style = colours["earlier"]
    if middle >= edge:
        style = colours[CHART_SOURCES[-1]]
        for source in CHART_SOURCES:
            edge += bar.segments.get(source, 0) / scale * rows
            if middle < edge:
                style = colours[source]
                break
    if fill >= 1.0:
        return "█", style
    return EIGHTHS[max(1, round(fill * 8))], style
