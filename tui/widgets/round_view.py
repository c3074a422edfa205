"""One round of one agent: its header, the streamed reply, and what the reply caused.

Every piece is built from an ``engine.events`` object; nothing here talks to the engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.highlight import highlight
from textual.widget import Widget
from textual.widgets import Static

from engine.events import CodeBlock, ExecutionResult, RunError, ToolCall, ToolResult
from tui.widgets.stream_text import ReplyWriter, StreamBlock

PREVIEW_CHARS = 70  # of a tool result, in its one-line collapsed title
EXPANDED_CHARS = 4000  # of a tool result when expanded; the rest is counted, not drawn


def fmt_tokens(count: int) -> str:
    return f"{count:,}"


def shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def pretty_json(value: Any) -> str:
    """Indented JSON of a value, or of a JSON text (anything else is returned as it is)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)


class RoundHeader(Static):
    """ "Round n · in 13,402 · out 96" — the numbers fill in when the round's usage arrives.

    A folded round shows only this line, with a summary of what the round did; a click
    unfolds it (or folds it again).
    """

    def __init__(self, number: int, input_tokens: int) -> None:
        super().__init__(classes="round-header")
        self.number = number
        self.input_tokens = input_tokens
        self.output_tokens: int | None = None  # None until the round's usage arrives
        self.model_ms: float | None = None
        self.note = ""
        self.folded = False
        self.summary = ""
        self._draw()

    def on_click(self) -> None:
        box = self.parent
        if isinstance(box, RoundBox):
            box.fold(not self.folded, by_user=True)

    def set_folded(self, folded: bool, summary: str) -> None:
        self.folded, self.summary = folded, summary
        self._draw()

    def set_usage(self, input_tokens: int, output_tokens: int,
                  model_ms: float | None = None) -> None:
        """The round's counts (tokens) and the model's time for it (ms), once it replied."""
        self.input_tokens, self.output_tokens = input_tokens, output_tokens
        self.model_ms = model_ms
        self._draw()

    def set_note(self, note: str) -> None:
        self.note = note
        self._draw()

    def _draw(self) -> None:
        parts: list[tuple[str, str] | str] = [
            (f" Round {self.number} ", "bold reverse"),
            "  in ",
            (fmt_tokens(self.input_tokens), "bold"),
        ]
        if self.output_tokens is not None:
            parts += ["  out ", (fmt_tokens(self.output_tokens), "bold")]
        if self.model_ms:
            parts += [(f"  · {self.model_ms / 1000:.1f} s", "$text-muted")]
        if self.note:
            parts += [(f"  {self.note}", "$text-warning")]
        if self.folded:
            parts = [("▸", "$text-accent"), *parts, ("  " + self.summary, "$text-muted")]
        self.update(Content.assemble(*parts), layout=False)


class ToolCallView(Static):
    """A tool call: its name and its arguments as highlighted JSON."""

    def __init__(self, event: ToolCall) -> None:
        args = event.arguments
        if isinstance(args, dict):
            body = json.dumps(args, ensure_ascii=False)
            if len(body) > 60:
                body = json.dumps(args, indent=2, ensure_ascii=False)
            rendered = highlight(body, language="json")
        else:  # the model sent text that is not JSON: show it as it came, flagged
            rendered = Content.assemble(("invalid JSON: ", "$text-error"), args)
        super().__init__(
            Content.assemble(("→ ", "$text-accent bold"), (event.name, "bold $text-accent"), " ",
                             rendered),
            classes="tool-call",
        )


