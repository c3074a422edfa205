"""A whole race on the mistral provider against the fake API, with faults on one side.

The tool-calling agent meets a 503 (retried), then a stream cut mid-reply (retried too, or, with
no retries left, the end of its run); the CodeAct agent answers meanwhile. Each retry is a
``Retrying`` event; a faulty run ends in one clear error, the other run is unaffected, and both
run records are complete up to their ``run_finished`` line, the cut text included.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_mistral import FakeMistral, RecordedRequest, Reply, cut_reply, error_reply, text_reply
from fake_mistral import tool_call_reply as calls_reply

from engine.controller import Race
from engine.events import Retrying, RunError, RunFinished
from engine.providers.mistral import MistralProvider
from engine.run import RunConfig
from engine.settings import paths
from tasks.suite import Task

TASK = Task(
    id="fault-drill",
    title="Find Ada (fault drill)",
    prompt="What is Ada Lovelace's user id?",
    checker="answer_mentions",
    max_rounds=4,
)


class _NoSandbox:
    """The CodeAct agent here answers without code; nothing should run."""

    def run(self, code: str) -> Any:
        raise AssertionError("no code was expected")

    async def arun(self, code: str) -> Any:
        raise AssertionError("no code was expected")

    def interrupt(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def server() -> Iterator[FakeMistral]:
    tool_side = deque(
        [
            error_reply(503, "overloaded"),
            calls_reply([("kAda00001", "users_search", '{"query": "Ada"}')]),
            cut_reply("Ada is user"),
            text_reply("Ada Lovelace is user 1."),
        ]
    )
    codeact_side = deque([text_reply("Ada Lovelace is user 1.")])

    def respond(request: RecordedRequest) -> Reply | None:
        side = tool_side if request.body.get("tools") else codeact_side
        return side.popleft() if side else None

    with FakeMistral(responder=respond) as fake:
        yield fake


def _factory(server: FakeMistral, retries: int):
    def factory(name: str, options: Any):
        assert name == "mistral"
        return MistralProvider(
            model=options.model or "mistral-small-latest",
            server_url=server.url,
            rate=None,
            backoff_initial=0.01,
            timeout_ms=20_000,
            max_retries=retries,
        )

    return factory


def _records() -> dict[str, list[dict[str, Any]]]:
    records = sorted(paths().runs.rglob("*.jsonl"))
    assert len(records) == 2
    out = {}
    for record in records:
        lines = [json.loads(x) for x in Path(record).read_text().splitlines()]
        assert lines[-1]["kind"] == "event", record
        assert lines[-1]["event"]["type"] == "run_finished", record
        out["tool_calling" if "tool_calling" in record.name else "codeact"] = lines
    return out


async def test_a_503_and_a_cut_stream_are_retried_and_the_record_keeps_the_cut_text(
    server, monkeypatch
):
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key")
    race = Race(TASK, config=RunConfig(provider="mistral"),
                provider_factory=_factory(server, retries=2),
                sandbox_factory=lambda *a, **k: _NoSandbox())
    events = [event async for event in race.events()]

    assert server.violations == []
    finished = {e.mode: e for e in events if isinstance(e, RunFinished)}
    assert finished["codeact"].stop_reason == "answered"
    assert finished["codeact"].api_input_tokens == 100  # the API's usage was carried through
    assert finished["tool_calling"].stop_reason == "answered"
    assert finished["tool_calling"].answer == "Ada Lovelace is user 1."

    retries = [e for e in events if isinstance(e, Retrying)]
    assert [(e.mode, e.round, e.attempt, e.attempts, e.kind) for e in retries] == [
        ("tool_calling", 1, 2, 3, "server"), ("tool_calling", 2, 2, 3, "truncated")]
    assert retries[0].discarded_text == "" and retries[1].discarded_text == "Ada is"
    assert retries[0].message.startswith("retrying (2/3) in ")

    lines = _records()["tool_calling"]
    [round2] = [x for x in lines if x["kind"] == "response" and x["round"] == 2]
    [cut] = round2["attempts"]
    assert cut["text"] == "Ada is" and cut["kind"] == "truncated" and cut["raw"]
    assert "".join(c["text"] for c in round2["chunks"] if c["type"] == "text") == (
        "Ada Lovelace is user 1.")
    assert [x["event"]["type"] for x in lines if x["kind"] == "event"].count("retrying") == 2


async def test_a_fault_on_one_agent_leaves_the_other_running_and_the_records_complete(
    monkeypatch
):
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key")
    tool_side = deque([calls_reply([("kAda00001", "users_search", '{"query": "Ada"}')]),
                       cut_reply("Ada is user")])
    codeact_side = deque([text_reply("Ada Lovelace is user 1.")])

    def respond(request: RecordedRequest) -> Reply | None:
        side = tool_side if request.body.get("tools") else codeact_side
        return side.popleft() if side else None

    with FakeMistral(responder=respond) as server:
        race = Race(TASK, config=RunConfig(provider="mistral"),
                    provider_factory=_factory(server, retries=0),  # no retry: the cut ends it
                    sandbox_factory=lambda *a, **k: _NoSandbox())
        events = [event async for event in race.events()]

    finished = {e.mode: e for e in events if isinstance(e, RunFinished)}
    assert set(finished) == {"tool_calling", "codeact"}
    assert finished["codeact"].stop_reason == "answered"
    assert finished["codeact"].answer.startswith("Ada Lovelace is user 1")
    assert finished["tool_calling"].stop_reason == "error"

    [fatal] = [e for e in events if isinstance(e, RunError) and e.fatal]
    assert fatal.mode == "tool_calling" and fatal.kind == "truncated" and fatal.round == 2
    assert "\n" not in fatal.message

    tool_requests = [r for r in server.requests if r.body.get("tools")]
    assert len(tool_requests) == 2
    assert tool_requests[1].body["messages"][-1]["role"] == "tool"

    lines = _records()["tool_calling"]
    # What arrived before the stream broke is in the record: text deltas and the response.
    deltas = [x["event"]["text"] for x in lines if x["kind"] == "event"
              and x["event"]["type"] == "text_delta" and x["event"]["round"] == 2]
    assert "".join(deltas) == "Ada is"  # the cut came after the first piece
    [round2] = [x for x in lines if x["kind"] == "response" and x["round"] == 2]
    assert [c["text"] for c in round2["chunks"]] == ["Ada is"] and len(round2["raw"]) == 2
