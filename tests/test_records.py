"""Run records: written as they happen, listed, loaded, exported, replayed."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from engine_fakes import FakeSandbox, fake_task, install_checker

from engine import records
from engine.controller import Race
from engine.events import RunError, RunFinished, RunStarted, TextDelta
from engine.modes import MODE_IDS, in_registry_order
from engine.modes import label as mode_label
from engine.prompts import PromptSet, prompt_names
from engine.record_export import export_run
from engine.replay import RecordedRace
from engine.run import RunConfig
from engine.settings import paths

PROGRAM = 'user = api.users.search("Lena Okafor")["items"][0]\nprint(f"{user[\'name\']} found.")'


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("Lena" in answer, ["judged"]))


def _sandbox(host_call, api):  # type: ignore[no-untyped-def]
    from wasm_sandbox import ExecutionResult

    return FakeSandbox(lambda code: ExecutionResult(output="Lena Okafor found.\n"))


async def _record_race(config: RunConfig | None = None, **task: object) -> Race:
    task_ = fake_task(reference=(PROGRAM,), **task)
    race = Race(task_, ("tool_calling", "codeact"), config or RunConfig(),
                sandbox_factory=_sandbox)
    async for _ in race.events():
        pass
    return race


async def test_each_agent_run_is_one_jsonl_file_with_a_header_and_every_event() -> None:
    race = await _record_race()
    files = sorted(paths().runs.glob("*.jsonl"))
    assert [f.stem for f in files] == sorted(race.run_ids.values())
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    header = lines[0]
    assert header["kind"] == "header" and header["race_id"] == race.race_id
    assert header["provider"] == "scripted" and header["scripted"] is True
    assert header["task"]["id"] == "fake-task" and "python" in header["versions"]
    assert set(header["prompts"]) == {*prompt_names(), "task"}
    kinds = {line["kind"] for line in lines[1:]}
    assert kinds == {"event", "request", "response"}
    assert lines[-1]["kind"] == "event" and lines[-1]["event"]["type"] == "run_finished"
    # Requests carry only what is new, never the whole history again.
    requests = [line for line in lines if line["kind"] == "request"]
    assert len(requests[0]["messages_added"]) == 2
    assert all(len(r["messages_added"]) <= 3 for r in requests[1:])


async def test_a_race_of_every_mode_loads_by_a_prefix_of_its_id_in_registry_order() -> None:
    task_ = fake_task(reference=(PROGRAM,))
    race = Race(task_, MODE_IDS, RunConfig(), sandbox_factory=_sandbox)
    async for _ in race.events():
        pass
    record = records.load_run(race.race_id[:-2])  # one race, whatever its modes are called
    assert set(record.agents) == set(MODE_IDS)
    markdown = export_run(record, "markdown")
    positions = [markdown.index(f"## {mode_label(m)}") for m in MODE_IDS]
    assert positions == sorted(positions)


async def test_list_load_and_a_corrupt_file_never_raise() -> None:
    first = await _record_race()
    second = await _record_race()
    (paths().runs / "garbage.jsonl").write_text("not json at all\n")
    runs = records.list_runs()
    readable = [r for r in runs if r.readable]
    assert [r.run_id for r in readable] == [second.race_id, first.race_id]
    assert in_registry_order(readable[0].modes) == ("tool_calling", "codeact")
    assert readable[0].success == {"tool_calling": True, "codeact": True}
    assert readable[0].tokens["tool_calling"] > readable[0].tokens["codeact"] > 0
    broken = [r for r in runs if not r.readable]
    assert len(broken) == 1 and "not a CodeAct Explorer run record" in (broken[0].problem or "")
    for key in (first.race_id, first.run_ids["codeact"], paths().runs /
                f"{first.run_ids['tool_calling']}.jsonl"):
        run = records.load_run(key)
        assert run.run_id == first.race_id and set(run.agents) == {"tool_calling", "codeact"}
    with pytest.raises(records.RunRecordError, match="codeact-explorer runs"):
        records.load_run("no-such-run")
    with pytest.raises(records.RunRecordError, match="matches 2 recorded runs"):
        records.load_run(first.race_id[:8])


async def test_a_cut_off_file_reads_up_to_its_last_whole_line() -> None:
    race = await _record_race()
    path = paths().runs / f"{race.run_ids['codeact']}.jsonl"
    text = path.read_text()
    cut = text[: text.rindex('{"kind": "event"')] + '{"kind": "event", "event": {"type": "us'
    path.write_text(cut)
    run = records.load_run(path)
    agent = run.agents["codeact"]
    assert agent.skipped_lines == 1 and agent.finished is None
    summary = next(r for r in records.list_runs() if r.run_id == race.race_id)
    assert summary.success["codeact"] is None and summary.success["tool_calling"] is True


async def test_export_as_markdown_json_and_csv() -> None:
    race = await _record_race()
    md = export_run(race.race_id, "markdown")
    assert "| Total tokens |" in md and "**Tool call** `users_search`" in md
    assert "```python" in md and "### Verdict: succeeded (answered)" in md
    assert "scripted" in md
    data = json.loads(export_run(race.race_id, "json"))
    assert data["run_id"] == race.race_id and set(data["agents"]) == {"tool_calling", "codeact"}
    rows = list(csv.DictReader(io.StringIO(export_run(race.race_id, "csv"))))
    totals = [r for r in rows if r["round"] == "total"]
    assert {r["mode"] for r in totals} == {"tool_calling", "codeact"}
    assert all(r["success"] == "true" for r in totals)
    tool_rounds = [r for r in rows if r["mode"] == "tool_calling" and r["round"] != "total"]
    assert int(tool_rounds[1]["input_tokens"]) > int(tool_rounds[0]["input_tokens"])
    with pytest.raises(ValueError):
        export_run(race.race_id, "pdf")


async def test_a_recorded_race_plays_back_without_running_anything() -> None:
    race = await _record_race()
    recorded = records.load_events(race.race_id)
    played = [e async for e in RecordedRace(recorded, pace=0).events()]
    assert sorted(played, key=lambda e: e.mode) == sorted(recorded, key=lambda e: e.mode)
    for mode in ("tool_calling", "codeact"):  # each agent's own order is kept
        assert [e for e in played if e.mode == mode] == [e for e in recorded if e.mode == mode]
    assert sum(isinstance(e, RunFinished) for e in played) == 2
    assert isinstance(played[0], RunStarted)


async def test_the_replay_provider_plays_the_recorded_replies_and_flags_differences() -> None:
    original = await _record_race()
    replay = Race(fake_task(reference=(PROGRAM,)), ("tool_calling", "codeact"),
                  RunConfig(provider="replay", replay_path=original.race_id, record=False),
                  sandbox_factory=_sandbox)
    events = [e async for e in replay.events()]
    assert not [e for e in events if isinstance(e, RunError)]
    recorded = records.load_run(original.race_id)
    for mode in ("tool_calling", "codeact"):
        old = "".join(e.text for e in recorded.agents[mode].events if isinstance(e, TextDelta))
        new = "".join(e.text for e in events if isinstance(e, TextDelta) and e.mode == mode)
        assert new == old
        assert replay.results[mode].success
        assert replay.results[mode].input_tokens == recorded.agents[mode].finished.input_tokens

    edited = PromptSet.defaults()
    changed = Race(fake_task(id="other-task", reference=(PROGRAM,)), ("codeact",),
                   RunConfig(provider="replay", replay_path=original.race_id, record=False,
                             prompts=edited.with_system("codeact_system", "Be brief. {api}")),
                   sandbox_factory=_sandbox)
    events = [e async for e in changed.events()]
    notices = [e for e in events if isinstance(e, RunError)]
    assert all(not e.fatal and e.kind in ("replay", "tokens_only") for e in notices)
    text = " ".join(e.message for e in notices)
    assert "other-task" in text and "system prompt differs" in text
    assert changed.results["codeact"].stop_reason == "answered"  # it went on anyway


async def test_lines_are_on_disk_while_the_run_is_still_going() -> None:
    from engine_fakes import FakeProvider

    from engine.providers.base import TextChunk

    class Stalling(FakeProvider):
        async def stream(self, request):  # type: ignore[no-untyped-def,override]
            yield TextChunk("Looking")
            await asyncio.Event().wait()

    race = Race(fake_task(), ("tool_calling",), RunConfig(),
                provider_factory=lambda *a, **k: Stalling([]))
    async for event in race.events():
        if isinstance(event, TextDelta):
            # As if the process were killed now: the file already holds everything so far.
            run = records.load_run(race.race_id)
            agent = run.agents["tool_calling"]
            assert [e.type for e in agent.events][-2:] == ["round_started", "text_delta"]
            assert agent.finished is None and len(agent.requests) == 1
            race.cancel()
    assert race.results["tool_calling"].stop_reason == "cancelled"
    assert records.load_run(race.race_id).agents["tool_calling"].finished is not None
