"""The scripted provider's replies as a pure function of the messages and the task."""

from __future__ import annotations

import json

import pytest
from engine_fakes import fake_task

from engine.modes import mode
from engine.providers import ProviderOptions, make_provider
from engine.providers.base import ChatRequest, Finish, ProviderError, TextChunk, ToolCallChunk
from engine.providers.program_play import parse_result
from engine.providers.scripted import SCRIPTED_MODEL, ScriptedProvider, execution_failed
from tasks.platform import new_platform

LOOKUP = '''
user = api.users.search("Lena Okafor")["items"][0]
team = api.teams.get(user["team_id"])
print(f"{user['name']} is on {team['name']}.")
'''
FAN_OUT = '''
users = api.users.list(page_size=3)["items"]
for u in users:
    api.comments.create(body="hi", author_id=u["id"], task_id=1)
print(f"Commented for {len(users)} users.")
'''
FAILING = 'api.bugs.update(1, status="fixed")\nprint("done")'
REPAIR = 'api.bugs.update(1, status="resolved")\nprint("Bug 1 is resolved.")'


def _conversation(task, parallel: bool = False, limit: int = 30) -> list[dict]:  # type: ignore[no-untyped-def]
    """Play the tool-calling loop by hand against a real platform."""
    provider = ScriptedProvider(task, mode("tool_calling"))
    platform = new_platform()
    messages: list[dict] = [{"role": "user", "content": task.prompt}]
    for _ in range(limit):
        answer, calls = provider.tool_calling_reply(messages, parallel=parallel)
        if not calls:
            messages.append({"role": "assistant", "content": answer})
            return messages
        ids = [f"id{len(messages)}x{i}" for i in range(len(calls))]
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": cid, "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
            for cid, (name, args) in zip(ids, calls, strict=True)]})
        for cid, (name, args) in zip(ids, calls, strict=True):
            messages.append({"role": "tool", "tool_call_id": cid, "name": name,
                             "content": platform.call(name, args).content()})
    raise AssertionError("no answer")


def _assistant_turns(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["role"] == "assistant"]


def test_tool_calls_read_ids_from_real_results() -> None:
    messages = _conversation(fake_task(reference=(LOOKUP,)))
    turns = _assistant_turns(messages)
    names = [t["tool_calls"][0]["function"]["name"] for t in turns[:-1]]
    assert names == ["users_search", "teams_get"]
    user = json.loads(messages[2]["content"])["items"][0]
    team_call = json.loads(turns[1]["tool_calls"][0]["function"]["arguments"])
    assert team_call == {"id": user["team_id"]}
    assert turns[-1]["content"].startswith("Lena Okafor is on ")


def test_parallel_calls_batch_independent_calls_into_one_reply() -> None:
    one = _assistant_turns(_conversation(fake_task(reference=(FAN_OUT,))))
    many = _assistant_turns(_conversation(fake_task(reference=(FAN_OUT,)), parallel=True))
    assert [len(t.get("tool_calls") or []) for t in one] == [1, 1, 1, 1, 0]
    assert [len(t.get("tool_calls") or []) for t in many] == [1, 3, 0]
    assert one[-1]["content"] == many[-1]["content"] == "Commented for 3 users."


def test_a_tool_error_moves_on_to_the_repair_program() -> None:
    messages = _conversation(fake_task(reference=(FAILING, REPAIR)))
    turns = _assistant_turns(messages)
    statuses = [json.loads(t["tool_calls"][0]["function"]["arguments"])["status"]
                for t in turns[:-1]]
    assert statuses == ["fixed", "resolved"]
    assert turns[-1]["content"] == "Bug 1 is resolved."


FAILING_AFTER_LOOKUP = '''
user = api.users.search("Sam Ortiz")["items"][0]
api.bugs.update(1, status="fixed", assignee_id=user["id"])
'''
REPAIR_AFTER_LOOKUP = '''
user = api.users.search("Sam Ortiz")["items"][0]
api.bugs.update(1, status="resolved", assignee_id=user["id"])
print(f"Bug 1 is resolved and {user['name']} has it.")
'''


