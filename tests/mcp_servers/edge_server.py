"""An MCP server written with the SDK's low-level ``Server`` for the tests' edge cases.

Run as a subprocess by the tests:

    python edge_server.py                 # stdio
    python edge_server.py --http PORT     # streamable HTTP on 127.0.0.1:PORT, path /mcp
    python edge_server.py --exit-at-start # writes a line on stderr and exits with status 3

The low-level API lets the tool list carry raw schemas the decorators cannot write. Tools:
``lookup`` (structured object), ``primes`` (structured list, wrapped as {"result": ...}),
``json_text`` (JSON as text), ``greet`` (plain text), ``boom`` (isError), ``sleepy`` (hangs),
``huge`` (about ``kilobytes`` KiB of text), ``odd.name/v2`` (a name Mistral refuses, arguments
named ``from`` and ``user-id``), ``dollar_schema`` (``$schema`` in its schema), ``crash`` (the
process exits), ``garbage`` (a line that is not JSON-RPC on stdout, then hangs).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server


def _tool(name: str, description: str, properties: dict[str, Any] | None = None,
          required: list[str] | None = None, output: dict[str, Any] | None = None,
          **extra: Any) -> types.Tool:
    schema: dict[str, Any] = {"type": "object", "properties": properties or {}, **extra}
    if required:
        schema["required"] = required
    return types.Tool(name=name, description=description, input_schema=schema,
                      output_schema=output)


TOOLS = [
    _tool("lookup", "Look a person up by id.", {"person_id": {"type": "integer"}},
          ["person_id"], output={"type": "object", "properties": {
              "name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"]}),
    _tool("primes", "The primes below n.", {"n": {"type": "integer", "minimum": 2}}, ["n"],
          output={"type": "object", "properties": {
              "result": {"type": "array", "items": {"type": "integer"}}},
              "required": ["result"]}),
    _tool("json_text", "Returns JSON as text.", {"count": {"type": "integer", "default": 2}}),
    _tool("greet", "Says hello.", {"name": {"type": "string", "description": "Who."},
                                   "punctuation": {"type": "string", "default": "!"}},
          ["name"]),
    _tool("boom", "Always fails.", {"reason": {"type": "string"}}),
    _tool("sleepy", "Sleeps for a long time.", {"seconds": {"type": "number"}}),
    _tool("huge", "Returns a lot of text.", {"kilobytes": {"type": "integer"}}),
    _tool("odd.name/v2", "A name Mistral refuses.", {
        "from": {"type": "integer", "description": "Start."},
        "user-id": {"type": "string"},
        "filter": {"type": "object", "properties": {"state": {"enum": ["open", "closed"]}}}},
        ["from"]),
    _tool("dollar_schema", "A schema with $schema in it.", {"value": {"type": "string"}},
          **{"$schema": "http://json-schema.org/draft-07/schema#"}),
    _tool("crash", "Exits the server process at once."),
    _tool("garbage", "Writes a line that is not JSON-RPC to stdout, then hangs."),
]


def _text(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                is_error=error)


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    args = params.arguments or {}
    name = params.name
    if name == "lookup":
        person = {"name": f"person {args['person_id']}", "age": 30 + int(args["person_id"])}
        result = _text(json.dumps(person))
        result.structured_content = person
        return result
    if name == "primes":
        found = [p for p in range(2, int(args["n"])) if all(p % d for d in range(2, p))]
        result = _text(json.dumps(found))
        result.structured_content = {"result": found}
        return result
    if name == "json_text":
        return _text(json.dumps({"items": list(range(int(args.get("count", 2))))}))
    if name == "greet":
        return _text(f"Hello, {args['name']}{args.get('punctuation', '!')}")
    if name == "boom":
        return _text(f"boom: {args.get('reason', 'no reason')}", error=True)
    if name == "sleepy":
        await anyio.sleep(float(args.get("seconds", 600)))
        return _text("woke up")
    if name == "huge":
        return _text(("x" * 1023 + "\n") * int(args.get("kilobytes", 1024)))
    if name == "odd.name/v2":
        return _text(f"from={args.get('from')} user-id={args.get('user-id')} "
                     f"filter={args.get('filter')}")
    if name == "dollar_schema":
        return _text(str(args.get("value", "")))
    if name == "crash":
        print("edge server: crashing on purpose", file=sys.stderr, flush=True)
        os._exit(7)
    if name == "garbage":
        os.write(1, b"this is not json\n")
        time.sleep(600)
    return _text(f"unknown tool {name}", error=True)


server = Server("edge", on_list_tools=list_tools, on_call_tool=call_tool)


async def main_stdio() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    print(f"edge server: starting, pid {os.getpid()}", file=sys.stderr, flush=True)
    if "--exit-at-start" in sys.argv:
        print("edge server: refusing to start", file=sys.stderr, flush=True)
        sys.exit(3)
    if "--http" in sys.argv:
        import uvicorn

        port = int(sys.argv[sys.argv.index("--http") + 1])
        uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=port,
                    log_level="warning")
    else:
        anyio.run(main_stdio)
