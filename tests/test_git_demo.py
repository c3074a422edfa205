"""The bundled demo: the real mcp-server-git on a generated repository, its tasks and checkers."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from mcp_support import run_natively

from engine.toolboxes.demos import GIT_DEMO_TASKS, git_demo_toolbox
from tasks.checkers import CHECKERS, check
from tasks.demos import gitrepo
from tasks.suite import load_file

TASKS = load_file(GIT_DEMO_TASKS)


def test_the_repository_is_the_same_every_time(tmp_path) -> None:
    heads = []
    for name in ("a", "b"):
        gitrepo.build_repository(tmp_path / name)
        heads.append(subprocess.run(["git", "-C", str(tmp_path / name), "rev-parse", "HEAD"],
                                    capture_output=True, text=True, check=True).stdout)
    assert heads[0] == heads[1]
    log = subprocess.run(["git", "-C", str(tmp_path / "a"), "log", "--format=%an|%s"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(log) == len(gitrepo.history()) == gitrepo.COMMITS
    assert log[-1] == "Priya Raman|chore: start the ledger package"
    status = subprocess.run(["git", "-C", str(tmp_path / "a"), "status", "--porcelain"],
                            capture_output=True, text=True, check=True).stdout
    assert status == ""  # main is checked out, nothing left over
    assert hashlib.sha1(gitrepo._fast_import_stream()).hexdigest() == hashlib.sha1(
        gitrepo._fast_import_stream()).hexdigest()


def test_the_demo_tasks_name_their_source_and_checkers_that_exist() -> None:
    assert len(TASKS) >= 4
    for task in TASKS:
        assert task.tool_source == "demo-git" and task.checker in CHECKERS and task.reference


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_each_reference_program_succeeds_through_the_real_server(task) -> None:
    with git_demo_toolbox(task) as toolbox:
        answer = run_natively(task.reference[-1], toolbox)
        verdict = toolbox.judge(task, answer)
    assert verdict.success, (answer, verdict.reasons)


def test_wrong_answers_fail_with_reasons() -> None:
    by_id = {t.id: t for t in TASKS}
    clean = {"branches": "* main\n", "head": "Commit: " + "0" * 40}
    assert check(by_id["git-top-fixer"], "Priya Raman made 4.", {}, clean).reasons == [
        "the answer does not name Tomás Ortega",
        "the answer does not give their number of fixes (12)"]
    assert check(by_id["git-top-fixer"], "Tomas Ortega, 12 fixes.", {}, clean).success
    assert not check(by_id["git-busiest-file"], "src/ledger/cli.py, 5 times", {}, clean).success
    assert not check(by_id["git-todo-count"], "There are 9; tax.py has most", {}, clean).success
    assert not check(by_id["git-stale-todo-owners"], "Mei Chen", {}, clean).success
    written = {"branches": "* main\n  release-1.0\n  oops\n", "head": clean["head"]}
    reasons = check(by_id["git-release-branch"], "Started at 0000000", {}, written).reasons
    assert reasons == ["only 'release-1.0' should be created, but so were: oops"]
    assert "new branches: release-1.0, oops" in check(by_id["git-top-fixer"], "Tomás Ortega 12", {},
                                         written).reasons[0]


def test_each_agent_gets_its_own_repository() -> None:
    task = next(t for t in TASKS if t.id == "git-release-branch")
    with git_demo_toolbox(task) as first, git_demo_toolbox(task) as second:
        assert first.call("git_create_branch", {"repo_path": ".", "branch_name": "x"}).ok
        assert "x" in first.call("git_branch", {"repo_path": ".", "branch_type": "local"}).value
        assert "x" not in second.call("git_branch", {"repo_path": ".",
                                                     "branch_type": "local"}).value
