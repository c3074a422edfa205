"""The strict stand-in refuses what Mistral's API refuses, and answers as the API does.

Without this, a test against the stand-in could pass with a request the live API would turn
down; each case here is a shape that was (or could be) sent by mistake.
"""

from __future__ import annotations

import copy

import pytest
from fake_mistral import FakeMistral, fast_provider, text_reply
from mistral_rules import check_request

from engine.providers.base import ChatRequest, ProviderError

TOOL = {"type": "function", "function": {
    "name": "users_search", "description": "Search users.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}
CALL = {"id": "abcDEF123", "type": "function",
        "function": {"name": "users_search", "arguments": '{"query": "Ada"}'}}
GOOD = {
    "model": "mistral-small-latest", "stream": True, "tools": [TOOL],
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Find Ada."},
        {"role": "assistant", "content": "", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "abcDEF123", "name": "users_search",
         "content": '{"ok": true}'},
    ],
}


def _with(change) -> dict:
    body = copy.deepcopy(GOOD)
    change(body)
    return body


def test_a_well_formed_tool_round_is_taken():
    assert check_request(GOOD) is None


def _words_beside_calls(b: dict) -> None:
    b["messages"][2]["content"] = "Let me search."


def _short_id(b: dict) -> None:
    b["messages"][2]["tool_calls"][0]["id"] = "k1"
    b["messages"][3]["tool_call_id"] = "k1"


def _empty_id(b: dict) -> None:
    b["messages"][2]["tool_calls"][0]["id"] = ""
    b["messages"][3]["tool_call_id"] = ""


def _unanswered(b: dict) -> None:
    b["messages"][3]["tool_call_id"] = "zzzzzzzz9"


def _user_after_tool(b: dict) -> None:
    b["messages"].append({"role": "user", "content": "And?"})


def _missing_result(b: dict) -> None:
    b["messages"].pop()
    b["messages"].append({"role": "user", "content": "And?"})


def _unknown_field(b: dict) -> None:
    b["stream_options"] = {"include_usage": True}


def _bad_tool_choice(b: dict) -> None:
    b["tool_choice"] = "sometimes"


def _ends_with_assistant(b: dict) -> None:
    b["messages"].append({"role": "assistant", "content": "Done."})


@pytest.mark.parametrize(("change", "status", "words"), [
    (_words_beside_calls, 400, "either content or tool_calls, but not both"),
    (_short_id, 400, "length of 9"),
    (_empty_id, 400, "length of 9"),
    (_unanswered, 400, "no pending tool call"),
    (_user_after_tool, 400, "Unexpected role 'user' after role 'tool'"),
    (_missing_result, 400, "Not the same number of function calls and responses"),
    (_unknown_field, 422, "stream_options: Extra inputs are not permitted"),
    (_bad_tool_choice, 422, "tool_choice"),
    (_ends_with_assistant, 400, "Expected last role User or Tool"),
])
def test_what_the_api_refuses_is_refused(change, status, words):
    violation = check_request(_with(change))
    assert violation is not None and violation.status == status
    assert words in violation.message


def test_v7_takes_words_beside_calls_where_v3_does_not():
    violation = check_request(_with(_words_beside_calls))
    assert violation is not None and violation.rule == "mistral-common v3"


async def test_the_server_answers_a_refused_request_like_the_api_and_keeps_it():
    with FakeMistral() as server:
        server.enqueue(text_reply("never sent"))
        body = _with(_user_after_tool)
        request = ChatRequest(body["model"], body["messages"], tools=body["tools"])
        prov = fast_provider(server)
        with pytest.raises(ProviderError) as info:
            async for _ in prov.stream(request):
                pass
        await prov.aclose()
    assert info.value.kind == "bad_request" and "HTTP 400" in str(info.value)
    assert "Unexpected role 'user' after role 'tool'" in str(info.value)
    [(_, violation)] = server.violations
    assert violation.rule == "order" and len(server.requests) == 1
