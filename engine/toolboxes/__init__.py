"""The tool-source registry: where a run's tools come from, defined once.

A tool source is a ``ToolSourceSpec``: an id, a label, and a factory that opens a fresh
``engine.toolbox.Toolbox`` for one run of a task (each agent its own, so writes never cross).
The race controller, the bench, the ``tools`` command and the app iterate ``TOOL_SOURCES``;
``source_for(task)`` picks the one a task names (the mock platform by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.toolbox import Toolbox
from engine.toolboxes.platform import PlatformToolbox

DEFAULT_SOURCE = "platform"


@dataclass(frozen=True)
class ToolSourceSpec:
    """One registered tool source; ``open(task)`` makes a run's ``Toolbox`` (it may raise
    ``ToolSourceError`` with one sentence, e.g. a server that does not start)."""

    id: str
    label: str
    description: str
    open: Callable[[Any], Toolbox]


class ToolSourceError(Exception):
    """A tool source that cannot open or answer; the message is one sentence for the user."""

    kind = "tools"


TOOL_SOURCES: dict[str, ToolSourceSpec] = {
    spec.id: spec for spec in (
        ToolSourceSpec(
            id="platform", label="Mock platform (120 tools)",
            description="the article's project-management API: 20 resources x 6 actions",
            open=lambda task: PlatformToolbox(),
        ),
    )
}


def source_for(task: Any) -> ToolSourceSpec:
    """The tool source ``task`` names (``task.tool_source``), else the mock platform; raises
    ``ToolSourceError`` for a name that is not registered."""
    name = getattr(task, "tool_source", None) or DEFAULT_SOURCE
    try:
        return TOOL_SOURCES[name]
    except KeyError:
        raise ToolSourceError(
            f"Task {getattr(task, 'id', '?')!r} names the tool source {name!r}, which does not "
            f"exist; use one of {', '.join(TOOL_SOURCES)}.") from None


def open_toolbox(task: Any) -> Toolbox:
    """A fresh toolbox for one run of ``task`` (see ``source_for``)."""
    return source_for(task).open(task)


__all__ = ["DEFAULT_SOURCE", "TOOL_SOURCES", "ToolSourceError", "ToolSourceSpec",
           "open_toolbox", "source_for"]
