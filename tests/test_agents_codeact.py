"""The CodeAct loop against fake providers and a fake sandbox (the real one: test_scripted_*)."""

from __future__ import annotations

import json

import pytest
from engine_fakes import FakeProvider, FakeSandbox, collect, fake_task, install_checker, text
from reply_styles import (
    ASYNC_STYLES,
    CONVERSATIONS,
    FENCE,
    STYLES,
    Conversation,
    ReplyStyle,
    split_program,
)

from engine.agents import CodeActAgent
from engine.agents.codeact import EMPTY_OUTPUT_HINT, NUDGE
from engine.controller import Race
from engine.events import CodeBlock, ExecutionResult, RoundStarted, RunError, event_from_dict
from engine.modes import mode
from engine.record_export import export_text
from engine.records import load_run
from engine.run import RunConfig
from wasm_sandbox import ExecutionResult as SandboxResult
from wasm_sandbox import SandboxError

NO_RECORD = RunConfig(record=False)
CODEACT = mode("codeact")


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("42" in answer, ["judged"]))


def _agent(provider: FakeProvider, sandbox: FakeSandbox, **task: object) -> CodeActAgent:
    return CodeActAgent(fake_task(**task), provider, NO_RECORD, spec=CODEACT,
                        sandbox_factory=lambda host_call, api: sandbox)


async def test_api_text_is_sent_once_and_output_comes_back_as_the_next_message() -> None:
    sandbox = FakeSandbox(lambda code: SandboxResult(output="42\n", host_calls=["users_list"]))
    provider = FakeProvider([text("```python\nprint(42)\n```"), text("The answer is 42.")])
    events = await collect(_agent(provider, sandbox).run())
    system = provider.requests[0].messages[0]
    assert system["role"] == "system" and "search(query: str" in system["content"]
    assert "{api}" not in system["content"]
    assert provider.requests[0].tools is None
    assert provider.requests[1].messages[-1] == {"role": "user", "content": "42"}
    assert sandbox.codes == ["print(42)"] and sandbox.closed
    code = next(e for e in events if isinstance(e, CodeBlock))
    result = next(e for e in events if isinstance(e, ExecutionResult))
    assert code.code == "print(42)" and result.host_calls == 1 and result.content == "42"
    starts = [e for e in events if isinstance(e, RoundStarted)]
    assert starts[0].breakdown["tools"] > 500  # the API text, counted as "tools"
    assert starts[1].breakdown["tools"] == starts[0].breakdown["tools"]
    assert events[-1].success and events[-1].rounds == 2
    assert events[-1].answer == "The answer is 42."


async def test_empty_output_gets_a_hint_and_errors_go_back_for_repair() -> None:
    results = iter([SandboxResult(),
                    SandboxResult(error="Traceback (most recent call last):\nNameError: x")])
    sandbox = FakeSandbox(lambda code: next(results))
    provider = FakeProvider([text("```python\nx = 1\n```"), text("```python\nprint(y)\n```"),
                             text("42")])
    await collect(_agent(provider, sandbox).run())
    assert EMPTY_OUTPUT_HINT in provider.requests[1].messages[-1]["content"]
    assert "NameError" in provider.requests[2].messages[-1]["content"]


async def test_cut_output_is_reported_as_cut_not_as_a_stopped_program() -> None:
    sandbox = FakeSandbox(lambda code: SandboxResult(output="x" * 10, limit="output",
                                                     truncated_bytes=5))
    provider = FakeProvider([text("```python\nprint('x' * 15)\n```"), text("42")])
    events = await collect(_agent(provider, sandbox).run())
    notice = next(e for e in events if isinstance(e, RunError))
    assert notice.message == ("The output limit was hit: 5 bytes of output were cut, and the "
                              "program went on to its end.")
    assert "went on to its end" in provider.requests[1].messages[-1]["content"]


async def test_a_limit_is_reported_without_ending_the_run() -> None:
    sandbox = FakeSandbox(lambda code: SandboxResult(limit="cpu", state_lost=True))
    provider = FakeProvider([text("```python\nwhile True: pass\n```"), text("42")])
    events = await collect(_agent(provider, sandbox).run())
    notice = next(e for e in events if isinstance(e, RunError))
    assert not notice.fatal and notice.kind == "sandbox"
    assert notice.message == ("The sandbox stopped the program: the CPU time limit was hit. "
                              "Earlier state was lost.")
    assert events[-1].stop_reason == "answered"


