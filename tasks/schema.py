"""The vocabulary of the declarative catalog: fields, resources, and the tool specs made from them.

Nothing here knows about any particular resource; ``tasks.resources`` describes the 20 of them
and ``tasks.catalog`` turns that description into the 120 tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FieldType = Literal["str", "int", "float", "bool", "date"]
ACTIONS: tuple[str, ...] = ("list", "get", "create", "update", "delete", "search")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# How each field type is spelled in the Python renderings (dates travel as ISO strings).
PY_TYPES: dict[str, str] = {"str": "str", "int": "int", "float": "float", "bool": "bool",
                            "date": "str"}


@dataclass(frozen=True)
class Field:
    """One field of a resource.

    ``text`` fields are matched by ``search``; enum, foreign-key and boolean fields are the
    equality filters of ``list`` and ``search``. ``ref`` names the resource a foreign key
    points to.
    """

    name: str
    type: FieldType
    description: str
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] | None = None
    ref: str | None = None
    text: bool = False


@dataclass(frozen=True)
class Resource:
    """One resource of the platform: its plural API name, its record type and its fields."""

    name: str  # plural snake_case, the API attribute and tool prefix: "time_entries"
    type_name: str  # record type in the Python rendering: "TimeEntry"
    noun: str  # singular words for messages: "time entry"
    description: str
    fields: tuple[Field, ...]
    one_of: tuple[str, ...] = ()  # at least one of these fields must be set on create

    def field(self, name: str) -> Field | None:
        """The field called ``name``, or None."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def text_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.text)

    @property
    def filter_fields(self) -> tuple[Field, ...]:
        # Exact matches on amounts, days or free strings are rarely what a caller wants, and
        # every filter costs schema tokens on every tool-calling round.
        return tuple(f for f in self.fields
                     if not f.text and (f.enum or f.ref or f.type == "bool"))

    @property
    def label_field(self) -> str:
        """The field that names a record to a human (name, title, number, ...)."""
        for candidate in ("name", "title", "number", "version", "message", "body", "url"):
            if self.field(candidate) is not None:
                return candidate
        return "id"


@dataclass(frozen=True)
class Param:
    """One parameter of one tool."""

    name: str
    type: FieldType
    required: bool
    default: Any
    description: str
    enum: tuple[str, ...] | None = None
    ref: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    """One of the 120 tools: ``f"{resource}_{action}"`` with its parameters in call order."""

    name: str
    resource: str
    action: str
    description: str
    params: tuple[Param, ...]

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None