def _names(turns: list[dict]) -> list[str]:
    return [c["function"]["name"] for t in turns for c in t.get("tool_calls") or []]


@pytest.mark.parametrize("parallel", [False, True], ids=["one-call", "parallel"])
def test_a_repair_reuses_what_it_already_read_instead_of_searching_again(parallel: bool) -> None:
    task = fake_task(reference=(FAILING_AFTER_LOOKUP, REPAIR_AFTER_LOOKUP))
    turns = _assistant_turns(_conversation(task, parallel=parallel))
    assert _names(turns) == ["users_search", "bugs_update", "bugs_update"]
    assert turns[-1]["content"] == "Bug 1 is resolved and Sam Ortiz has it."


def test_a_read_is_asked_again_after_a_write_changed_things() -> None:
    program = ('before = api.bugs.get(1)["status"]\napi.bugs.update(1, status="resolved")\n'
               'after = api.bugs.get(1)["status"]\nprint(before, "->", after)')
    turns = _assistant_turns(_conversation(fake_task(reference=(program,))))
    assert _names(turns) == ["bugs_get", "bugs_update", "bugs_get"]
    assert turns[-1]["content"].endswith("-> resolved")


@pytest.mark.parametrize("parallel", [False, True], ids=["one-call", "parallel"])
def test_the_same_read_in_a_loop_is_made_once(parallel: bool) -> None:
    program = 'names = [api.users.get(1)["name"] for _ in range(3)]\nprint(", ".join(names))'
    turns = _assistant_turns(_conversation(fake_task(reference=(program,)), parallel=parallel))
    assert [len(t.get("tool_calls") or []) for t in turns] == [1, 0]


def test_parallel_calls_batch_independent_lookups_and_loop_iterations() -> None:
    program = '''
me = api.users.search("Mara Quinn")["items"][0]
project = api.projects.search("Atlas Mobile App")["items"][0]
mine = api.tasks.list(project_id=project["id"], page_size=3)["items"]
for t in mine:
    details = api.tasks.get(t["id"])
    api.comments.create(body="On it", author_id=me["id"], task_id=t["id"])
    print(details["title"])
'''
    turns = _assistant_turns(_conversation(fake_task(reference=(program,)), parallel=True))
    batches = [[c["function"]["name"] for c in t.get("tool_calls") or []] for t in turns]
    assert batches == [["users_search", "projects_search"], ["tasks_list"],
                       ["tasks_get", "comments_create"] * 3, []]


def test_parallel_calls_wait_for_data_a_decision_needs() -> None:
    # `found` is incomplete while the searches are out: the create that depends on it waits.
    program = '''
found = []
for name in ("Lena Okafor", "Nobody Atall"):
    found += api.users.search(name)["items"]
if not found:
    api.notifications.create(user_id=1, kind="info", message="nobody found")
print(len(found))
'''
    provider = ScriptedProvider(fake_task(reference=(program,)), mode("tool_calling"))
    answer, calls = provider.tool_calling_reply([], parallel=True)
    assert answer == "" and [name for name, _ in calls] == ["users_search", "users_search"]


SKIPPING = '''
for q in ("Lena Okafor", "Sam Ortiz"):
    user = api.users.search(q)["items"][0]
    if not user["active"]:
        continue
    api.notifications.create(user_id=1, kind="info", message=q)
'''
RAISING = '''
user = api.users.search("Lena Okafor")["items"][0]
if not user["active"]:
    raise SystemExit("inactive")
api.notifications.create(user_id=1, kind="info", message="hi")
'''


@pytest.mark.parametrize("program", [SKIPPING, RAISING], ids=["continue", "raise"])
def test_parallel_calls_never_run_ahead_of_a_continue_or_a_raise(program: str) -> None:
    provider = ScriptedProvider(fake_task(reference=(program,)), mode("tool_calling"))
    _, calls = provider.tool_calling_reply([], parallel=True)
    assert calls == [("users_search", {"query": "Lena Okafor"})]


def test_when_every_program_fails_the_answer_says_so() -> None:
    messages = _conversation(fake_task(reference=(FAILING,)))
    assert "could not complete" in messages[-1]["content"]
    assert "fixed" in messages[-1]["content"]


