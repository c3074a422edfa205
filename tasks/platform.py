"""The mock platform: call any of the 120 tools by name with JSON arguments.

``Platform.call`` never raises: every failure (unknown tool, unknown argument, wrong type, bad
enum value, missing field, unknown id, dangling foreign key) comes back as a ``ToolOutcome``
whose error is one sentence a model can act on. Both agent modes go through ``call``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from tasks.catalog import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RESOURCES_BY_NAME, tool_spec
from tasks.dataset import TODAY, Dataset, copy_dataset, initial_dataset
from tasks.schema import Resource, ToolSpec
from tasks.validation import CallError, check_arguments, check_value, unknown_tool_message

Record = dict[str, Any]


@dataclass(frozen=True)
class ToolOutcome:
    """What one tool call returned: a value, or an error message."""

    ok: bool
    value: Any = None
    error: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The dict that crosses the sandbox bridge: ``{"ok": true, "value": ...}`` or an error."""
        if self.ok:
            return {"ok": True, "value": self.value}
        return {"ok": False, "error": self.error}

    def content(self) -> str:
        """The compact JSON text a tool-calling model reads as the tool's result."""
        payload = self.value if self.ok else {"error": self.error}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Write:
    """One create, update or delete that changed the platform's state."""

    tool: str
    action: str
    resource: str
    id: int
    fields: dict[str, Any] = field(default_factory=dict)


class Platform:
    """One run's private copy of the platform's data and the tools that act on it."""

    def __init__(self, data: dict[str, list[Record]]) -> None:
        self._tables: dict[str, dict[int, Record]] = {
            name: {r["id"]: r for r in rows} for name, rows in data.items()}
        self._next_id = {name: max(t, default=0) + 1 for name, t in self._tables.items()}
        self.writes: list[Write] = []
        self.calls: list[str] = []

    def state(self) -> dict[str, list[Record]]:
        """resource -> records (copies), ids ascending."""
        return {name: [dict(r) for r in t.values()] for name, t in self._tables.items()}

    def record(self, resource: str, record_id: int) -> Record | None:
        """A copy of one record, or None."""
        rec = self._tables.get(resource, {}).get(record_id)
        return dict(rec) if rec is not None else None

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> ToolOutcome:
        """Run the tool ``name`` with ``arguments``; never raises."""
        self.calls.append(str(name))
        spec = tool_spec(name) if isinstance(name, str) else None
        if spec is None:
            return ToolOutcome(False, error=unknown_tool_message(name))
        try:
            args = check_arguments(spec, {} if arguments is None else arguments)
            value = getattr(self, f"_{spec.action}")(spec, RESOURCES_BY_NAME[spec.resource], args)
        except CallError as exc:
            return ToolOutcome(False, error=f"{spec.name}: {exc}")
        except Exception as exc:  # the contract is that nothing escapes
            return ToolOutcome(False, error=f"{spec.name}: internal error ({exc!r}).")
        # Callers get their own copy, so mutating a result never edits the platform.
        return ToolOutcome(True, copy.deepcopy(value))

    # -- actions ---------------------------------------------------------------------------

    def _page(self, res: Resource, rows: list[Record], args: dict[str, Any]) -> dict[str, Any]:
        page, size = args.pop("page", 1), args.pop("page_size", DEFAULT_PAGE_SIZE)
        if page < 1:
            raise CallError("page starts at 1.")
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise CallError(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
        for key, wanted in args.items():
            if wanted is not None:
                rows = [r for r in rows if r.get(key) == wanted]
        start = (page - 1) * size
        more = start + size < len(rows)
        return {"items": rows[start:start + size], "page": page, "page_size": size,
                "total": len(rows), "has_more": more, "next_page": page + 1 if more else None}

    def _list(self, spec: ToolSpec, res: Resource, args: dict[str, Any]) -> dict[str, Any]:
        return self._page(res, list(self._tables[res.name].values()), args)

    def _search(self, spec: ToolSpec, res: Resource, args: dict[str, Any]) -> dict[str, Any]:
        words = str(args.pop("query")).lower().split()
        if not words:
            raise CallError("query is empty; give at least one word, or use "
                            f"{res.name}_list to browse.")
        names = [f.name for f in res.text_fields]
        rows = []
        for r in self._tables[res.name].values():
            haystack = " ".join(str(r.get(n) or "") for n in names).lower()
            if all(w in haystack for w in words):
                rows.append(r)
        return self._page(res, rows, args)

    def _get(self, spec: ToolSpec, res: Resource, args: dict[str, Any]) -> Record:
        return self._existing(res, args["id"])

    def _create(self, spec: ToolSpec, res: Resource, args: dict[str, Any]) -> Record:
        rec: Record = {"id": self._next_id[res.name]}
        for f in res.fields:
            value = args.get(f.name)
            if value is None:
                value = f.default
                if f.name in ("created_on",):  # the platform stamps the day it was written
                    value = TODAY.isoformat()
            rec[f.name] = value
        if res.one_of and all(rec[name] is None for name in res.one_of):
            raise CallError(f"a {res.noun} needs {' or '.join(res.one_of)}.")
        self._check_refs(res, rec)
        self._next_id[res.name] += 1
        self._tables[res.name][rec["id"]] = rec
        self.writes.append(Write(spec.name, "create", res.name, rec["id"], dict(rec)))
        return rec

    def _update(self, spec: ToolSpec, res: Resource, args: dict[str, Any]) -> Record:
        rec = self._existing(res, args.pop("id"))
        if not args:
            names = ", ".join(f.name for f in res.fields)
            raise CallError(f"nothing to change; pass at least one of: {names}.")
        for key, value in args.items():
            f = res.field(key)
            if value is None and f is not None and f.required:
                raise CallError(f"{key} is required and cannot be cleared.")
        self._check_refs(res, args)
        rec.update(args)
        self.writes.append(Write(spec.name, "update", res.name, rec["id"], dict(args)))
        return rec

    def _delete(self, spec: ToolSpec, res: Resource, args: dict[str, Any]) -> dict[str, Any]:
        rec = self._existing(res, args["id"])
        del self._tables[res.name][rec["id"]]
        self.writes.append(Write(spec.name, "delete", res.name, rec["id"], dict(rec)))
        label = rec.get(res.label_field)
        what = f"{res.noun} {rec['id']}" + (f" ({label})" if label and label != rec["id"] else "")
        return {"deleted": what, "id": rec["id"], "resource": res.name}

    # -- helpers ---------------------------------------------------------------------------

    def _existing(self, res: Resource, record_id: int) -> Record:
        rec = self._tables[res.name].get(record_id)
        if rec is None:
            raise CallError(f"no {res.noun} has id {record_id}; find ids with "
                            f"{res.name}_search or {res.name}_list.")
        return rec

    def _check_refs(self, res: Resource, values: dict[str, Any]) -> None:
        for key, value in values.items():
            f = res.field(key)
            if f is not None and f.ref and value is not None:
                check_value(f, value)
                if value not in self._tables[f.ref]:
                    target = RESOURCES_BY_NAME[f.ref]
                    raise CallError(f"{key}={value} does not exist: no {target.noun} has that "
                                    f"id; find ids with {f.ref}_search or {f.ref}_list.")


def new_platform(dataset: Dataset | None = None) -> Platform:
    """A fresh platform on an independent copy of the seeded dataset (or of ``dataset``)."""
    return Platform(copy_dataset(initial_dataset() if dataset is None else dataset))
