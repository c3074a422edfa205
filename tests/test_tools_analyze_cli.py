"""`codeact-explorer tools analyze`: a tools file or a live MCP server, per tool and per mode."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp_support import EDGE, SERVERS

from engine.modes import MODES
from tui.cli import main

GITHUB = Path(__file__).parent / "data" / "github-mcp-server.tools-list.json"


def test_analyze_a_real_public_tools_list(capsys) -> None:
    assert main(["tools", "analyze", str(GITHUB), "--rounds", "5"]) == 0
    out = capsys.readouterr().out
    assert "Tool source: github-mcp-server.tools-list.json — 114 tools" in out
    for heading in ("Per tool", "Every request, per mode", "OVER 5 ROUNDS", "Largest tools"):
        assert heading in out
    assert "get_file_contents" in out and "TOTAL (as sent)" in out
    assert "Problems" not in out  # the GitHub server's schemas are all acceptable


def test_analyze_json_is_a_stable_document_whose_numbers_add_up(capsys) -> None:
    assert main(["tools", "analyze", str(GITHUB), "--format", "json", "--rounds", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "codeact-explorer/tools-analyze/1" and doc["tool_count"] == 114
    modes = {m["mode"]: m for m in doc["modes"]}
    assert modes["tool_calling"]["tool_tokens"] == doc["totals"]["function_schemas"]
    assert modes["codeact"]["tool_tokens"] == doc["totals"]["python_api"]
    assert list(modes) == [m.id for m in MODES]
    for m in modes.values():
        assert m["per_round"] == m["system_tokens"] + m["tool_tokens"]
        assert m["projected"] == 3 * m["per_round"]
    # Discovery lists no API: a one-line summary instead of 114 functions.
    assert modes["codeact_discovery"]["tool_tokens"] < 50 < modes["codeact"]["tool_tokens"]
    # The per-tool schema counts and the block count agree to within the separators.
    per_tool = sum(t["schema_tokens"] for t in doc["tools"])
    assert abs(per_tool - doc["totals"]["function_schemas"]) < 2 * len(doc["tools"])
    assert doc["largest"][0] == max(doc["tools"], key=lambda t: t["schema_tokens"])["name"]


def test_analyze_markdown_has_tables(capsys) -> None:
    assert main(["tools", "analyze", str(GITHUB), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Tool source:") and "| TOOL | SCHEMA | PYTHON | SMALLER |" in out


def test_problems_are_one_sentence_per_tool_and_the_rest_is_analysed(tmp_path, capsys) -> None:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps({"tools": [
        {"name": "fine", "inputSchema": {"type": "object", "properties": {}}},
        {"name": "bad name!", "inputSchema": {"type": "object", "properties": {}}},
        {"description": "no name"}]}), encoding="utf-8")
    assert main(["tools", "analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 tools, 1 skipped" in out
    assert "- Tool #3 is skipped: it has no name." in out
    assert "- bad name!: Mistral refuses the name 'bad name!'" in out


def test_a_broken_file_or_no_source_ends_in_one_sentence(tmp_path, capsys) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    assert main(["tools", "analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert "is not valid JSON" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["tools", "analyze"]) == 2
    assert "Give exactly one tool source" in capsys.readouterr().err


def test_tools_format_still_works_beside_analyze(capsys) -> None:
    assert main(["tools", "--format", "python"]) == 0
    assert "class Task:" in capsys.readouterr().out


def test_analyze_a_live_stdio_server(capsys) -> None:
    command = " ".join(EDGE.command)
    assert main(["tools", "analyze", "--mcp", command, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tool_count"] == 11
    odd = next(t for t in doc["tools"] if t["name"] == "odd.name/v2")
    assert odd["function_name"] == "odd_name_v2" and len(odd["problems"]) == 1
    dollar = next(t for t in doc["tools"] if t["name"] == "dollar_schema")
    assert dollar["problems"] == ["Mistral refuses $schema in a tool schema, so tool calling "
                                  "sends the schema without them."]


def test_a_server_that_does_not_start_is_one_sentence(capsys) -> None:
    assert main(["tools", "analyze", "--mcp", "no-such-program-here --flag"]) == 2
    err = capsys.readouterr().err
    assert err == ("codeact-explorer: The MCP server no-such-program-here could not start: "
                   "'no-such-program-here' was not found; check the command.\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(SERVERS / "edge_server.py"), "--http",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(10)


def test_analyze_a_live_streamable_http_server(http_server, capsys) -> None:
    assert main(["tools", "analyze", "--mcp-url", http_server]) == 0
    assert f"Tool source: {http_server} — 11 tools" in capsys.readouterr().out


def test_an_unreachable_url_is_one_sentence(capsys) -> None:
    url = f"http://127.0.0.1:{_free_port()}/mcp"
    assert main(["tools", "analyze", "--mcp-url", url]) == 2
    err = capsys.readouterr().err
    assert f"The MCP server at {url} could not be reached" in err and err.count("\n") == 1
