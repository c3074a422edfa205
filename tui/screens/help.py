"""The help screen: what is on screen and which keys do what."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# CodeAct Explorer

Two agents get the same task on the same mock platform (120 tools):

* **Tool calling** (left) sends all 120 JSON tool schemas with *every* request and makes one
  call per round, so each request carries the schemas plus the whole history again.
* **CodeAct** (right) shows the tools once, as a typed Python API; the model writes a program,
  the program runs in a WebAssembly sandbox, and only what it prints comes back.

The meter counts every request's tokens with Mistral's tokenizer; the chart has one bar per
request, split by where the tokens came from. With no `MISTRAL_API_KEY` the agents are the
**scripted reference agent**: it shows the mechanics and the token economics, not a model's
intelligence.

| Key | Does |
|---|---|
| `r` | run the race (again) |
| `x` | stop both agents |
| `p` | step mode on/off: pause before every round |
| `n` | next round (in step mode) |
| `m` | mode: both / tool calling / CodeAct |
| `s` | setup: task, task file, mode, provider, model, pace |
| `e` | edit the prompts, save, rerun and compare |
| `h` | history: replay or export a past run |
| `f` | fold rounds older than the last three, or open them all (click a round to open it) |
| `ctrl+p` | command palette (every command, every task) |
| `ctrl+t` | change theme |
| `f1` | this help |
| `q` | quit |

Greyed keys in the footer do nothing right now (for instance *Next* outside step mode).
"""


class HelpScreen(ModalScreen[None]):
    """Keys and a short explanation of what is on screen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
