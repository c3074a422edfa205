"""The catalog: 120 tools generated from 20 resources, named and ordered as the contracts say."""

from __future__ import annotations

from tasks.catalog import (
    ACTIONS,
    RESOURCES,
    RESOURCES_BY_NAME,
    guest_api_spec,
    tool_spec,
    tool_specs,
)
from wasm_sandbox import check_guest_api


def test_there_are_120_tools_from_20_resources_and_6_actions() -> None:
    specs = tool_specs()
    assert len(RESOURCES) == 20
    assert ACTIONS == ("list", "get", "create", "update", "delete", "search")
    assert len(specs) == 120
    assert len({s.name for s in specs}) == 120
    assert all(s.name == f"{s.resource}_{s.action}" for s in specs)
    assert tool_spec("time_entries_list") is not None
    assert tool_spec("users_search").params[0].name == "query"
    assert tool_spec("nope") is None


def test_every_foreign_key_points_at_a_resource_and_enums_are_closed() -> None:
    for res in RESOURCES:
        assert res.text_fields, f"{res.name} has nothing to search"
        for f in res.fields:
            if f.ref:
                assert f.ref in RESOURCES_BY_NAME and f.type == "int"
            if f.enum:
                assert f.type == "str" and len(f.enum) >= 2
            if f.default is not None and f.enum:
                assert f.default in f.enum


def test_params_follow_the_positional_order_of_the_python_api() -> None:
    for s in tool_specs():
        names = [p.name for p in s.params]
        res = RESOURCES_BY_NAME[s.resource]
        if s.action in ("get", "delete"):
            assert names == ["id"]
        elif s.action == "update":
            ordered = sorted(res.fields, key=lambda f: not f.required)  # stable: required first
            assert names == ["id", *(f.name for f in ordered)]
        elif s.action == "list":
            assert names[:2] == ["page", "page_size"]
        elif s.action == "search":
            assert names[:3] == ["query", "page", "page_size"]
        else:
            required = [p.name for p in s.params if p.required]
            assert names[: len(required)] == required
            assert set(names) == {f.name for f in res.fields}
        assert all(p.description for p in s.params)


def test_guest_api_spec_maps_every_flat_tool_name_to_its_path_params_and_signature() -> None:
    spec = guest_api_spec()
    assert list(spec) == [s.name for s in tool_specs()]
    for s in tool_specs():
        fn = spec[s.name]
        assert fn["path"] == f"{s.resource}.{s.action}"
        assert fn["params"] == [p.name for p in s.params]
        assert fn["signature"].startswith(f"api.{s.resource}.{s.action}(")
        assert fn["doc"].startswith(s.description) and "\n" not in fn["doc"]
    assert spec["users_get"]["signature"] == "api.users.get(id: int) -> dict"
    assert spec["users_search"]["params"][0] == "query"
    assert check_guest_api(spec) == spec  # the sandbox accepts it as it is


