"""The scripted provider: a deterministic reference agent, offline, labelled "scripted".

It demonstrates the mechanics and the token economics of both modes, not a model's
intelligence. Each reply is a pure function of the request's messages and the task, streamed at
the speed of the model it stands for (``engine.providers.latency``):

- CodeAct: a short sentence and the task's reference program in a ```python fence. If the last
  execution failed and the task has another reference program, the next one (the repair). Once
  an execution succeeded, the final answer built from its output, with no code.
- CodeAct with tool discovery: first a discovery program (``search_api`` for each function the
  reference programs call — what a model must do when the prompt lists no API), then as CodeAct.
- Tool calling: the task's reference program(s) are re-executed on the host against a fake
  ``api`` whose calls are answered from the tool results already in the conversation; the first
  calls without a result are the next reply's tool calls, so the ids it sends are read out of
  real results. What it reuses and what it batches (parallel tool calls) is
  ``engine.providers.program_play``'s business. A tool error raises ``ToolError`` in the
  program, which moves on to the next reference program (the repair). When a program runs to
  its end, what it printed is the final answer.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.providers.base import (
    ChatRequest,
    Finish,
    ProviderError,
    StreamChunk,
    TextChunk,
    ToolCallChunk,
)
from engine.providers.latency import MISTRAL_SMALL, LatencyModel, check_pace
from engine.providers.program_play import (
    SKIP_NAME,
    Pending,
    ProgramPlay,
    answered_calls,
    isolate,
)
from engine.tokens import count_text
from tasks.api import ApiProxy, ToolError
from tasks.catalog import reads_only
from tasks.suite import Task

if TYPE_CHECKING:
    from engine.modes import ModeSpec
    from engine.toolbox import GuestFunction, Toolbox

SCRIPTED_MODEL = "scripted-reference"
_WORDS = re.compile(r"\S+\s*|\s+")


def call_id(task_id: str, index: int) -> str:
    """Mistral-shaped (nine alphanumerics), deterministic call ids."""
    digest = hashlib.sha1(f"{task_id}:{index}".encode()).hexdigest()
    return digest[:9]


class ScriptedProvider:
    """Plays a competent agent for every bundled task, in either mode, without a network.

    Replies stream at the model's speed (``latency``: time to first token growing with the
    request's input tokens, then output at the decode rate; Mistral Small by default) times
    ``pace`` (1 = real speed, 0 = instant); ``Finish.timing`` carries the modeled timing.
    Raises ``ValueError`` for a negative ``pace``.
    """

    name = "scripted"
    scripted = True

    def __init__(self, task: Task, mode: ModeSpec, *, pace: float = 0.0,
                 model: str | None = None, tools: Callable[[], Toolbox] | None = None,
                 latency: LatencyModel = MISTRAL_SMALL) -> None:
        self.task = task
        self.mode = mode
        self.tools = tools
        self.pace = check_pace(pace)
        self.model = model or SCRIPTED_MODEL
        self.latency = latency

    async def aclose(self) -> None:
        return None

    def played_task_prompt(self) -> str:
        """The task prompt its replies answer, whatever prompt is sent: the task's own (it
        plays the task's reference programs and reads no prompt)."""
        return str(self.task.prompt)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        if not self.task.reference:
            raise ProviderError(
                f"The scripted provider has no reference program for task {self.task.id!r}; "
                "add `reference` to the task or use the mistral provider.", kind="config")
        if not self.mode.writes_code and not plays_on_host(self.task):
            raise ProviderError(
                f"The scripted tool-calling agent runs a task's reference programs in this "
                f"process, outside the sandbox, so it plays only the bundled tasks; "
                f"{self.task.id!r} comes from {self.task.source or 'a task file'}: race it in "
                "the CodeAct modes (their programs run in the sandbox), with a live model, or "
                f"set {PLAY_TASK_FILES_ENV}=1 if you trust that file's programs.",
                kind="config")
        calls: list[tuple[str, dict[str, Any]]] = []
        if self.mode.writes_code:
            text = self.codeact_reply(request.messages)
        else:
            text, calls = self.tool_calling_reply(request.messages,
                                                  parallel=request.parallel_tool_calls)
        pieces: list[TextChunk | ToolCallChunk] = [TextChunk(p) for p in _WORDS.findall(text)]
        pieces += [ToolCallChunk(index, call_id(self.task.id,
                                                len(answered_calls(request.messages)) + index),
                                 name, json.dumps(arguments, ensure_ascii=False))
                   for index, (name, arguments) in enumerate(calls)]
        sizes = [count_text(c.text if isinstance(c, TextChunk) else c.name + c.arguments)
                 for c in pieces]
        timing = self.latency.timing(request.input_tokens or 0, sum(sizes))
        await self._pause(timing.ttft_ms)
        for piece, size in zip(pieces, sizes, strict=True):
            yield piece
            await self._pause(self.latency.decode_ms(size))
        yield Finish("tool_calls" if calls else "stop", timing=timing)

    async def _pause(self, model_ms: float) -> None:
        # ``pace`` scales the model's own time; zero still yields to the event loop, so two
        # agents interleave.
        await asyncio.sleep(model_ms * self.pace / 1000.0)

    # -- CodeAct ----------------------------------------------------------------------------
    def codeact_reply(self, messages: list[dict[str, Any]]) -> str:
        programs = tuple(self.task.reference)
        attempts = sum(1 for m in messages
                       if m.get("role") == "assistant" and "```python" in str(m.get("content")))
        if self.mode.discovers_tools:
            if attempts == 0:
                return ("First I'll find the functions this task needs.\n\n"
                        f"```python\n{discovery_program(programs)}\n```")
            attempts -= 1  # the discovery program is not an attempt at the task
        if attempts == 0:
            return ("I'll do the whole task in one program.\n\n"
                    f"```python\n{programs[0].strip()}\n```")
        feedback = str(messages[-1].get("content") or "") if messages else ""
        if execution_failed(feedback):
            if attempts < len(programs):
                return ("That failed; here is a fixed program.\n\n"
                        f"```python\n{programs[attempts].strip()}\n```")
            return f"I could not complete the task. The last error was: {_last_line(feedback)}"
        return _answer_from_output(feedback)

    # -- tool calling -----------------------------------------------------------------------
    def tool_calling_reply(
        self, messages: list[dict[str, Any]], *, parallel: bool = False
    ) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        """(final answer text, []) or ("", the next calls), from the results so far.

        The rules (reuse what the conversation already holds, one call per round or every
        call whose arguments are known) are ``engine.providers.program_play``'s.
        """
        play = ProgramPlay(answered_calls(messages), parallel=parallel, is_read=reads_only,
                           error_type=ToolError)
        failure = ""
        # The run's own functions (an MCP server's, say); None: the mock platform's.
        guest_api = self.tools().guest_api() if self.tools is not None else None
        for number, program in enumerate(self.task.reference):
            outcome = _play_program(play, program, f"<reference program {number + 1} of "
                                                   f"{self.task.id}>", guest_api)
            if isinstance(outcome, BaseException):  # this attempt failed: try the next idea
                if play.pending:
                    return "", play.pending
                failure = f"{type(outcome).__name__}: {outcome}"
                continue
            if play.pending:
                return "", play.pending
            return outcome, []
        return f"I could not complete the task. The last error was: {failure}", []