async def test_a_sandbox_that_cannot_start_ends_the_run_with_one_error() -> None:
    def broken(host_call: object, api: object) -> object:
        raise SandboxError("python.wasm is missing; run `codeact-explorer doctor`")

    provider = FakeProvider([text("```python\nprint(1)\n```")])
    agent = CodeActAgent(fake_task(), provider, NO_RECORD, spec=CODEACT,
                         sandbox_factory=broken)
    events = await collect(agent.run())
    error = next(e for e in events if isinstance(e, RunError))
    assert error.fatal and error.kind == "sandbox" and "python.wasm is missing" in error.message
    assert events[-1].stop_reason == "error"


async def test_the_host_call_reaches_the_runs_own_platform() -> None:
    seen: dict[str, object] = {}

    def factory(host_call, api):  # type: ignore[no-untyped-def]
        seen["wire"] = host_call("users_get", {"id": 1})
        seen["missing"] = host_call("users_get", {"id": 10**9})
        seen["api"] = api
        return FakeSandbox()

    provider = FakeProvider([text("```python\nprint(42)\n```"), text("42")])
    await collect(CodeActAgent(fake_task(), provider, NO_RECORD, spec=CODEACT,
                               sandbox_factory=factory).run())
    assert seen["wire"]["ok"] is True and seen["wire"]["value"]["id"] == 1  # type: ignore[index]
    assert seen["missing"]["ok"] is False  # type: ignore[index]
    assert seen["api"]["users_get"]["path"] == "users.get"  # type: ignore[index]


# -- reply styles (the catalogue in reply_styles.py; the real sandbox: test_agents_codeact_styles)
PROGRAM = "users = api.users.list()\nfor user in users:\n    print(user)\nprint(42)"


@pytest.mark.parametrize("style", STYLES + ASYNC_STYLES, ids=lambda s: s.name)
async def test_each_reply_style_runs_its_program_once_then_the_answer_ends_the_run(
    style: ReplyStyle,
) -> None:
    first, second = split_program(PROGRAM) if style.split else (PROGRAM, "")
    sandbox = FakeSandbox()
    provider = FakeProvider([text(style.reply(first, second)), text("The answer is 42.")])
    events = await collect(_agent(provider, sandbox).run())
    assert sandbox.codes == [style.runs(first, second)]
    assert [e.code for e in events if isinstance(e, CodeBlock)] == sandbox.codes
    assert events[-1].stop_reason == "answered" and events[-1].answer == "The answer is 42."
    assert not [e for e in events if isinstance(e, RunError)]


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c.name)
async def test_each_conversation_runs_and_nudges_as_the_policy_says(
    conversation: Conversation,
) -> None:
    sandbox = FakeSandbox()
    replies = conversation.replies(PROGRAM)
    provider = FakeProvider([text(r) for r in replies])
    events = await collect(_agent(provider, sandbox).run())
    assert len(sandbox.codes) == conversation.runs
    assert sandbox.codes[0] == PROGRAM
    nudges = [e for e in events if isinstance(e, RunError) and e.kind == "nudge"]
    assert len(nudges) == conversation.nudges and all(not n.fatal for n in nudges)
    assert events[-1].stop_reason == "answered" and events[-1].answer == replies[-1].strip()
    assert events[-1].rounds == len(replies)


async def test_a_nudge_goes_back_once_counted_as_results_then_prose_is_the_answer() -> None:
    sandbox = FakeSandbox()
    provider = FakeProvider([text("Let me first look up the user."),
                             text("I'll look up her team next.")])
    events = await collect(_agent(provider, sandbox).run())
    assert sandbox.codes == []
    assert provider.requests[1].messages[-1] == {"role": "user", "content": NUDGE}
    assert len(provider.requests) == 2  # the second announcement is the answer: no loop
    assert events[-1].stop_reason == "answered"
    assert events[-1].answer == "I'll look up her team next."
    [nudge] = [e for e in events if isinstance(e, RunError)]
    assert nudge.kind == "nudge" and not nudge.fatal and nudge.round == 1
    assert event_from_dict(json.loads(json.dumps(nudge.to_dict()))) == nudge
    first, second = [e.breakdown for e in events if isinstance(e, RoundStarted)]
    agent = _agent(FakeProvider([]), sandbox)
    assert first["results"] == 0 and second["results"] >= agent.meter.count(NUDGE)
    assert {k: v for k, v in second.items() if k not in ("results", "assistant")} == {
        k: v for k, v in first.items() if k not in ("results", "assistant")}


