"""The classic agent: JSON tool calls, one round trip each, every schema resent every round.

Every request carries every tool schema of the run's toolbox (``Toolbox.function_schemas()``;
the mock platform's 120), as the article's benchmark did. The model's calls run against this
run's own toolbox; each result goes back as a ``tool`` message. A call the toolbox cannot run —
invalid JSON arguments, a tool that does not exist, a tool error — goes back to the model as an
error result it can act on, never as an exception. A reply without tool calls is the final
answer, unless it is clearly not one (empty, or announcing a step it did not take): such a reply
gets the run's one nudge, as in CodeAct (``engine.agents.nudge`` holds the rule for both).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from engine.agents.common import Agent
from engine.agents.nudge import assistant_content, not_an_answer
from engine.agents.parts import Reply
from engine.events import Event, ToolCall, ToolResult
from engine.providers.base import ChatRequest
from engine.toolbox import ToolOutcome

NUDGE = (
    "Nothing ran: your reply has no tool call, and it does not read as a final answer. To act, "
    "call a tool; if the task is done, reply with the final answer in plain words."
)


def _error_content(message: str) -> str:
    """An error result in the toolbox's own wire shape, so every error reads the same."""
    return ToolOutcome(ok=False, value=None, error=message).content()


class ToolCallingAgent(Agent):
    """Runs a task with native function calling against the run's toolbox."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tools: list[dict[str, Any]] = []
        self._tool_names: frozenset[str] = frozenset()

    async def setup(self) -> None:
        # Counting 120 schemas (and loading the tokenizer the first time) takes a while: keep it
        # off the event loop so the app stays responsive.
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        self.tools = self.open_tools().function_schemas()
        self.meter.set_tools(self.tools)
        self._tool_names = frozenset(t["function"]["name"] for t in self.tools)
        system = self.prompts.system_prompt(self.spec.prompt, about=self.open_tools().about)
        if system:
            self.add_message({"role": "system", "content": system}, "system")
        self.add_message(
            {"role": "user", "content": self.prompts.task_prompt(self.task.prompt)}, "task"
        )

    def build_request(self) -> ChatRequest:
        return ChatRequest(
            model=self.provider.model,
            messages=list(self.messages),
            tools=self.tools,
            tool_choice=self.config.tool_choice,
            parallel_tool_calls=self.config.parallel_tool_calls,
        )

    async def act(self, reply: Reply) -> AsyncIterator[Event]:
        if not reply.calls:
            self.add_message({"role": "assistant", "content": assistant_content(reply.text)},
                             "assistant")
            nudge = None
            if not_an_answer(reply.text):
                nudge = self.nudge_once(NUDGE, "The reply had no tool call and did not read as "
                                               "an answer; the model was asked once to act or "
                                               "answer.")
            if nudge is not None:
                yield nudge
                return
            self.answer = reply.text.strip()
            self.done = True
            return
        self.answer = reply.text.strip() or self.answer
        # Words beside tool calls stay in the pane and the record, but are not sent back: the
        # v3 tokenizers (and their serving validation) refuse an assistant message with both
        # content and tool calls, v7+ accept either form. So the history holds what is sent,
        # and the meter counts it (the words still count as this round's output).
        self.add_message(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": call.call_id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                    for call in reply.calls
                ],
            },
            "assistant",
        )
        for call in reply.calls:
            arguments, problem = _parse_arguments(call.arguments)
            yield self.event(
                ToolCall, round=self.round, call_id=call.call_id, name=call.name,
                arguments=arguments if problem is None else call.arguments,
            )
            if problem is not None:
                ok, content = False, _error_content(problem)
            elif call.name not in self._tool_names:
                ok, content = False, _error_content(
                    f"There is no tool named {call.name!r}; use one of the tools provided."
                )
            else:
                toolbox = self.open_tools()
                # Off the event loop: an MCP server may take a while to answer.
                outcome = await self._guard(asyncio.to_thread(toolbox.call, call.name, arguments))
                ok, content = bool(outcome.ok), outcome.content()
            message = {
                "role": "tool", "tool_call_id": call.call_id, "name": call.name,
                "content": content,
            }
            self.add_message(message, "results")
            yield self.event(
                ToolResult, round=self.round, call_id=call.call_id, name=call.name, ok=ok,
                content=content, tokens=self.meter.count(content),
            )


def _parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """The call's arguments as a dict, or the sentence that goes back to the model."""
    if not raw or not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"The arguments are not valid JSON ({exc.msg} at character {exc.pos})."
    if not isinstance(value, dict):
        return {}, "The arguments must be a JSON object of parameter names to values."
    return value, None
