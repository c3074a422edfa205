"""``McpToolbox`` against real MCP servers started as subprocesses: results, errors, failures."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePath

import pytest
from mcp_support import EDGE, raw

from engine.toolbox import Toolbox
from engine.toolboxes.mcp import McpServerError, McpServerSpec, McpToolbox


@pytest.fixture(scope="module")
def edge():
    """One edge server for the tests that do not break it."""
    box = McpToolbox(EDGE, call_timeout=20)
    yield box
    box.close()


def test_it_is_a_toolbox_whose_renderings_use_names_mistral_accepts(edge) -> None:
    assert isinstance(edge, Toolbox)
    names = [s["function"]["name"] for s in edge.function_schemas()]
    assert "odd_name_v2" in names and all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", n) for n in names)
    assert "def lookup(person_id: int) -> LookupResult:" in edge.python_api()
    assert "class LookupResult(TypedDict):" in edge.python_api()
    assert "def primes(n: int) -> list[int]:" in edge.python_api()
    assert edge.guest_api()["odd_name_v2"]["params"] == ["from_", "user_id", "filter"]


def test_structured_results_come_back_as_python_values_and_text_for_tool_calling(edge) -> None:
    person = edge.call("lookup", {"person_id": 2})
    assert person.ok and person.value == {"name": "person 2", "age": 32}
    primes = edge.call("primes", {"n": 12})
    assert primes.value == [2, 3, 5, 7, 11]  # unwrapped from {"result": [...]}
    assert primes.content() == "[2, 3, 5, 7, 11]"  # the MCP content text
    parsed = edge.call("json_text", {"count": 3})
    assert parsed.value == {"items": [0, 1, 2]}
    hello = edge.call("greet", {"name": "Ada"})
    assert hello.value == "Hello, Ada!" and hello.content() == "Hello, Ada!"


def test_a_tool_error_is_an_outcome_with_the_servers_message(edge) -> None:
    outcome = edge.call("boom", {"reason": "disk full"})
    assert not outcome.ok and outcome.error == "boom: disk full"
    assert outcome.to_wire() == {"ok": False, "error": "boom: disk full"}
    assert edge.call("greet", {"name": "again"}).ok  # the server is fine after a tool error


def test_odd_names_are_mapped_back_to_the_servers_own(edge) -> None:
    outcome = edge.call("odd_name_v2", {"from_": 1, "user_id": "u7", "filter": None})
    assert outcome.value == "from=1 user-id=u7 filter=None"
    assert edge.call("dollar_schema", {"value": "v"}).value == "v"


def test_unknown_tools_and_bad_arguments_are_outcomes_not_exceptions(edge) -> None:
    unknown = edge.call("nope", {})
    assert not unknown.ok and "There is no tool named 'nope'" in (unknown.error or "")
    assert not edge.call("greet", ["Ada"]).ok  # type: ignore[arg-type]


def test_huge_output_arrives_whole(edge) -> None:
    outcome = edge.call("huge", {"kilobytes": 4096})
    assert outcome.ok and len(outcome.value) == 4096 * 1024


def test_calls_from_many_threads_at_once(edge) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: edge.call("lookup", {"person_id": i}).value,
                                range(32)))
    assert [r["age"] for r in results] == [30 + i for i in range(32)]


def test_a_hanging_tool_ends_in_one_sentence_and_breaks_the_toolbox() -> None:
    with McpToolbox(EDGE, call_timeout=1) as box:
        with pytest.raises(McpServerError) as err:
            box.call("sleepy", {})
        assert str(err.value) == "The MCP server edge did not answer sleepy within 1 s."
        with pytest.raises(McpServerError, match="did not answer sleepy"):
            box.call("greet", {"name": "x"})


def test_a_crash_ends_in_one_sentence_with_the_servers_last_words() -> None:
    with McpToolbox(EDGE) as box, pytest.raises(McpServerError) as err:
        box.call("crash", {})
    assert str(err.value) == ("The MCP server edge closed the connection during crash (it "
                              "probably crashed); its last stderr line: edge server: crashing "
                              "on purpose.")
    assert "crashing on purpose" in box.stderr()


@pytest.mark.parametrize("mode, sentence", [
    ("garbage", "The MCP server raw wrote something that is not an MCP message: "
                "'this is not json'."),
    ("bad-result", "The MCP server raw answered answer with something that is not an MCP "
                   "tool result."),
])
def test_garbage_on_the_wire_ends_in_one_sentence_at_once(mode, sentence) -> None:
    with McpToolbox(raw(mode), call_timeout=60) as box:
        with pytest.raises(McpServerError) as err:
            box.call("answer", {})
        # This sentence, not the 60 s call timeout's: the garbage ended the call at once.
        assert str(err.value) == sentence


def test_a_server_that_exits_at_start_is_one_sentence_with_its_stderr() -> None:
    spec = McpServerSpec(command=(*EDGE.command, "--exit-at-start"), label="edge")
    with pytest.raises(McpServerError) as err:
        McpToolbox(spec)
    assert str(err.value).startswith("The MCP server edge exited or failed while starting")
    assert str(err.value).endswith("its last stderr line: edge server: refusing to start.")


def test_a_missing_program_is_one_sentence() -> None:
    with pytest.raises(McpServerError, match=r"^The MCP server nope-not-here could not start: "
                       r"'nope-not-here' was not found; check the command\.$"):
        McpToolbox(McpServerSpec.from_command("nope-not-here"))


def test_close_stops_the_server_process_keeps_its_stderr_and_is_idempotent() -> None:
    box = McpToolbox(EDGE)
    pid = int(re.search(r"pid (\d+)", box.stderr()).group(1))
    os.kill(pid, 0)  # running
    threads = threading.active_count()
    box.close()
    box.close()
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "edge server: starting" in box.stderr()
    assert threading.active_count() < threads  # the session thread is gone too
    with pytest.raises(McpServerError, match="already stopped"):
        box.call("greet", {"name": "x"})


def test_the_server_gets_a_clean_environment_plus_its_own(monkeypatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "secret-key-must-not-leak")
    spec = McpServerSpec(command=(*EDGE.command,), env={"EDGE_EXTRA": "1"}, label="edge")
    with McpToolbox(spec) as box:
        pid = int(re.search(r"pid (\d+)", box.stderr()).group(1))
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"EDGE_EXTRA=1" in environ
    assert not any(item.startswith(b"MISTRAL_API_KEY=") for item in environ)


@pytest.mark.parametrize("command, name", [
    ("python -m mcp_server_git --repository .", "mcp_server_git"),
    ("/usr/bin/python3 servers/edge_server.py --flag", "edge_server.py"),
    ("uvx mcp-server-time --local-timezone UTC", "mcp-server-time"),
    ("npx -y @modelcontextprotocol/server-memory", "server-memory"),
    ("my-server --port 1", "my-server"),
])
def test_a_server_is_named_by_what_its_command_runs(command, name) -> None:
    assert McpServerSpec.from_command(command).describe() == name


def test_a_server_that_prints_json_that_is_not_mcp_is_named_by_its_command() -> None:
    spec = McpServerSpec.from_command(f"{sys.executable} -c 'print(1)'")
    with pytest.raises(McpServerError) as err:
        McpToolbox(spec, start_timeout=20)
    text = str(err.value)
    assert text.startswith(f"The MCP server {PurePath(sys.executable).name} -c")
    assert "that is not an MCP message: '1'" in text
    assert "validation error" not in text and "union[" not in text
