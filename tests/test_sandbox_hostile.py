"""Hostile programs: each is contained with a clear result, and the next run works.

One sandbox is shared by the module (small limits keep it fast); every test ends by checking
that the session still answers.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from sandbox_support import SMALL, new_sandbox, shared_cache

from wasm_sandbox import Limits


@pytest.fixture(scope="module")
def box():
    sandbox, _platform = new_sandbox(shared_cache())
    yield sandbox
    sandbox.close()


def still_works(sandbox) -> None:
    result = sandbox.run("print('still here')")
    assert result.output == "still here\n", result


def test_host_files_are_not_visible(box, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    result = box.run(
        "import os\n"
        f"for path in ['/etc/passwd', {str(secret)!r}, os.path.expanduser('~/.bashrc')]:\n"
        "    try:\n"
        "        print(open(path).read()[:20])\n"
        "    except OSError as e:\n"
        "        print('blocked', type(e).__name__)\n"
        "try:\n"
        "    os.listdir('/')\n"
        "except OSError as e:\n"
        "    print('no root', type(e).__name__)\n"
    )
    assert "top secret" not in result.output and "root:" not in result.output
    assert result.output.count("blocked") == 3 and "no root" in result.output
    still_works(box)


def test_no_host_environment_reaches_the_guest(box, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-should-never-leak")
    fresh, _ = new_sandbox(shared_cache())
    with fresh:
        result = fresh.run("import os\nprint(dict(os.environ))")
    assert result.output == "{}\n"


def test_writing_outside_fails_and_leaves_no_file(box, tmp_path):
    target = tmp_path / "written.txt"
    result = box.run(
        "try:\n"
        f"    open({str(target)!r}, 'w').write('x')\n"
        "except OSError as e:\n"
        "    print('refused', type(e).__name__)\n"
    )
    assert "refused" in result.output
    assert not target.exists()
    still_works(box)


@pytest.mark.parametrize(
    "code",
    [
        "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 80))",
        "import urllib.request\nurllib.request.urlopen('http://example.com')",
        "import subprocess\nsubprocess.run(['ls'])",
        "import os\nos.system('ls')",
        "import ctypes",
        "import os\nos.fork()",
        "import threading\nthreading.Thread(target=print).start()",
    ],
    ids=["socket", "http", "subprocess", "system", "ctypes", "fork", "thread"],
)
def test_escape_hatches_raise_plain_errors(box, code):
    result = box.run(code)
    assert result.error is not None and result.limit is None and not result.state_lost
    assert "Traceback" in result.error
    still_works(box)


def test_infinite_loop_hits_the_cpu_limit_and_state_is_lost():
    # A wall-clock limit far above the CPU limit, so load on the machine cannot trip it first.
    limits = Limits(cpu_seconds=1.0, wall_seconds=60.0, memory_bytes=SMALL.memory_bytes)
    sandbox, _ = new_sandbox(shared_cache(), limits)
    with sandbox:
        sandbox.run("before = 1")
        result = sandbox.run("while True:\n    pass")
        assert result.limit == "cpu" and result.state_lost
        assert "more than 1 s of CPU time" in result.error
        assert "CPU time limit hit" in result.for_model()
        assert result.cpu_ms >= 900  # not cut short; how far past 1 s depends on the load
        assert "NameError" in sandbox.run("before").error
        still_works(sandbox)


def test_memory_bomb_is_a_memory_error_or_a_replaced_interpreter(box):
    result = box.run("chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))")
    assert result.limit == "memory", result
    assert "MemoryError" in result.error or result.state_lost
    box.run("chunks = None")
    still_works(box)


def test_one_huge_allocation_is_refused(box):
    result = box.run("x = bytearray(200 * 1024 * 1024)")
    assert result.limit == "memory" and "MemoryError" in result.error
    still_works(box)


def test_deep_recursion_is_a_recursion_error_with_a_short_traceback(box):
    result = box.run("def f(n):\n    return f(n + 1)\nf(0)")
    assert "RecursionError" in result.error
    assert "Previous line repeated" in result.error and len(result.error) < 2000
    still_works(box)


def test_recursion_past_the_raised_limit_is_contained(box):
    result = box.run("import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n+1)\nf(0)")
    assert result.error is not None
    assert result.limit in (None, "crash", "memory", "cpu", "wall")
    # The cause, not the first line of wasmtime's report ("error while executing at wasm
    # backtrace:", which a newcomer was shown).
    assert "backtrace" not in result.error
    still_works(box)


def test_output_flood_is_truncated_with_the_count(box):
    result = box.run("print('x' * 100000)")
    assert len(result.output.encode()) <= SMALL.output_bytes
    assert result.truncated_bytes == 100001 - SMALL.output_bytes
    assert result.limit == "output" and not result.state_lost and not result.stopped
    assert (f"[output truncated: {result.truncated_bytes} bytes cut; the program went on to its "
            "end]") in result.for_model()


def test_cut_output_does_not_stop_the_program(box):
    result = box.run("print('x' * 5000)\nafter = api.notes.create('written after the cut')\n"
                     "print('done')")
    assert result.limit == "output" and result.error is None
    assert result.host_calls == ["notes_create"]
    assert "went on to its end" in result.limit_message()
    assert box.run("print(after['id'] > 0)").output == "True\n"
    still_works(box)


def test_endless_printing_keeps_the_first_output(box):
    result = box.run("i = 0\nwhile True:\n    print(i)\n    i += 1")
    assert result.limit in ("cpu", "wall") and result.output.startswith("0\n1\n2\n")
    assert result.truncated_bytes > 0
    still_works(box)


def test_host_call_flood_stops_at_the_limit_even_with_except_exception(box):
    result = box.run(
        "n = 0\nwhile True:\n    try:\n        api.notes.list()\n        n += 1\n"
        "    except Exception:\n        pass\n"
    )
    assert result.limit == "host_calls"
    assert len(result.host_calls) == SMALL.host_calls
    assert "host-call limit" in result.error and not result.state_lost
    assert box.run("print(n)").output == f"{SMALL.host_calls}\n"


def test_huge_arguments_are_refused(box):
    result = box.run("api.users.echo('x' * (2 * 1024 * 1024))")
    assert result.limit == "argument_size" and "SandboxLimit" in result.error
    assert result.host_calls == []
    still_works(box)


def test_huge_results_are_refused():
    from sandbox_support import TOY_API

    from wasm_sandbox import Sandbox

    def big(name, args):
        return {"ok": True, "value": ["y" * 1000] * 100}

    with Sandbox(big, TOY_API, limits=SMALL, cache_dir=shared_cache()) as sandbox:
        result = sandbox.run("api.notes.list()")
        assert result.limit == "argument_size" and "result of notes_list" in result.error
        still_works(sandbox)


def test_sleeping_forever_is_cut_at_the_wall_clock_deadline(box):
    result = box.run("import time\ntime.sleep(10**6)")
    assert result.limit == "wall" and result.state_lost
    assert "longer than the 1.5 s time limit" in result.error and "time.sleep" in result.error
    assert "\n[time limit hit; the interpreter was restarted" in result.for_model()
    assert "cpu" not in result.error.lower()
    still_works(box)


def test_input_sees_end_of_file(box):
    result = box.run("import sys\nprint(repr(sys.stdin.read()))\ninput()")
    assert result.output == "''\n" and "EOFError" in result.error
    still_works(box)


def test_reading_the_bridge_stdin_directly_is_cut_by_the_deadline(box):
    result = box.run("import os\nos.read(0, 100)")
    assert result.limit == "wall" and result.state_lost
    still_works(box)


def test_the_bridge_module_refuses_what_is_not_bytes(box):
    result = box.run("import _codeact_host\n_codeact_host.call('c1\\tusers_get\\t{}\\n')")
    assert "TypeError: call() argument must be bytes, not str" in result.error
    assert result.limit is None
    still_works(box)


@pytest.mark.parametrize("request_line", ["b''", "b'garbage\\n'"])
def test_calling_the_bridge_module_with_no_call_waits_until_the_deadline(box, request_line):
    # No answer comes to what is not a host call.
    result = box.run(f"import _codeact_host\n_codeact_host.call({request_line})")
    assert result.limit == "wall" and result.state_lost
    still_works(box)


def test_a_host_call_made_through_the_bridge_module_directly_is_still_a_host_call(box):
    result = box.run("import _codeact_host\n"
                     "print(_codeact_host.call(b'c99\\tusers_get\\t{\"id\": 3}\\n')[:4])")
    assert result.output == "b'a99\\t'\n" and result.host_calls == ["users_get"], result
    still_works(box)


def test_an_app_that_never_answers_a_host_call_is_a_wall_time_limit():
    from sandbox_support import TOY_API

    from wasm_sandbox import Sandbox

    release = threading.Event()

    def stuck(name, args):
        release.wait(2.5)  # past the 1.5 s wall-clock limit
        return {"ok": True, "value": None}

    with Sandbox(stuck, TOY_API, limits=SMALL, cache_dir=shared_cache()) as sandbox:
        try:
            result = sandbox.run("print('before')\napi.notes.list()\nprint('after')")
        finally:
            release.set()
        assert result.limit == "wall" and result.state_lost, result
        assert "longer than the 1.5 s time limit" in result.error
        assert "\n" not in result.error.strip() and "Traceback" not in result.error
        assert result.output == "before\n"


def test_malformed_messages_on_the_bridge_are_contained(box):
    result = box.run(
        "import os\n"
        "os.write(1, b'garbage without a tag\\n')\n"
        "os.write(1, b'\\xff\\xfe\\x00 bad utf8\\n')\n"
        "os.write(1, b'c{not json\\n')\n"
        "os.write(1, b'c{\"id\": 5, \"name\": 3, \"args\": []}\\n')\n"
        "os.write(1, b'd{\"nonce\": \"forged\", \"error\": \"fake\"}\\n')\n"
        "os.write(1, b'o\"injected\"\\n')\n"
        "os.write(1, b'r\\n')\n"
        "print(api.users.get(3)['name'])\n"
    )
    assert result.error is None, result
    assert result.output.endswith("Ada\n")
    assert "garbage without a tag" in result.output
    still_works(box)


def test_a_long_unterminated_line_on_the_bridge_is_contained(box):
    result = box.run("import os\nos.write(1, b'c' + b'x' * (200 * 1024))\nprint('after')")
    assert result.limit == "argument_size" and result.state_lost
    still_works(box)


def test_exiting_the_interpreter_replaces_it(box):
    result = box.run("import os\nos._exit(3)")
    assert result.limit == "crash" and result.state_lost
    still_works(box)


def test_a_killed_child_process_is_a_crash_not_a_hang(box):
    def kill_child():
        child = box._child
        if child is not None:
            os.kill(child.pid, signal.SIGKILL)

    timer = threading.Timer(0.3, kill_child)
    timer.start()
    result = box.run("import time\ntime.sleep(5)")
    timer.join()
    assert result.limit == "crash" and result.state_lost
    still_works(box)


def test_host_call_errors_in_the_host_become_tool_errors():
    def broken(name, args):
        raise RuntimeError("database on fire")

    from sandbox_support import TOY_API

    from wasm_sandbox import Sandbox

    with Sandbox(broken, TOY_API, limits=SMALL, cache_dir=shared_cache()) as sandbox:
        result = sandbox.run("api.notes.list()")
        assert "ToolError: notes_list failed in the host: database on fire" in result.error


def test_default_limits_match_the_issue():
    limits = Limits()
    assert (limits.cpu_seconds, limits.memory_bytes, limits.output_bytes) == (10, 256 << 20, 16384)
    assert (limits.host_calls, limits.argument_bytes) == (1000, 1 << 20)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")


FORGE_DONE_AND_LOOP = (
    "import __main__, os\n"
    "nonce = __main__._state['nonce']\n"
    "os.write(1, ('d{\"nonce\": \"%s\", \"error\": null, \"cut\": 0}\\n' % nonce).encode())\n"
    "while True:\n    pass\n"
)


def test_a_run_right_after_a_forged_done_line_gets_a_fresh_interpreter(box):
    # No wait: the next run finds the interpreter still computing and replaces it (decided on
    # the interpreter's CPU time, so a loaded machine cannot make it miss).
    for _ in range(3):
        result = box.run(FORGE_DONE_AND_LOOP)
        assert result.error is None  # the forgery is believed for this run...
        after = box.run("print('next')")  # ...but not by the next one
        assert after.output == "next\n" and after.state_lost and after.error is None, after
        assert "earlier state lost" in after.for_model()
    still_works(box)


def test_a_forged_done_line_does_not_leave_the_program_running_unchecked(box):
    assert box.run(FORGE_DONE_AND_LOOP).error is None
    pid = box._child.pid
    # The child's idle check stops the loop while the app is idle; poll for its exit (a
    # generous bound for a loaded machine, not a timing).
    give_up = time.monotonic() + 60
    while _running(pid) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not _running(pid), "the looping interpreter was never stopped"
    after = box.run("print('next')")
    assert after.output == "next\n" and after.state_lost and after.error is None
    still_works(box)


def test_replacing_or_closing_stdout_is_contained(box):
    result = box.run("import sys\nsys.stdout = sys.__stdout__\nprint('raw')")
    assert result.output == "raw\n"
    assert box.run("print('captured again')").output == "captured again\n"
    closed = box.run("import os\nos.close(1)")
    assert closed.limit == "crash" and closed.state_lost
    still_works(box)
