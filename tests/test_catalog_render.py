"""The two renderings: Mistral tool schemas (~article size) and a compact typed Python API."""

from __future__ import annotations

import ast
import re

from engine.tokens import count_text, count_tools
from tasks.catalog import RESOURCES, tool_specs
from tasks.render import mistral_tools, python_api_text


def test_mistral_tools_are_function_schemas_with_described_parameters() -> None:
    tools = mistral_tools()
    assert len(tools) == 120
    by_name = {t["function"]["name"]: t["function"] for t in tools}
    assert set(by_name) == {s.name for s in tool_specs()}
    bug_update = by_name["bugs_update"]["parameters"]
    assert bug_update["required"] == ["id"]
    assert bug_update["properties"]["status"]["enum"] == [
        "open", "triaged", "in_progress", "resolved", "closed"]
    for fn in by_name.values():
        assert fn["description"]
        for prop in fn["parameters"]["properties"].values():
            assert prop["type"] in ("string", "integer", "number", "boolean")
            assert prop["description"]


def test_mistral_tools_cost_about_what_the_article_measured() -> None:
    # The article: "~13,000 tokens just for the tool definitions"; ours carry list/search
    # filters and every field on create/update, so they sit somewhat above it.
    assert 12_000 <= count_tools(mistral_tools()) <= 20_000


def test_python_api_fits_in_3000_tekken_tokens() -> None:
    assert count_text(python_api_text()) <= 3000


def test_python_api_is_python_and_carries_every_resource_field_and_type() -> None:
    text = python_api_text()
    tree = ast.parse(text)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for res in RESOURCES:
        assert f"api.{res.name}:" in text
        fields = {s.target.id: ast.unparse(s.annotation) for s in classes[res.type_name].body
                  if isinstance(s, ast.AnnAssign)}
        expected = [f.name for f in res.fields if f.required]
        expected += [f.name for f in res.fields if not f.required]
        assert list(fields) == expected
        for f in res.fields:
            if f.enum:
                assert all(repr(v) in fields[f.name] for v in f.enum)
    for action in ("list", "search", "get", "create", "update", "delete"):
        assert re.search(rf"^#\s+{action}\(", text, re.M)
    assert "ToolError" in text and "has_more" in text and "next_page" in text
