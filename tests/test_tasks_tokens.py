"""Tekken token counting (engine.tokens), as the `tools` command and the meter use it."""

from __future__ import annotations

import json

from engine.tokens import TokenLedger, count_message, count_request, count_text, count_tools
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
    with_tools = count_request(CONVERSATION[:2], tools)
    assert with_tools - count_request(CONVERSATION[:2]) == count_tools(tools) > 50
    assert count_tools([]) == 0


def test_any_tool_call_ids_and_a_final_answer_are_counted() -> None:
    """Ids that are not Mistral's 9 alphanumerics (scripted, replayed) and a conversation that
    ends with the model's answer (which the chat template refuses as a last message)."""
    ledger = TokenLedger()
    for message, source in zip(CONVERSATION, ["system", "task", "assistant", "results"],
                               strict=True):
        assert ledger.add(message, source) > 0
    before = ledger.input_tokens()
    answer = {"role": "assistant", "content": "Rosa Moreau leads the Design Studio team."}
    ledger.add(answer, "assistant")
    assert ledger.input_tokens() == before + count_message(answer)
    assert count_message(answer) == count_text(answer["content"]) + 1  # and </s>
