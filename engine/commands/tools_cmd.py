"""`tools analyze`: what a tool list costs in each mode (a file, or a live MCP server).

    codeact-explorer tools analyze FILE            # MCP tools/list result, or OpenAI/Mistral tools
    codeact-explorer tools analyze --mcp "python -m my_server"     # a stdio MCP server
    codeact-explorer tools analyze --mcp-url http://127.0.0.1:8000/mcp
        [--rounds N] [--format table|json|markdown]

A file or server that cannot be used ends the command with one sentence (exit status 2); a tool
that cannot be used is reported in one sentence and the others are still analysed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import UserError
from engine.render_python import ToolDef
from engine.tool_analysis import analyse, render
from engine.toolboxes.mcp import McpServerError, McpServerSpec, McpToolbox
from engine.toolboxes.tool_list import ToolListError, load_tool_list

FORMATS = ("table", "json", "markdown")


def add_analyze(tools_parser: argparse.ArgumentParser) -> None:
    """Add ``analyze`` under the ``tools`` command (which keeps its own ``--format``)."""
    sub = tools_parser.add_subparsers(dest="tools_command", metavar="analyze")
    analyze = sub.add_parser(
        "analyze", help="tokens of a tool list per tool and per mode (file or MCP server)",
        description="Count a tool list in Mistral's Tekken tokens: per tool as a function "
        "schema and as a Python function, and per mode the fixed input of every request. "
        "SOURCE is an MCP tools/list result or an OpenAI/Mistral tools list (JSON).")
    analyze.add_argument("source", nargs="?", type=Path, metavar="SOURCE",
                         help="a JSON file of tools")
    analyze.add_argument("--mcp", metavar="COMMAND",
                         help="start a stdio MCP server with this command line and list its tools")
    analyze.add_argument("--mcp-url", metavar="URL",
                         help="list the tools of a streamable-HTTP MCP server")
    analyze.add_argument("--rounds", type=int, default=10, metavar="N",
                         help="rounds to project the fixed input over (default 10)")
    analyze.add_argument("--format", dest="analyze_format", choices=FORMATS, default="table",
                         help="output format (default: table)")
    analyze.set_defaults(func=run_analyze)


def _from_server(spec: McpServerSpec) -> tuple[list[ToolDef], str]:
    toolbox = McpToolbox(spec)
    try:
        return toolbox.tools, spec.describe()
    finally:
        toolbox.close()


def run_analyze(args: argparse.Namespace) -> int:
    """Print the analysis of one tool source."""
    chosen = [x for x in (args.source, args.mcp, args.mcp_url) if x]
    if len(chosen) != 1:
        raise UserError("Give exactly one tool source: a FILE, --mcp COMMAND or --mcp-url URL.")
    if not 1 <= args.rounds <= 1000:
        raise UserError("--rounds must be a whole number from 1 to 1000.")
    skipped: list[str] = []
    try:
        if args.source is not None:
            loaded = load_tool_list(args.source)
            tools, label, skipped = loaded.tools, loaded.label, loaded.skipped
        elif args.mcp:
            tools, label = _from_server(McpServerSpec.from_command(args.mcp))
        else:
            if not args.mcp_url.startswith(("http://", "https://")):
                raise UserError(f"--mcp-url {args.mcp_url!r} is not an http:// or https:// URL.")
            tools, label = _from_server(McpServerSpec(url=args.mcp_url))
    except (ToolListError, McpServerError) as exc:
        raise UserError(str(exc)) from None
    if not tools:
        raise UserError(f"{label} has no tools to analyse.")
    sys.stdout.write(render(analyse(tools, label, rounds=args.rounds, skipped=skipped),
                            args.analyze_format))
    return 0
