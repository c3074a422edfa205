"""Running a task's reference programs natively, against ``native_api``.

The same programs run in the sandbox guest, where ``api`` and ``ToolError`` are globals too; here
they are executed in a fresh namespace with those two names and stdout captured. A program that
raises ends with its error text, as a failed round would.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

from tasks.api import ApiProxy, ToolError
from tasks.platform import Platform, new_platform
from tasks.suite import Task


@dataclass
class ProgramRun:
    """What one program printed, and its error (``"ToolError: ..."``) if it raised."""

    output: str
    error: str | None


@dataclass
class ReferenceRun:
    """All reference programs of a task, run in order on one platform."""

    platform: Platform
    runs: list[ProgramRun] = field(default_factory=list)
    # Every tool call the programs made, in order, with its arguments and wire reply: what a
    # tool-calling agent would have had to do one round trip at a time.
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The final answer: what the last program printed."""
        return self.runs[-1].output.strip() if self.runs else ""


def run_program(code: str, api: ApiProxy) -> ProgramRun:
    """Execute ``code`` with ``api`` and ``ToolError`` as globals; never raises."""
    out = io.StringIO()
    namespace = {"api": api, "ToolError": ToolError, "__name__": "__main__"}
    error = None
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(code, "<reference>", "exec"), namespace)
        except Exception as exc:  # a reference program may fail on purpose (the repair task)
            error = f"{type(exc).__name__}: {exc}"
    return ProgramRun(out.getvalue(), error)


def run_reference(task: Task, platform: Platform | None = None) -> ReferenceRun:
    """Run every reference program of ``task`` in order on ``platform`` (a fresh one if None)."""
    platform = new_platform() if platform is None else platform
    result = ReferenceRun(platform)

    def call(name: str, arguments: dict[str, Any]) -> Any:
        outcome = platform.call(name, arguments)
        result.calls.append((name, dict(arguments), outcome.to_wire()))
        if not outcome.ok:
            raise ToolError(outcome.error or f"{name} failed.")
        return outcome.value

    api = ApiProxy(call)
    for code in task.reference:
        result.runs.append(run_program(code, api))
    return result
