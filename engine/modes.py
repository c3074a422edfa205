"""The mode registry: every way an agent can work a task, defined once.

A mode is a ``ModeSpec``: its id, its labels, the agent class that plays it, the system prompt
it sends (a file of ``engine/prompts``), whether it needs the sandbox, how it shows the tools to
the model, and its colour. Every consumer — the race controller, the bench (table, JSON, CSV,
Markdown, breakdown), the run records and export, history, the prompt editor, the panes, the
meter and the chart — iterates ``MODES``; none names a mode. Savings are computed for each mode
against ``BASELINE`` (tool calling, as in the article).

Modes (ids are stable; they appear in run records, ``bench --modes`` and JSON):

- ``tool_calling``: every tool schema sent every round, one round trip per call (the baseline).
- ``codeact``: the tools shown once as a typed Python API; the model writes programs that run in
  the WASM sandbox (Wang et al., "Executable Code Actions Elicit Better LLM Agents", ICML 2024).
- ``codeact_discovery``: CodeAct with progressive disclosure: the system prompt carries no API
  listing, only how to find functions inside the sandbox (``search_api(query)``,
  ``help(api.<name>)``), the pattern of MCP code-mode systems (Anthropic, "Code execution with
  MCP", 2025; Cloudflare, "Code Mode", 2025).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from engine.agents.codeact import CodeActAgent
from engine.agents.common import Agent
from engine.agents.tool_calling import ToolCallingAgent
from engine.errors import ExplorerError
from engine.prompts import API_PLACEHOLDER

ToolView = Literal["schemas", "python_api", "discovery"]


@dataclass(frozen=True)
class ModeSpec:
    """One mode. ``tool_view`` says how the tools reach the model:

    - ``"schemas"``: function-calling schemas in every request (``Toolbox.function_schemas``);
    - ``"python_api"``: the Python API text once, in the system prompt (``{api}``);
    - ``"discovery"``: no listing; a one-line summary (``{summary}``) and discovery helpers.
    """

    id: str
    label: str
    short_label: str
    description: str
    agent: type[Agent]
    prompt: str  # the prompt name: engine/prompts/<prompt>.md
    tool_view: ToolView
    colour: str  # hex, for panes, the meter and the chart
    needs_sandbox: bool = False
    baseline: bool = False

    @property
    def writes_code(self) -> bool:
        """True when the model acts by writing programs (the sandbox runs them)."""
        return self.needs_sandbox

    @property
    def discovers_tools(self) -> bool:
        """True when the model must find the functions it needs inside the sandbox."""
        return self.tool_view == "discovery"

    @property
    def tools_placeholder(self) -> str | None:
        """The placeholder its system prompt must keep for the model to be shown the tools
        (``{api}`` for the Python API), or None when the tools travel outside the prompt."""
        return API_PLACEHOLDER if self.tool_view == "python_api" else None


MODES: tuple[ModeSpec, ...] = (
    ModeSpec(
        id="tool_calling", label="Tool calling", short_label="Tools",
        description="every tool schema sent every round, one round trip per call",
        agent=ToolCallingAgent, prompt="tool_calling_system", tool_view="schemas",
        colour="#e07a2f", baseline=True,
    ),
    ModeSpec(
        id="codeact", label="CodeAct", short_label="CodeAct",
        description="the tools shown once as a Python API; the model writes programs",
        agent=CodeActAgent, prompt="codeact_system", tool_view="python_api",
        colour="#2f9e6e", needs_sandbox=True,
    ),
    ModeSpec(
        id="codeact_discovery", label="CodeAct + discovery", short_label="Discovery",
        description="no API listing: the model finds the functions it needs, then writes code",
        agent=CodeActAgent, prompt="codeact_discovery_system", tool_view="discovery",
        colour="#5b6ee1", needs_sandbox=True,
    ),
)
MODE_IDS: tuple[str, ...] = tuple(m.id for m in MODES)
BASELINE: ModeSpec = next(m for m in MODES if m.baseline)
DEFAULT_RACE: tuple[str, ...] = ("tool_calling", "codeact")  # the article's two modes
_BY_ID = {m.id: m for m in MODES}


class UnknownModeError(ExplorerError, ValueError):
    """A mode id that is not in the registry; the message lists the valid ids."""

    kind = "usage"


def mode(mode_id: str) -> ModeSpec:
    """The registered mode ``mode_id``; raises ``UnknownModeError`` naming the valid ids."""
    try:
        return _BY_ID[mode_id]
    except KeyError:
        raise UnknownModeError(
            f"Unknown mode {mode_id!r}; use one of {', '.join(MODE_IDS)}.") from None


def parse_modes(text: str) -> tuple[str, ...]:
    """``"tool_calling,codeact"`` -> ids in registry order, deduplicated; ``"all"`` -> every mode.

    Raises ``UnknownModeError`` for an unknown id or an empty list.
    """
    words = [w.strip() for w in text.split(",") if w.strip()]
    if [w.lower() for w in words] == ["all"]:
        return MODE_IDS
    if not words:
        raise UnknownModeError(f"No mode given; use one or more of {', '.join(MODE_IDS)}.")
    wanted = {mode(w).id for w in words}
    return tuple(m for m in MODE_IDS if m in wanted)


def in_registry_order(mode_ids: Iterable[str]) -> tuple[str, ...]:
    """``mode_ids`` in registry order, each once; ids no longer registered (an old recording)
    follow in the order given."""
    given = list(dict.fromkeys(mode_ids))
    return tuple(m for m in MODE_IDS if m in given) + tuple(m for m in given if m not in _BY_ID)


def label(mode_id: str) -> str:
    """The display label of a mode id (the id itself if it is not registered, e.g. an old
    recording)."""
    spec = _BY_ID.get(mode_id)
    return spec.label if spec else mode_id
