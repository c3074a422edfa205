"""The mock project-management platform of ``tasks/`` as a ``Toolbox``.

120 tools (20 resources x list/get/create/update/delete/search) over a private copy of the
seeded dataset: each run gets its own, so two agents never see each other's writes. Checkers
judge the answer and the final state against the initial dataset (``tasks.checkers.check``).
"""

from __future__ import annotations

from typing import Any

from engine.toolbox import GuestFunction, ToolOutcome, Verdict
from tasks.catalog import guest_api_spec
from tasks.checkers import check
from tasks.dataset import initial_dataset
from tasks.platform import Platform, new_platform
from tasks.render import mistral_tools, python_api_text
from tasks.suite import Task


class PlatformToolbox:
    """One run's copy of the mock platform behind the ``Toolbox`` protocol.

    ``platform`` is the run's private ``tasks.platform.Platform`` (its state is what checkers
    read). ``call`` never raises for a tool failure.
    """

    name = "platform"
    about = "a project-management platform"

    def __init__(self, platform: Platform | None = None) -> None:
        self.platform = platform if platform is not None else new_platform()

    def function_schemas(self) -> list[dict[str, Any]]:
        """The 120 tools as Mistral function-calling schemas (about 18k Tekken tokens)."""
        return mistral_tools()

    def python_api(self) -> str:
        """The compact typed Python API text (about 2.4k Tekken tokens)."""
        return python_api_text()

    def guest_api(self) -> dict[str, GuestFunction]:
        """Flat tool name -> the guest function (``api.users.get`` for ``users_get``)."""
        return guest_api_spec()

    def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        outcome = self.platform.call(name, arguments)
        return ToolOutcome(ok=outcome.ok, value=outcome.value, error=outcome.error)

    def judge(self, task: Task, answer: str) -> Verdict:
        """The task's checker on the answer and the final state (``tasks.checkers``)."""
        verdict = check(task, answer, initial_dataset(), self.platform)
        return Verdict(bool(verdict.success), list(verdict.reasons))

    def close(self) -> None:
        """Nothing to release: the platform is in memory."""