def test_a_placeholder_cannot_be_swallowed_by_except_exception() -> None:
    program = ('try:\n    n = len(api.users.list()["items"])\nexcept Exception:\n    n = -1\n'
               'print(n)')
    provider = ScriptedProvider(fake_task(reference=(program,)), mode("tool_calling"))
    answer, calls = provider.tool_calling_reply([], parallel=True)
    assert answer == "" and calls == [("users_list", {})]


def test_codeact_sends_the_reference_then_the_repair_then_the_answer() -> None:
    provider = ScriptedProvider(fake_task(reference=(FAILING, REPAIR)), mode("codeact"))
    first = provider.codeact_reply([{"role": "user", "content": "go"}])
    assert f"```python\n{FAILING}\n```" in first
    failed = [{"role": "user", "content": "go"}, {"role": "assistant", "content": first},
              {"role": "user", "content": "Traceback (most recent call last):\n"
                                          "ToolError: status 'fixed' is not allowed"}]
    second = provider.codeact_reply(failed)
    assert f"```python\n{REPAIR}\n```" in second
    done = [*failed, {"role": "assistant", "content": second},
            {"role": "user", "content": "Bug 1 is resolved."}]
    assert provider.codeact_reply(done) == "Bug 1 is resolved."


def test_feedback_is_read_as_failed_only_when_it_is() -> None:
    assert execution_failed("Traceback (most recent call last):\n  x\nNameError: y")
    assert execution_failed("partial\n[time limit hit; the interpreter was restarted; "
                            "earlier state lost]")
    assert execution_failed("ToolError: no such user")
    assert not execution_failed("TypeError in login form is bug #3 (high).")
    assert not execution_failed("[1, 2, 3]")
    assert parse_result('{"error":"no user 9"}') == (False, None, "no user 9")
    assert parse_result('{"id":1}') == (True, {"id": 1}, None)


async def test_the_stream_is_deterministic_chunked_and_labelled() -> None:
    provider = make_provider("scripted", ProviderOptions(fake_task(reference=(LOOKUP,)),
                                                         mode("codeact")))
    assert provider.scripted and provider.name == "scripted" and provider.model == SCRIPTED_MODEL
    request = ChatRequest(model="x", messages=[{"role": "user", "content": "go"}])
    first = [c async for c in provider.stream(request)]
    again = [c async for c in provider.stream(request)]
    assert first == again
    texts = [c for c in first if isinstance(c, TextChunk)]
    assert len(texts) > 10 and all(len(c.text) < 40 for c in texts)
    assert isinstance(first[-1], Finish) and first[-1].reason == "stop"
    assert first[-1].timing is not None and first[-1].timing.source == "modeled"


async def test_tool_calls_stream_whole_with_mistral_shaped_ids() -> None:
    provider = ScriptedProvider(fake_task(reference=(LOOKUP,)), mode("tool_calling"))
    chunks = [c async for c in provider.stream(ChatRequest(model="x", messages=[]))]
    call = next(c for c in chunks if isinstance(c, ToolCallChunk))
    assert len(call.call_id) == 9 and call.call_id.isalnum()
    assert json.loads(call.arguments) == {"query": "Lena Okafor"}
    assert isinstance(chunks[-1], Finish) and chunks[-1].reason == "tool_calls"


def test_make_provider_names_what_is_wrong() -> None:
    with pytest.raises(ProviderError, match="Unknown provider"):
        make_provider("gpt", ProviderOptions(fake_task(), mode("codeact")))
    with pytest.raises(ProviderError, match="recorded run"):
        make_provider("replay", ProviderOptions(fake_task(), mode("codeact")))
    with pytest.raises(ProviderError, match="MISTRAL_API_KEY"):
        make_provider("mistral", ProviderOptions(fake_task(), mode("codeact")))


async def test_a_task_without_reference_programs_is_one_clear_error() -> None:
    provider = ScriptedProvider(fake_task(id="mine", reference=()), mode("codeact"))
    with pytest.raises(ProviderError, match="no reference program for task 'mine'"):
        [c async for c in provider.stream(ChatRequest(model="x", messages=[]))]
