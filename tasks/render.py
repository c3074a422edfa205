"""The two renderings of the one catalog.

* ``mistral_tools()``: Mistral function-calling schemas for all 120 tools (JSON Schema
  parameters, a description on every parameter), what the tool-calling agent resends each round.
* ``python_api_text()``: a compact typed Python API for the CodeAct agent. Every resource is a
  dataclass; the six functions every resource has are written once as generic signatures whose
  parameters are the resource's fields, which is exactly how the catalog generates them. Every
  function, parameter, type and return type is recoverable from the text.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from tasks.catalog import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RESOURCES, tool_specs
from tasks.schema import PY_TYPES, Field, Param, Resource

_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
               "date": "string"}


def _schema(p: Param) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": _JSON_TYPES[p.type], "description": p.description}
    if p.enum:
        prop["enum"] = list(p.enum)
    return prop


@cache
def _mistral_tools() -> tuple[dict[str, Any], ...]:
    tools = []
    for spec in tool_specs():
        required = [p.name for p in spec.params if p.required]
        tools.append({
            "type": "function",
            "function": {
                "name": spec.name,
                "description": spec.description,
                "parameters": {
                    "type": "object",
                    "properties": {p.name: _schema(p) for p in spec.params},
                    **({"required": required} if required else {}),
                },
            },
        })
    return tuple(tools)


def mistral_tools() -> list[dict[str, Any]]:
    """The ``tools`` list of a Mistral chat request: one function schema per tool (120)."""
    return copy.deepcopy(list(_mistral_tools()))


_HEADER = f'''\
# Python API of the project platform. Call it as api.<resource>.<function>(...).
# Every resource below has these six functions (R = its record type; arguments by keyword,
# or in the order shown; **fields = R's fields):
#   list(page: int = 1, page_size: int = {DEFAULT_PAGE_SIZE}, **filters) -> Page[R]
#   search(query: str, page: int = 1, page_size: int = {DEFAULT_PAGE_SIZE}, **filters) -> Page[R]
#   get(id: int) -> R
#   create(**fields) -> R  # fields without a default are required; returns R with its new id
#   update(id: int, **fields) -> R  # partial: only the given fields change
#   delete(id: int) -> Deleted
# **filters: exact match on fields marked "filter". search finds records whose "text" fields
# contain every word of query (case-insensitive).
# A failed call raises ToolError(message); the message says what to fix.
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar
R = TypeVar("R")
@dataclass
class Page(Generic[R]):
    items: list[R]
    page: int
    page_size: int  # at most {MAX_PAGE_SIZE}
    total: int  # matches over all pages
    has_more: bool
    next_page: int | None  # None on the last page
@dataclass
class Deleted:
    deleted: str  # what was removed
    id: int
    resource: str
# Pages and records come back as plain dicts: page["items"], task["title"]. Every R also has
# id: int; dates are "YYYY-MM-DD" strings; x_id holds the id of an x.
'''


def _py_field(res: Resource, f: Field) -> str:
    kind = PY_TYPES[f.type]
    if f.enum:
        kind = "Literal[" + ",".join(f'"{v}"' for v in f.enum) + "]"
    if not f.required:
        kind += "|None"
    line = f"    {f.name}: {kind}"
    if not f.required:
        line += f" = {f.default!r}" if f.default is not None else " = None"
    notes = []
    if f.text:
        notes.append("text")
    elif f in res.filter_fields:
        notes.append("filter")
    if f.ref and not f.name.endswith(f.ref.removesuffix("s") + "_id"):
        notes.append(f"{f.ref} id")
    return line + (f"  # {'; '.join(notes)}" if notes else "")


@cache
def python_api_text() -> str:
    """The whole catalog as compact typed Python, for the CodeAct system prompt."""
    lines = [_HEADER.rstrip("\n")]
    for res in RESOURCES:
        doc = res.description + (f" Needs {' or '.join(res.one_of)}." if res.one_of else "")
        lines.append(f"@dataclass\nclass {res.type_name}:  # api.{res.name}: {doc}")
        ordered = [f for f in res.fields if f.required] + [f for f in res.fields if not f.required]
        lines.extend(_py_field(res, f) for f in ordered)
    return "\n".join(lines) + "\n"
