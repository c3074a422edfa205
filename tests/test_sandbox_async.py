"""Programs as models write them: async main, top-level await, awaited and gathered API calls,
misspelled API names and warnings, through a real sandbox."""

from __future__ import annotations

import pytest
from reply_styles import ASYNC_MAIN, TOP_LEVEL_AWAIT
from sandbox_support import new_sandbox, shared_cache


@pytest.fixture(scope="module")
def box():
    sandbox, platform = new_sandbox(shared_cache())
    yield sandbox, platform
    sandbox.close()


def clean(result) -> None:
    assert result.error is None, result.error
    assert "Exception ignored" not in result.output and "Warning" not in result.output


def test_asyncio_run_of_an_async_main_that_awaits_the_api(box):
    sandbox, _ = box
    result = sandbox.run(
        "import asyncio\n\n"
        "async def main():\n"
        "    await asyncio.sleep(0.01)\n"
        "    user = await api.users.get(5)\n"
        "    return user['name']\n\n"
        "if __name__ == '__main__':\n"
        "    print(asyncio.run(main()))\n"
    )
    clean(result)
    assert result.output == "Ada\n" and result.host_calls == ["users_get"]


def test_top_level_await_of_an_api_call_gives_the_plain_value(box):
    sandbox, _ = box
    result = sandbox.run(
        "import json\n"
        "user = await api.users.get(id=7)\n"
        "print(user['id'], type(user).__name__, isinstance(user, dict), json.dumps(user))\n"
        "await api.notes.create('from async')"
    )
    clean(result)
    assert result.output == (
        '7 dict True {"id": 7, "name": "Ada", "tags": ["a"]}\n{\'id\': 1}\n'
    )


def test_gather_create_task_and_wait_for_take_api_calls(box):
    sandbox, platform = box
    platform.calls.clear()
    result = sandbox.run(
        "import asyncio\n"
        "async def main():\n"
        "    pair = await asyncio.gather(api.users.get(1), api.users.get(1))\n"
        "    task = asyncio.create_task(api.users.get(2))\n"
        "    late = await asyncio.wait_for(api.users.search('Bo', 3), timeout=1)\n"
        "    return [u['id'] for u in pair], (await task)['id'], late['items'][0]['name']\n"
        "print(asyncio.run(main()))\n"
        "print([u['id'] for u in await asyncio.gather(*[api.users.get(i) for i in (3, 4)])])"
    )
    clean(result)
    assert result.output == "([1, 1], 2, 'Bo')\n[3, 4]\n"
    assert [name for name, _ in platform.calls] == ["users_get"] * 3 + ["users_search"] + [
        "users_get"] * 2


def test_awaiting_a_call_whose_value_is_none_works_too(box):
    sandbox, _ = box
    result = sandbox.run("print(await api.users.echo(None), await api.users.echo(True))")
    clean(result)
    assert result.output == "None True\n"


def test_a_tool_error_inside_async_code_points_at_the_programs_lines(box):
    sandbox, _ = box
    result = sandbox.run(
        "import asyncio\n"
        "async def main():\n"
        "    return await api.users.get(0)\n"
        "asyncio.run(main())\n"
    )
    assert result.error == (
        "Traceback (most recent call last):\n"
        '  File "<code>", line 4, in <module>\n'
        "    asyncio.run(main())\n"
        '  File "<code>", line 3, in main\n'
        "    return await api.users.get(0)\n"
        "ToolError: user 0 does not exist"
    )


def test_async_state_lives_across_runs_like_a_notebook(box):
    sandbox, _ = box
    clean(sandbox.run("import asyncio\nqueue = asyncio.Queue()\nawait queue.put(41)"))
    result = sandbox.run("print(await queue.get() + 1)")
    clean(result)
    assert result.output == "42\n"


def test_waiting_on_what_nothing_can_finish_is_an_error_not_a_hang(box):
    sandbox, _ = box
    result = sandbox.run("import asyncio\nawait asyncio.Event().wait()")
    assert result.limit is None and not result.state_lost
    assert result.error.startswith("RuntimeError: the program awaits something that nothing can "
                                   "finish")
    assert sandbox.run("print('still here')").output == "still here\n"


def test_the_host_call_limit_holds_in_async_code_too(box):
    sandbox, _ = box
    result = sandbox.run(
        "import asyncio\n"
        "async def flood():\n"
        "    while True:\n"
        "        try:\n"
        "            await api.notes.list()\n"
        "        except Exception:\n"
        "            pass\n"
        "asyncio.run(flood())\n"
    )
    assert result.limit == "host_calls" and "SandboxLimit" in result.error


def test_a_last_line_calling_an_async_main_runs_it(box):
    sandbox, _ = box
    result = sandbox.run("async def main():\n    print('ran')\n    return 5\nmain()")
    clean(result)
    assert result.output == "ran\n5\n"


def test_a_coroutine_never_awaited_is_one_warning_at_the_programs_line(box):
    sandbox, _ = box
    result = sandbox.run("async def main():\n    print('never')\nmain()\nprint('after')")
    assert result.error is None
    assert result.output == (
        "<code>:3: RuntimeWarning: coroutine 'main' was never awaited\n  main()\nafter\n"
    )


def test_a_syntax_warning_names_the_programs_line(box):
    sandbox, _ = box
    result = sandbox.run("import re\nprint(re.findall('\\d+', 'a1b22'))")
    assert result.output == (
        "<code>:2: SyntaxWarning: invalid escape sequence '\\d'\n"
        "  print(re.findall('\\d+', 'a1b22'))\n['1', '22']\n"
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("api.users.gett(1)",
         "AttributeError: api.users has no 'gett'. Did you mean api.users.get? "
         "Valid names: get, search, echo."),
        ("api.user.get(1)",
         "AttributeError: api has no 'user'. Did you mean api.users? Valid names: users, notes."),
        ("await api.notes.lsit()",
         "AttributeError: api.notes has no 'lsit'. Did you mean api.notes.list? "
         "Valid names: list, create."),
        ("api.users(1)",
         "TypeError: api.users is a namespace, not a function; it has: get, search, echo"),
    ],
)
def test_a_misspelled_api_name_lists_the_valid_names_closest_first(box, code, message):
    sandbox, _ = box
    result = sandbox.run(code)
    assert result.error.endswith("\n" + message), result.error
    assert "_Namespace" not in result.error and "ApiNamespace" not in result.error


def test_a_misspelled_platform_function_puts_the_closest_names_first():
    from tasks.catalog import guest_api_spec
    from tasks.platform import new_platform
    from wasm_sandbox import Sandbox

    platform = new_platform()
    with Sandbox(lambda name, args: platform.call(name, args).to_wire(), guest_api_spec(),
                 cache_dir=shared_cache()) as sandbox:
        result = sandbox.run("api.time_entry.list()")
    assert result.error.endswith(
        "AttributeError: api has no 'time_entry'. Did you mean api.time_entries? Valid names: "
        "time_entries, users, teams, clients, projects, milestones, sprints, tasks, bugs, "
        "comments, invoices, labels, releases, documents, meetings, notifications, expenses, "
        "repositories, deployments, webhooks."
    )


@pytest.mark.parametrize("code", [ASYNC_MAIN, TOP_LEVEL_AWAIT],
                         ids=["async main", "top-level await"])
def test_the_reply_catalogues_async_programs_run(box, code):
    sandbox, _ = box
    result = sandbox.run(code)
    clean(result)
    assert result.output == "hi\n"
