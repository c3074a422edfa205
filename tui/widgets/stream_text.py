"""Streamed assistant text whose cost per chunk does not grow with the reply, the line or the pane.

A reply is split at its code fences into pieces: prose, code, prose... Each piece is one
``StreamBlock``, a widget drawn with Textual's line API: it keeps its text wrapped into rows at
the current width and, when text arrives, re-wraps (and, for code, re-highlights) only the end
that can still change. So a chunk costs the same at the start of a 30 KB single-line code block as
at its end (before this, the unfinished line was re-highlighted and re-wrapped in full on every
batch: 54 s of CPU for such a block, measured with tests/perf/tui_perf.py --shape code-line).

- Prose wraps at word boundaries. Greedy wrapping never moves the break of a row that has a row
  after it, so every row but the last is final.
- Code is highlighted with Pygments and wraps at the width with a hanging indent (a continuation
  row starts four columns right of its line's own indent). The highlighting restarts only where
  the lexer is back in its root state: at the start of a line outside a string, or, inside a very
  long line, after a comma or a space outside a string; a line with no such place for
  ``FORCE_COMMIT`` characters (one giant string literal) is cut there anyway.
- Fences are recognised line by line; a line that may still become a fence is held back until it
  is complete, so a half-written ``\u0060\u0060\u0060`` never flashes up as code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import ClassVar

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound
from rich.cells import cell_len
from textual.content import Content, Span
from textual.geometry import Region, Size
from textual.highlight import highlight
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

OPENING_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([\w+.#-]*)[^`]*$")
# Code after the last restart point is highlighted again with every chunk; past LONG_LINE
# characters it is cut after a comma or a space, past FORCE_COMMIT anywhere (a giant string).
# Pygments lexes Python at about 100 KB/s here, so each chunk costs its own characters plus
# at most these.
LONG_LINE = 120
FORCE_COMMIT = 2_000
BREAK_AFTER = " ,;([{"  # a wrapped code row ends after one of these when it can
HANG = 4  # columns a wrapped code line's continuation rows start right of its indent


class CodeTheme:
    """Token styles for code, each a theme variable at full strength.

    Textual's default highlight theme draws comments and strings at 60-90% opacity, which falls
    under WCAG AA contrast (4.5:1) on several themes; ``$text-*`` colours are the theme's own
    legible variants of each colour (checked by tests/tui/test_tui_contrast.py).
    """

    STYLES: ClassVar[dict[_TokenType, str]] = {
        Token.Comment: "$text-muted italic",
        Token.Error: "$text-error",
        Token.Keyword: "$text-accent bold",
        Token.Keyword.Constant: "$text-success bold",
        Token.Keyword.Namespace: "$text-error",
        Token.Keyword.Type: "bold",
        Token.Literal.Number: "$text-warning",
        Token.Literal.String: "$text-success",
        Token.Literal.String.Doc: "$text-success italic",
        Token.Name: "$text-primary",
        Token.Name.Attribute: "$text-warning",
        Token.Name.Builtin: "$text-accent",
        Token.Name.Builtin.Pseudo: "italic",
        Token.Name.Class: "$text-warning bold",
        Token.Name.Constant: "$text-error",
        Token.Name.Decorator: "$text-primary bold",
        Token.Name.Function: "$text-warning underline",
        Token.Name.Function.Magic: "$text-warning underline",
        Token.Name.Tag: "$text-primary bold",
        Token.Name.Variable: "$text-secondary",
        Token.Operator: "bold",
        Token.Operator.Word: "bold $text-error",
        Token.Generic.Heading: "$text-primary underline",
        Token.Generic.Strong: "bold",
        Token.Generic.Emph: "italic",
        Token.Whitespace: "",
    }


@lru_cache(maxsize=32)
def _lexer(language: str) -> Lexer:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=False)


def warm_up() -> None:
    """Build the Python and JSON lexers now (call from a thread at start-up): the first
    Pygments lexer of a language compiles its regular expressions, 630 ms for Python here
    (measured at load 6 with tests/perf/tui_perf.py), which the first streamed program would
    otherwise spend on the UI's event loop."""
    _lexer("python")
    highlight("{}", language="json")


