"""The tool-source seam: everything an agent needs to know about its tools, behind one protocol.

An agent never imports a tool source. It gets a ``Toolbox`` (made fresh for each run by the
tool source's registry entry, so two agents never see each other's writes) and asks it for:

- ``function_schemas()``: the tools as function-calling schemas (Mistral's / OpenAI's
  ``{"type": "function", "function": {...}}`` list), sent every round by tool calling;
- ``python_api()``: the compact typed Python API text CodeAct shows once in its system prompt;
- ``guest_api()``: flat tool name -> ``GuestFunction`` (attribute path under ``api``, ordered
  parameter names, signature, one-line doc), from which the sandbox guest builds ``api`` and the
  discovery helpers;
- ``call(name, arguments)``: run one tool; never raises for a tool failure, returns
  ``ToolOutcome(ok=False, error=...)`` with one sentence the model can act on. Thread-safe to
  call from the sandbox's host-call thread;
- ``judge(task, answer)``: the checker's verdict on the run (the answer and, where the source
  has state, its final state);
- ``close()``: release what the toolbox holds (an MCP server process); idempotent.

Implementations: ``engine.toolboxes`` (the mock platform of ``tasks/``, MCP servers, static tool
lists). The registry of tool sources is ``engine.toolboxes.TOOL_SOURCES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from engine.errors import ExplorerError
from tasks.suite import Task
from wasm_sandbox.api import GuestFunction as _GuestFunction

# One function of the guest's ``api`` (path, params, signature, doc): defined by the sandbox
# that consumes it, and validated there (``wasm_sandbox.api.check_guest_api``).
GuestFunction = _GuestFunction


@dataclass(frozen=True)
class ToolOutcome:
    """What one tool call returned: a JSON-able value, or an error sentence."""

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
        if self.ok and isinstance(self.value, str):
            return self.value
        payload = self.value if self.ok else {"error": self.error}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


class ToolSourceError(ExplorerError):
    """A tool source that cannot open or answer (an MCP server that does not start, crashes,
    hangs or answers garbage); the message is one sentence for the user. The agent loop ends
    the run with it as a fatal ``RunError`` of kind ``"tools"``."""

    kind = "tools"


@dataclass(frozen=True)
class Verdict:
    """A checker's judgement: success and the reasons (one sentence each)."""

    success: bool
    reasons: list[str] = field(default_factory=list)


@runtime_checkable
class Toolbox(Protocol):
    """One run's tools (see the module docstring for each method's contract)."""

    name: str
    # What the tools work on, as a phrase the system prompts use (``{about}``): "a
    # project-management platform", "the tools of the MCP server git".
    about: str

    def function_schemas(self) -> list[dict[str, Any]]: ...

    def python_api(self) -> str: ...

    def guest_api(self) -> dict[str, GuestFunction]: ...

    def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome: ...

    def judge(self, task: Task, answer: str) -> Verdict: ...

    def close(self) -> None: ...


def api_summary(guest_api: dict[str, GuestFunction]) -> str:
    """One sentence about a guest API, for the discovery prompt's ``{summary}``:
    ``"it has 120 functions in 20 namespaces (users, teams, ...)."``."""
    namespaces: list[str] = []
    for fn in guest_api.values():
        head, dot, _ = fn["path"].partition(".")
        if dot and head not in namespaces:
            namespaces.append(head)
    count = len(guest_api)
    noun = "function" if count == 1 else "functions"
    if not namespaces:
        return f"it has {count} {noun}."
    return (f"it has {count} {noun} in {len(namespaces)} namespaces "
            f"({', '.join(namespaces)}).")
