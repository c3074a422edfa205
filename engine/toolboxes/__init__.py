"""The tool-source registry: where a run's tools come from, defined once.

A tool source is a ``ToolSourceSpec``: an id, a label, and a factory that opens a fresh
``engine.toolbox.Toolbox`` for one run of a task (each agent its own, so writes never cross);
a source bundled with tasks of its own names their file (``tasks``). The race controller, the
bench, the ``tools`` command and the app iterate ``TOOL_SOURCES``; ``source_for(task)`` picks
the one a task names (the mock platform by default): a registered id, or a table naming an MCP
server of the task's own (``{"mcp": "command line"}``, ``{"mcp_url": "http://..."}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.toolbox import Toolbox, ToolSourceError
from engine.toolboxes.demos import GIT_DEMO_ID, GIT_DEMO_LABEL, GIT_DEMO_TASKS, git_demo_toolbox
from engine.toolboxes.mcp import McpServerSpec, McpToolbox
from engine.toolboxes.platform import PlatformToolbox
from tasks.suite import Task

DEFAULT_SOURCE = "platform"


@dataclass(frozen=True)
class ToolSourceSpec:
    """One registered tool source; ``open(task)`` makes a run's ``Toolbox`` (it may raise
    ``ToolSourceError`` with one sentence, e.g. a server that does not start). ``tasks``: the
    bundled task file written for this source, or None."""

    id: str
    label: str
    description: str
    open: Callable[[Task], Toolbox]
    tasks: Path | None = None


TOOL_SOURCES: dict[str, ToolSourceSpec] = {
    spec.id: spec for spec in (
        ToolSourceSpec(
            id="platform", label="Mock platform (120 tools)",
            description="the article's project-management API: 20 resources x 6 actions",
            open=lambda task: PlatformToolbox(),
        ),
        ToolSourceSpec(
            id=GIT_DEMO_ID, label="Git demo (mcp-server-git)",
            description=f"{GIT_DEMO_LABEL}: the real MCP server from PyPI, offline",
            open=git_demo_toolbox, tasks=GIT_DEMO_TASKS,
        ),
    )
}


def mcp_source(command: str | None = None, url: str | None = None) -> ToolSourceSpec:
    """An unregistered source: one MCP server, started over stdio from ``command`` or reached
    at ``url`` (streamable HTTP), a fresh session (and process) for every run."""
    spec = McpServerSpec(url=url) if url else McpServerSpec.from_command(command or "")
    missing = spec.missing_program()
    if missing:
        raise ToolSourceError(missing)
    return ToolSourceSpec(id="mcp", label=f"MCP server {spec.describe()}",
                          description="an MCP server of your own",
                          open=lambda task: McpToolbox(spec))


def source_for(task: Task) -> ToolSourceSpec:
    """The tool source ``task`` names (``task.tool_source``), else the mock platform; raises
    ``ToolSourceError`` for a name that is not registered."""
    name = task.tool_source or DEFAULT_SOURCE
    if isinstance(name, Mapping):
        return mcp_source(command=name.get("mcp"), url=name.get("mcp_url"))
    try:
        return TOOL_SOURCES[name]
    except KeyError:
        raise ToolSourceError(
            f"Task {task.id!r} names the tool source {name!r}, which does not "
            f"exist; use one of {', '.join(TOOL_SOURCES)}.") from None


def open_toolbox(task: Task) -> Toolbox:
    """A fresh toolbox for one run of ``task`` (see ``source_for``)."""
    return source_for(task).open(task)


__all__ = ["DEFAULT_SOURCE", "TOOL_SOURCES", "ToolSourceError", "ToolSourceSpec", "mcp_source",
           "open_toolbox", "source_for"]