@lru_cache(maxsize=256)
def _token_style(token_type: _TokenType) -> str:
    styles = CodeTheme.STYLES
    kind: _TokenType | None = token_type
    while kind is not None:
        style = styles.get(kind)
        if style is not None:
            return style
        kind = kind.parent
    return ""


def style_code(code: str, language: str = "python") -> tuple[Content, int, int]:
    """Highlight ``code``; also where the lexer could restart on what follows.

    Returns (content, line_restart, soft_restart): the offset after the last newline outside a
    string, and after the last comma or space outside a string (0 when there is none). Inside
    an f-string's braces the lexer is not in its root state either, so those places are not
    offered. Cost grows with ``len(code)`` only.
    """
    spans: list[Span] = []
    line_restart = soft_restart = depth = 0
    interpol = Token.Literal.String.Interpol
    for start, token_type, value in _lexer(language or "python").get_tokens_unprocessed(code):
        end = start + len(value)
        style = _token_style(token_type)
        if style:
            spans.append(Span(start, end, style))
        if token_type in interpol:
            depth += value.count("{") - value.count("}")
        elif depth <= 0 and (token_type in Token.Text or token_type in Token.Punctuation):
            if value.endswith("\n"):
                line_restart = soft_restart = end
            elif value == "," or (value.isspace() and token_type in Token.Text):
                soft_restart = end
    return Content(code, spans), line_restart, soft_restart


def render_code(code: str, language: str = "python") -> Content:
    """Highlighted code, trailing newlines dropped."""
    return style_code(code.rstrip("\n"), language)[0]


def _cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _fold_at(text: str, start: int, width: int) -> int:
    """The end of the longest slice of ``text`` from ``start`` that fits ``width`` cells (>= 1
    character)."""
    end = min(len(text), start + width)
    if text.isascii():
        return max(end, start + 1)
    while end > start + 1 and cell_len(text[start:end]) > width:
        end -= 1
    return end


def wrap_prose(text: str, width: int) -> list[tuple[int, int]]:
    """Greedy word wrap of one line: (start, end) of each row (spaces stay at row ends).

    A word wider than the row is folded. Every row but the last is final: text appended later
    can only change the last row or add rows.
    """
    if width <= 0 or _cells(text) <= width:
        return [(0, len(text))]
    rows: list[tuple[int, int]] = []
    start = 0
    used = 0
    position = 0
    for match in re.finditer(r"\S*\s*", text):
        word_start, word_end = match.span()
        if word_start == word_end:
            break
        word = text[word_start:word_end]
        visible = _cells(word.rstrip())
        if used and used + visible > width:  # the word starts the next row
            rows.append((start, word_start))
            start, used = word_start, 0
        while visible > width:  # fold a word wider than a row
            cut = _fold_at(text, word_start, width)
            if used:
                rows.append((start, word_start))
            rows.append((word_start, cut))
            word_start = start = cut
            used = 0
            word = text[word_start:word_end]
            visible = _cells(word.rstrip())
        used += _cells(word)
        position = word_end
    rows.append((start, max(position, len(text))))
    return rows


