"""Racing on MCP servers: the bundled git demo in every mode, task files naming their own MCP
server, and a server that fails mid-run (the run ends in one sentence; its stderr is recorded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp_support import EDGE

from engine.modes import MODES
from engine.records import list_runs, load_run
from engine.toolboxes import TOOL_SOURCES, source_for
from engine.toolboxes.demos import GIT_DEMO_TASKS
from tasks.suite import load_file
from tui.cli import main

# The CodeAct runs load the session's one compiled interpreter (compiling takes seconds).
pytestmark = pytest.mark.usefixtures("warm_wasm_cache")


def test_the_whole_git_demo_succeeds_in_every_mode_with_the_scripted_agent(capsys) -> None:
    status = main(["bench", "--tools", "demo-git", "--modes", "all", "--format", "json",
                   "--no-record"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [t["id"] for t in data["tasks"]] == [t.id for t in load_file(GIT_DEMO_TASKS)]
    assert data["modes"] == [m.id for m in MODES]
    for task in data["tasks"]:
        for mode, run in task["runs"].items():
            assert run["success"], (task["id"], mode, run)
    loop = next(t for t in data["tasks"] if t["id"] == "git-busiest-file")["runs"]
    # One git_show per commit: 20 round trips for tool calling, one program for CodeAct.
    assert loop["tool_calling"]["rounds"] > 20 and loop["codeact"]["rounds"] == 2
    assert loop["codeact"]["tokens"] * 10 < loop["tool_calling"]["tokens"]


def test_the_demo_is_a_registered_source_with_its_own_tasks() -> None:
    spec = TOOL_SOURCES["demo-git"]
    assert spec.tasks == GIT_DEMO_TASKS
    assert all(source_for(t) is spec for t in load_file(GIT_DEMO_TASKS))


def _task_file(tmp_path: Path, reference: str, mentions: str) -> Path:
    command = " ".join(EDGE.command)
    path = tmp_path / "mine.toml"
    path.write_text(f'''
[[task]]
id = "edge-task"
title = "A task on my own server"
prompt = "Greet Ada, and look person 3 up."
tools = {{ mcp = {json.dumps(command)} }}
checker = "answer_mentions"
params = {{ mentions = [{json.dumps(mentions)}] }}
reference = [{json.dumps(reference)}]
''', encoding="utf-8")
    return path


def test_a_task_file_names_its_own_mcp_server_and_races_on_it(tmp_path, capsys) -> None:
    path = _task_file(tmp_path, "print(api.greet('Ada'), api.lookup(3)['age'])", "Hello, Ada! 33")
    status = main(["bench", "--task-file", str(path), "--tasks", "edge-task", "--modes", "all",
                   "--format", "json", "--no-record"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0, data
    runs = data["tasks"][0]["runs"]
    assert {m: r["success"] for m, r in runs.items()} == {m.id: True for m in MODES}


@pytest.mark.parametrize("modes", ["tool_calling", "codeact"])
def test_a_server_that_crashes_mid_run_ends_the_run_in_one_sentence(tmp_path, capsys,
                                                                    modes) -> None:
    path = _task_file(tmp_path, "print(api.greet('Ada'))\napi.crash()\nprint('unreachable')",
                      "Hello")
    status = main(["bench", "--task-file", str(path), "--tasks", "edge-task", "--modes", modes])
    out = capsys.readouterr().out
    assert status == 1
    assert ("The run ended with an error: The MCP server edge_server.py closed the connection "
            "during crash (it probably crashed); its last stderr line: edge server: crashing "
            "on purpose.") in out
    record = load_run(list_runs()[0].run_id).agents[modes]
    assert "edge server: crashing on purpose" in record.tool_source["stderr"]
    errors = [e for e in record.events if type(e).__name__ == "RunError"]
    assert errors and errors[-1].kind == "tools" and errors[-1].fatal


def test_bench_mcp_flag_runs_the_chosen_tasks_on_that_server(tmp_path, capsys) -> None:
    path = _task_file(tmp_path, "print(api.greet('Bo'))", "Hello, Bo!")
    assert main(["bench", "--task-file", str(path), "--tasks", "edge-task",
                 "--mcp", "no-such-server-program", "--no-record"]) == 2
    err = capsys.readouterr().err  # said once, before any run starts
    assert err.count("could not start: 'no-such-server-program' was not found") == 1
    assert main(["bench", "--task-file", str(path), "--tasks", "edge-task",
                 "--mcp", "'unclosed", "--no-record"]) == 2
    assert "cannot be split into words" in capsys.readouterr().err
