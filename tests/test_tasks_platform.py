"""Platform semantics: list/get/create/update/delete/search like a real API, errors as values."""

from __future__ import annotations

import json

import pytest

from tasks.api import ToolError, native_api
from tasks.platform import ToolOutcome, new_platform


@pytest.fixture
def platform():
    return new_platform()


def test_list_paginates_with_a_default_page_size(platform) -> None:
    first = platform.call("tasks_list", {}).value
    assert first["page"] == 1 and first["page_size"] == 20 and len(first["items"]) == 20
    assert first["has_more"] and first["next_page"] == 2 and first["total"] > 300
    last_page = -(-first["total"] // 100)
    last = platform.call("tasks_list", {"page": last_page, "page_size": 100}).value
    assert not last["has_more"] and last["next_page"] is None
    assert len(last["items"]) == first["total"] - 100 * (last_page - 1)


def test_list_filters_by_exact_field_values(platform) -> None:
    page = platform.call("bugs_list", {"severity": "critical", "status": "open",
                                       "page_size": 100}).value
    assert page["total"] == len(page["items"]) > 0
    assert all(b["severity"] == "critical" and b["status"] == "open" for b in page["items"])


def test_search_matches_every_word_in_text_fields_plus_filters(platform) -> None:
    page = platform.call("bugs_search", {"query": "PAYMENT", "severity": "critical"}).value
    titles = [b["title"] for b in page["items"]]
    assert titles and all("payment" in t.lower() for t in titles)
    assert all(b["severity"] == "critical" for b in page["items"])
    assert platform.call("users_search", {"query": "lena okafor"}).value["total"] == 1
    assert platform.call("users_search", {"query": "okafor zzz"}).value["total"] == 0


def test_get_create_update_delete_round_trip(platform) -> None:
    api = native_api(platform)
    task = api.tasks.create("Write the runbook", 1, priority="high")
    assert task["id"] == 421 and task["status"] == "todo" and task["priority"] == "high"
    assert api.tasks.get(task["id"]) == task
    updated = api.tasks.update(task["id"], status="done")
    assert updated["status"] == "done" and updated["title"] == "Write the runbook"
    gone = api.tasks.delete(task["id"])
    assert gone["id"] == task["id"] and "Write the runbook" in gone["deleted"]
    assert [(w.action, w.resource, w.id) for w in platform.writes] == [
        ("create", "tasks", 421), ("update", "tasks", 421), ("delete", "tasks", 421)]
    with pytest.raises(ToolError, match="no task has id 421"):
        api.tasks.get(task["id"])


def test_results_are_copies(platform) -> None:
    user = platform.call("users_get", {"id": 1}).value
    user["name"] = "Mallory"
    assert platform.record("users", 1)["name"] != "Mallory"


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("task_list", {}, "Unknown tool 'task_list'. Did you mean tasks_list"),
    ("tasks_list", {"colour": "red"}, "unknown argument 'colour'"),
    ("tasks_get", {"id": 99999}, "no task has id 99999; find ids with tasks_search"),
    ("tasks_get", {}, "missing required argument 'id'"),
    ("tasks_get", {"id": "seven"}, "id must be an integer"),
    ("bugs_update", {"id": 1, "status": "fixed"},
     "status='fixed' is not allowed; use one of: open, triaged, in_progress, resolved, closed"),
    ("tasks_create", {"title": "x"}, "missing required argument 'project_id'"),
    ("tasks_create", {"title": "x", "project_id": 999}, "project_id=999 does not exist"),
    ("tasks_update", {"id": 1}, "nothing to change"),
    ("comments_create", {"body": "Hi", "author_id": 1}, "a comment needs task_id or bug_id"),
    ("tasks_update", {"id": 1, "title": None}, "title is required and cannot be cleared"),
    ("meetings_create", {"title": "x", "date": "June 3"}, "date must be a date like 2025-06-02"),
    ("tasks_list", {"page_size": 1000}, "page_size must be between 1 and 100"),
    ("tasks_search", {"query": "  "}, "query is empty"),
    ("tasks_list", "not json", "arguments are not valid JSON"),
])
def test_every_failure_is_a_structured_error_naming_the_fix(platform, name, args,
                                                           expected) -> None:
    outcome = platform.call(name, args)
    assert isinstance(outcome, ToolOutcome) and not outcome.ok
    assert expected in outcome.error
    assert outcome.to_wire() == {"ok": False, "error": outcome.error}
    assert json.loads(outcome.content()) == {"error": outcome.error}
    assert platform.writes == []


def test_wire_and_content_forms_of_a_success(platform) -> None:
    outcome = platform.call("teams_get", {"id": 1})
    assert outcome.to_wire() == {"ok": True, "value": outcome.value}
    assert json.loads(outcome.content()) == outcome.value
    assert ", " not in outcome.content()  # compact JSON


def test_api_proxy_maps_positional_arguments_and_rejects_too_many(platform) -> None:
    api = native_api(platform)
    assert api.users.search("Priya Raman")["items"][0]["name"] == "Priya Raman"
    assert api.tasks.list(2, 5)["page"] == 2
    with pytest.raises(ToolError, match="at most 1 positional"):
        api.tasks.get(1, 2)
    assert api.users.get(id=1)["id"] == 1
    with pytest.raises(AttributeError, match=r"^api has no 'widgets'\. Valid names: users, "):
        api.widgets  # noqa: B018
    with pytest.raises(AttributeError, match=r"^api\.tasks has no 'gett'\. Did you mean "
                       r"api\.tasks\.get\? Valid names: get, list, "):
        api.tasks.gett  # noqa: B018
