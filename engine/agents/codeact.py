"""The CodeAct agent: the tools shown once as a Python API, the model's programs run in WASM.

The system prompt carries the Python API text once (``{api}``: ``Toolbox.python_api()``), or, in
the discovery mode, only a one-line summary (``{summary}``) and how to find functions inside
the sandbox; which one is the mode's ``tool_view`` (``engine.modes``). Each reply's fenced
Python runs in the run's own sandbox session (one interpreter for the whole run, so names
persist between rounds, as in the CodeAct paper's kernel); only what the program printed — or
its error, for the model to fix — goes back as the next user message.

What a reply does (the same rules are told to the model in ``prompts/codeact_system.md``):

- **Its code.** Fenced blocks are read by CommonMark's rules (``engine.agents.code_blocks``):
  ``python``/``py``/``python3`` blocks, and unlabelled blocks that are a Python program.
- **Several blocks** run in reply order as one program, once: models split a program into
  steps with prose between them, and smolagents joins blocks the same way. A block that
  repeats an earlier block of the same reply, or a program already run in this run (the same
  syntax tree: whitespace and comments do not count), is left out; when others still run,
  the output says so in one line.
- **No program runs twice by accident.** A reply whose only code was already run — a final
  answer that quotes its program — runs nothing and is the answer. To run the same thing
  again on purpose, the model changes it (the prompt says so); its names are still defined.
  When the sandbox had to restart (state lost), earlier programs may run again.
- **Nothing to run.** A reply without new code is the final answer, unless it is clearly not
  one: empty, ending on a colon or an ellipsis, announcing a step ("Let me first look up the
  user."), or nothing but code that already ran. Such a reply gets the run's one nudge; after
  that it is the answer. The rule, the same for tool calling, is ``engine.agents.nudge``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol

from engine.agents.code_blocks import FencedBlock, ReplyParts, program_key, read_reply
from engine.agents.common import Agent
from engine.agents.nudge import assistant_content, not_an_answer
from engine.agents.parts import AgentError, Reply, RunCancelled
from engine.errors import one_sentence
from engine.events import CodeBlock, Event, ExecutionResult, RunError
from engine.providers.base import ChatRequest
from engine.toolbox import GuestFunction, ToolSourceError, api_summary

if TYPE_CHECKING:
    from wasm_sandbox.result import ExecutionResult as SandboxResult

HostCall = Callable[[str, dict[str, Any]], dict[str, Any]]  # tool name, arguments -> wire dict


class SandboxLike(Protocol):
    """What the agent uses of a sandbox session (``wasm_sandbox.Sandbox``; fakes in tests)."""

    async def arun(self, code: str) -> SandboxResult:
        """Run ``code`` in the session's interpreter; never raises for the program's errors."""
        ...

    def interrupt(self) -> None:
        """Stop the running program now (from any thread)."""
        ...

    def close(self) -> None:
        """End the session and its interpreter; idempotent."""
        ...


# (host_call, guest API: flat tool name -> GuestFunction) -> a started sandbox session.
SandboxFactory = Callable[[HostCall, dict[str, GuestFunction]], SandboxLike]

EMPTY_OUTPUT_HINT = (
    "Hint: the program printed nothing. Only printed output comes back to you: print() the "
    "values you need, or reply without code if the task is done."
)
NUDGE = (
    "Nothing ran: your reply has no ```python block, and it does not read as a final answer. "
    "To act, reply with a ```python block; if the task is done, reply with the final answer in "
    "plain words."
)
NUDGE_REPEAT = (
    "Nothing ran: the program in your reply already ran in round {round} (its output is above) "
    "and is not run again (its names are still defined). To act, reply with a changed "
    "```python block; if the task is done, reply with the final answer in plain words."
)
REPEAT_NOTE = (
    "Note: {count} block(s) of your reply did not run again: identical to the program of round "
    "{rounds}, which already ran."
)


def default_sandbox(host_call: HostCall, guest_api: dict[str, GuestFunction]) -> SandboxLike:
    """A ``wasm_sandbox.Sandbox`` with default limits and the user's compiled-module cache."""
    # Imported on first use: the session and its process machinery cost 46 ms to import
    # (python -X importtime, load 2.9 on 2 cores), which tool calling and the CLI never need.
    from wasm_sandbox.session import Sandbox

    return Sandbox(host_call=host_call, guest_api=guest_api)