class ToolResultView(Static, can_focus=True):
    """A tool result, one line until expanded (results are what makes tool calling grow).

    One widget, not a ``Collapsible`` (four): a tool-calling pane holds one per round, and the
    highlighted body is only built when someone opens it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "open_close", "Open/close", show=False)
    ]

    def __init__(self, event: ToolResult) -> None:
        super().__init__(classes="tool-result" if event.ok else "tool-result -error")
        mark = ("← ok", "$text-success") if event.ok else ("← error", "$text-error bold")
        tokens = f" · {fmt_tokens(event.tokens)} tok" if event.tokens else ""
        self.title = Content.assemble(
            mark, (f" {event.name}{tokens} ", "$text-muted"), shorten(event.content, PREVIEW_CHARS)
        )
        self.content_text = event.content
        self.expanded = False
        self._body: Content | None = None
        self._draw()

    def _draw(self) -> None:
        if not self.expanded:
            self.update(Content.assemble(("▶ ", "$text-muted"), self.title))
            return
        if self._body is None:
            text = pretty_json(self.content_text)
            hidden = len(text) - EXPANDED_CHARS
            self._body = highlight(text[:EXPANDED_CHARS], language="json")
            if hidden > 0:
                self._body = Content.assemble(
                    self._body, (f"\n… {hidden:,} more characters", "$text-muted italic"))
        self.update(Content.assemble(("▼ ", "$text-muted"), self.title, "\n", self._body))

    def action_open_close(self) -> None:
        self.expanded = not self.expanded
        self.set_class(self.expanded, "-expanded")
        self._draw()

    def on_click(self) -> None:
        self.action_open_close()


class CodeView(Vertical):
    """The program taken from a CodeAct reply; compact when the streamed reply already shows it.

    Shown in full (a reply whose program was not in a fence the pane recognised), it wraps with
    the same hanging indent as streamed code.
    """

    DEFAULT_CSS = """
    CodeView { height: auto; }
    """

    def __init__(self, event: CodeBlock, shown_above: bool) -> None:
        super().__init__(classes="code-note" if shown_above else "code-block")
        self.code = event.code
        self.shown_above = shown_above

    def compose(self) -> ComposeResult:
        lines = self.code.count("\n") + 1
        if self.shown_above:
            yield Static(Content.assemble(
                ("▶ ", "$text-accent bold"), (f"running this {lines}-line program in the sandbox",
                                         "$text-muted")))
            return
        yield Static(Content.styled("▶ program", "$text-accent bold"))
        block = StreamBlock("python", classes="code")
        block.append(self.code.rstrip("\n"))
        block.finish()
        yield block


class ExecutionView(Static):
    """What the sandbox printed, or its error, and any limit it hit."""

    def __init__(self, event: ExecutionResult) -> None:
        parts: list[Content | tuple[str, str] | str] = []
        calls = (f" · {event.host_calls} API call{'' if event.host_calls == 1 else 's'}"
                 if event.host_calls else "")
        tokens = f" · {fmt_tokens(event.tokens)} tok" if event.tokens else ""
        head_style = "$text-error bold" if event.error or event.limit else "$text-success"
        head = "✗ error" if event.error else "✓ output"
        parts.append((f"{head}{calls}{tokens} · {event.wall_ms:.0f} ms\n", head_style))
        if event.limit:
            parts.append((f"limit hit: {event.limit}", "$text-warning bold"))
            parts.append(" — earlier state lost\n" if event.state_lost else "\n")
        output = event.output.rstrip("\n")
        if len(output) > EXPANDED_CHARS:
            output = output[:EXPANDED_CHARS] + f"\n… {len(event.output) - EXPANDED_CHARS:,} more"
        if output:
            parts.append(output)
        if event.error:
            parts.append(("\n" if output else "") + event.error.rstrip("\n"))
        if not output and not event.error:
            parts.append(("(nothing was printed)", "$text-muted italic"))
        super().__init__(Content.assemble(*parts), classes="execution")
        if event.error or event.limit:
            self.add_class("-error")


class ErrorView(Static):
    """An error of the run, in the sentence the engine wrote for the user."""

    def __init__(self, event: RunError) -> None:
        label = "error" if event.fatal else event.kind.replace("_", " ")
        super().__init__(
            Content.assemble((f"⚠ {label}: ", "$text-error bold"), event.message),
            classes="run-error",
        )


class RoundBox(Vertical):
    """The container of one round's pieces (no compose: pieces are appended as they come).

    Folded, only its header shows: the compositor then skips the round's pieces entirely, so
    a long run costs no more to lay out than its last few rounds.
    """

    DEFAULT_CSS = """
    RoundBox { height: auto; }
    RoundBox > * { height: auto; }
    RoundBox.-folded > * { display: none; }
    RoundBox.-folded > RoundHeader { display: block; }
    """
    # No border, background or content of its own: the compositor draws blank lines instead of
    # rendering it line by line, each time the pane scrolls or the round grows.
    BLANK = True

    def __init__(self, header: RoundHeader, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.header = header
        self.user_choice: bool | None = None  # a fold state the user clicked keeps priority
        self.summary = ""

    def fold(self, folded: bool, *, by_user: bool = False) -> None:
        if by_user:
            self.user_choice = folded
        elif self.user_choice is not None:
            return
        if folded != self.has_class("-folded"):
            self.set_class(folded, "-folded")
            self.header.set_folded(folded, self.summary)


class RoundState:
    """One round in a pane: its container, header, and the writer of its streamed reply.

    The container is mounted into the pane's stream, then every piece is appended into it in
    the order it happens: appending (never inserting before a sibling, never composing) keeps
    the order without waiting for any mount. One container per round also keeps layout cheap:
    a finished round off screen is one box to the compositor, not dozens of widgets.
    """

    def __init__(self, number: int, input_tokens: int,
                 mount: Callable[[Widget, Widget | None], object]) -> None:
        self.number = number
        self.header = RoundHeader(number, input_tokens)
        self.box = box = RoundBox(self.header, classes="round")
        mount(box, None)

        def mount_in_box(widget: Widget) -> None:
            mount(widget, box)

        # Not a method of self: the writer would hold this state and the state the writer,
        # a cycle only the garbage collector frees (the app freezes instead, tui.gc_policy).
        self._mount = mount_in_box
        self.reply = ReplyWriter(mount_in_box)
        self._mount(self.header)
        self.actions: list[str] = []  # what the round did, for its folded summary

    def append_text(self, text: str) -> None:
        self.reply.append(text)

    def add(self, widget: Widget, action: str = "") -> None:
        self.reply.finish()
        self._mount(widget)
        if action:
            self.actions.append(action)
            self.box.summary = summarize(self.actions)

    def fold(self, folded: bool) -> None:
        self.box.fold(folded)

    def code_was_streamed(self, code: str) -> bool:
        return bool(code.strip()) and code.strip()[:200] in self.reply.streamed


def summarize(actions: list[str], limit: int = 60) -> str:
    """ "users_search ✓, teams_get ✓" — what a folded round did, in one short line."""
    text = ", ".join(actions)
    return text if len(text) <= limit else text[: limit - 1] + "…"
