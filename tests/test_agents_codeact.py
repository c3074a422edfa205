"""The CodeAct loop against fake providers and a fake sandbox (the real one: test_scripted_*)."""

from __future__ import annotations

import pytest
from engine_fakes import FakeProvider, FakeSandbox, collect, fake_task, install_checker, text

from engine.agents import CodeActAgent
from engine.agents.codeact import EMPTY_OUTPUT_HINT, extract_code
from engine.events import CodeBlock, ExecutionResult, RoundStarted, RunError
from engine.run import RunConfig
from wasm_sandbox import ExecutionResult as SandboxResult

NO_RECORD = RunConfig(record=False)


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("42" in answer, ["judged"]))


def _agent(provider: FakeProvider, sandbox: FakeSandbox, **task: object) -> CodeActAgent:
    return CodeActAgent(fake_task(**task), provider, NO_RECORD,
                        sandbox_factory=lambda host_call, api: sandbox)


def test_code_is_taken_from_python_fences_only() -> None:
    reply = "Plan:\n```python\nx = 1\n```\nthen\n```py\nprint(x)\n```\n```json\n{}\n```"
    assert extract_code(reply) == "x = 1\n\nprint(x)"
    assert extract_code("The answer is 42.") is None
    assert extract_code("```python\nprint(1)") == "print(1)"  # an unclosed fence still counts


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


async def test_a_limit_is_reported_without_ending_the_run() -> None:
    sandbox = FakeSandbox(lambda code: SandboxResult(limit="cpu", state_lost=True))
    provider = FakeProvider([text("```python\nwhile True: pass\n```"), text("42")])
    events = await collect(_agent(provider, sandbox).run())
    notice = next(e for e in events if isinstance(e, RunError))
    assert not notice.fatal and notice.kind == "sandbox" and "cpu" in notice.message
    assert events[-1].stop_reason == "answered"


async def test_a_sandbox_that_cannot_start_ends_the_run_with_one_error() -> None:
    def broken(host_call: object, api: object) -> object:
        raise RuntimeError("python.wasm is missing; run `codeact-explorer doctor`")

    provider = FakeProvider([text("```python\nprint(1)\n```")])
    agent = CodeActAgent(fake_task(), provider, NO_RECORD, sandbox_factory=broken)
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
    await collect(CodeActAgent(fake_task(), provider, NO_RECORD, sandbox_factory=factory).run())
    assert seen["wire"]["ok"] is True and seen["wire"]["value"]["id"] == 1  # type: ignore[index]
    assert seen["missing"]["ok"] is False  # type: ignore[index]
    assert "users" in seen["api"]  # type: ignore[operator]
