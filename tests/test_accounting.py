"""Token accounting by source: the ledger's sums against mistral-common's whole-request encode."""

from __future__ import annotations

import pytest
from perf.accounting_perf import SYSTEM, TASK, conversation_rounds, tool_schemas

from engine import tokens
from engine.events import TOKEN_SOURCES
from engine.providers.base import ToolCallChunk
from engine.tokens import (
    TokenLedger,
    count_request,
    count_text,
    count_tools,
)


@pytest.fixture(scope="module")
def tools() -> list[dict]:
    return tool_schemas()


def source_of(message: dict) -> str:
    return {"assistant": "assistant", "tool": "results"}[message["role"]]


def test_ledger_matches_a_whole_request_encode_every_round(tools):
    """Six rounds of tool calling with 120 schemas, parallel calls, an invalid-JSON call and a
    plain-text error result: the ledger's input count per round against mistral-common's
    ``encode_chat_completion`` of the whole request. Measured difference: 0 tokens."""
    ledger = TokenLedger()
    ledger.set_tools(tools)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TASK}]
    ledger.add(messages[0], "system")
    ledger.add(messages[1], "task")
    differences = [ledger.input_tokens() - count_request(messages, tools)]
    for appended in conversation_rounds(6):
        for message in appended:
            messages.append(message)
            ledger.add(message, source_of(message))
        differences.append(ledger.input_tokens() - count_request(messages, tools))
    assert all(abs(d) <= 2 for d in differences), differences
    assert differences == [0] * 7  # what was measured; loosen to the line above if it drifts


def test_breakdown_sums_to_input_and_attributes_each_source(tools):
    ledger = TokenLedger()
    assert ledger.input_tokens() == 0 and sum(ledger.breakdown().values()) == 0
    schema_tokens = ledger.set_tools(tools)
    ledger.add({"role": "system", "content": SYSTEM}, "system")
    ledger.add({"role": "user", "content": TASK}, "task")
    for message in conversation_rounds(2)[0]:
        ledger.add(message, source_of(message))
    breakdown = ledger.breakdown()
    assert tuple(breakdown) == TOKEN_SOURCES
    assert sum(breakdown.values()) == ledger.input_tokens()
    assert breakdown["tools"] == schema_tokens == count_tools(tools)
    # By another route: what the schemas add to a whole request, as mistral-common encodes it.
    probe = [{"role": "user", "content": "hi"}]
    assert schema_tokens == count_request(probe, tools) - count_request(probe)
    assert schema_tokens > 10_000  # 120 schemas are the bulk of every tool-calling request
    assert breakdown["task"] == count_text(TASK) + 2  # [INST] ... [/INST]
    assert all(breakdown[s] > 0 for s in TOKEN_SOURCES)


def test_codeact_api_text_inside_the_system_prompt_counts_as_tools_not_twice():
    api = "class users:\n    def search(query: str, page: int = 1) -> dict: ...\n" * 20
    system = {"role": "system", "content": f"You write Python.\n\n{api}\nAnswer in words."}
    history = [
        system,
        {"role": "user", "content": TASK},
        {"role": "assistant", "content": '```python\nprint(api.users.search("Atlas"))\n```'},
        {"role": "user", "content": "[{'id': 7, 'name': 'Ada', 'hours': 23.5}]"},
    ]
    ledger = TokenLedger()
    ledger.set_tools(api)
    for message, source in zip(history, ["system", "task", "assistant", "results"], strict=True):
        ledger.add(message, source)
    breakdown = ledger.breakdown()
    assert breakdown["tools"] == count_text(api)
    assert ledger.input_tokens() == count_request(history)
    assert sum(breakdown.values()) == ledger.input_tokens()
    # The order of set_tools and add does not matter.
    late = TokenLedger()
    for message, source in zip(history, ["system", "task", "assistant", "results"], strict=True):
        late.add(message, source)
    late.set_tools(api)
    assert late.breakdown() == breakdown


def test_each_message_is_encoded_once_not_every_round(monkeypatch, tools):
    calls = []
    real = tokens.count_message
    monkeypatch.setattr(tokens, "count_message", lambda m: calls.append(m) or real(m))
    ledger = TokenLedger()
    ledger.set_tools(tools)
    ledger.add({"role": "user", "content": TASK}, "task")
    added = 1
    for appended in conversation_rounds(5):
        for message in appended:
            ledger.add(message, source_of(message))
            added += 1
        ledger.input_tokens()
        ledger.breakdown()
    assert len(calls) == added


def test_output_tokens_of_text_and_of_tool_calls():
    ledger = TokenLedger()
    assert ledger.count_output("Ada logged 23.5 hours.") == count_text("Ada logged 23.5 hours.") + 1
    assert ledger.count_output("") == 1  # just </s>
    wire = [{"id": "abcdefghi", "function": {"name": "users_search", "arguments": '{"q": 1}'}}]
    chunk = [ToolCallChunk(0, "abcdefghi", "users_search", '{"q": 1}')]
    assert ledger.count_output("", wire) == ledger.count_output("", chunk) > 5
    # Words beside calls (Mistral allows it) are counted too.
    assert ledger.count_output("Looking.", chunk) == ledger.count_output("", chunk) + 2


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown token source"):
        TokenLedger().add({"role": "user", "content": "x"}, "history")
