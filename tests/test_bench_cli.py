"""`codeact-explorer bench`, `runs` and `export` through the console entry point."""

from __future__ import annotations

import csv
import io
import json

import pytest

from engine import bench
from engine.bench_render import render
from tui.cli import main

# Every sandbox of these tests loads the session's one compiled module.
pytestmark = pytest.mark.usefixtures("warm_wasm_cache")


def test_bench_json_is_the_documented_document(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["bench", "--tasks", "user-team-info,no-recent-time", "--format", "json"])
    out = capsys.readouterr()
    assert status == 0 and out.err == ""  # no progress bar when not on a terminal
    data = json.loads(out.out)
    assert data["schema"] == bench.SCHEMA and data["provider"] == "scripted"
    assert data["scripted"] is True and data["model"] == "scripted-reference"
    first, second = data["tasks"]
    assert (first["id"], first["seed"], second["seed"]) == ("user-team-info", True, False)
    assert data["modes"] == ["tool_calling", "codeact"] and data["baseline"] == "tool_calling"
    for mode in ("tool_calling", "codeact"):
        m = first["runs"][mode]
        assert m["success"] and m["runs"] == 1 and m["token_source"] == "local"
        assert m["tokens"] == m["input_tokens"] + m["output_tokens"]
        assert sum(m["breakdown"].values()) == m["input_tokens"]
        assert 0 < m["first_round_input_tokens"] <= m["input_tokens"]
    assert first["runs"]["tool_calling"]["rounds"] > first["runs"]["codeact"]["rounds"]
    assert 0.8 < first["savings"]["codeact"]["value"] < 1
    assert first["savings"]["codeact"]["pairs"] == 1
    assert first["article"] == {"tool_calling_tokens": 51_932, "codeact_tokens": 4_323,
                                "savings": 0.9168, "rounds": [4, 1]}
    assert second["article"] is None
    assert {m: s["successes"] for m, s in data["averages"]["modes"].items()} == {
        "tool_calling": 2, "codeact": 2}
    assert data["averages"]["savings"]["codeact"]["pairs"] == 2
    assert data["article_averages"]["codeact_tokens"] == 4323.0


