"""The offline agent does not fake what it cannot do: edited prompts are judged and compared
honestly, in the run's events, its record and export, the runs list and the bench."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from engine_fakes import FakeSandbox, fake_task, install_checker

from engine import records
from engine.controller import Race
from engine.events import RunError, RunFinished
from engine.modes import mode
from engine.prompt_checks import edited_prompts, rerun_warnings
from engine.prompts import PromptSet, default_text, save_override
from engine.record_export import export_run
from engine.run import RunConfig
from tui.cli import main

PROGRAM = 'user = api.users.search("Lena Okafor")["items"][0]\nprint(f"{user[\'name\']} found.")'
RACE = [mode("tool_calling"), mode("codeact")]
NO_API = "You write Python. Be brief."


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("Lena" in answer, ["judged"]))


def _sandbox(host_call, api):  # type: ignore[no-untyped-def]
    from wasm_sandbox import ExecutionResult

    return FakeSandbox(lambda code: ExecutionResult(output="Lena Okafor found.\n"))


def test_the_editor_hears_before_a_rerun_what_the_run_would_get_wrong() -> None:
    task = fake_task(reference=(PROGRAM,))
    assert rerun_warnings(task, PromptSet.defaults(), "scripted", RACE) == []
    edited_task = PromptSet(task="What is Lena Okafor's email address?")
    [warning] = rerun_warnings(task, edited_task, "scripted", RACE)
    assert warning.kind == "not_judged" and "does not read prompts" in warning.message
    assert rerun_warnings(task, edited_task, "mistral", RACE) == []  # a model reads it
    no_api = PromptSet({"codeact_system": NO_API})
    kinds = {(w.kind, w.mode) for w in rerun_warnings(task, no_api, "mistral", RACE)}
    assert kinds == {("not_comparable", "codeact")}
    kinds = {w.kind for w in rerun_warnings(task, no_api, "scripted", RACE)}
    assert kinds == {"not_comparable", "tokens_only"}
    # The tool-calling prompt has no placeholder to lose.
    alone = PromptSet({"tool_calling_system": "Use the tools."})
    assert [w.kind for w in rerun_warnings(task, alone, "mistral", RACE)] == []


def test_before_any_run_each_raced_mode_says_which_saved_edits_it_sends_and_what_follows(
) -> None:
    task = fake_task(reference=(PROGRAM,))
    assert edited_prompts(task, PromptSet.defaults(), "scripted", RACE) == []
    assert edited_prompts(task, PromptSet(task=task.prompt), "scripted", RACE) == []  # same words
    # A system prompt edit concerns its own mode only.
    [codeact] = edited_prompts(task, PromptSet({"codeact_system": NO_API}), "scripted", RACE)
    assert codeact.mode == "codeact" and codeact.edited == ("system",)
    assert {w.kind for w in codeact.warnings} == {"tokens_only", "not_comparable"}
    # A task prompt edit concerns every raced mode; what follows depends on the provider.
    both = PromptSet({"codeact_system": default_text("codeact_system") + "\nBe brief."},
                     task="Who leads Lena Okafor's team?")
    scripted = {e.mode: e for e in edited_prompts(task, both, "scripted", RACE)}
    assert scripted["tool_calling"].edited == ("task",)
    assert scripted["codeact"].edited == ("system", "task")
    assert [w.kind for w in scripted["tool_calling"].warnings] == ["not_judged"]
    assert [w.kind for w in scripted["codeact"].warnings] == ["not_judged", "tokens_only"]
    live = {e.mode: e for e in edited_prompts(task, both, "mistral", RACE)}
    assert live["codeact"].edited == ("system", "task") and live["codeact"].warnings == ()
    # The same sentences as the run itself reports in round 1, and as the editor's.
    assert {w.message for e in scripted.values() for w in e.warnings} == {
        w.message for w in rerun_warnings(task, both, "scripted", RACE)}


async def test_an_edited_task_prompt_played_by_the_scripted_agent_is_not_judged() -> None:
    race = Race(fake_task(reference=(PROGRAM,)), ("tool_calling", "codeact"),
                RunConfig(prompts=PromptSet(task="Delete every user.")),
                sandbox_factory=_sandbox)
    events = [e async for e in race.events()]
    notices = [e for e in events if isinstance(e, RunError) and e.kind == "not_judged"]
    assert {(n.mode, n.round, n.fatal) for n in notices} == {
        ("tool_calling", 1, False), ("codeact", 1, False)}
    for finished in race.results.values():
        # The agent still answered the bundled task: it must not count as the edited one's.
        assert "Lena Okafor" in finished.answer
        assert not finished.judged and not finished.success
        assert "does not read prompts" in finished.verdict[0]
    # The record, the export and the runs list say so.
    export = export_run(race.race_id, "markdown")
    assert "| Success | not judged | not judged |" in export
    assert "- Prompts: overridden: task (hash" in export
    [summary] = records.list_runs()
    assert set(summary.not_judged) == {"tool_calling", "codeact"}
    rows = list(export_run(race.race_id, "csv").splitlines())
    assert rows[0].endswith("success,judged,comparable,ttft_ms,total_ms")
    assert any(",answered,false,false,true," in row for row in rows)


async def test_a_codeact_prompt_without_the_api_is_marked_not_comparable() -> None:
    race = Race(fake_task(reference=(PROGRAM,)), ("tool_calling", "codeact"),
                RunConfig(prompts=PromptSet({"codeact_system": NO_API}), record=False),
                sandbox_factory=_sandbox)
    events = [e async for e in race.events()]
    [notice] = [e for e in events if isinstance(e, RunError) and e.kind == "not_comparable"]
    assert notice.mode == "codeact" and notice.round == 1 and "{api}" in notice.message
    codeact, tools = race.results["codeact"], race.results["tool_calling"]
    assert codeact.success and not codeact.comparable and codeact.judged
    assert tools.comparable
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert json.loads(json.dumps(finished[0].to_dict()))["comparable"] in (True, False)


async def test_a_replay_of_another_task_prompt_is_not_judged() -> None:
    original = Race(fake_task(reference=(PROGRAM,)), ("codeact",), RunConfig(),
                    sandbox_factory=_sandbox)
    async for _ in original.events():
        pass
    same = Race(fake_task(reference=(PROGRAM,)), ("codeact",),
                RunConfig(provider="replay", replay_path=original.race_id, record=False),
                sandbox_factory=_sandbox)
    async for _ in same.events():
        pass
    assert same.results["codeact"].judged and same.results["codeact"].success
    other = Race(fake_task(reference=(PROGRAM,), prompt="Who leads the Data team?"),
                 ("codeact",),
                 RunConfig(provider="replay", replay_path=original.race_id, record=False),
                 sandbox_factory=_sandbox)
    async for _ in other.events():
        pass
    assert not other.results["codeact"].judged and not other.results["codeact"].success


def _bench(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:  # type: ignore[type-arg]
    main(["bench", "--tasks", "user-team-info", "--format", "json", "--no-record", *extra])
    return json.loads(capsys.readouterr().out)


def test_saved_prompts_change_the_bench_only_when_asked(
        capsys: pytest.CaptureFixture[str], warm_wasm_cache: Path) -> None:
    plain = _bench(capsys)
    save_override("codeact_system", NO_API)
    assert default_text("codeact_system") != NO_API
    again = _bench(capsys)
    assert again["prompts"] == plain["prompts"] == "defaults"
    assert again["tasks"][0]["prompts"] == plain["tasks"][0]["prompts"]
    assert again["tasks"][0]["prompts"]["overridden"] == []
    codeact = "codeact"
    assert again["tasks"][0]["runs"][codeact]["tokens"] == plain["tasks"][0]["runs"][codeact][
        "tokens"]
    saved = _bench(capsys, "--use-saved-prompts")
    task = saved["tasks"][0]
    assert saved["prompts"] == "saved" and task["prompts"]["overridden"] == ["codeact_system"]
    assert task["prompts"]["fingerprint"] != plain["tasks"][0]["prompts"]["fingerprint"]
    assert task["runs"][codeact]["not_comparable"] == 1
    assert task["savings"][codeact]["value"] is None
    assert "not comparable" in task["savings"][codeact]["why"]
    main(["bench", "--tasks", "user-team-info", "--no-record", "--use-saved-prompts"])
    table = capsys.readouterr().out
    assert "Prompts: saved overrides — Find a user and get their team's info: codeact_system" \
        in table
    assert "not comparable" in table
    # Without the flag the table says which prompts raced, and that the saved edit was not.
    main(["bench", "--tasks", "user-team-info", "--no-record"])
    table = capsys.readouterr().out
    fingerprint = plain["tasks"][0]["prompts"]["fingerprint"]
    assert (f"Prompts: the bundled defaults (hash {fingerprint}); saved prompt edits are ignored "
            "unless --use-saved-prompts.") in table


def test_repeat_counts_agree_between_the_rows_and_the_average(
        capsys: pytest.CaptureFixture[str], warm_wasm_cache: Path) -> None:
    main(["bench", "--tasks", "user-team-info", "--repeat", "2", "--no-record"])
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith("Find a user and get their team"))
    average = next(line for line in lines if line.startswith("Average"))
    cells = [re.findall(r"\d+/\d+ / \d+/\d+", line) for line in (row, average)]
    assert cells == [["2/2 / 2/2"], ["2/2 / 2/2"]]  # runs in both, not runs vs tasks
