"""The bundled demo tool source: the real ``mcp-server-git`` (PyPI) on a generated repository.

``git_demo_toolbox(task, options)`` builds a fresh copy of the demo repository
(``tasks.demos.gitrepo``, about 0.1 s) in a temporary directory, starts the server on it over
stdio with that directory as its working directory (so tasks pass ``repo_path="."``) and
confined to it (``--repository``), and returns the ``McpToolbox``. Closing the toolbox stops the
server and deletes the directory. Each agent's run gets its own copy, so one agent's writes
(a new branch) never reach the other.

Judging: the demo's checkers (``tasks.demos.checks``) compute the right answer from the
generated history; what the run changed is read back through the same server, read-only
(``git_branch``, ``git_log``), just before the toolbox closes.

Why git and not ``mcp-server-sqlite``: the sqlite server on PyPI (2025.4.25) is written for the
1.x SDK and fails to start with the 2.x SDK this project uses (``'Server' object has no
attribute 'list_resources'``); ``mcp-server-git`` 2026.10.19 is built on the 2.x ``MCPServer``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from engine.toolbox import Verdict
from engine.toolboxes.mcp import McpServerError, McpServerSpec, McpToolbox
from tasks.checkers import check
from tasks.demos import GIT_TASKS
from tasks.demos.gitrepo import GitRepositoryError, build_repository
from tasks.suite import Task

GIT_DEMO_ID = "demo-git"
GIT_DEMO_LABEL = "mcp-server-git on a generated repository"
GIT_DEMO_TASKS: Path = GIT_TASKS


def git_demo_state(toolbox: McpToolbox) -> dict[str, Any]:
    """What the checkers read of the repository after a run, through the server, read-only."""
    branches = toolbox.call("git_branch", {"repo_path": ".", "branch_type": "local"})
    head = toolbox.call("git_log", {"repo_path": ".", "max_count": 1})
    return {"branches": branches.value if branches.ok else "",
            "head": head.value if head.ok else ""}


def _judge(task: Task, answer: str, toolbox: McpToolbox) -> Verdict:
    try:
        state = git_demo_state(toolbox)
    except McpServerError as exc:
        return Verdict(False, [f"The check could not read the repository: {exc}"])
    verdict = check(task, answer, {}, state)
    return Verdict(bool(verdict.success), list(verdict.reasons))


def git_demo_toolbox(task: Task | None = None, *, call_timeout: float | None = None) -> McpToolbox:
    """A fresh demo repository and an ``mcp-server-git`` serving it (see the module docstring).

    Raises ``McpServerError`` (one sentence) if the repository cannot be built or the server
    does not start.
    """
    workdir = Path(tempfile.mkdtemp(prefix="codeact-git-demo-"))
    repo = workdir / "repo"
    try:
        build_repository(repo)
    except GitRepositoryError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise McpServerError(str(exc)) from None
    spec = McpServerSpec(command=(sys.executable, "-m", "mcp_server_git", "--repository",
                                  str(repo)), cwd=str(repo), label="mcp-server-git")
    kwargs = {} if call_timeout is None else {"call_timeout": call_timeout}
    return McpToolbox(spec, judge=_judge,
                      on_close=lambda: shutil.rmtree(workdir, ignore_errors=True), **kwargs)