def prepare_sandbox(on_compile: Callable[[], object] | None = None) -> None:
    """Build now the compiled-module cache that ``default_sandbox`` loads (blocking: seconds on
    a fresh install, when the interpreter is compiled, then milliseconds; ``on_compile`` is
    called first when it must compile). The app calls it at start-up and the bench before its
    clock starts, so the one-time compile is never a CodeAct run's time; a sandbox started
    meanwhile waits for it instead of compiling again (``wasm_sandbox.runtime.prepare``).
    Raises ``SandboxError`` when the interpreter cannot be set up."""
    # Imported on use, as in default_sandbox: tool calling and the CLI never need it.
    from wasm_sandbox.runtime import prepare

    prepare(on_compile=on_compile)


class CodeActAgent(Agent):
    """Runs a task by having the model write Python against the toolbox's API."""

    def __init__(self, *args: Any, sandbox_factory: SandboxFactory | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sandbox_factory = sandbox_factory or default_sandbox
        self.sandbox: SandboxLike | None = None
        self._sandbox_start: asyncio.Task[SandboxLike] | None = None
        self._ran: dict[str, int] = {}  # program_key of each program and block run -> round
        self._tool_failure: ToolSourceError | None = None  # the source failed during a program

    async def setup(self) -> None:
        toolbox = await asyncio.to_thread(self.open_tools)

        def host_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            try:
                return toolbox.call(name, arguments).to_wire()
            except ToolSourceError as exc:
                # The source itself failed (an MCP server crashed or hung): the guest sees an
                # error now, and the run ends with this sentence once the program returns.
                self._tool_failure = self._tool_failure or exc
                return {"ok": False, "error": str(exc)}

        # Start the interpreter while the prompt is counted and the model writes its reply.
        guest_api = toolbox.guest_api()
        self._sandbox_start = asyncio.create_task(
            asyncio.to_thread(self.sandbox_factory, host_call, guest_api)
        )
        await asyncio.to_thread(self._prepare, guest_api)

    def _prepare(self, guest_api: dict[str, GuestFunction]) -> None:
        toolbox = self.open_tools()
        if self.spec.discovers_tools:
            api_text = ""
            system = self.prompts.system_prompt(self.spec.prompt, about=toolbox.about,
                                                summary=api_summary(guest_api))
        else:
            api_text = toolbox.python_api()
            system = self.prompts.system_prompt(self.spec.prompt, about=toolbox.about,
                                                api=api_text)
        # Counted as "tools" (what the schemas are in the other mode) where it sits in the prompt.
        self.meter.set_tools(api_text.strip() if api_text.strip() and api_text.strip() in system
                             else None)
        self.add_message({"role": "system", "content": system}, "system")
        self.add_message(
            {"role": "user", "content": self.prompts.task_prompt(self.task.prompt)}, "task"
        )

    def build_request(self) -> ChatRequest:
        return ChatRequest(model=self.provider.model, messages=list(self.messages))

    async def _get_sandbox(self) -> SandboxLike:
        if self.sandbox is None and self._sandbox_start is not None:
            try:
                self.sandbox = await self._guard(asyncio.shield(self._sandbox_start))
            except RunCancelled:
                raise
            except Exception as exc:
                raise AgentError(f"The sandbox could not start: {one_sentence(exc)}",
                                 kind="sandbox") from exc
        if self.sandbox is None:  # setup() did not run: a bug of the caller, said plainly
            raise AgentError("The sandbox was never started.", kind="sandbox")
        return self.sandbox

    async def _execute(self, code: str) -> SandboxResult:
        sandbox = await self._get_sandbox()
        try:
            result = await self._guard(sandbox.arun(code))
        except RunCancelled:
            raise
        except Exception as exc:
            raise AgentError(f"The sandbox failed: {one_sentence(exc)}", kind="sandbox") from exc
        if self._tool_failure is not None:
            raise self._tool_failure
        return result

    async def act(self, reply: Reply) -> AsyncIterator[Event]:
        self.add_message({"role": "assistant", "content": assistant_content(reply.text)},
                         "assistant")
        parts = read_reply(reply.text)
        fresh, repeats = self._split_repeats(parts.python)
        if not fresh:
            nudge = self._nudge(parts, repeats)
            if nudge is not None:
                yield nudge
                return
            self.answer = reply.text.strip()
            self.done = True
            return
        code = "\n\n".join(block.code for block in fresh)
        for key in {program_key(code), *(program_key(block.code) for block in fresh)}:
            self._ran.setdefault(key, self.round)
        yield self.event(CodeBlock, round=self.round, code=code)
        result = await self._execute(code)
        content = result.for_model()
        if result.state_lost:  # a new interpreter: what earlier programs defined may be re-run
            self._ran = {key: n for key, n in self._ran.items() if n == self.round}
        if not (result.output or "").strip() and not result.error and not result.limit:
            content = f"{content.rstrip()}\n{EMPTY_OUTPUT_HINT}".strip()
        if repeats:
            rounds = ", ".join(str(r) for r in sorted({r for _, r in repeats}))
            note = REPEAT_NOTE.format(count=len(repeats), rounds=rounds)
            content = f"{content.rstrip()}\n{note}".strip()
        self.add_message({"role": "user", "content": content}, "results")
        yield self.event(
            ExecutionResult, round=self.round, output=result.output or "", error=result.error,
            content=content, host_calls=len(result.host_calls or ()), limit=result.limit,
            state_lost=bool(result.state_lost), wall_ms=float(result.wall_ms or 0.0),
            tokens=self.meter.count(content),
        )
        notice = result.limit_message() if result.limit else None
        if notice:
            yield self.event(RunError, round=self.round, kind="sandbox", fatal=False,
                             message=notice)

    def _split_repeats(
        self, blocks: tuple[FencedBlock, ...]
    ) -> tuple[list[FencedBlock], list[tuple[FencedBlock, int]]]:
        """(blocks to run, [(block left out, round it already ran in)]): a block repeating an
        earlier one of the same reply is dropped silently, one already run is reported."""
        fresh: list[FencedBlock] = []
        repeats: list[tuple[FencedBlock, int]] = []
        seen: set[str] = set()
        for block in blocks:
            key = program_key(block.code)
            if key in self._ran:
                repeats.append((block, self._ran[key]))
            elif key not in seen:
                seen.add(key)
                fresh.append(block)
        return fresh, repeats

    def _nudge(self, parts: ReplyParts,
               repeats: list[tuple[FencedBlock, int]]) -> Event | None:
        """A reply with nothing new to run: the run's one nudge if it is clearly not an answer
        (``engine.agents.nudge``), else None (it is the answer)."""
        # Only code, all of it already run, is no more an answer than an announcement is.
        if not (not_an_answer(parts) or bool(repeats and not parts.prose)):
            return None
        if repeats:
            return self.nudge_once(
                NUDGE_REPEAT.format(round=repeats[0][1]),
                f"The reply only repeated the program of round {repeats[0][1]}, which did not "
                "run again; the model was asked once to act or answer.")
        return self.nudge_once(
            NUDGE, "The reply had no code to run and did not read as an answer; the model was "
                   "asked once to act or answer.")

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
        # The sandbox holds ``host_call``, which holds this agent: drop the task that holds the
        # sandbox too, so that reference counting frees both (see tui.gc_policy).
        self._sandbox_start = None


def _close_when_started(task: asyncio.Task[SandboxLike]) -> None:
    if not task.cancelled() and task.exception() is None:
        with contextlib.suppress(Exception):
            task.result().close()
