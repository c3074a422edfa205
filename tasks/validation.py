"""Checking a tool call's arguments against its spec, with messages a model can act on."""

from __future__ import annotations

import difflib
import json
from datetime import date
from typing import Any

from tasks.catalog import DEFAULT_PAGE_SIZE, tool_specs
from tasks.errors import TasksError
from tasks.schema import Field, Param, ToolSpec

_TYPE_WORDS = {"str": "a string", "int": "an integer", "float": "a number",
               "bool": "true or false", "date": "a date string YYYY-MM-DD"}


class CallError(TasksError):
    """A tool call the platform refuses; the message says what to change."""

    kind = "tool"


def unknown_tool_message(name: object) -> str:
    """One sentence for a tool name that does not exist, with the closest real names."""
    names = [s.name for s in tool_specs()]
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else (
        " Tools are named <resource>_<action>, e.g. users_search or tasks_list.")
    return f"Unknown tool {name!r}.{hint}"


def check_value(f: Field | Param, value: Any) -> Any:
    """``value`` converted to ``f``'s type, or a CallError naming the field and what it takes."""
    kind = f.type
    ok = True
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON writers sometimes send 3.0 for 3
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind in ("str", "date"):
        ok = isinstance(value, str)
    if not ok:
        raise CallError(f"{f.name} must be {_TYPE_WORDS[kind]}, not {json.dumps(value)}.")
    if kind == "date":
        try:
            date.fromisoformat(value)
            ok = len(value) == 10
        except ValueError:
            ok = False
        if not ok:
            raise CallError(f"{f.name} must be a date like 2025-06-02, not {value!r}.")
    if f.enum is not None and value not in f.enum:
        raise CallError(f"{f.name}={value!r} is not allowed; use one of: {', '.join(f.enum)}.")
    return value


def check_arguments(spec: ToolSpec, arguments: Any) -> dict[str, Any]:
    """The arguments, type-checked and with paging defaults; a CallError if anything is off."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            raise CallError(f"arguments are not valid JSON ({exc.msg}).") from None
    if not isinstance(arguments, dict):
        raise CallError("arguments must be a JSON object of named parameters.")
    names = [p.name for p in spec.params]
    unknown = [k for k in arguments if k not in names]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise CallError(f"unknown argument {unknown[0]!r}{hint}; it accepts: "
                        f"{', '.join(names)}.")
    out: dict[str, Any] = {}
    for p in spec.params:
        value = arguments.get(p.name)
        if value is None:
            if p.required:
                enum = f" (one of: {', '.join(p.enum)})" if p.enum else ""
                raise CallError(f"missing required argument {p.name!r}: {p.description}{enum}")
            if p.name in arguments:
                out[p.name] = None
            continue
        out[p.name] = check_value(p, value)
    if spec.action in ("list", "search"):
        out.setdefault("page", 1)
        out.setdefault("page_size", DEFAULT_PAGE_SIZE)
        if out["page"] is None:
            out["page"] = 1
        if out["page_size"] is None:
            out["page_size"] = DEFAULT_PAGE_SIZE
    return out
