"""A retried reply as the agent, the run record, the export and a replay see it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_fakes import FakeProvider, collect, fake_task, install_checker

from engine.agents import CodeActAgent
from engine.events import Retrying, RunFinished, TextDelta, event_from_dict
from engine.modes import mode
from engine.providers.base import Finish, RawChunk, RetryNotice, TextChunk
from engine.record_export import export_run
from engine.records import load_run
from engine.replay import RecordedRace
from engine.run import RunConfig
from engine.settings import paths

NOTICE = RetryNotice(2, 5, 4.0, "Mistral's reply was cut off before it finished", "truncated")
REPLY = [RawChunk({"n": 1}), TextChunk("The ans"), NOTICE,
         RawChunk({"n": 2}), TextChunk("The answer is 42."), Finish("stop")]


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("42" in answer, ["judged"]))


async def _run() -> list:
    agent = CodeActAgent(fake_task(), FakeProvider([REPLY]), RunConfig(), spec=mode("codeact"),
                         sandbox_factory=lambda host_call, api: None)
    return await collect(agent.run())


async def test_a_retry_is_an_event_and_the_reply_is_the_last_attempt_s():
    events = await _run()
    [retry] = [e for e in events if isinstance(e, Retrying)]
    assert (retry.attempt, retry.attempts, retry.wait_s, retry.kind) == (2, 5, 4.0, "truncated")
    assert retry.discarded_text == "The ans" and retry.message == "retrying (2/5) in 4 s"
    assert event_from_dict(json.loads(json.dumps(retry.to_dict()))) == retry
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.answer == "The answer is 42."
    assert finished.success


async def test_the_record_keeps_the_failed_attempt_and_the_raw_chunks():
    await _run()
    [path] = sorted(paths().runs.glob("*.jsonl"))
    lines = [json.loads(x) for x in Path(path).read_text().splitlines()]
    [response] = [x for x in lines if x["kind"] == "response"]
    assert response["chunks"] == [{"type": "text", "text": "The answer is 42."},
                                  {"type": "finish", "reason": "stop", "usage": None}]
    assert response["raw"] == [{"n": 2}]
    [failed] = response["attempts"]
    assert failed["text"] == "The ans" and failed["raw"] == [{"n": 1}]
    assert (failed["attempt"], failed["retry"], failed["kind"]) == (1, 2, "truncated")


async def test_export_and_replay_of_a_retried_run():
    await _run()
    record = load_run(sorted(paths().runs.glob("*.jsonl"))[0])
    markdown = export_run(record, "markdown")
    assert "**Retried** (truncated, attempt 2/5 after 4 s)" in markdown
    assert "The ansThe answer" not in markdown and "The answer is 42." in markdown
    for fmt in ("json", "csv"):
        assert export_run(record, fmt)
    replayed = [e async for e in RecordedRace(record.events).events()]
    assert any(isinstance(e, Retrying) for e in replayed)
    assert "".join(e.text for e in replayed if isinstance(e, TextDelta)).endswith("42.")
