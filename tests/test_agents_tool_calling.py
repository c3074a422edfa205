"""The tool-calling loop against fake providers and the real platform."""

from __future__ import annotations

import json

import pytest
from engine_fakes import FakeProvider, calls, collect, fake_task, install_checker, text

from engine.agents import ToolCallingAgent
from engine.events import (
    TOKEN_SOURCES,
    RoundStarted,
    RunError,
    RunFinished,
    TextDelta,
    ToolCall,
    ToolResult,
    Usage,
)
from engine.modes import mode
from engine.providers.base import ApiUsage, Finish, ProviderError, TextChunk
from engine.run import RunConfig

NO_RECORD = RunConfig(record=False)
TOOLS = mode("tool_calling")


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("Lena" in answer, ["judged"]))


def _of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


async def test_every_round_sends_all_120_schemas_and_results_go_back_as_tool_messages() -> None:
    provider = FakeProvider([
        calls(("c1", "users_search", '{"query": "Lena Okafor"}')),
        text("Lena Okafor is on the team."),
    ])
    agent = ToolCallingAgent(fake_task(), provider, NO_RECORD, spec=TOOLS)
    events = await collect(agent.run())
    assert all(len(r.tools) == 120 for r in provider.requests)
    second = provider.requests[1].messages
    assert second[-2]["tool_calls"][0]["function"]["name"] == "users_search"
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "c1"
    result = _of(events, ToolResult)[0]
    assert result.ok and "Lena Okafor" in result.content and result.tokens > 0
    assert json.loads(second[-1]["content"]) == json.loads(result.content)
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    assert finished.stop_reason == "answered" and finished.success and finished.rounds == 2
    assert finished.answer == "Lena Okafor is on the team."
    assert "".join(e.text for e in _of(events, TextDelta)) == finished.answer


async def test_tokens_are_split_by_source_and_history_grows_each_round() -> None:
    provider = FakeProvider([
        calls(("c1", "users_search", '{"query": "Lena"}')),
        [TextChunk("Lena."), Finish("stop", ApiUsage(100, 5))],
    ])
    events = await collect(ToolCallingAgent(fake_task(), provider, NO_RECORD, spec=TOOLS).run())
    starts = _of(events, RoundStarted)
    for start in starts:
        assert set(start.breakdown) == set(TOKEN_SOURCES)
        assert sum(start.breakdown.values()) == start.input_tokens
    assert starts[0].breakdown["tools"] > 10_000  # the 120 schemas, every round
    assert starts[1].breakdown["tools"] == starts[0].breakdown["tools"]
    assert starts[1].breakdown["results"] > 0 and starts[1].breakdown["assistant"] > 0
    usages = _of(events, Usage)
    assert usages[1].api_input_tokens == 100 and usages[0].api_input_tokens is None
    finished = events[-1]
    assert finished.input_tokens == sum(s.input_tokens for s in starts)
    assert finished.api_input_tokens is None  # one round had no API figure: no API total


async def test_bad_calls_go_back_to_the_model_as_errors() -> None:
    provider = FakeProvider([
        calls(("c1", "users_search", '{"query": '), ("c2", "users_fly", "{}"),
              ("c3", "users_get", '{"id": 999999}'), ("c4", "users_get", "[1]")),
        text("Lena."),
    ])
    events = await collect(ToolCallingAgent(fake_task(), provider, NO_RECORD, spec=TOOLS).run())
    results = _of(events, ToolResult)
    assert [r.ok for r in results] == [False, False, False, False]
    assert "not valid JSON" in results[0].content
    assert "no tool named" in results[1].content
    assert "must be a JSON object" in results[3].content
    assert _of(events, ToolCall)[0].arguments == '{"query": '  # the raw text, as sent
    tool_messages = [m for m in provider.requests[1].messages if m["role"] == "tool"]
    assert len(tool_messages) == 4
    assert events[-1].stop_reason == "answered"


async def test_round_limit_ends_the_run() -> None:
    provider = FakeProvider(lambda request: calls(("c", "users_list", "{}")))
    agent = ToolCallingAgent(fake_task(max_rounds=3), provider, NO_RECORD, spec=TOOLS)
    events = await collect(agent.run())
    finished = events[-1]
    assert finished.stop_reason == "max_rounds" and finished.rounds == 3
    assert not finished.success and "round limit (3)" in finished.verdict[0]


async def test_a_stream_without_finish_is_one_error_and_the_run_still_finishes() -> None:
    provider = FakeProvider([[TextChunk("Lena is")]])
    events = await collect(ToolCallingAgent(fake_task(), provider, NO_RECORD, spec=TOOLS).run())
    errors = _of(events, RunError)
    assert len(errors) == 1 and errors[0].fatal and errors[0].kind == "truncated"
    assert events[-1].stop_reason == "error" and not events[-1].success


async def test_a_provider_error_becomes_a_run_error() -> None:
    boom = ProviderError("Mistral is rate limiting; wait a minute.", kind="rate_limit")
    provider = FakeProvider([[TextChunk("x"), boom]])
    events = await collect(ToolCallingAgent(fake_task(), provider, NO_RECORD, spec=TOOLS).run())
    error = _of(events, RunError)[0]
    assert error.kind == "rate_limit"
    assert error.message == "Mistral is rate limiting; wait a minute."
    assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "error"


async def test_options_reach_the_request() -> None:
    provider = FakeProvider([text("Lena.")])
    config = RunConfig(record=False, parallel_tool_calls=True, tool_choice="any")
    await collect(ToolCallingAgent(fake_task(), provider, config, spec=TOOLS).run())
    request = provider.requests[0]
    assert request.parallel_tool_calls and request.tool_choice == "any"
