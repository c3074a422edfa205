"""Tools files: MCP tools/list results and OpenAI/Mistral tools lists, good and broken."""

from __future__ import annotations

import json

import pytest

from engine.toolboxes.tool_list import StaticToolbox, ToolListError, load_tool_list

MCP_TOOL = {"name": "get_user", "description": "Get a user.",
            "inputSchema": {"type": "object", "properties": {"id": {"type": "integer"}}}}
FUNCTION = {"type": "function", "function": {
    "name": "get_user", "description": "Get a user.",
    "parameters": {"type": "object", "properties": {"id": {"type": "integer"}}}}}


@pytest.mark.parametrize("doc", [
    {"tools": [MCP_TOOL]},
    {"jsonrpc": "2.0", "id": 1, "result": {"tools": [MCP_TOOL]}},
    [MCP_TOOL],
    [FUNCTION],
    {"tools": [FUNCTION]},
], ids=["mcp-result", "json-rpc-response", "bare-mcp-list", "openai-list", "mistral-tools"])
def test_every_accepted_shape_gives_the_same_tool(tmp_path, doc) -> None:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = load_tool_list(path)
    assert [(t.name, t.description, t.input_schema) for t in loaded.tools] == [
        ("get_user", "Get a user.", MCP_TOOL["inputSchema"])]
    assert loaded.skipped == [] and loaded.label == "tools.json"


@pytest.mark.parametrize("text, expected", [
    ("{not json", "is not valid JSON (Expecting property name enclosed in double quotes at "
                  "line 1, column 2)."),
    ('{"servers": []}', "holds no tools;"),
    ("[]", "holds no tools;"),
    ('[{"description": "no name"}]', "none of its 1 entries is a usable tool"),
])
def test_a_file_that_cannot_be_used_is_one_sentence_naming_it(tmp_path, text, expected) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ToolListError) as err:
        load_tool_list(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and expected in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_unusable_entries_are_skipped_with_a_sentence_and_the_rest_kept(tmp_path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"tools": [
        MCP_TOOL, {"description": "nameless"}, "oops",
        {"name": "broken", "inputSchema": ["not", "an", "object"]}]}), encoding="utf-8")
    loaded = load_tool_list(path)
    assert [t.name for t in loaded.tools] == ["get_user"]
    assert loaded.skipped == ["Tool #2 is skipped: it has no name.",
                              "Tool #3 is skipped: it is not a JSON object.",
                              "Tool 'broken' is skipped: its inputSchema is not a JSON object."]


def test_a_missing_file_is_one_sentence(tmp_path) -> None:
    with pytest.raises(ToolListError, match=r"nope.json: cannot be read \(No such file"):
        load_tool_list(tmp_path / "nope.json")


def test_a_static_toolbox_shows_the_tools_and_says_nothing_runs_them(tmp_path) -> None:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps([FUNCTION]), encoding="utf-8")
    box = StaticToolbox(load_tool_list(path))
    assert box.function_schemas() == [FUNCTION]
    assert "def get_user(id: int | None = None) -> Any:" in box.python_api()
    outcome = box.call("get_user", {"id": 1})
    assert not outcome.ok and "nothing runs it here" in (outcome.error or "")
    assert not box.call("nope", {}).ok
