"""A hand-written stdio "MCP server" that misbehaves on the wire, which SDK servers cannot do
(the 2.x SDK diverts stray stdout writes to stderr).

    python raw_server.py garbage     # answers tools/call with a line that is not JSON-RPC
    python raw_server.py bad-result  # answers tools/call with a result that is not a tool result

It speaks just enough JSON-RPC to be listed: an error for ``server/discover`` (so the client
falls back to the initialize handshake), ``initialize``, ``tools/list``.
"""

from __future__ import annotations

import json
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "garbage"


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    if "id" not in request:
        continue  # a notification
    method, rid = request.get("method"), request["id"]
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": rid, "result": {
            "protocolVersion": request["params"]["protocolVersion"],
            "capabilities": {"tools": {}}, "serverInfo": {"name": "raw", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": rid, "result": {"tools": [
            {"name": "answer", "description": "Answers badly.",
             "inputSchema": {"type": "object", "properties": {}}}]}})
    elif method == "tools/call" and MODE == "garbage":
        sys.stdout.write("this is not json\n")
        sys.stdout.flush()
        time.sleep(600)
    elif method == "tools/call":
        send({"jsonrpc": "2.0", "id": rid, "result": {"content": "not a list", "isError": 3}})
    else:
        send({"jsonrpc": "2.0", "id": rid,
              "error": {"code": -32601, "message": f"Method not found: {method}"}})
