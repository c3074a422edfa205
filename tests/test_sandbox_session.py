"""Sessions: state across runs, host calls, tracebacks, results, asyncio use, interrupting."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sandbox_support import SMALL, new_sandbox, shared_cache

from wasm_sandbox import ExecutionResult, Sandbox


@pytest.fixture(scope="module")
def session():
    sandbox, platform = new_sandbox(shared_cache())
    yield sandbox, platform
    sandbox.close()


def test_names_defined_in_one_run_exist_in_the_next(session):
    sandbox, _ = session
    assert sandbox.run("total = 40\ndef bump(x):\n    return x + 2").ok
    result = sandbox.run("print(bump(total))")
    assert result.output == "42\n"
    assert result.error is None and not result.state_lost


def test_a_trailing_expression_is_shown_like_a_notebook(session):
    sandbox, _ = session
    assert sandbox.run("x = [1, 2]\nx + [3]").output == "[1, 2, 3]\n"
    assert sandbox.run("None").output == ""


def test_host_calls_map_positional_args_and_return_plain_json(session):
    sandbox, platform = session
    platform.calls.clear()
    result = sandbox.run(
        "user = api.users.get(7)\n"
        "found = api.users.search('Ada', limit=3)\n"
        "print(user['name'], user['tags'], found['items'][0]['name'], type(user).__name__)"
    )
    assert result.output == "Ada ['a'] Ada dict\n"
    assert result.host_calls == ["users_get", "users_search"]
    assert platform.calls == [
        ("users_get", {"id": 7}),
        ("users_search", {"query": "Ada", "limit": 3}),
    ]


def test_a_refused_call_raises_tool_error_that_the_program_can_catch(session):
    sandbox, _ = session
    caught = sandbox.run(
        "try:\n    api.users.get(0)\nexcept ToolError as e:\n    print('caught:', e)"
    )
    assert caught.output == "caught: user 0 does not exist\n"
    uncaught = sandbox.run("api.users.get(0)")
    assert uncaught.error is not None
    assert uncaught.error.endswith("ToolError: user 0 does not exist")


def test_traceback_points_at_the_programs_own_lines_only(session):
    sandbox, _ = session
    result = sandbox.run("def f():\n    return api.users.get(0)\n\nx = 1\nf()\n")
    assert result.error == (
        "Traceback (most recent call last):\n"
        '  File "<code>", line 5, in <module>\n'
        "    f()\n"
        '  File "<code>", line 2, in f\n'
        "    return api.users.get(0)\n"
        "ToolError: user 0 does not exist"
    )
    assert "driver" not in result.error and "<string>" not in result.error


def test_syntax_errors_show_the_line_and_a_caret(session):
    sandbox, _ = session
    result = sandbox.run("x = 1\ny = (2 +\n")
    assert result.error is not None
    assert 'File "<code>", line 2' in result.error
    assert "SyntaxError" in result.error


def test_wrong_arguments_are_python_errors(session):
    sandbox, _ = session
    result = sandbox.run("api.users.get(1, 2)")
    assert "TypeError: api.users.get() takes at most 1 positional arguments" in result.error
    result = sandbox.run("api.users.get(object())")
    assert "cannot be sent to the platform" in result.error


def test_empty_output_is_reported_for_the_model(session):
    sandbox, _ = session
    result = sandbox.run("x = 5")
    assert result.output == "" and result.ok
    assert "nothing was printed" in result.for_model()


def test_sys_exit_ends_the_program_quietly(session):
    sandbox, _ = session
    result = sandbox.run("print('bye')\nraise SystemExit")
    assert result.output == "bye\n" and result.error is None


def test_result_to_dict_is_json_ready(session):
    sandbox, _ = session
    data = sandbox.run("print(api.notes.create('hi'))").to_dict()
    assert data["host_call_count"] == 1
    assert set(data) >= {"output", "error", "host_calls", "limit", "state_lost", "wall_ms",
                         "cpu_ms", "truncated_bytes"}


def test_for_model_lists_output_error_and_notices():
    result = ExecutionResult(output="a\n", error="Boom", limit="cpu", state_lost=True,
                             truncated_bytes=10)
    text = result.for_model()
    assert text.startswith("a\nBoom\n[")
    assert "output truncated: 10 bytes cut" in text
    assert "CPU time limit hit" in text and "earlier state lost" in text
    wall = ExecutionResult(limit="wall", state_lost=True)
    assert "[nothing was printed; time limit hit; the interpreter was restarted" in wall.for_model()
    assert wall.limit_message() == ("The sandbox stopped the program: the time limit was hit. "
                                    "Earlier state was lost.")


async def test_arun_works_from_asyncio(session):
    sandbox, _ = session
    results = [await sandbox.arun(f"print({i} * 2)") for i in range(3)]
    assert [r.output for r in results] == ["0\n", "2\n", "4\n"]


async def test_cancelling_arun_interrupts_the_program():
    sandbox, _ = new_sandbox(shared_cache())
    with sandbox:
        task = asyncio.ensure_future(sandbox.arun("while True:\n    pass"))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        result = await sandbox.arun("print('alive')")
        assert result.output == "alive\n"


def test_interrupt_stops_a_running_program_and_the_next_run_works():
    sandbox, _ = new_sandbox(shared_cache())
    with sandbox:
        sandbox.run("kept = 1")
        timer = threading.Timer(0.3, sandbox.interrupt)
        timer.start()
        result = sandbox.run("import time\ntime.sleep(30)")
        # Interrupted, not the 30 s sleep run out (that would end with no error at all).
        assert result.state_lost and result.limit is None
        assert "interrupted" in result.error
        after = sandbox.run("print('kept' in globals())")
        assert after.output == "False\n"


def test_a_closed_sandbox_refuses_to_run():
    sandbox, _ = new_sandbox(shared_cache())
    sandbox.close()
    from wasm_sandbox import SandboxError

    with pytest.raises(SandboxError):
        sandbox.run("print(1)")


def test_two_sandboxes_do_not_share_state():
    first, _ = new_sandbox(shared_cache())
    second, _ = new_sandbox(shared_cache())
    with first, second:
        first.run("secret = 1")
        assert "NameError" in second.run("secret").error


def test_limits_reject_nonsense():
    from wasm_sandbox import Limits

    with pytest.raises(ValueError):
        Limits(cpu_seconds=0)
    assert SMALL.to_dict()["host_calls"] == 50
    assert isinstance(Sandbox, type)


def test_a_dead_zygote_is_replaced_and_direct_start_still_works(monkeypatch):
    from wasm_sandbox import process

    sandbox, _ = new_sandbox(shared_cache())
    with sandbox:
        assert sandbox.run("print(1)").output == "1\n"
    for zygote in list(process._zygotes.values()):
        zygote.proc.kill()
        zygote.proc.wait()
    sandbox, _ = new_sandbox(shared_cache())
    with sandbox:
        assert sandbox.run("print(2)").output == "2\n"
    monkeypatch.setattr(process, "_zygote_for", lambda runtime: None)
    sandbox, _ = new_sandbox(shared_cache())
    with sandbox:
        assert sandbox._child.popen is not None  # started directly, not forked
        assert sandbox.run("print(3)").output == "3\n"
        assert sandbox.run("while True:\n    pass").limit in ("cpu", "wall")  # wall: under load
        assert sandbox.run("print(4)").output == "4\n"


def test_sandboxes_run_in_parallel_threads():
    boxes = [new_sandbox(shared_cache())[0] for _ in range(3)]
    results: list[ExecutionResult] = []

    def work(box: Sandbox, n: int) -> None:
        results.append(box.run(f"print(sum(api.notes.create(str(i))['id'] for i in range({n})))"))

    threads = [threading.Thread(target=work, args=(box, 20)) for box in boxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for box in boxes:
        box.close()
    assert sorted(r.output for r in results) == ["210\n"] * 3


def test_closing_during_a_run_ends_it_as_interrupted():
    sandbox, _ = new_sandbox(shared_cache())
    sandbox.run("print(0)")
    timer = threading.Timer(0.3, sandbox.close)
    timer.start()
    result = sandbox.run("while True:\n    pass")
    timer.join()
    assert result.state_lost and result.limit is None and "interrupted" in result.error


def test_a_function_from_an_earlier_run_shows_its_own_lines(session):
    sandbox, _ = session
    sandbox.run("def helper(x):\n    return 10 / x\n")
    result = sandbox.run("y = 1\nhelper(0)")
    assert 'File "<code>", line 2, in <module>\n    helper(0)' in result.error
    assert "in helper\n    return 10 / x" in result.error
    assert "<code of run" in result.error
