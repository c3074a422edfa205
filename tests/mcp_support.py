"""Test helpers for MCP tool sources: the test servers' command lines, and running a program
natively against a toolbox's ``api`` (the way the scripted agent re-executes reference programs)."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import Any

from engine.toolbox import Toolbox
from engine.toolboxes.mcp import McpServerSpec
from tasks.api import ToolError

SERVERS = Path(__file__).parent / "mcp_servers"
EDGE = McpServerSpec(command=(sys.executable, str(SERVERS / "edge_server.py")), label="edge")


def raw(mode: str) -> McpServerSpec:
    """The hand-written misbehaving server in ``mode`` ("garbage" or "bad-result")."""
    return McpServerSpec(command=(sys.executable, str(SERVERS / "raw_server.py"), mode),
                         label="raw")


class _Function:
    def __init__(self, toolbox: Toolbox, name: str, params: list[str]) -> None:
        self.toolbox, self.name, self.params = toolbox, name, params

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arguments = dict(zip(self.params, args, strict=False)) | kwargs
        outcome = self.toolbox.call(self.name, arguments)
        if not outcome.ok:
            raise ToolError(outcome.error)
        return outcome.value


class FlatApi:
    """``api.<path>(...)`` for every guest function of a toolbox (flat paths only)."""

    def __init__(self, toolbox: Toolbox) -> None:
        for name, fn in toolbox.guest_api().items():
            setattr(self, fn["path"], _Function(toolbox, name, fn["params"]))


def run_natively(program: str, toolbox: Toolbox) -> str:
    """What ``program`` prints when run here against ``toolbox`` (errors propagate)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(program, "<reference>", "exec"),
             {"api": FlatApi(toolbox), "ToolError": ToolError, "__name__": "__main__"})
    return out.getvalue()
