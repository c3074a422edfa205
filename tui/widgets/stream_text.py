"""Streamed assistant text that costs the same per chunk however long it grows.

Only the *tail* (the paragraph or fenced code block being written) is re-rendered when text
arrives; once a paragraph or a code block is complete it is frozen into its own ``Static`` and
never rendered again. Fenced code is highlighted with Pygments (``textual.highlight``) while it
streams, so the CodeAct program is readable before it runs.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.highlight import highlight
from textual.widgets import Static

FENCE = re.compile(r"^```[ \t]*([\w+-]*)[ \t]*$", re.MULTILINE)
PROSE_FREEZE_AT = 1200  # characters of unfinished prose before its complete lines are frozen
CODE_FREEZE_LINES = 60  # lines of an unfinished code block before its first lines are frozen


def render_code(code: str, language: str = "python") -> Content:
    """Highlighted code (Pygments through Textual's highlighter)."""
    return highlight(code.rstrip("\n"), language=language or "python")


class StreamingText(Vertical):
    """Append-only text of one assistant reply; complete blocks freeze, the tail re-renders."""

    DEFAULT_CSS = """
    StreamingText { height: auto; }
    StreamingText > Static { height: auto; }
    StreamingText > .code { background: $boost; padding: 0 1; margin: 0 0 0 0; }
    StreamingText > .tail-empty { display: none; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._tail = ""  # text not yet frozen; starts with a fence line when ``_language`` is set
        self._language: str | None = None  # language of the open fenced block, if any
        self._code_lines_frozen = 0
        self.text_length = 0
        self._tail_static = Static(Content(""), classes="tail tail-empty")

    def compose(self) -> ComposeResult:
        yield self._tail_static

    @property
    def text(self) -> str:
        """Everything appended so far is not kept whole (that is the point); this is the tail."""
        return self._tail

    async def append(self, text: str) -> None:
        """Add streamed text; renders only the unfinished tail."""
        if not text:
            return
        self.text_length += len(text)
        self._tail += text
        while await self._split_once():
            pass
        self._render_tail()

    async def finish(self) -> None:
        """The reply is complete: freeze whatever is left."""
        self._tail += "\n"  # completes a closing fence written without a final newline
        while await self._split_once():
            pass
        if self._tail.strip():
            await self._freeze(self._tail, self._language)
        self._tail = ""
        self._language = None
        self._render_tail()

    # -- splitting -----------------------------------------------------------------------------

    async def _split_once(self) -> bool:
        """Freeze one complete piece off the front of the tail; False when none is complete."""
        if self._language is None:
            match = FENCE.search(self._tail)
            if match and match.end() < len(self._tail):  # the fence line is complete
                before = self._tail[: match.start()]
                if before.strip():
                    await self._freeze(before, None)
                self._language = match.group(1) or "python"
                self._tail = self._tail[match.end() + 1 :]
                self._code_lines_frozen = 0
                return True
            if len(self._tail) > PROSE_FREEZE_AT and "```" not in self._tail:
                cut = self._tail.rfind("\n")
                if cut > 0:
                    await self._freeze(self._tail[: cut + 1], None)
                    self._tail = self._tail[cut + 1 :]
                    return True
            return False
        closing = re.search(r"^```[ \t]*$", self._tail, re.MULTILINE)
        if closing and closing.end() < len(self._tail):
            await self._freeze(self._tail[: closing.start()], self._language)
            self._tail = self._tail[closing.end() :].lstrip("\n")
            self._language = None
            return True
        if closing is None and self._tail.count("\n") > CODE_FREEZE_LINES:
            cut = _nth_newline(self._tail, CODE_FREEZE_LINES // 2)
            await self._freeze(self._tail[: cut + 1], self._language, continued=True)
            self._tail = self._tail[cut + 1 :]
            return True
        return False

    async def _freeze(self, text: str, language: str | None, continued: bool = False) -> None:
        if language is None:
            text = text.strip("\n")
            if not text.strip():
                return
            piece = Static(Content(text), classes="prose")
        else:
            piece = Static(render_code(text, language), classes="code")
            if continued:
                piece.add_class("continued")
        await self.mount(piece, before=self._tail_static)

    def _render_tail(self) -> None:
        tail = self._tail_static
        if self._language is not None:
            body = self._tail
            # A half-written closing fence is not code: keep it out of the highlighted block.
            if body.rstrip().endswith("`") and body.rstrip().split("\n")[-1].strip("`") == "":
                body = body[: body.rstrip().rfind("\n") + 1]
            tail.update(render_code(body, self._language))
            tail.set_class(True, "code")
            tail.set_class(not body.strip(), "tail-empty")
        else:
            shown = self._tail.strip("\n")
            tail.update(Content(shown))
            tail.set_class(False, "code")
            tail.set_class(not shown.strip(), "tail-empty")


def _nth_newline(text: str, n: int) -> int:
    index = -1
    for _ in range(n):
        index = text.index("\n", index + 1)
    return index
