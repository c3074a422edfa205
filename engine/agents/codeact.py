"""The CodeAct agent: the tools shown once as a Python API, the model's programs run in WASM.

The system prompt carries the Python API text once. Each reply's fenced Python runs in the
run's own sandbox session (one interpreter for the whole run, so names persist between rounds,
as in the CodeAct paper's kernel); only what the program printed — or its error, for the model
to fix — goes back as the next user message. A reply with no code is the final answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

from engine.agents.common import Agent
from engine.agents.parts import AgentError, Reply, RunCancelled, one_sentence
from engine.events import CodeBlock, Event, ExecutionResult, Mode, RunError
from engine.providers.base import ChatRequest

SandboxFactory = Callable[[Callable[[str, dict[str, Any]], dict[str, Any]], Any], Any]

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
EMPTY_OUTPUT_HINT = (
    "Hint: the program printed nothing. Only printed output comes back to you: print() the "
    "values you need, or reply without code if the task is done."
)


def extract_code(text: str) -> str | None:
    """The Python of a reply: every ```python block, joined; None if there is none."""
    blocks = [b.strip("\n") for b in _FENCE.findall(text) if b.strip()]
    return "\n\n".join(blocks) if blocks else None


def default_sandbox(host_call: Callable[[str, dict[str, Any]], dict[str, Any]],
                    guest_api: Any) -> Any:
    """A ``wasm_sandbox.Sandbox`` with default limits and the user's compiled-module cache."""
    from wasm_sandbox import Sandbox

    return Sandbox(host_call=host_call, guest_api=guest_api)


class CodeActAgent(Agent):
    """Runs a task by having the model write Python against the platform's API."""

    mode: ClassVar[Mode] = "codeact"

    def __init__(self, *args: Any, sandbox_factory: SandboxFactory | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sandbox_factory = sandbox_factory or default_sandbox
        self.sandbox: Any = None
        self._sandbox_start: asyncio.Task[Any] | None = None

    async def setup(self) -> None:
        from tasks.catalog import guest_api_spec
        from tasks.platform import new_platform

        self.platform = new_platform()
        platform = self.platform

        def host_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            return platform.call(name, arguments).to_wire()

        # Start the interpreter while the prompt is counted and the model writes its reply.
        spec = guest_api_spec()
        self._sandbox_start = asyncio.create_task(
            asyncio.to_thread(self.sandbox_factory, host_call, spec)
        )
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        from tasks.render import python_api_text

        api_text = python_api_text()
        system = self.prompts.system_prompt(self.mode, api_text)
        # Counted as "tools" (what the schemas are in the other mode) where it sits in the prompt.
        self.meter.set_tools(api_text.strip() if api_text.strip() in system else None)
        self.add_message({"role": "system", "content": system}, "system")
        self.add_message(
            {"role": "user", "content": self.prompts.task_prompt(self.task.prompt)}, "task"
        )

    def build_request(self) -> ChatRequest:
        return ChatRequest(model=self.provider.model, messages=list(self.messages))

    async def _get_sandbox(self) -> Any:
        if self.sandbox is None and self._sandbox_start is not None:
            try:
                self.sandbox = await self._guard(asyncio.shield(self._sandbox_start))
            except RunCancelled:
                raise
            except Exception as exc:
                raise AgentError(
                    "sandbox", f"The sandbox could not start: {one_sentence(exc)}"
                ) from exc
        return self.sandbox

    async def _execute(self, code: str) -> Any:
        sandbox = await self._get_sandbox()
        try:
            return await self._guard(sandbox.arun(code))
        except RunCancelled:
            raise
        except Exception as exc:
            raise AgentError("sandbox", f"The sandbox failed: {one_sentence(exc)}") from exc

    async def act(self, reply: Reply) -> AsyncIterator[Event]:
        self.add_message({"role": "assistant", "content": reply.text}, "assistant")
        code = extract_code(reply.text)
        if code is None:
            self.answer = reply.text.strip()
            self.done = True
            return
        yield self.event(CodeBlock, round=self.round, code=code)
        result = await self._execute(code)
        content = result.for_model()
        if not (result.output or "").strip() and not result.error and not result.limit:
            content = f"{content.rstrip()}\n{EMPTY_OUTPUT_HINT}".strip()
        self.add_message({"role": "user", "content": content}, "results")
        yield self.event(
            ExecutionResult, round=self.round, output=result.output or "", error=result.error,
            content=content, host_calls=len(result.host_calls or ()), limit=result.limit,
            state_lost=bool(result.state_lost), wall_ms=float(result.wall_ms or 0.0),
            tokens=self.meter.count(content),
        )
        if result.limit:
            lost = " Earlier state was lost." if result.state_lost else ""
            yield self.event(
                RunError, round=self.round, kind="sandbox", fatal=False,
                message=f"The sandbox stopped the program: the {result.limit} limit was hit.{lost}",
            )

    def interrupt(self) -> None:
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                self.sandbox.interrupt()

    def cleanup(self) -> None:
        start = self._sandbox_start
        if self.sandbox is None and start is not None:
            if start.done() and not start.cancelled() and start.exception() is None:
                self.sandbox = start.result()
            elif not start.done():
                # Still starting: close it when it is ready rather than leak an interpreter.
                start.add_done_callback(_close_when_started)
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                self.sandbox.close()
            self.sandbox = None


def _close_when_started(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is None:
        with contextlib.suppress(Exception):
            task.result().close()
