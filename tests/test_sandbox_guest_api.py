"""The guest's ``api`` as programs see it: built from flat tool names with dotted paths."""

from __future__ import annotations

import pytest
from sandbox_support import MIXED_API, SMALL, guest_function, shared_cache

from wasm_sandbox import Sandbox, check_guest_api


def echo(name: str, args: dict) -> dict:
    return {"ok": True, "value": {"tool": name, "args": args}}


@pytest.fixture(scope="module")
def mixed():
    with Sandbox(echo, MIXED_API, limits=SMALL, cache_dir=shared_cache()) as sandbox:
        yield sandbox


def test_each_dotted_path_calls_its_flat_tool_name(mixed):
    result = mixed.run(
        "print(api.read_query('select 1'))\n"
        "print(api.users.get(5))\n"
        "print(api.users.get(id=6))\n"
        "print(api.github.issues.list('a/b', state='open'))\n"
    )
    assert result.error is None, result.error
    assert result.output.splitlines() == [
        "{'tool': 'read_query', 'args': {'sql': 'select 1'}}",
        "{'tool': 'users_get', 'args': {'id': 5}}",
        "{'tool': 'users_get', 'args': {'id': 6}}",
        "{'tool': 'github.issues-list', 'args': {'repo': 'a/b', 'state': 'open'}}",
    ]
    assert result.host_calls == ["read_query", "users_get", "users_get", "github.issues-list"]


def test_namespaces_list_their_members(mixed):
    result = mixed.run("print(api)\nprint(dir(api.github))\nprint(api.users.get)")
    assert result.output.splitlines() == [
        "<api: read_query, users, github>",
        "['issues']",
        "<function api.users.get(id)>",
    ]


@pytest.mark.parametrize(
    ("guest_api", "words"),
    [
        ({"users get": guest_function("users.get", [])}, "tool name 'users get'"),
        ({"a": guest_function("users.class", [])}, "'class' is not a Python identifier"),
        ({"a": guest_function("users._hidden", [])}, "no leading _"),
        ({"a": guest_function("users.2get", [])}, "'2get'"),
        ({"a": guest_function("users.get", ["id", "id"])}, "distinct names"),
        ({"a": {"params": []}}, "has no path"),
        ({"a": guest_function("x.y", []), "b": guest_function("x.y", [])}, "share the path"),
        ({"a": guest_function("users", []), "b": guest_function("users.get", [])},
         "is also a namespace"),
        ({"a": ["users.get"]}, "must be a dict"),
    ],
)
def test_a_malformed_guest_api_is_one_sentence(guest_api, words):
    with pytest.raises(ValueError, match=r"^guest_api") as caught:
        check_guest_api(guest_api)
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_a_malformed_guest_api_is_refused_before_any_interpreter_starts():
    with pytest.raises(ValueError, match="share the path"):
        Sandbox(echo, {"a": guest_function("x.y", []), "b": guest_function("x.y", [])},
                limits=SMALL, cache_dir=shared_cache())


def test_docs_are_kept_on_one_line_and_a_missing_signature_is_made_up():
    checked = check_guest_api({"a": {"path": "x.y", "params": ["q"], "doc": "Two\nlines."}})
    assert checked == {"a": {"path": "x.y", "params": ["q"], "signature": "api.x.y(q)",
                             "doc": "Two lines."}}
