"""Static tool lists: a file of tool definitions read into ``ToolDef``s, and a toolbox over them.

Accepted shapes (JSON), recognised by their content, not the file name:

- an MCP ``tools/list`` result: ``{"tools": [{"name", "description", "inputSchema",
  "outputSchema"?}, ...]}``, also inside a JSON-RPC response (``{"result": {"tools": ...}}``)
  or as a bare list of such tools;
- an OpenAI or Mistral function-calling ``tools`` list: ``[{"type": "function", "function":
  {"name", "description", "parameters"}}, ...]``, bare or as ``{"tools": [...]}``.

A file that is not JSON, or has no tools in any of these shapes, raises ``ToolListError`` (one
sentence naming the file). A single entry that cannot be used (no name, a schema that is not an
object) is skipped with one sentence in ``ToolList.skipped``; the rest are still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ExplorerError
from engine.render_python import (
    ToolDef,
    arguments_for,
    function_schema,
    guest_functions,
    prepare,
    python_api_text,
)
from engine.toolbox import GuestFunction, ToolOutcome, Verdict
from tasks.suite import Task


class ToolListError(ExplorerError):
    """A tools file that cannot be read at all; the message is one sentence naming it."""


@dataclass
class ToolList:
    """The tools of one source, ready for rendering (``prepare`` has run).

    ``skipped``: one sentence per entry that could not be used. ``label``: where they came from.
    """

    tools: list[ToolDef]
    label: str
    skipped: list[str] = field(default_factory=list)


def _entries(doc: Any) -> tuple[list[Any], str] | None:
    """The list of tool entries in a document and its shape ("mcp" or "function"), or None."""
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        doc = doc["result"]  # a JSON-RPC response around a tools/list result
    if isinstance(doc, dict) and isinstance(doc.get("tools"), list):
        doc = doc["tools"]
    if not isinstance(doc, list):
        return None
    functions = sum(1 for e in doc if isinstance(e, dict) and isinstance(e.get("function"), dict))
    return doc, ("function" if functions and functions >= len(doc) / 2 else "mcp")


def _describe(entry: Any, index: int) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    if isinstance(entry, dict) and isinstance(entry.get("function"), dict):
        name = entry["function"].get("name")
    return f"tool {name!r}" if isinstance(name, str) and name else f"tool #{index + 1}"


def tool_defs(entries: Iterable[Any], shape: str) -> tuple[list[ToolDef], list[str]]:
    """``ToolDef``s from raw entries of one shape, and one sentence per entry skipped."""
    tools: list[ToolDef] = []
    skipped: list[str] = []
    for index, entry in enumerate(entries):
        what = _describe(entry, index)
        raw = entry.get("function") if shape == "function" and isinstance(entry, dict) else entry
        if not isinstance(raw, dict):
            skipped.append(f"{what.capitalize()} is skipped: it is not a JSON object.")
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            skipped.append(f"{what.capitalize()} is skipped: it has no name.")
            continue
        schema = raw.get("parameters" if shape == "function" else "inputSchema",
                         raw.get("input_schema"))
        if schema is None:
            schema = {"type": "object", "properties": {}}
        if not isinstance(schema, dict):
            key = "parameters" if shape == "function" else "inputSchema"
            skipped.append(f"{what.capitalize()} is skipped: its {key} is not a JSON object.")
            continue
        output = raw.get("outputSchema", raw.get("output_schema"))
        description = raw.get("description")
        tools.append(ToolDef(name=name, description=description if isinstance(description, str)
                             else "", input_schema=schema,
                             output_schema=output if isinstance(output, dict) else None))
    return prepare(tools), skipped


def load_tool_list(path: Path) -> ToolList:
    """The tools of a JSON file in one of the accepted shapes; ``ToolListError`` if none."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ToolListError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:
        raise ToolListError(f"{path}: is not UTF-8 text.") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolListError(f"{path}: is not valid JSON ({exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno}).") from None
    found = _entries(doc)
    if found is None or not found[0]:
        raise ToolListError(
            f"{path}: holds no tools; expected an MCP tools/list result ({{\"tools\": [...]}}) "
            "or an OpenAI/Mistral tools list ([{\"type\": \"function\", ...}]).")
    tools, skipped = tool_defs(*found)
    if not tools:
        raise ToolListError(f"{path}: none of its {len(found[0])} entries is a usable tool "
                            f"({skipped[0] if skipped else 'no names'}).")
    return ToolList(tools, path.name, skipped)


class StaticToolbox:
    """A ``Toolbox`` over a tool list with nothing behind it: the model sees the tools, and
    every call answers with an error sentence saying so. For looking at what a model would do
    (and what it costs) with tools you cannot run here."""

    def __init__(self, tool_list: ToolList) -> None:
        self.name = tool_list.label
        self.about = f"the tools of {tool_list.label}"
        self._list = tool_list
        self._by_name = {t.function_name: t for t in tool_list.tools}

    def function_schemas(self) -> list[dict[str, Any]]:
        return [function_schema(t) for t in self._list.tools]

    def python_api(self) -> str:
        return python_api_text(self._list.tools, self._list.label)

    def guest_api(self) -> dict[str, GuestFunction]:
        return guest_functions(self._list.tools)

    def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        tool = self._by_name.get(name)
        if tool is None:
            return ToolOutcome(ok=False, error=f"There is no tool named {name!r}.")
        arguments_for(tool, arguments)
        return ToolOutcome(ok=False, error=f"{tool.name!r} is only a description in "
                           f"{self._list.label}; nothing runs it here.")

    def judge(self, task: Task, answer: str) -> Verdict:
        return Verdict(False, ["A static tool list has no state to judge the answer against."])

    def close(self) -> None:
        return None