PLAY_TASK_FILES_ENV = "CODEACT_EXPLORER_PLAY_TASK_FILES"


def plays_on_host(task: Task) -> bool:
    """Whether the scripted tool-calling agent may play ``task``'s reference programs.

    Playing a program as tool calls executes it in this process (``program_play``), not in the
    sandbox, with this user's rights: a task file's ``reference = ["while True: pass"]`` would
    hang the app, and ``open(...)`` would write on the host. So only the project's own tasks
    are played, unless the user says they trust task files (``CODEACT_EXPLORER_PLAY_TASK_FILES``
    set to ``1``). The CodeAct modes send the programs to the sandbox and need no such trust.
    """
    return task.bundled or os.environ.get(PLAY_TASK_FILES_ENV) == "1"


def _play_program(play: ProgramPlay, program: str, filename: str,
                  guest_api: Mapping[str, GuestFunction] | None = None) -> str | BaseException:
    """Run one reference program in ``play``: what it printed, or the error it ended with.

    Returns "" with ``play.pending`` set when it stopped for results not back yet. With
    parallel calls, a replay that skipped statements but found nothing to ask (a case the
    isolation rules do not foresee) is played again one call at a time, so the agent always
    makes progress.
    """
    printed: list[str] = []
    scope: dict[str, Any] = {"__name__": "__scripted__", "api": ApiProxy(play.call, guest_api),
                             "ToolError": ToolError, "print": _printer(printed),
                             SKIP_NAME: play.skip}
    try:
        code = (isolate(program, filename) if play.parallel
                else compile(program, filename, "exec"))
        exec(code, scope)
    except Pending:
        return ""
    except Exception as exc:
        return exc
    if play.skipped and not play.pending:
        fallback = ProgramPlay(play.history, parallel=False, is_read=play.is_read,
                               error_type=play.error_type)
        outcome = _play_program(fallback, program, filename, guest_api)
        play.pending[:] = fallback.pending
        return outcome
    return "" if play.skipped else "".join(printed).strip()


