"""Streamed assistant text that costs the same per chunk however long the pane grows.

Only the *tail* (the paragraph or fenced code block being written) is re-rendered when text
arrives. Once a paragraph or a code block is complete, its ``Static`` is left as it is and a new
tail is started after it. Every widget is appended at the end of the pane's stream, never
inserted before another, so nothing has to wait for a mount to finish. Fenced code is
highlighted with Pygments (``textual.highlight``) while it streams, so the CodeAct program is
readable before it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from textual.content import Content
from textual.highlight import highlight
from textual.widget import Widget
from textual.widgets import Static

FENCE = re.compile(r"^```[ \t]*([\w+-]*)[ \t]*$", re.MULTILINE)
CLOSING_FENCE = re.compile(r"^```[ \t]*$", re.MULTILINE)
PROSE_FREEZE_AT = 1200  # characters of unfinished prose before its complete lines are frozen
CODE_FREEZE_LINES = 60  # lines of an unfinished code block before its first lines are frozen


def render_code(code: str, language: str = "python") -> Content:
    """Highlighted code (Pygments through Textual's highlighter)."""
    return highlight(code.rstrip("\n"), language=language or "python")


class ReplyWriter:
    """Writes one assistant reply into a pane's stream as append-only ``Static`` pieces.

    ``mount`` appends a widget at the end of the stream (the pane passes its own).
    """

    def __init__(self, mount: Callable[[Widget], object]) -> None:
        self._mount = mount
        self._tail = ""  # text not yet frozen (inside a fenced block when ``_language`` is set)
        self._language: str | None = None
        self._static: Static | None = None  # the widget showing the tail, once there is one
        self._static_code = False
        self._static_height = -1  # wrapped height of the tail's widget at its last update
        self.streamed = ""  # the reply's first characters, to spot its program later
        self.text_length = 0

    def append(self, text: str) -> None:
        """Add streamed text; renders only the unfinished tail."""
        if not text:
            return
        if len(self.streamed) < 20_000:  # enough to find the program; bounded on purpose
            self.streamed += text
        self.text_length += len(text)
        self._tail += text
        while self._split_once():
            pass
        self._render_tail()

    def finish(self) -> None:
        """The reply is complete (or interrupted by a tool call): freeze what is left."""
        self._tail += "\n"  # completes a closing fence written without a final newline
        while self._split_once():
            pass
        if self._tail.strip():
            self._freeze(self._tail, self._language)
        self._tail = ""
        self._language = None

    def _split_once(self) -> bool:
        """Freeze one complete piece off the front of the tail; False when none is complete."""
        if self._language is None:
            match = FENCE.search(self._tail)
            if match and match.end() < len(self._tail):  # the fence line is complete
                before = self._tail[: match.start()]
                if before.strip():
                    self._freeze(before, None)
                self._language = match.group(1) or "python"
                self._tail = self._tail[match.end() + 1 :]
                return True
            if len(self._tail) > PROSE_FREEZE_AT and "```" not in self._tail:
                cut = self._tail.rfind("\n")
                if cut > 0:
                    self._freeze(self._tail[: cut + 1], None)
                    self._tail = self._tail[cut + 1 :]
                    return True
            return False
        closing = CLOSING_FENCE.search(self._tail)
        if closing and closing.end() < len(self._tail):
            self._freeze(self._tail[: closing.start()], self._language)
            self._tail = self._tail[closing.end() :].lstrip("\n")
            self._language = None
            return True
        if closing is None and self._tail.count("\n") > CODE_FREEZE_LINES:
            cut = _nth_newline(self._tail, CODE_FREEZE_LINES // 2)
            self._freeze(self._tail[: cut + 1], self._language)
            self._tail = self._tail[cut + 1 :]
            return True
        return False

    def _show(self, content: Content, code: bool) -> None:
        """Put ``content`` in the tail's widget, making one at the end of the stream if needed."""
        if self._static is None or self._static_code != code:
            self._static = Static(content, classes="code" if code else "prose")
            self._static_code = code
            self._static_height = -1
            self._mount(self._static)
            return
        # A new layout (of the whole screen) is only needed when the tail gains a line; most
        # chunks just extend the last line, and then a repaint of this widget is enough.
        width = self._static.content_region.width
        height = content.get_height(self._static.styles, width) if width else -1
        self._static.update(content, layout=height < 0 or height != self._static_height)
        self._static_height = height

    def _freeze(self, text: str, language: str | None) -> None:
        if language is None:
            text = text.strip("\n")
            if not text.strip():
                if self._static is not None and not self._static_code:
                    self._static.display = False  # a tail that turned out to be blank lines
                    self._static = None
                return
            self._show(Content(text), code=False)
        else:
            self._show(render_code(text, language), code=True)
        self._static = None  # the next text starts a new piece after this one

    def _render_tail(self) -> None:
        if self._language is not None:
            body = self._tail
            # A half-written closing fence is not code: keep it out of the highlighted block.
            if body.rstrip().endswith("`") and body.rstrip().split("\n")[-1].strip("`") == "":
                body = body[: body.rstrip().rfind("\n") + 1]
            if body.strip() or self._static is not None:
                self._show(render_code(body, self._language), code=True)
        else:
            shown = self._tail.strip("\n")
            if shown.strip() or self._static is not None:
                self._show(Content(shown), code=False)


def _nth_newline(text: str, n: int) -> int:
    index = -1
    for _ in range(n):
        index = text.index("\n", index + 1)
    return index