def test_bench_table_breakdown_and_files(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "bench.md"
    status = main(["bench", "--tasks", "no-recent-time", "--repeat", "2", "--breakdown",
                   "--format", "markdown", "--output", str(target), "--no-record"])
    assert status == 0
    text = target.read_text()
    assert text.startswith("## Tool calling vs CodeAct — provider: scripted")
    assert "Where the tokens went (means per task)" in text
    assert "| Recent time on a finished project" in text and "2/2 / 2/2" in text
    assert "tool schemas / API text" in text
    main(["runs"])
    assert "No recorded runs yet" in capsys.readouterr().out


def test_the_table_and_csv_show_the_article_beside_ours() -> None:
    report = {
        "schema": bench.SCHEMA, "provider": "scripted", "model": "scripted-reference",
        "scripted": True, "repeat": 1, "parallel_tool_calls": False, "wall_seconds": 1.0,
        "modes": ["tool_calling", "codeact"], "baseline": "tool_calling",
        "tasks": [{"id": "user-team-info", "title": "Find user", "seed": True,
                   "runs": {"tool_calling": _mode(50_000, 4), "codeact": _mode(5_000, 2)},
                   "savings": {"codeact": {"value": 0.9, "pairs": 1, "why": None}},
                   "article": {"tool_calling_tokens": 51_932, "codeact_tokens": 4_323,
                               "savings": 0.9168, "rounds": [4, 1]}}],
        "averages": {"tasks": 1,
                     "modes": {"tool_calling": {"tokens": 50_000, "rounds": 4, "successes": 1,
                                                "first_round_input_tokens": 100},
                               "codeact": {"tokens": 5_000, "rounds": 2, "successes": 1,
                                           "first_round_input_tokens": 100}},
                     "savings": {"codeact": {"value": 0.9, "pairs": 1, "of": 1}}},
        "article_averages": {"tool_calling_tokens": 51_932, "codeact_tokens": 4_323,
                             "savings": 0.9168},
    }
    table = render(report, "table")
    row = next(line for line in table.splitlines() if line.startswith("Find user"))
    assert "50,000" in row and "5,000" in row and "90.0%" in row and "4 → 2" in row
    assert "51,932 / 4,323" in row and "91.7%" in row and "4 → 1" in row
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert rows[0]["tool_calling_tokens"] == "50000" and rows[0]["article_codeact_tokens"] == "4323"


def _mode(tokens: int, rounds: int) -> dict:
    return {"tokens": tokens, "input_tokens": tokens - 10, "output_tokens": 10,
            "token_source": "local", "rounds": rounds, "success": True, "successes": 1,
            "runs": 1, "stop_reasons": ["answered"], "cost_usd": 0.0, "seconds": 0.1,
            "first_round_input_tokens": 100,
            "breakdown": {"system": 0, "tools": tokens - 10, "task": 0, "assistant": 0,
                          "results": 0}, "verdict": []}


def test_bench_errors_are_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--tasks", "nope"]) == 2
    assert "Unknown task 'nope'" in capsys.readouterr().err
    assert main(["bench", "--provider", "mistral"]) == 2
    err = capsys.readouterr().err
    assert "MISTRAL_API_KEY" in err and "Traceback" not in err
    assert main(["bench", "--provider", "replay"]) == 2
    assert "No successful recorded race" in capsys.readouterr().err


def test_recorded_bench_runs_are_listed_exported_and_replayable(
    capsys: pytest.CaptureFixture[str], tmp_path  # type: ignore[no-untyped-def]
) -> None:
    assert main(["bench", "--tasks", "no-recent-time", "--format", "csv"]) == 0
    capsys.readouterr()
    assert main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1 and listed[0]["task_id"] == "no-recent-time"
    run_id = listed[0]["run_id"]
    main(["runs"])
    assert run_id in capsys.readouterr().out
    out_file = tmp_path / "run.csv"
    assert main(["export", run_id, "--format", "csv", "--output", str(out_file)]) == 0
    assert out_file.read_text().startswith("run_id,task_id,mode")
    assert main(["export", run_id[:20], "--format", "markdown"]) == 0
    assert "# Recent time on a finished project" in capsys.readouterr().out
    assert main(["export", "missing-run"]) == 2
    assert "No recorded run" in capsys.readouterr().err
    assert main(["bench", "--tasks", "no-recent-time", "--provider", "replay",
                 "--format", "json", "--no-record"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["provider"] == "replay"
    assert replayed["tasks"][0]["runs"]["codeact"]["success"]
    assert main(["bench", "--tasks", "no-recent-time", "--provider", "replay", "--replay",
                 run_id[:22], "--format", "json", "--no-record"]) == 0
    assert json.loads(capsys.readouterr().out)["tasks"][0]["runs"]["tool_calling"]["success"]


def test_live_bench_reports_the_api_usage_with_the_local_count_beside_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fake_mistral import FakeMistral, text_reply, tool_call_reply

    answer = ("Lena Okafor is on the Design Studio team (design department), led by Rosa "
              "Moreau, with 8 members.")

    def responder(request):  # type: ignore[no-untyped-def]
        messages = request.body["messages"]
        if request.body.get("tools"):  # the tool-calling agent: one search, then the answer
            if not any(m["role"] == "tool" for m in messages):
                return tool_call_reply([("abcdefghi", "users_search", '{"query": "Lena"}')])
            return text_reply(answer, prompt_tokens=20_000, completion_tokens=30)
        if len(messages) == 2:  # the CodeAct agent: one program, then the answer
            return text_reply("```python\nprint(api.users.list()['total'])\n```")
        return text_reply(answer, prompt_tokens=3_000, completion_tokens=30)

    with FakeMistral(responder=responder) as server:
        monkeypatch.setenv("MISTRAL_API_KEY", "test-key")
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        status = main(["bench", "--provider", "mistral", "--tasks", "user-team-info",
                       "--format", "json", "--no-record"])
        table_status = main(["bench", "--provider", "mistral", "--tasks", "user-team-info",
                             "--no-record"])
    out = capsys.readouterr().out
    data = json.loads(out[: out.index("\n}\n") + 2])
    assert status == table_status == 0 and data["provider"] == "mistral"
    [task] = data["tasks"]
    for mode in ("tool_calling", "codeact"):
        stats = task["runs"][mode]
        assert stats["token_source"] == "api" and stats["success"]
        assert stats["local_tokens"] > 0 and stats["local_tokens"] != stats["tokens"]
    assert task["runs"]["tool_calling"]["tokens"] == 100 + 20 + 20_000 + 30  # the fake's usage
    assert "local Tekken count" in out and "(Tool calling): API 20,150 tokens" in out


def test_a_failed_run_gets_no_savings_and_the_average_says_how_many_pairs() -> None:
    failed = {**_mode(0, 1), "success": False, "successes": 0, "verdict": ["It broke."]}
    report = {
        "schema": bench.SCHEMA, "provider": "scripted", "model": "m", "scripted": True,
        "repeat": 1, "parallel_tool_calls": False, "wall_seconds": 1.0,
        "modes": ["tool_calling", "codeact"], "baseline": "tool_calling",
        "tasks": [{"id": "a", "title": "Task A", "seed": False,
                   "runs": {"tool_calling": _mode(50_000, 4), "codeact": failed},
                   "savings": {"codeact": {"value": None, "pairs": 0,
                                           "why": "CodeAct failed; no savings"}},
                   "article": None}],
        "averages": {"tasks": 1,
                     "modes": {"tool_calling": {"tokens": 50_000, "rounds": 4, "successes": 1,
                                                "first_round_input_tokens": 100},
                               "codeact": {"tokens": 0, "rounds": 1, "successes": 0,
                                           "first_round_input_tokens": 100}},
                     "savings": {"codeact": {"value": None, "pairs": 0, "of": 1}}},
        "article_averages": None,
    }
    table = render(report, "table")
    row = next(line for line in table.splitlines() if line.startswith("Task A"))
    assert "—" in row and "100" not in row.split("—")[0][-8:]
    assert "(0/1 pairs)" in table and "no savings for CodeAct" in table



def test_three_modes_race_with_savings_for_each_against_tool_calling(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["bench", "--tasks", "user-team-info", "--modes", "all", "--format", "json",
                   "--no-record"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["modes"] == ["tool_calling", "codeact", "codeact_discovery"]
    [task] = data["tasks"]
    assert set(task["savings"]) == {"codeact", "codeact_discovery"}
    runs = task["runs"]
    assert all(runs[m]["success"] for m in data["modes"])
    # Discovery sends no API listing: its first request is the smallest of the three.
    first = {m: runs[m]["first_round_input_tokens"] for m in data["modes"]}
    assert first["codeact_discovery"] < first["codeact"] < first["tool_calling"]
    assert main(["bench", "--modes", "tool_calling,nope"]) == 2
    assert "Unknown mode 'nope'" in capsys.readouterr().err


WRONG_ANSWER_TASK = '''
[[task]]
id = "lena-wrong"
title = "Lena's email, judged against the wrong address"
prompt = "What is Lena Okafor's email address?"
checker = "answer_mentions"
params = { mentions = ["nobody@example.com"], writes = "none" }
reference = ["print(api.users.search('Lena Okafor')['items'][0]['email'])"]
'''


def test_a_failed_task_exits_1_and_is_never_replayed_silently(
    capsys: pytest.CaptureFixture[str], tmp_path  # type: ignore[no-untyped-def]
) -> None:
    task_file = tmp_path / "mine.toml"
    task_file.write_text(WRONG_ANSWER_TASK)
    args = ["bench", "--task-file", str(task_file), "--tasks", "lena-wrong"]
    assert main([*args, "--format", "json"]) == 1  # the checker failed: exit 1, table printed
    data = json.loads(capsys.readouterr().out)
    [task] = data["tasks"]
    assert not task["runs"]["codeact"]["success"]
    assert task["savings"]["codeact"]["value"] is None
    assert "failed" in task["savings"]["codeact"]["why"]
    # The failed live-or-scripted recording is not picked by replay.
    assert main([*args, "--provider", "replay"]) == 2
    assert "No successful recorded race of lena-wrong" in capsys.readouterr().err
    assert main([*args, "--replay", "x"]) == 2
    assert "--replay RUN goes with --provider replay" in capsys.readouterr().err
