"""One error base carrying the one sentence; boundaries show that sentence, never raw text."""

from __future__ import annotations

import pytest

from engine.agents.parts import AgentError
from engine.cli import run_command
from engine.errors import USER_ERRORS, ExplorerError, UserError, one_sentence
from engine.events import EventFormatError
from engine.modes import UnknownModeError
from engine.pricing import PriceFileError
from engine.providers.base import ProviderError
from engine.records import RunRecordError
from engine.toolbox import ToolSourceError
from engine.toolboxes.mcp import McpServerError
from engine.toolboxes.tool_list import ToolListError
from tasks.api import ToolError
from tasks.demos.gitrepo import GitRepositoryError
from tasks.errors import TasksError
from tasks.suite import TaskFileError, UnknownTaskError
from tasks.validation import CallError
from tui.backend import BackendError
from wasm_sandbox import SandboxError

ENGINE_ERRORS = [AgentError, EventFormatError, McpServerError, PriceFileError, ProviderError,
                 RunRecordError, ToolListError, ToolSourceError, UnknownModeError, UserError,
                 BackendError]
TASKS_ERRORS = [CallError, GitRepositoryError, TaskFileError, ToolError, UnknownTaskError]


@pytest.mark.parametrize("cls", ENGINE_ERRORS, ids=lambda c: c.__name__)
def test_the_engines_errors_derive_from_the_one_base(cls: type[ExplorerError]) -> None:
    error = cls("The key is missing; set MISTRAL_API_KEY.")
    assert isinstance(error, ExplorerError)
    assert error.message == str(error) == "The key is missing; set MISTRAL_API_KEY."
    assert isinstance(error.kind, str) and error.kind


@pytest.mark.parametrize("cls", TASKS_ERRORS, ids=lambda c: c.__name__)
def test_the_workloads_errors_derive_from_its_base_which_the_engine_accepts(
        cls: type[TasksError]) -> None:
    error = cls("tasks.toml: task 'x', field 'id': is taken.")
    assert isinstance(error, TasksError) and isinstance(error, USER_ERRORS)
    assert one_sentence(error) == "tasks.toml: task 'x', field 'id': is taken."


def test_a_sandbox_error_is_accepted_like_the_engines_own() -> None:
    error = SandboxError("python.wasm is missing; reinstall codeact-explorer")
    assert isinstance(error, USER_ERRORS) and error.kind == "sandbox"
    assert one_sentence(error) == "python.wasm is missing; reinstall codeact-explorer."


def test_a_kind_given_by_the_raiser_wins_over_the_class_default() -> None:
    assert AgentError("The sandbox failed.", kind="sandbox").kind == "sandbox"
    assert AgentError("The agent failed.").kind == "agent"


def test_unexpected_exceptions_are_named_never_shown_raw() -> None:
    text = one_sentence(KeyError("'tool_calls' \n  File \"x.py\", line 3"))
    assert text == "an unexpected internal error (KeyError)."
    assert "File" not in one_sentence(RuntimeError("Traceback (most recent call last):\n  x"))


def test_an_os_error_is_what_the_system_said_and_the_file() -> None:
    error = PermissionError(13, "Permission denied", "/runs/x.jsonl")
    assert one_sentence(error) == "Permission denied: /runs/x.jsonl."


def test_the_cli_ends_any_user_facing_error_in_its_sentence_and_status_2(capsys) -> None:
    def fails(args: object) -> int:
        raise TaskFileError("tasks.toml: is not valid TOML (line 3)")

    assert run_command(fails, object()) == 2  # type: ignore[arg-type]
    assert capsys.readouterr().err == "codeact-explorer: tasks.toml: is not valid TOML (line 3).\n"
