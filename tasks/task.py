"""One task: what a user asks, how success is judged, and where its tools come from.

Its own module so the checkers (``tasks.checkers``) can name the type without importing the
loader (``tasks.suite``), which imports the checkers to validate a file's ``checker`` field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULT_MAX_ROUNDS = 10
# The folder the project's own task files ship in (tasks/suite, tasks/demos).
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Task:
    """One task of the suite."""

    id: str
    title: str
    prompt: str
    checker: str
    max_rounds: int = DEFAULT_MAX_ROUNDS
    tags: tuple[str, ...] = ()
    article: bool = False  # one of the seed article's five tasks
    # Reference CodeAct programs against ``api``; a task whose obvious first attempt fails has
    # two: the plausible failing one, then the repair. The last one prints the answer.
    reference: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""  # the file it came from
    # The tool source (the file's ``tools`` field): None for the mock platform, a registered
    # source id ("demo-git"), or {"mcp": command line} / {"mcp_url": URL}. Whether an id
    # exists is the engine's to say (engine.toolboxes.source_for).
    tool_source: str | Mapping[str, str] | None = None

    @property
    def bundled(self) -> bool:
        """True for a task from a file that ships with the project (under ``tasks/``): its
        reference programs are the project's own, not a task file's author's."""
        return bool(self.source) and Path(self.source).resolve().is_relative_to(PACKAGE_DIR)
