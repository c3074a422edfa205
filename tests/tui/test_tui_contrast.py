"""WCAG AA contrast of what the screen shows, in every theme (light ones included).

The screens are rendered in the headless app and every cell is read back as Textual draws it
(character, foreground, background, reverse, dim). Text must reach 4.5:1 against its background
(WCAG 2.1, 1.4.3): the panes' text, badges, pane titles, verdicts, the meter, the big number and
the footer keys. The chart's bars and the modes' colour markers are graphics: 3:1 (1.4.11).
Exempt, as WCAG exempts them: disabled footer keys (inactive components) and scrollbars. The two
ANSI themes are skipped: their colours are the terminal's own palette, which the app cannot know.

The contrast formula is written out here, apart from ``tui.palette``, so the check does not
lean on the code it checks.
"""

from __future__ import annotations

import unicodedata

import pytest
from conftest import until
from fakes import FakeBackend
from rich.cells import cell_len
from rich.color import Color as RichColor
from rich.style import Style
from textual.app import App
from textual.errors import NoWidget
from textual.geometry import Region
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Digits

from engine.modes import MODE_IDS
from engine.prompts import PromptSet, default_text
from tui.app import ExplorerApp
from tui.choices import RunChoice
from tui.screens.history import HistoryScreen
from tui.screens.prompts import PromptEditorScreen
from tui.screens.setup import SetupScreen
from tui.screens.summary import SummaryScreen
from tui.widgets.round_chart import RoundChart
from tui.widgets.round_view import ToolResultView

THEMES = sorted(t for t in App().available_themes if not t.startswith("ansi-"))
TEXT, GRAPHIC = 4.5, 3.0


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def is_graphic(char: str) -> bool:
    """Box drawing, blocks, geometric shapes: drawn marks, not letters."""
    return 0x2500 <= ord(char) <= 0x25FF or unicodedata.category(char) in ("So", "Zs")


def colours(style: Style, fg: tuple[int, int, int],
            bg: tuple[int, int, int]) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The foreground and background a cell is drawn in (reverse swapped, dim blended halfway
    toward the background as Textual's dim filter does)."""
    def rgb(color: RichColor | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
        if color is None or color.is_default:
            return default
        t = color.get_truecolor()
        return (t.red, t.green, t.blue)

    front, back = rgb(style.color, fg), rgb(style.bgcolor, bg)
    if style.reverse:
        front, back = back, front
    if style.dim:
        front = tuple((f + b) // 2 for f, b in zip(front, back, strict=True))  # type: ignore
    return front, back


def cells(app: App) -> list[tuple[Widget, int, int, str, Style]]:
    """Every cell of the screen as drawn: (widget, x, y, character, style)."""
    screen = app.screen
    width, height = app.size
    out = []
    lines: dict[tuple[int, int], list[tuple[str, Style]]] = {}
    for y in range(height):
        for x in range(width):
            try:
                widget, region = screen.get_widget_at(x, y)
            except NoWidget:
                continue
            key = (id(widget), y)
            if key not in lines:
                strip = widget.render_lines(Region(0, y - region.y, region.width, 1))
                row: list[tuple[str, Style]] = []
                for segment in strip[0] if strip else []:
                    for char in segment.text:
                        row += [(char, segment.style or Style())] * max(cell_len(char), 1)
                lines[key] = row
            row = lines[key]
            if 0 <= x - region.x < len(row):
                char, style = row[x - region.x]
                out.append((widget, x, y, char, style))
    return out


def failures(app: App, where: str) -> list[str]:
    theme = app.current_theme
    fg = _hex(theme.foreground or "#ffffff")
    bg = _hex(theme.background or "#000000")
    found: dict[tuple[str, str, float], str] = {}
    for widget, x, y, char, style in cells(app):
        if char.isspace() or _exempt(widget):
            continue
        in_digits = any(isinstance(w, Digits) for w in (widget, *widget.ancestors))
        graphic = is_graphic(char) and not in_digits
        if graphic and not isinstance(widget, RoundChart):
            continue  # borders, rules, markers drawn by Textual's own widgets
        need = GRAPHIC if graphic else TEXT
        front, back = colours(style, fg, bg)
        value = ratio(front, back)
        if value < need - 0.01:
            key = (type(widget).__name__, f"{front}/{back}", round(value, 2))
            found.setdefault(key, f"{where}: {key[0]} {char!r} at ({x},{y}) {key[1]} "
                                  f"{value:.2f} < {need}")
    return list(found.values())


def _exempt(widget: Widget) -> bool:
    """Inactive parts: disabled footer keys, scrollbars, and what shows through behind a
    dialog (drawn faded on purpose; the dialog is what can be used)."""
    name = type(widget).__name__
    return (name.startswith("ScrollBar") or isinstance(widget, ModalScreen)
            or (name == "FooterKey" and widget.has_class("-disabled")))


def _hex(text: str) -> tuple[int, int, int]:
    from textual.color import Color

    c = Color.parse(text)
    return (c.r, c.g, c.b)


async def visit(pilot) -> list[str]:
    """The screens a presenter shows, each checked: the screen before a race with saved
    prompt edits marked, a finished three-mode race (an opened tool result, an error in one
    pane), step mode's pause, the summary, setup, the prompt editor and the history."""
    app = pilot.app
    screen = app.race_screen
    found: list[str] = []
    await until(pilot, lambda: screen.tasks and screen.saved_prompts is not None,
                "the task list")
    await pilot.pause(0.1)
    found += failures(app, "idle")  # the saved prompt edits' markers, before any run
    await pilot.press("p", "r")
    await until(pilot, lambda: any(p.status == "waiting" for p in screen.panes.values()),
                "a pause")
    await pilot.pause(0.1)
    found += failures(app, "paused")
    await pilot.press("p")
    await app.workers.wait_for_complete()
    await until(pilot, lambda: not screen.running, "the race")
    await until(pilot, lambda: not any(p.unfolding for p in screen.panes.values()), "unfold")
    screen.panes["tool_calling"].query(ToolResultView).first().action_open_close()
    await pilot.pause(0.1)
    found += failures(app, "race")
    for key, kind in (("v", SummaryScreen), ("s", SetupScreen), ("e", PromptEditorScreen),
                      ("h", HistoryScreen)):
        await pilot.press(key)
        await until(pilot, lambda k=kind: isinstance(app.screen, k), kind.__name__)
        await pilot.pause(0.1)
        found += failures(app, kind.__name__)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back")
    return found


@pytest.mark.parametrize("theme", THEMES)
async def test_every_text_on_screen_meets_wcag_aa_contrast(theme: str):
    backend = FakeBackend(error_mode="codeact_discovery")
    # Saved in an earlier session: every marker of edited prompts is on screen.
    backend.saved = PromptSet({"codeact_system": default_text("codeact_system") + "\nBe brief."},
                              task="Who leads Ada Lovelace's team?")
    app = ExplorerApp(RunChoice(pace=0, modes=MODE_IDS), backend=backend)
    async with app.run_test(size=(160, 45)) as pilot:
        app.theme = theme
        await pilot.pause()
        found = await visit(pilot)
    assert not found, "\n".join(found[:40])


def test_the_formula_matches_wcag_reference_values():
    assert round(ratio((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(ratio((118, 118, 118), (255, 255, 255)), 2) == 4.54  # #767676 on white
