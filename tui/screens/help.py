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

The same task, raced by agents that use the same tools in different ways (pick them with `m`
or in setup):

* **Tool calling** sends every JSON tool schema with *every* request and makes one call per
  round, so each request carries the schemas plus the whole history again.
* **CodeAct** shows the tools once, as a typed Python API; the model writes a program, the
  program runs in a WebAssembly sandbox, and only what it prints comes back.
* **CodeAct + discovery** lists no API at all: the model finds the functions it needs with
  `search_api(query)` and `help(api.<name>)` inside the sandbox, then writes its program.

The meter counts every request's tokens with Mistral's tokenizer; the chart has one bar per
request, split by where the tokens came from, and the input so far per mode. Savings are
against tool calling, and only when both runs succeeded. With no `MISTRAL_API_KEY` the agents
are the **scripted reference agent**: it shows the mechanics and the token economics, not a
model's intelligence, and it does not read prompts.

| Key | Does |
|---|---|
| `r` | run the race (again) |
| `x` | stop every agent (also while the race is still starting) |
| `p` / `n` | step mode on/off / advance every agent one round |
| `m` | modes: tool calling vs CodeAct, all three, tool calling vs discovery, each alone |
| `s` | setup: task, your own task file, the modes that race, provider, model, pace |
| `e` | prompt editor: each raced mode's system prompt and the task prompt; save, reset, rerun |
| `h` | history: replay a past run into the panes, export it (to a folder you choose) |
| `v` | the race summary: tokens, savings, rounds, time and cost per mode |
| `f` | fold every round but the latest, or open them all (click a round to open it) |
| `c` | save an SVG screenshot of the screen in the export folder (the path is shown) |
| `ctrl+t` | switch the theme |
| `q` | quit |
| `ctrl+p` | command palette (every command, every task) |
| `f1` | this help |

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