def wrap_code(text: str, width: int, hang: int, continued: bool = False) -> list[tuple[int, int]]:
    """Hard wrap of one code line: (start, end) of each row.

    The first row is ``width`` cells wide, continuation rows ``width - hang`` (they are drawn
    behind ``hang`` spaces); with ``continued`` the first row is a continuation row too. A row
    ends after a space or punctuation mark in its second half when there is one.
    """
    if width <= 0:
        return [(0, len(text))]
    rows: list[tuple[int, int]] = []
    start = 0
    first = not continued
    while True:
        room = width if first else max(width - hang, 1)
        end = _fold_at(text, start, room)
        if end >= len(text):
            rows.append((start, len(text)))
            return rows
        # Break after a space or a punctuation mark in the row's second half, if there is one:
        # "item 2" stays on one row. The row's text alone decides, so a row with a row after
        # it never changes as text is appended.
        window = text[start + room // 2 : end]
        soft = window.rfind(", ") + 1  # after ", " first: between items, not inside one
        if soft <= 0:
            soft = max(window.rfind(c) for c in BREAK_AFTER)
        if soft >= 0:
            end = start + room // 2 + soft + 1
        rows.append((start, end))
        start, first = end, False


def code_hang(line: str, width: int) -> int:
    """Columns of a wrapped code line's continuation rows: its indent plus ``HANG``."""
    indent = len(line) - len(line.lstrip(" "))
    return max(0, min(indent + HANG, width // 2))


class StreamBlock(Widget):
    """One piece of a streamed reply (prose, or one fenced code block), appended to as it comes.

    ``language`` None is prose; anything else is code in that Pygments language. Cost of an
    ``append``: the new text, plus the row it lands in and (code) the part of its line after the
    last place the lexer could restart — never the whole block or line.
    """

    DEFAULT_CSS = """
    StreamBlock { height: auto; text-wrap: nowrap; text-overflow: clip; }
    """

    def __init__(self, language: str | None = None, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.language = language
        self.finished = False
        self._lines: list[Content] = []  # complete lines, final style
        self._open_pieces: list[Content] = []  # the open (last) line's committed text, in pieces
        self._live = ""  # code after the last restart point: highlighted again on every append
        self._live_styled = Content("")
        self._held_newlines = 0  # trailing newlines: drawn only once text follows them
        self._started = False
        # Rows at ``_width``: of the complete lines, the final ones of the open line, the rest.
        self._width = 0
        self._rows: list[Content] = []
        self._open_rows: list[Content] = []
        self._open_rest = Content("")  # committed text of the open line after ``_open_rows``
        self._open_hang = -1  # the open line's hanging indent, fixed with its first final row
        self._tail_rows: list[Content] = []
        self._strips: dict[int, Strip] = {}
        self._strip_key: object = None

    # -- text in ------------------------------------------------------------------------------

    def append(self, text: str) -> None:
        """Add streamed text (any chunk: part of a line, several lines)."""
        if not text or self.finished:
            return
        text = text.replace("\r\n", "\n").replace("\t", "    ")
        if not self._started:  # leading blank lines of a piece are not drawn
            text = text.lstrip("\n")
            if not text:
                return
            self._started = True
        stripped = text.rstrip("\n")
        held = len(text) - len(stripped)
        if not stripped:
            self._held_newlines += held
            return
        text = "\n" * self._held_newlines + stripped
        self._held_newlines = held
        stable_before = self._stable_count()
        if self.language is None:
            self._commit(Content(text))
        else:
            self._live += text
            self._restyle_live(final=False)
        self._update_tail(stable_before)

    def finish(self) -> None:
        """The piece is complete: style what is left for good."""
        if self.finished:
            return
        stable_before = self._stable_count()
        if self._live:
            self._restyle_live(final=True)
        self.finished = True
        self._update_tail(stable_before)

    @property
    def text(self) -> str:
        """The text drawn so far."""
        lines = [line.plain for line in self._lines]
        lines.append("".join(p.plain for p in self._open_pieces) + self._live_styled.plain)
        return "\n".join(lines)

    def _restyle_live(self, final: bool) -> None:
        styled, line_restart, soft_restart = style_code(self._live, self.language or "python")
        cut = len(self._live) if final else line_restart
        if not cut and len(self._live) > LONG_LINE:
            cut = soft_restart or (len(self._live) - 100 if len(self._live) > FORCE_COMMIT else 0)
        if cut:
            self._commit(styled[:cut])
            styled = styled[cut:]
            self._live = self._live[cut:]
        self._live_styled = styled

    def _commit(self, styled: Content) -> None:
        """Text whose style is final: complete lines go to ``_lines``, the rest opens a line."""
        pieces = styled.split("\n", allow_blank=True) if "\n" in styled.plain else [styled]
        for index, piece in enumerate(pieces):
            if index:
                self._close_line()
            if piece.plain:
                self._open_pieces.append(piece)
                if self._width:
                    self._open_rest = self._open_rest + piece
                    self._settle_open_rows()

    def _close_line(self) -> None:
        self._lines.append(Content("").join(self._open_pieces))
        if self._width:
            self._rows += self._open_rows + self._rest_rows(self._open_rest)
        self._open_pieces = []
        self._open_rows = []
        self._open_rest = Content("")
        self._open_hang = -1

    # -- rows ---------------------------------------------------------------------------------

    def _spans(self, text: str, continued: bool, hang: int) -> list[tuple[int, int]]:
        if self.language is None:
            return wrap_prose(text, self._width)
        return wrap_code(text, self._width, hang, continued)

    def _make_rows(self, text: Content, spans: list[tuple[int, int]], continued: bool,
                   hang: int) -> list[Content]:
        """The rows ``spans`` of ``text`` (contiguous, from its start), one pass over its styles."""
        pieces = text.divide([end for _, end in spans])[: len(spans)]
        if self.language is None:
            return [piece.rstrip() for piece in pieces]
        pad = Content(" " * hang)
        return [pad + piece if continued or i else piece for i, piece in enumerate(pieces)]

    def _wrap_line(self, text: Content, continued: bool = False, hang: int = -1) -> list[Content]:
        """Rows of one line (or of the end of one, after ``continued`` final rows)."""
        if hang < 0:
            hang = code_hang(text.plain, self._width)
        return self._make_rows(text, self._spans(text.plain, continued, hang), continued, hang)

    def _rest_rows(self, rest: Content) -> list[Content]:
        """Rows of the open line after its final rows (none if they hold all of it)."""
        if not rest.plain and self._open_rows:
            return []
        return self._wrap_line(rest, bool(self._open_rows), self._open_hang)

    def _settle_open_rows(self) -> None:
        """Move the open line's rows that can no longer change into ``_open_rows``."""
        rest = self._open_rest
        continued = bool(self._open_rows)
        if self._open_hang < 0:
            self._open_hang = code_hang(rest.plain, self._width)
        spans = self._spans(rest.plain, continued, self._open_hang)
        if len(spans) < 2:
            return
        *final, (last_start, _) = spans
        pieces = rest.divide([last_start])
        self._open_rows += self._make_rows(pieces[0], final, continued, self._open_hang)
        self._open_rest = pieces[1] if len(pieces) > 1 else Content("")

    def _rewrap(self, width: int) -> None:
        """Wrap everything again for a new width (once per resize)."""
        self._width = width
        self._rows = [row for line in self._lines for row in self._wrap_line(line)]
        self._open_rows, self._open_hang = [], -1
        self._open_rest = Content("").join(self._open_pieces)
        if self._open_rest.plain:
            self._settle_open_rows()
        self._tail_rows = self._compute_tail()
        self._strips.clear()

    def _compute_tail(self) -> list[Content]:
        """Rows after the final ones: the open line's last row(s) and the live (code) text."""
        live = self._live_styled
        if not live.plain:
            return self._rest_rows(self._open_rest) if self._open_rest.plain else []
        live_lines = live.split("\n", allow_blank=True) if "\n" in live.plain else [live]
        rows: list[Content] = []
        first = self._open_rest + live_lines[0]
        if first.plain or not self._open_rows:
            hang = self._open_hang if self._open_rows else -1
            rows += self._wrap_line(first, bool(self._open_rows), hang)
        for line in live_lines[1:]:
            rows += self._wrap_line(line)
        return rows

    def _stable_count(self) -> int:
        return len(self._rows) + len(self._open_rows)

    def _update_tail(self, stable_before: int) -> None:
        if not self._width:
            self.refresh(layout=True)
            return
        total_before = stable_before + len(self._tail_rows)
        self._tail_rows = self._compute_tail()
        total = self.row_count
        for y in [y for y in self._strips if y >= stable_before]:
            del self._strips[y]
        if total != total_before:
            self.refresh(layout=True)
        elif total > stable_before:
            self.refresh(Region(0, stable_before, self._width, total - stable_before))

    @property
    def row_count(self) -> int:
        """Rows the block takes at its current width."""
        return self._stable_count() + len(self._tail_rows)

    def _row(self, y: int) -> Content | None:
        if y < len(self._rows):
            return self._rows[y]
        y -= len(self._rows)
        if y < len(self._open_rows):
            return self._open_rows[y]
        y -= len(self._open_rows)
        return self._tail_rows[y] if y < len(self._tail_rows) else None

    # -- Textual ------------------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._width:
            self._rewrap(width)
        return self.row_count

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._width:
            self._rewrap(width)
        style = self.visual_style
        key = (width, style)
        if key != self._strip_key:
            self._strips.clear()
            self._strip_key = key
        strip = self._strips.get(y)
        if strip is None:
            row = self._row(y)
            if row is None:
                return Strip.blank(width, style.rich_style)
            strips = Visual.to_strips(self, row, width, 1, style, pad=True)
            strip = strips[0] if strips else Strip.blank(width, style.rich_style)
            self._strips[y] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a new theme: the same rows in new colours


class ReplyWriter:
    """Writes one assistant reply into a pane's stream as prose and code ``StreamBlock``s.

    ``mount`` appends a widget at the end of the stream (the pane passes its own). Pieces are
    only ever appended, so nothing waits for a mount.
    """

    def __init__(self, mount: Callable[[Widget], object]) -> None:
        self._mount = mount
        self._block: StreamBlock | None = None
        self._language: str | None = None  # inside a fence: its language
        self._fence = ""  # the opening fence's characters (a closing fence repeats them)
        self._line = ""  # the unfinished last line
        self._sent = 0  # characters of ``_line`` already given to the block
        self.streamed = ""  # the reply's first characters, to spot its program later
        self.text_length = 0

    def append(self, text: str) -> None:
        """Add streamed text."""
        if not text:
            return
        if len(self.streamed) < 20_000:  # enough to find the program; bounded on purpose
            self.streamed += text
        self.text_length += len(text)
        text = text.replace("\r\n", "\n")
        if "\n" not in text:
            self._line += text
        else:
            first, *middle, last = text.split("\n")
            self._end_line(self._line + first)
            for line in middle:
                self._end_line(line)
            self._line, self._sent = last, 0
        if not self._may_be_fence(self._line) and len(self._line) > self._sent:
            self._send(self._line[self._sent:])
            self._sent = len(self._line)

    def finish(self) -> None:
        """The reply is complete (or interrupted by a tool call)."""
        if self._line:
            if not self._is_closing(self._line):
                self._send(self._line[self._sent:])
            self._line, self._sent = "", 0
        if self._block is not None:
            self._block.finish()
        self._block = None
        self._language = None

    def _may_be_fence(self, line: str) -> bool:
        """The unfinished line could still turn into a fence line: hold it back."""
        if self._sent:
            return False
        body = line.lstrip(" ")
        if len(line) - len(body) > 3:
            return False
        if not body.rstrip():
            return True
        if self._language is not None:
            return set(body.rstrip()) == {self._fence[0]}
        return body[0] in "`~" and (len(body) < 3 or bool(OPENING_FENCE.match(body)))

    def _is_closing(self, line: str) -> bool:
        body = line.strip()
        return (self._language is not None and len(line) - len(line.lstrip(" ")) <= 3
                and len(body) >= len(self._fence) and set(body) == {self._fence[0]})

    def _end_line(self, line: str) -> None:
        sent, self._sent = self._sent, 0
        if not sent and self._language is None:
            match = OPENING_FENCE.match(line)
            if match:
                self._close_block()
                self._language = match.group(2) or "python"
                self._fence = match.group(1)
                return
        if not sent and self._is_closing(line):
            self._close_block()
            self._language = None
            return
        self._send(line[sent:] + "\n")

    def _close_block(self) -> None:
        if self._block is not None:
            self._block.finish()
        self._block = None

    def _send(self, text: str) -> None:
        if not text:
            return
        if self._block is None:
            if not text.strip():
                return  # blank text between pieces: no empty widget for it
            code = self._language is not None
            self._block = StreamBlock(self._language, classes="code" if code else "prose")
            self._mount(self._block)
        self._block.append(text)
