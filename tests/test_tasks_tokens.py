"""Tekken token counting (engine.tokens), as the meter and the `tools` command use it."""

from __future__ import annotations

import json

from engine.tokens import count_message, count_messages, count_text, count_tools
from tasks.render import mistral_tools

CONVERSATION = [
    {"role": "system", "content": "You are a helpful agent."},
    {"role": "user", "content": "Who leads Lena Okafor's team?"},
    {"role": "assistant", "content": "", "tool_calls": [{
        "id": "scripted-call-1", "type": "function",
        "function": {"name": "users_search", "arguments": json.dumps({"query": "Lena"})}}]},
    {"role": "tool", "name": "users_search", "tool_call_id": "scripted-call-1",
     "content": '{"items":[{"id":20,"name":"Lena Okafor","team_id":4}]}'},
]


def test_count_text_is_tekken_without_markers() -> None:
    assert count_text("") == 0
    assert 0 < count_text("Hello world") <= 3


def test_tools_cost_what_they_add_to_a_request() -> None:
    tools = mistral_tools()[:3]
    with_tools = count_messages(CONVERSATION[:2], tools)
    assert with_tools - count_messages(CONVERSATION[:2]) == count_tools(tools) > 50
    assert count_tools([]) == 0


def test_any_tool_call_ids_and_a_final_answer_are_counted() -> None:
    total = count_messages(CONVERSATION)
    assert total > count_messages(CONVERSATION[:2])
    answer = {"role": "assistant", "content": "Rosa Moreau leads the Design Studio team."}
    assert count_messages([*CONVERSATION, answer]) == total + count_message(answer)