def api_paths(programs: tuple[str, ...]) -> list[str]:
    """The ``api.<path>`` functions the programs call, in order of first use (``users.search``)."""
    found: list[str] = []
    for program in programs:
        try:
            tree = ast.parse(program)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            parts: list[str] = []
            target = node.func
            while isinstance(target, ast.Attribute):
                parts.append(target.attr)
                target = target.value
            if isinstance(target, ast.Name) and target.id == "api" and parts:
                path = ".".join(reversed(parts))
                if path not in found:
                    found.append(path)
    return found


def discovery_program(programs: tuple[str, ...]) -> str:
    """The scripted agent's first program in discovery mode: one ``search_api`` query per
    function the reference programs call (its words: the path's words), printed."""
    queries = [path.replace(".", " ").replace("_", " ") for path in api_paths(programs)]
    return (f"for query in {queries!r}:\n"
            "    print(\"\\n\".join(search_api(query, limit=3)))")


def _printer(sink: list[str]) -> Any:
    def print_(*args: Any, sep: str | None = " ", end: str | None = "\n", **_: Any) -> None:
        sink.append((" " if sep is None else sep).join(str(a) for a in args)
                    + ("\n" if end is None else end))

    return print_


_ERROR_MARKERS = ("Traceback (most recent call last)", "limit hit]", "limit hit;",
                  "interpreter crash", "earlier state lost")
_NOTICE_WORDS = ("nothing was printed", "truncated", "limit", "crash", "state lost")
_ERROR_LAST_LINE = re.compile(r"^(?:\w+\.)*\w*(?:Error|Exception)(?::|$)")


def _content_lines(feedback: str) -> list[str]:
    """The feedback's lines without the sandbox's [notices] and the agent's hint."""
    lines = [line for line in feedback.strip().splitlines()
             if line.strip() and not line.startswith("Hint:")]
    if lines and lines[-1].startswith("[") and any(w in lines[-1] for w in _NOTICE_WORDS):
        lines.pop()
    return lines


def execution_failed(feedback: str) -> bool:
    """Whether an execution's feedback (``ExecutionResult.for_model()``) reports a failure."""
    if any(marker in feedback for marker in _ERROR_MARKERS):
        return True
    lines = _content_lines(feedback)
    return bool(lines) and bool(_ERROR_LAST_LINE.match(lines[-1].strip()))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def _answer_from_output(feedback: str) -> str:
    """The final answer: what the program printed, without the sandbox's notices."""
    text = "\n".join(_content_lines(feedback)).strip()
    return text or "The program ran but printed nothing; there is nothing to report."
