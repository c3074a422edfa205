"""JSON Schema tools rendered as function schemas, a typed Python API and guest functions."""

from __future__ import annotations

import json
from pathlib import Path

from engine.render_python import (
    ToolDef,
    arguments_for,
    function_schema,
    guest_functions,
    prepare,
    python_api_text,
    render_function,
)
from engine.toolboxes.tool_list import load_tool_list

GITHUB = Path(__file__).parent / "data" / "github-mcp-server.tools-list.json"


def _tool(name: str, props: dict, required: list | None = None, **kw) -> ToolDef:
    schema = {"type": "object", "properties": props, **({"required": required} if required
                                                        else {})}
    return prepare([ToolDef(name, kw.pop("description", "Does it."), schema, **kw)])[0]


def test_a_name_mistral_refuses_is_renamed_reported_and_mapped_back() -> None:
    tool = _tool("odd.name/v2", {"from": {"type": "integer"}, "user-id": {"type": "string"}},
                 ["from"])
    assert tool.function_name == "odd_name_v2" and tool.python_name == "odd_name_v2"
    assert len(tool.problems) == 1 and "Mistral refuses the name 'odd.name/v2'" in \
        tool.problems[0]
    assert function_schema(tool)["function"]["name"] == "odd_name_v2"
    fn = render_function(tool)
    assert fn.params == ["from_", "user_id"]
    assert fn.text.startswith("def odd_name_v2(from_: int, user_id: str | None = None)")
    assert arguments_for(tool, {"from_": 1, "user_id": "u"}) == {"from": 1, "user-id": "u"}


def test_renamed_tools_never_collide_with_each_other_or_with_valid_names() -> None:
    tools = prepare([ToolDef("a.b", ""), ToolDef("a_b", ""), ToolDef("a/b", ""),
                     ToolDef("x" * 80, "")])
    names = [t.function_name for t in tools]
    assert names[1] == "a_b" and len(set(names)) == 4
    assert all(len(n) <= 64 for n in names)


def test_refused_keywords_are_removed_from_what_is_sent_and_reported() -> None:
    tool = prepare([ToolDef("t", "", {"$schema": "http://json-schema.org/draft-07/schema#",
                                      "type": "object", "properties": {
                                          "$id": {"type": "string"},  # a property, kept
                                          "x": {"$id": "x", "type": "string"}}})])[0]
    sent = function_schema(tool)["function"]["parameters"]
    assert "$schema" not in sent and "$id" in sent["properties"]
    assert "$id" not in sent["properties"]["x"]
    assert tool.problems == ["Mistral refuses $schema and $id in a tool schema, so tool calling "
                             "sends the schema without them."]


def test_schemas_mistral_would_refuse_are_reported_in_one_sentence() -> None:
    bad_type = prepare([ToolDef("t", "", {"type": "object",
                                          "properties": {"a": {"type": "strng"}}})])[0]
    assert len(bad_type.problems) == 1
    assert bad_type.problems[0].startswith("Its arguments schema is not valid JSON Schema")
    not_object = prepare([ToolDef("t", "", {"type": "array"})])[0]
    assert not_object.problems == ["Its arguments schema is not an object schema, which "
                                   "function calling needs; Mistral would refuse it."]


def test_python_types_come_from_the_schema() -> None:
    tool = _tool("search", {
        "query": {"type": "string", "description": "Words to find."},
        "state": {"type": "string", "enum": ["open", "closed"], "default": "open"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "since": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "author": {"$ref": "#/$defs/Person"},
        "filter": {"type": "object", "properties": {"draft": {"type": "boolean"}},
                   "required": ["draft"]},
        "extra": {"type": "object", "additionalProperties": {"type": "number"}},
    }, ["query"], output_schema={"type": "object", "properties": {
        "result": {"type": "array", "items": {"type": "integer"}}}, "required": ["result"]})
    tool.input_schema["$defs"] = {"Person": {"type": "object", "properties": {
        "login": {"type": "string"}}}}
    text = render_function(tool).text
    assert ("def search(query: str, state: Literal['open', 'closed'] = 'open', "
            "labels: list[str] | None = None, limit: int | None = None, "
            "since: str | None = None, author: Person | None = None, "
            "filter: SearchFilter | None = None, extra: dict[str, float] | None = None"
            ") -> list[int]:") in text
    assert "class Person(TypedDict):\n    login: NotRequired[str]" in text
    assert "class SearchFilter(TypedDict):\n    draft: bool" in text
    assert "query: Words to find." in text and "limit: [>=1, <=100]" in text


def test_the_api_text_of_a_real_server_is_valid_python_and_smaller_than_its_schemas() -> None:
    tools = load_tool_list(GITHUB).tools
    text = python_api_text(tools, "GitHub")
    compile(text, "<api>", "exec")
    assert text.count("\ndef ") == len(tools) == 114
    schemas = json.dumps([function_schema(t) for t in tools])
    assert len(text) < len(schemas)


def test_guest_functions_are_keyed_by_the_function_calling_name() -> None:
    tools = prepare([ToolDef("get-user", "Get a user.\nMore text.", {
        "type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]})])
    assert guest_functions(tools) == {"get-user": {
        "path": "get_user", "params": ["id"], "signature": "api.get_user(id: int) -> Any",
        "doc": "Get a user."}}


def test_none_for_an_optional_parameter_means_not_given_unless_null_is_allowed() -> None:
    tool = _tool("t", {"a": {"type": "string"}, "b": {"type": ["string", "null"]},
                       "c": {"type": "string"}}, ["c"])
    assert arguments_for(tool, {"a": None, "b": None, "c": None}) == {"b": None, "c": None}
