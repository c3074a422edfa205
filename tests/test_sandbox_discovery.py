"""Tool discovery inside programs: ``search_api(query, limit=10)`` and ``help(api.x)``.

What the "CodeAct with tool discovery" mode's prompt tells the model to use, run through a real
sandbox against the platform's 120 tools.
"""

from __future__ import annotations

import pytest
from sandbox_support import MIXED_API, SMALL, shared_cache

from tasks.catalog import guest_api_spec
from tasks.platform import new_platform
from wasm_sandbox import Sandbox

SPEC = guest_api_spec()


def line(name: str) -> str:
    return f"{SPEC[name]['signature']} — {SPEC[name]['doc']}"


@pytest.fixture(scope="module")
def box():
    platform = new_platform()
    with Sandbox(lambda name, args: platform.call(name, args).to_wire(), SPEC,
                 cache_dir=shared_cache()) as sandbox:
        yield sandbox


def test_search_api_puts_the_function_matching_every_word_first(box):
    result = box.run("hits = search_api('create invoice')\nprint(len(hits))\nprint(hits[0])")
    assert result.error is None, result.error
    assert result.output == f"10\n{line('invoices_create')}\n"


def test_search_api_ranks_deterministically_and_respects_the_limit(box):
    result = box.run(
        "a = search_api('time entries of a user', limit=3)\n"
        "b = search_api('time entries of a user', 3)\n"
        "print(a == b, len(a), all(' — ' in x for x in a))\n"
        "print([x.split('(')[0] for x in a])"
    )
    assert result.output.splitlines() == [
        "True 3 True",
        "['api.time_entries.list', 'api.time_entries.create', 'api.time_entries.update']",
    ]


def test_a_word_in_a_doc_finds_functions_whose_path_lacks_it(box):
    result = box.run("print(search_api('callback fired on platform events', 1))")
    assert result.output == line("webhooks_create") + "\n"


def test_printing_the_list_shows_one_line_per_function(box):
    result = box.run("search_api('bug severity', 2)")
    assert result.output == "\n".join([line("bugs_list"), line("bugs_create")]) + "\n"


def test_no_match_is_an_empty_list_and_no_words_lists_the_first_functions(box):
    result = box.run("print(search_api('zzzz qqqq'))\nprint(len(search_api('', 200)))")
    assert result.output == "[]\n120\n"


def test_search_api_refuses_a_query_that_is_not_text(box):
    result = box.run("search_api(['users'])")
    assert result.error.endswith("TypeError: search_api() takes words as a str, not list")


def test_help_on_a_function_prints_its_signature_and_doc(box):
    result = box.run("help(api.users.get)\nhelp('api.users.delete')")
    assert result.output == (
        "api.users.get(id: int) -> dict\n    Get one user by id.\n"
        "api.users.delete(id: int) -> dict\n    Delete a user by id. Returns deleted, id, "
        "resource.\n"
    )


def test_help_on_a_namespace_lists_its_functions_with_docs(box):
    result = box.run("help(api.users)")
    lines = result.output.splitlines()
    assert lines[0] == "api.users: help(<name>) on one of these shows its doc."
    assert lines[1:] == [text for name in ("users_list", "users_get", "users_create",
                                           "users_update", "users_delete", "users_search")
                         for text in (SPEC[name]["signature"], "    " + SPEC[name]["doc"])]


def test_help_on_api_lists_the_namespaces_and_help_alone_says_how(box):
    result = box.run("help(api)")
    lines = result.output.splitlines()
    assert len(lines) == 21
    assert lines[1] == "api.users — namespace: list, get, create, update, delete, search"
    alone = box.run("help()").output
    assert "search_api(" in alone and "help(api.<name>)" in alone


def test_help_on_other_objects_is_the_standard_help(box):
    result = box.run("help(len)")
    assert result.error is None and "Return the number of items in a container" in result.output


def test_a_discovered_function_is_then_called(box):
    result = box.run(
        "hit = search_api('get one team by id', 1)[0]\n"
        "path = hit.split('(')[0].split('.')[1:]\n"
        "fn = api\n"
        "for part in path:\n"
        "    fn = getattr(fn, part)\n"
        "print(fn(1)['id'])"
    )
    assert result.output == "1\n" and result.host_calls == ["teams_get"]


def test_discovery_works_for_top_level_and_deep_paths():
    def echo(name: str, args: dict) -> dict:
        return {"ok": True, "value": name}

    with Sandbox(echo, MIXED_API, limits=SMALL, cache_dir=shared_cache()) as sandbox:
        result = sandbox.run("print(search_api('sql query', 1))\nhelp(api)\nhelp(api.github)")
    assert result.output.splitlines() == [
        "api.read_query(sql) — Run a read-only SQL query.",
        "api: help(<name>) on one of these shows its doc.",
        "api.read_query(sql)",
        "    Run a read-only SQL query.",
        "api.users — namespace: get",
        "api.github — namespace: issues",
        "api.github: help(<name>) on one of these shows its doc.",
        "api.github.issues — namespace: list",
    ]
