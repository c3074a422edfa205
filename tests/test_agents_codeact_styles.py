"""Every reply style and conversation of the catalogue, through the CodeAct agent, the real
sandbox, the real platform and the task's own checker.

The task creates records (a project, a milestone, three tasks), so a program run twice shows up
as a checker failure ("expected one project..."), not only as a count in the fake sandbox.
"""

from __future__ import annotations

import pytest
from engine_fakes import FakeProvider, collect, text
from reply_styles import ANSWER, CONVERSATIONS, STYLES, Conversation, ReplyStyle, split_program
from sandbox_support import shared_cache

from engine.agents import CodeActAgent
from engine.events import CodeBlock, ExecutionResult, RunError
from engine.modes import mode
from engine.run import RunConfig
from tasks.suite import load_tasks
from wasm_sandbox import Sandbox

TASK = next(t for t in load_tasks() if t.id == "create-project")
PROGRAM = TASK.reference[0].strip()


def _sandbox(host_call, guest_api):  # type: ignore[no-untyped-def]
    return Sandbox(host_call, guest_api, cache_dir=shared_cache())


async def _run(replies: list[str]) -> list:  # type: ignore[type-arg]
    provider = FakeProvider([text(r) for r in replies])
    agent = CodeActAgent(TASK, provider, RunConfig(record=False), spec=mode("codeact"),
                         sandbox_factory=_sandbox)
    return await collect(agent.run())


@pytest.mark.parametrize("style", STYLES, ids=lambda s: s.name)
async def test_each_reply_style_solves_the_task_with_one_run(style: ReplyStyle) -> None:
    first, second = split_program(PROGRAM) if style.split else (PROGRAM, "")
    events = await _run([style.reply(first, second), ANSWER])
    finished = events[-1]
    assert finished.success, finished.verdict
    [program] = [e for e in events if isinstance(e, CodeBlock)]
    assert program.code == style.runs(first, second)
    [result] = [e for e in events if isinstance(e, ExecutionResult)]
    assert result.error is None and "Orion Data Platform" in result.output


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c.name)
async def test_each_conversation_solves_the_task_without_writing_twice(
    conversation: Conversation,
) -> None:
    events = await _run(conversation.replies(PROGRAM))
    finished = events[-1]
    assert finished.success, finished.verdict
    assert finished.stop_reason == "answered"
    assert len([e for e in events if isinstance(e, ExecutionResult)]) == conversation.runs
    nudges = [e for e in events if isinstance(e, RunError) and e.kind == "nudge"]
    assert len(nudges) == conversation.nudges
