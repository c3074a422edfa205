"""What a tool list costs in each mode, in Tekken tokens, before any task is run.

For one tool source (a tools file, or a live MCP server's ``tools/list``) ``analyse()`` counts:

- per tool: its function schema (what tool calling resends every round) and its Python
  function (what CodeAct shows once in its system prompt, which is also resent every round);
- in total: the ``[AVAILABLE_TOOLS]`` block of all schemas, the whole Python API text, and the
  discovery prompt's one-line summary (it lists no API at all: the guest finds functions with
  ``search_api(query)`` and ``help(api.<name>)``);
- per mode of ``engine.modes.MODES``, by how the mode shows the tools (``ModeSpec.tool_view``):
  the fixed part of every request (its default system prompt + the tool definitions), the
  schema tax (tool-definition tokens per round) and the fixed input over N rounds.

The projection counts only what every request repeats; the conversation (task, results,
programs) depends on the task and comes on top, in every mode. Counts come from
``engine.tokens`` (mistral-common's Tekken tokenizer, as a chat request lays tools out).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.modes import MODES, ModeSpec
from engine.prompts import PromptSet
from engine.render_python import (
    ToolDef,
    function_schema,
    guest_functions,
    python_api_text,
    render_function,
)
from engine.tokens import TOKENIZER_NAME, count_text, count_tools
from engine.toolbox import api_summary

SCHEMA_ID = "codeact-explorer/tools-analyze/1"


@dataclass
class ToolFigures:
    """One tool: its names, its tokens as a function schema and as Python, its problems."""

    name: str
    function_name: str
    schema_tokens: int
    python_tokens: int
    problems: list[str] = field(default_factory=list)


@dataclass
class ModeFigures:
    """The fixed part of every request in one mode: system prompt and tool definitions."""

    mode: str
    label: str
    system_tokens: int  # the default system prompt without the tools
    tool_tokens: int  # tool definitions sent each round (the schema tax)

    @property
    def per_round(self) -> int:
        return self.system_tokens + self.tool_tokens


@dataclass
class Analysis:
    """The whole analysis of one tool source (see the module docstring)."""

    source: str
    tools: list[ToolFigures]
    skipped: list[str]
    schema_tokens: int  # the [AVAILABLE_TOOLS] block of all schemas
    python_tokens: int  # the whole Python API text
    modes: list[ModeFigures]
    rounds: int

    def projected(self, mode: ModeFigures) -> int:
        """Fixed input tokens of ``rounds`` requests in ``mode`` (history not included)."""
        return mode.per_round * self.rounds

    def largest(self, count: int = 5) -> list[ToolFigures]:
        """The tools with the largest schemas, largest first."""
        return sorted(self.tools, key=lambda t: (-t.schema_tokens, t.name))[:count]

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON document (``SCHEMA_ID``)."""
        return {
            "schema": SCHEMA_ID,
            "tokenizer": TOKENIZER_NAME,
            "source": self.source,
            "tool_count": len(self.tools),
            "skipped": list(self.skipped),
            "totals": {"function_schemas": self.schema_tokens, "python_api": self.python_tokens},
            "rounds": self.rounds,
            "modes": [{**asdict(m), "per_round": m.per_round, "projected": self.projected(m)}
                      for m in self.modes],
            "tools": [asdict(t) for t in self.tools],
            "largest": [t.name for t in self.largest()],
        }


def _mode_figures(mode: ModeSpec, prompts: PromptSet, schema_total: int, api_total: int,
                  summary: str) -> ModeFigures:
    """The fixed part of ``mode``'s requests: its prompt, and the tools as the mode shows them."""
    system = count_text(prompts.system_prompt(mode.prompt, api="", summary="", about=""))
    tools = {"schemas": schema_total, "python_api": api_total,
             "discovery": count_text(summary)}[mode.tool_view]
    return ModeFigures(mode.id, f"{mode.label} ({_VIEWS[mode.tool_view]})", system, tools)


_VIEWS = {"schemas": "function schemas", "python_api": "Python API in the system prompt",
          "discovery": "no API listed, a one-line summary"}


def analyse(tools: list[ToolDef], source: str, *, rounds: int = 10,
            skipped: list[str] | None = None) -> Analysis:
    """Count everything for ``tools`` (prepared ``ToolDef``s) from ``source``."""
    schemas = [function_schema(t) for t in tools]
    figures = [ToolFigures(t.name, t.function_name, count_tools([s]) - 2,
                           count_text(render_function(t).text), list(t.problems))
               for t, s in zip(tools, schemas, strict=True)]
    schema_total = count_tools(schemas)
    api_total = count_text(python_api_text(tools, source).strip())
    summary = api_summary(guest_functions(tools))
    prompts = PromptSet.defaults()
    modes = [_mode_figures(m, prompts, schema_total, api_total, summary) for m in MODES]
    return Analysis(source, figures, list(skipped or []), schema_total, api_total, modes, rounds)


# -- rendering ----------------------------------------------------------------------------------
def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _grid(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                  for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = [f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths)]
    return "\n".join("  ".join(f.format(c) for f, c in zip(fmt, row, strict=True)).rstrip()
                     for row in [header, *rows])


def render(analysis: Analysis, fmt: str) -> str:
    """The analysis as ``table`` (aligned text), ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False) + "\n"
    md = fmt == "markdown"
    h = "### " if md else ""
    out = [f"{'## ' if md else ''}Tool source: {analysis.source} — {len(analysis.tools)} tools"
           + (f", {len(analysis.skipped)} skipped" if analysis.skipped else "")]
    rows = [[t.name, _n(t.schema_tokens), _n(t.python_tokens),
             f"{1 - t.python_tokens / t.schema_tokens:.0%}" if t.schema_tokens else "-"]
            for t in analysis.tools]
    rows.append(["TOTAL (as sent)", _n(analysis.schema_tokens), _n(analysis.python_tokens),
                 f"{1 - analysis.python_tokens / analysis.schema_tokens:.0%}"
                 if analysis.schema_tokens else "-"])
    out += [f"{h}Per tool: Tekken tokens as a function schema and as a Python function",
            _grid(["TOOL", "SCHEMA", "PYTHON", "SMALLER"], rows, md)]
    mode_rows = [[m.label, _n(m.system_tokens), _n(m.tool_tokens), _n(m.per_round),
                  _n(analysis.projected(m))] for m in analysis.modes]
    out += [f"{h}Every request, per mode (schema tax = tool definitions resent each round)",
            _grid(["MODE", "SYSTEM PROMPT", "SCHEMA TAX", "PER ROUND",
                   f"OVER {analysis.rounds} ROUNDS"], mode_rows, md)]
    largest = [[t.name, _n(t.schema_tokens), _n(t.python_tokens)] for t in analysis.largest()]
    out += [f"{h}Largest tools", _grid(["TOOL", "SCHEMA", "PYTHON"], largest, md)]
    problems = [f"{t.name}: {p}" for t in analysis.tools for p in t.problems]
    if problems or analysis.skipped:
        out += [f"{h}Problems", "\n".join(f"- {p}" for p in [*analysis.skipped, *problems])]
    notes = [f"Tokens: Mistral's Tekken tokenizer ({TOKENIZER_NAME}); schemas as a chat request "
             "lays them out ([AVAILABLE_TOOLS]). The projection counts only what every request "
             "repeats (system prompt and tool definitions); the conversation comes on top in "
             "every mode."]
    out.append("\n".join(notes))
    return "\n\n".join(out) + "\n"
