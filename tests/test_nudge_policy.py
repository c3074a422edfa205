"""One nudge per run in every mode (engine.agents.nudge): the same replies get the same second
chance from the tool-calling agent and the CodeAct agent, and what goes back is a request the
strict Mistral stand-in accepts.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from engine_fakes import FakeProvider, FakeSandbox, calls, collect, fake_task, install_checker, text
from fake_mistral import FakeMistral, RecordedRequest, Reply, fast_provider, text_reply
from fake_mistral import tool_call_reply as calls_reply

from engine.agents import CodeActAgent, ToolCallingAgent
from engine.agents import codeact as codeact_agent
from engine.agents import tool_calling as tool_calling_agent
from engine.agents.nudge import EMPTY_REPLY
from engine.controller import Race
from engine.events import RoundStarted, RunError, RunFinished
from engine.modes import mode
from engine.prompts import default_text
from engine.run import RunConfig
from tasks.suite import Task

NO_RECORD = RunConfig(record=False)
ANSWER = "Lena Okafor is on the Platform team."
PROGRAM = "print(api.users.search('Lena Okafor'))"
# (reply without action, nudged?): the detector's cases, each the same for both modes.
NO_ACTION = [
    ("Let me first look up the user.", True),
    ("I'll check her team next.", True),
    ("Here is what I will look up:", True),
    ("Looking into it…", True),
    ("", True),
    (ANSWER, False),
    ("Lena's team has 42 members. Let me know if you need more.", False),
]
NUDGES = {"tool_calling": tool_calling_agent.NUDGE, "codeact": codeact_agent.NUDGE}


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("Lena" in answer, ["judged"]))


def _agent(mode_id: str, provider: FakeProvider) -> Any:
    if mode_id == "codeact":
        sandbox = FakeSandbox()
        return CodeActAgent(fake_task(), provider, NO_RECORD, spec=mode("codeact"),
                            sandbox_factory=lambda host_call, api: sandbox)
    return ToolCallingAgent(fake_task(), provider, NO_RECORD, spec=mode("tool_calling"))


def _nudges(events: list[Any]) -> list[RunError]:
    return [e for e in events if isinstance(e, RunError) and e.kind == "nudge"]


@pytest.mark.parametrize(("reply", "nudged"), NO_ACTION)
@pytest.mark.parametrize("mode_id", ["tool_calling", "codeact"])
async def test_a_reply_that_does_not_act_gets_the_same_second_chance_in_both_modes(
        mode_id: str, reply: str, nudged: bool) -> None:
    provider = FakeProvider([text(reply), text(ANSWER)])
    events = await collect(_agent(mode_id, provider).run())
    finished = events[-1]
    assert finished.stop_reason == "answered"
    if nudged:
        [nudge] = _nudges(events)
        assert not nudge.fatal and nudge.round == 1
        sent = provider.requests[1].messages
        assert sent[-2] == {"role": "assistant", "content": reply or EMPTY_REPLY}
        assert sent[-1] == {"role": "user", "content": NUDGES[mode_id]}
        assert finished.rounds == 2 and finished.answer == ANSWER
    else:
        assert _nudges(events) == [] and len(provider.requests) == 1
        assert finished.rounds == 1 and finished.answer == reply


async def test_tool_calling_is_nudged_once_per_run_then_an_announcement_is_the_answer() -> None:
    provider = FakeProvider([
        calls(("c1", "users_search", '{"query": "Lena Okafor"}')),
        text("Now let me look up her team."),
        text("I'll look up her team next."),
    ])
    events = await collect(_agent("tool_calling", provider).run())
    [nudge] = _nudges(events)
    assert nudge.round == 2
    # After a tool result the nudge follows the assistant's words, never the tool message.
    roles = [m["role"] for m in provider.requests[2].messages]
    assert roles[-3:] == ["tool", "assistant", "user"]
    assert len(provider.requests) == 3
    assert events[-1].stop_reason == "answered"
    assert events[-1].answer == "I'll look up her team next."
    # Counted as what the environment answered, as CodeAct's nudge is.
    _, second, third = [e.breakdown for e in events if isinstance(e, RoundStarted)]
    nudge_tokens = _agent("tool_calling", FakeProvider([])).meter.count(NUDGES["tool_calling"])
    assert third["results"] - second["results"] >= nudge_tokens


def test_both_bundled_prompts_tell_the_model_about_the_one_nudge() -> None:
    for spec in (mode("tool_calling"), mode("codeact"), mode("codeact_discovery")):
        assert "such a reply is sent back once, then taken as your answer" in default_text(
            spec.prompt), spec.id


TASK = Task(id="nudge-drill", title="Find Lena (nudge drill)", prompt="Which team is Lena on?",
            checker="answer_mentions", max_rounds=4)


@pytest.mark.parametrize("first", ["Let me first look up the user.", ""])
async def test_the_nudged_conversation_is_one_the_strict_stand_in_accepts(
        first: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key")
    # Tool calling announces after a tool result (the nudge must not follow a tool message);
    # CodeAct announces before its program.
    tool_side = deque([calls_reply([("kLena0001", "users_search", '{"query": "Lena"}')]),
                       text_reply(first), text_reply(ANSWER)])
    codeact_side = deque([text_reply(first), text_reply(f"```python\n{PROGRAM}\n```"),
                          text_reply(ANSWER)])

    def respond(request: RecordedRequest) -> Reply | None:
        side = tool_side if request.body.get("tools") else codeact_side
        return side.popleft() if side else None

    with FakeMistral(responder=respond) as server:
        race = Race(TASK, ("tool_calling", "codeact"), RunConfig(provider="mistral"),
                    provider_factory=lambda name, options: fast_provider(server),
                    sandbox_factory=lambda host_call, api: FakeSandbox())
        events = [e async for e in race.events()]
        assert server.violations == []
    finished = {e.mode: e for e in events if isinstance(e, RunFinished)}
    for mode_id in ("tool_calling", "codeact"):
        assert finished[mode_id].stop_reason == "answered", finished[mode_id]
        assert finished[mode_id].answer == ANSWER and finished[mode_id].rounds == 3
        assert len([e for e in _nudges(events) if e.mode == mode_id]) == 1
