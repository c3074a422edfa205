"""The classic agent: JSON tool calls, one round trip each, every schema resent every round.

Every request carries all 120 tool schemas (``tasks.render.mistral_tools()``), as the article's
benchmark did. The model's calls run against this run's own platform; each result goes back as
a ``tool`` message. A call the platform cannot run — invalid JSON arguments, a tool that does not
exist, a platform error — goes back to the model as an error result it can act on, never as an
exception. A reply without tool calls is the final answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from engine.agents.common import Agent
from engine.agents.parts import Reply
from engine.events import Event, Mode, ToolCall, ToolResult
from engine.providers.base import ChatRequest


def _error_content(message: str) -> str:
    """An error result in the platform's own wire shape, so every error reads the same."""
    try:
        from tasks.platform import ToolOutcome

        return ToolOutcome(ok=False, value=None, error=message).content()
    except Exception:
        return json.dumps({"ok": False, "error": message}, ensure_ascii=False)


class ToolCallingAgent(Agent):
    """Runs a task with native function calling against the run's platform."""

    mode: ClassVar[Mode] = "tool_calling"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tools: list[dict[str, Any]] = []
        self._tool_names: frozenset[str] = frozenset()

    async def setup(self) -> None:
        # Counting 120 schemas (and loading the tokenizer the first time) takes a while: keep it
        # off the event loop so the app stays responsive.
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        from tasks.platform import new_platform
        from tasks.render import mistral_tools

        self.platform = new_platform()
        self.tools = mistral_tools()
        self.meter.set_tools(self.tools)
        self._tool_names = frozenset(t["function"]["name"] for t in self.tools)
        system = self.prompts.system_prompt(self.mode)
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
            self.answer = reply.text.strip()
            self.done = True
            self.add_message({"role": "assistant", "content": reply.text}, "assistant")
            return
        self.answer = reply.text.strip() or self.answer
        self.add_message(
            {
                "role": "assistant",
                "content": reply.text,
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
                outcome = self.platform.call(call.name, arguments)
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
