"""The scripted provider: a deterministic reference agent, offline, labelled "scripted".

It demonstrates the mechanics and the token economics of both modes, not a model's
intelligence. Each reply is a pure function of the request's messages and the task:

- CodeAct: a short sentence and the task's reference program in a ```python fence. If the last
  execution failed and the task has another reference program, the next one (the repair). Once
  an execution succeeded, the final answer built from its output, with no code.
- Tool calling: the task's reference program(s) are re-executed on the host against a fake
  ``api`` whose calls are answered, in order, from the tool results already in the conversation
  (each result used once, by the same call: same tool, same arguments); the first call without
  a result is the next tool call to emit. So the ids it sends are read
  out of real results. A tool error raises ``ToolError`` in the program, which moves on to the
  next reference program (still consuming results in order). When a program runs to its end,
  what it printed is the final answer. With parallel tool calls on, unanswered calls return a
  placeholder and the program keeps going, so every call that does not depend on a pending
  result goes into one reply; touching a placeholder in any way stops the program there.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from engine.providers.base import (
    ChatRequest,
    Finish,
    ProviderError,
    StreamChunk,
    TextChunk,
    ToolCallChunk,
)

SCRIPTED_MODEL = "scripted-reference"
_WORDS = re.compile(r"\S+\s*|\s+")


class _Pending(BaseException):
    """Raised when the program needs a result that has not come back yet.

    A BaseException so that a reference program's ``except Exception`` cannot swallow it.
    """


class _Placeholder:
    """Stands for a result still pending; any use of it stops the program."""

    __slots__ = ()

    def _stop(self, *args: Any, **kwargs: Any) -> Any:
        raise _Pending


for _name in (
    "__getattr__", "__getitem__", "__iter__", "__len__", "__bool__", "__eq__", "__ne__",
    "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__str__", "__repr__", "__format__",
    "__contains__", "__int__", "__float__", "__index__", "__add__", "__radd__", "__sub__",
    "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__call__", "__round__",
    "__abs__", "__neg__", "__reversed__",
):
    setattr(_Placeholder, _name, _Placeholder._stop)


@dataclass(frozen=True)
class _Answered:
    name: str
    arguments: Any
    content: str

    def matches(self, name: str, arguments: dict[str, Any]) -> bool:
        if name != self.name:
            return False
        try:
            sent = json.loads(self.arguments) if isinstance(self.arguments, str) else self.arguments
            return bool(sent == json.loads(json.dumps(arguments)))
        except (TypeError, ValueError):
            return False


def _has_placeholder(value: Any) -> bool:
    if type(value) is _Placeholder:
        return True
    if type(value) in (list, tuple):
        return any(_has_placeholder(v) for v in value)
    if type(value) is dict:
        return any(_has_placeholder(v) for v in value.values())
    return False


def parse_result(content: str) -> tuple[bool, Any, str | None]:
    """A ``tool`` message's content read back: (ok, value, error message)."""
    try:
        value = json.loads(content)
    except (json.JSONDecodeError, TypeError):
        return True, content, None
    if isinstance(value, dict) and set(value) == {"error"}:
        return False, None, str(value["error"])
    if isinstance(value, dict) and value.get("ok") is False and "error" in value:
        return False, None, str(value["error"])
    return True, value, None


def answered_calls(messages: list[dict[str, Any]]) -> list[_Answered]:
    """The tool calls of the conversation that got a result, in the order they were made."""
    results = {m.get("tool_call_id"): str(m.get("content") or "")
               for m in messages if m.get("role") == "tool"}
    answered: list[_Answered] = []
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            content = results.get(call.get("id"))
            if content is None:
                return answered  # the conversation stops making sense here
            fn = call.get("function") or {}
            answered.append(_Answered(str(fn.get("name", "")), fn.get("arguments"), content))
    return answered


def call_id(task_id: str, index: int) -> str:
    """Mistral-shaped (nine alphanumerics), deterministic call ids."""
    digest = hashlib.sha1(f"{task_id}:{index}".encode()).hexdigest()
    return digest[:9]


class ScriptedProvider:
    """Plays a competent agent for every bundled task, in either mode, without a network."""

    name = "scripted"
    scripted = True

    def __init__(self, task: Any, mode: str, *, pace: float = 0.0,
                 model: str | None = None) -> None:
        self.task = task
        self.mode = mode
        self.pace = max(0.0, float(pace))
        self.model = model or SCRIPTED_MODEL

    async def aclose(self) -> None:
        return None

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        if not tuple(getattr(self.task, "reference", ()) or ()):
            raise ProviderError(
                f"The scripted provider has no reference program for task {self.task.id!r}; "
                "add `reference` to the task or use the mistral provider.", kind="config")
        if self.mode == "codeact":
            text, calls = self.codeact_reply(request.messages), []
        else:
            text, calls = self.tool_calling_reply(request.messages,
                                                  parallel=request.parallel_tool_calls)
        for piece in _WORDS.findall(text):
            await self._pause()
            yield TextChunk(piece)
        for index, (name, arguments) in enumerate(calls):
            await self._pause()
            number = len(answered_calls(request.messages)) + index
            yield ToolCallChunk(index, call_id(self.task.id, number), name,
                                json.dumps(arguments, ensure_ascii=False))
        await self._pause()
        yield Finish("tool_calls" if calls else "stop")

    async def _pause(self) -> None:
        # Zero pace still yields to the event loop, so two agents interleave.
        await asyncio.sleep(self.pace)

    # -- CodeAct ----------------------------------------------------------------------------
    def codeact_reply(self, messages: list[dict[str, Any]]) -> str:
        programs = tuple(self.task.reference)
        attempts = sum(1 for m in messages
                       if m.get("role") == "assistant" and "```python" in str(m.get("content")))
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
        """(final answer text, []) or ("", the next calls), from the results so far."""
        from tasks.api import ApiProxy, ToolError

        history = answered_calls(messages)
        used: set[int] = set()
        pending: list[tuple[str, dict[str, Any]]] = []

        def call(name: str, arguments: dict[str, Any]) -> Any:
            if _has_placeholder(arguments):
                raise _Pending
            # The earliest result of this same call not used yet. A repair that repeats a call
            # of the failed attempt's batch (a create that did succeed) reuses its result
            # instead of writing twice, as a careful model would.
            for index, answered in enumerate(history):
                if index not in used and answered.matches(name, arguments):
                    used.add(index)
                    ok, value, error = parse_result(answered.content)
                    if not ok:
                        raise ToolError(error or "the tool failed")
                    return value
            pending.append((name, dict(arguments)))
            if not parallel:
                raise _Pending
            return _Placeholder()

        failure = ""
        for program in self.task.reference:
            printed: list[str] = []
            scope = {"__name__": "__scripted__", "api": ApiProxy(call), "ToolError": ToolError,
                     "print": _printer(printed)}
            try:
                exec(compile(program, f"<reference program of {self.task.id}>", "exec"), scope)
            except _Pending:
                return "", pending
            except Exception as exc:  # this attempt failed: like a model, try the next idea
                if pending:
                    return "", pending
                failure = f"{type(exc).__name__}: {exc}"
                continue
            if pending:
                return "", pending
            return "".join(printed).strip(), []
        return f"I could not complete the task. The last error was: {failure}", []


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
