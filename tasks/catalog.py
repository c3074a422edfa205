"""The tool catalog: 20 resources x 6 actions = 120 tools, generated from ``tasks.resources``.

Tool names are ``f"{resource}_{action}"`` (``users_search``, ``time_entries_list``). Parameter
order is the positional order of the Python API: ``list(page, page_size, **filters)``,
``search(query, page, page_size, **filters)``, ``get(id)``, ``create(required..., optional...)``,
``update(id, **fields)``, ``delete(id)``.
"""

from __future__ import annotations

from functools import cache
from typing import TypedDict

from tasks.resources import RESOURCES, RESOURCES_BY_NAME
from tasks.schema import (
    ACTIONS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PY_TYPES,
    Field,
    Param,
    Resource,
    ToolSpec,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "RESOURCES",
    "RESOURCES_BY_NAME",
    "Field",
    "GuestFunction",
    "Param",
    "Resource",
    "ToolSpec",
    "guest_api_spec",
    "reads_only",
    "tool_spec",
    "tool_specs",
]


def _field_doc(f: Field) -> str:
    doc = f.description
    if f.ref and not f.name.endswith(f"{f.ref.removesuffix('s')}_id"):
        doc += f" ({f.ref} id)"  # the name alone does not say which resource it points to
    if f.type == "date":
        doc += " YYYY-MM-DD."
    return doc


def _page_params() -> tuple[Param, ...]:
    return (
        Param("page", "int", False, 1, "Page, from 1."),
        Param("page_size", "int", False, DEFAULT_PAGE_SIZE,
              f"Per page, default {DEFAULT_PAGE_SIZE}, max {MAX_PAGE_SIZE}."),
    )


def _filter_params(res: Resource, fields: tuple[Field, ...]) -> tuple[Param, ...]:
    return tuple(Param(f.name, f.type, False, None, _field_doc(f), f.enum, f.ref) for f in fields)


def _id_param(res: Resource) -> Param:
    return Param("id", "int", True, None, f"{res.noun.capitalize()} id.")


def _build(res: Resource, action: str) -> ToolSpec:
    noun, plural = res.noun, res.name.replace("_", " ")
    # Required fields first: the order of the record type in the Python rendering, so positional
    # arguments of create and update mean what that text shows.
    ordered = [f for f in res.fields if f.required] + [f for f in res.fields if not f.required]
    if action == "list":
        desc = f"List {plural}, filtered by exact values. Paginated."
        params = (*_page_params(), *_filter_params(res, res.filter_fields))
    elif action == "search":
        searched = ", ".join(f.name for f in res.text_fields)
        desc = f"Search {plural} by words in {searched}; optional filters. Paginated."
        query = Param("query", "str", True, None, f"Words to find in {searched}.")
        params = (query, *_page_params(), *_filter_params(res, res.filter_fields))
    elif action == "get":
        desc = f"Get one {noun} by id."
        params = (_id_param(res),)
    elif action == "create":
        desc = f"Create a {noun} ({res.description.rstrip('.').lower()}). Returns it with its id."
        if res.one_of:
            desc += f" Needs {' or '.join(res.one_of)}."
        params = tuple(
            Param(f.name, f.type, f.required, f.default, _field_doc(f), f.enum, f.ref)
            for f in ordered
        )
    elif action == "update":
        desc = f"Change some fields of a {noun}; others stay. Returns it."
        changes = tuple(
            Param(f.name, f.type, False, None, _field_doc(f), f.enum, f.ref)
            for f in ordered
        )
        params = (_id_param(res), *changes)
    elif action == "delete":
        desc = f"Delete a {noun} by id."
        params = (_id_param(res),)
    else:  # pragma: no cover - ACTIONS is closed
        raise ValueError(action)
    return ToolSpec(f"{res.name}_{action}", res.name, action, desc, params)


@cache
def _specs() -> tuple[ToolSpec, ...]:
    return tuple(_build(res, action) for res in RESOURCES for action in ACTIONS)


@cache
def _by_name() -> dict[str, ToolSpec]:
    return {s.name: s for s in _specs()}


def tool_specs() -> list[ToolSpec]:
    """All 120 tools, resource by resource, in ``ACTIONS`` order."""
    return list(_specs())


def tool_spec(name: str) -> ToolSpec | None:
    """The tool called ``name``, or None if there is none."""
    return _by_name().get(name)


class GuestFunction(TypedDict):
    """One function of the sandbox guest's ``api`` (the shape of ``wasm_sandbox.GuestFunction``).

    ``path`` is the dotted attribute path under ``api``, ``params`` the ordered parameter names,
    ``signature`` the Python signature shown to the model, ``doc`` one line.
    """

    path: str
    params: list[str]
    signature: str
    doc: str


# What the descriptions do not already say about the value returned (records are dicts).
_PAGE = " Returns a page: items, page, page_size, total, has_more, next_page."
_RETURNS = {"list": _PAGE, "search": _PAGE, "delete": " Returns deleted, id, resource."}


def _py_param(p: Param) -> str:
    kind = PY_TYPES[p.type]
    if p.enum:
        kind = "Literal[" + ", ".join(f'"{v}"' for v in p.enum) + "]"
    if p.required:
        return f"{p.name}: {kind}"
    if p.default is None:
        return f"{p.name}: {kind} | None = None"
    default = f'"{p.default}"' if isinstance(p.default, str) else repr(p.default)
    return f"{p.name}: {kind} = {default}"


def _guest_function(s: ToolSpec) -> GuestFunction:
    params = ", ".join(_py_param(p) for p in s.params)
    return GuestFunction(
        path=f"{s.resource}.{s.action}",
        params=[p.name for p in s.params],
        signature=f"api.{s.resource}.{s.action}({params}) -> dict",
        doc=s.description + _RETURNS.get(s.action, ""),
    )


@cache
def _guest_api() -> tuple[tuple[str, GuestFunction], ...]:
    return tuple((s.name, _guest_function(s)) for s in _specs())


def guest_api_spec() -> dict[str, GuestFunction]:
    """Flat tool name -> ``GuestFunction`` for all 120 tools (path ``"<resource>.<action>"``).

    A fresh dict of fresh copies on each call, so callers may change what they get.
    """
    return {name: GuestFunction(path=fn["path"], params=list(fn["params"]),
                                signature=fn["signature"], doc=fn["doc"])
            for name, fn in _guest_api()}


READ_ACTIONS = frozenset({"list", "get", "search"})


def reads_only(name: str) -> bool:
    """Whether the tool ``name`` only reads (a list, get or search); False for writes and for
    names that are not in the catalog."""
    spec = _by_name().get(name)
    return spec is not None and spec.action in READ_ACTIONS