async def test_an_answer_is_never_nudged_and_an_empty_reply_is() -> None:
    provider = FakeProvider([text("Lena's team has 42 members. Let me know if you need more.")])
    events = await collect(_agent(provider, FakeSandbox()).run())
    assert events[-1].rounds == 1 and not [e for e in events if isinstance(e, RunError)]
    provider = FakeProvider([text(""), text("42")])
    events = await collect(_agent(provider, FakeSandbox()).run())
    assert [e.kind for e in events if isinstance(e, RunError)] == ["nudge"]
    assert events[-1].answer == "42"


async def test_a_repeated_program_beside_new_code_is_left_out_and_the_model_is_told() -> None:
    sandbox = FakeSandbox()
    again = f"{FENCE}python\n{PROGRAM}\n{FENCE}\nand\n{FENCE}python\nprint('more')\n{FENCE}"
    provider = FakeProvider([text(f"{FENCE}python\n{PROGRAM}\n{FENCE}"), text(again),
                             text("42")])
    await collect(_agent(provider, sandbox).run())
    assert sandbox.codes == [PROGRAM, "print('more')"]
    told = provider.requests[2].messages[-1]["content"]
    assert told.startswith("ok") and "did not run again" in told and "round 1" in told


async def test_a_program_that_failed_is_not_rerun_either_and_the_nudge_says_so() -> None:
    results = iter([SandboxResult(error="Traceback (most recent call last):\nToolError: x")])
    sandbox = FakeSandbox(lambda code: next(results))
    provider = FakeProvider([text(f"{FENCE}python\n{PROGRAM}\n{FENCE}"),
                             text(f"Let me try again:\n{FENCE}python\n{PROGRAM}\n{FENCE}"),
                             text("It failed: x.")])
    events = await collect(_agent(provider, sandbox).run())
    assert sandbox.codes == [PROGRAM]
    assert "already ran in round 1" in provider.requests[2].messages[-1]["content"]
    assert events[-1].answer == "It failed: x."


async def test_after_the_sandbox_lost_its_state_earlier_programs_may_run_again() -> None:
    results = iter([SandboxResult(output="defined\n"),
                    SandboxResult(limit="cpu", state_lost=True), SandboxResult(output="42\n")])
    sandbox = FakeSandbox(lambda code: next(results))
    define = f"{FENCE}python\ndef helper():\n    return 42\n{FENCE}"
    provider = FakeProvider([text(define), text(f"{FENCE}python\nwhile True: pass\n{FENCE}"),
                             text(f"{define}\n{FENCE}python\nprint(helper())\n{FENCE}"),
                             text("42")])
    await collect(_agent(provider, sandbox).run())
    assert sandbox.codes[2] == "def helper():\n    return 42\n\nprint(helper())"


async def test_a_nudge_is_recorded_exported_and_replayed_the_same_way() -> None:
    provider = FakeProvider([text("Let me first look up the user."),
                             text(f"{FENCE}python\nprint(42)\n{FENCE}"), text("42")])
    agent = CodeActAgent(fake_task(), provider, RunConfig(), spec=CODEACT,
                         sandbox_factory=lambda host_call, api: FakeSandbox())
    await collect(agent.run())
    record = load_run(agent.race_id)
    assert "**Notice (nudge):** The reply had no code to run" in export_text(record, "markdown")
    replay = Race(fake_task(), ("codeact",),
                  RunConfig(provider="replay", replay_path=agent.race_id, record=False),
                  sandbox_factory=lambda host_call, api: FakeSandbox())
    events = [e async for e in replay.events()]
    assert [e.kind for e in events if isinstance(e, RunError)] == ["nudge"]
    assert events[-1].success and events[-1].rounds == 3
