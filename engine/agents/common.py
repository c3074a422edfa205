"""The loop both agents share: rounds, streaming, step mode, cancellation, judging, recording.

An agent is an async generator of ``engine.events``. Each round it builds a request, counts its
input tokens by source, streams the provider's reply (text deltas as they come), lets the
subclass act on the reply (tool calls, or a program in the sandbox), and stops when the reply is
a final answer or the round limit is hit. Whatever happens — a provider failure, a stream cut
short, the user cancelling, a bug — the run ends with one ``RunFinished`` and nothing escapes
as an exception: failures become one-sentence ``RunError`` events.

Cancellation is cooperative: every wait (a streamed chunk, the sandbox, step mode) goes through
``_guard``, which ``cancel()`` interrupts; the provider's stream is read in its own task so it
is cancelled inside the task it runs in (SDK streams do not like being resumed across tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from engine.agents.meter import RunMeter
from engine.agents.parts import (
    Reply,
    RunCancelled,
    StepGate,
    new_race_id,
)
from engine.errors import USER_ERRORS, one_sentence
from engine.events import (
    Event,
    Retrying,
    RoundFinished,
    RoundStarted,
    RunError,
    RunFinished,
    RunStarted,
    StepWaiting,
    StopReason,
    TextDelta,
    Usage,
)
from engine.prompt_checks import PromptWarning, check_prompts
from engine.prompts import PromptSet, load_prompts
from engine.providers import PROVIDERS
from engine.providers.base import (
    ChatRequest,
    Finish,
    Provider,
    ProviderError,
    RawChunk,
    RetryNotice,
    TextChunk,
    ToolCallChunk,
    chunk_to_dict,
)
from engine.providers.latency import RoundTiming
from engine.records import RunRecorder
from engine.run import RunConfig
from engine.toolbox import Toolbox
from engine.toolboxes import open_toolbox
from tasks.suite import Task

if TYPE_CHECKING:
    from engine.modes import ModeSpec

T = TypeVar("T")
_END = object()


class Agent:
    """Base of ``ToolCallingAgent`` and ``CodeActAgent``; ``run()`` yields the run's events.

    ``spec`` is the mode it plays (``engine.modes.ModeSpec``: its id, prompt, how the tools are
    shown); ``toolbox`` the run's tools (None: a fresh one from the task's tool source, opened in
    ``setup``). The agent closes the toolbox when the run ends.
    """

    def __init__(
        self,
        task: Task,
        provider: Provider,
        config: RunConfig | None = None,
        *,
        spec: ModeSpec,
        toolbox: Toolbox | None = None,
        prompts: PromptSet | None = None,
        gate: StepGate | None = None,
        run_id: str | None = None,
        race_id: str | None = None,
    ) -> None:
        self.task = task
        self.spec = spec
        self.mode = spec.id
        self.toolbox = toolbox
        self.provider = provider
        self.config = config or RunConfig()
        self.prompts = prompts or self.config.prompts or load_prompts(task.id)
        self.gate = gate or StepGate()
        self.race_id = race_id or new_race_id(task.id)
        self.run_id = run_id or f"{self.race_id}-{self.mode}"
        self.max_rounds = self.config.rounds_for(task)
        self.meter = RunMeter()
        self.messages: list[dict[str, Any]] = []
        self.answer = ""
        self.done = False
        self.round = 0
        self.recorder: Any = None
        self._t0 = time.monotonic()
        self._cancelled = False
        self._waiting: asyncio.Task[Any] | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._recorded_messages = 0
        self.model_ms = 0.0  # the model's time over the rounds so far (see RunFinished)
        self.judged = True  # see engine.prompt_checks and RunFinished
        self.comparable = True
        self.unjudged = ""
        self.nudged = False  # the run's one nudge was used (engine.agents.nudge)

    # -- subclass hooks -------------------------------------------------------------------
    async def setup(self) -> None:
        """Open the run's toolbox (and sandbox) and write the opening messages."""
        raise NotImplementedError

    def open_tools(self) -> Toolbox:
        """The run's toolbox, opened from the task's tool source on first use (may block: an
        MCP server starting; call it off the event loop)."""
        if self.toolbox is None:
            self.toolbox = open_toolbox(self.task)
        return self.toolbox

    def build_request(self) -> ChatRequest:
        raise NotImplementedError

    def act(self, reply: Reply) -> AsyncIterator[Event]:
        """Act on a reply: yield the events; set ``self.done``/``self.answer`` on a final answer."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Release what ``setup`` made (the sandbox); must not raise."""

    def interrupt(self) -> None:
        """Called by ``cancel()``: stop whatever blocking work is running (the sandbox)."""

    # -- control --------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop promptly; the run ends with RunFinished(stop_reason="cancelled")."""
        self._cancelled = True
        self.interrupt()
        for task in (self._waiting, self._stream_task):
            if task is not None and not task.done():
                task.cancel()

    async def _guard(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` so that ``cancel()`` can interrupt it (raising RunCancelled)."""
        if self._cancelled:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise RunCancelled
        task = asyncio.ensure_future(awaitable)
        self._waiting = task
        try:
            return await task
        except asyncio.CancelledError:
            if self._cancelled and not _current_task_cancelling():
                raise RunCancelled from None
            raise
        finally:
            self._waiting = None

    # -- events ---------------------------------------------------------------------------
    def elapsed(self) -> float:
        return round(time.monotonic() - self._t0, 4)

    def event(self, cls: type[Event], **fields: Any) -> Event:
        """Make an event of this run (and write it to the run record)."""
        ev = cls(run_id=self.run_id, mode=self.mode, elapsed=self.elapsed(), **fields)
        if self.recorder is not None:
            self.recorder.event(ev)
        return ev

    def add_message(self, message: dict[str, Any], source: str) -> None:
        """Append to the conversation; ``source`` says where its tokens are counted."""
        self.messages.append(message)
        self.meter.add_message(message, source)

    def nudge_once(self, content: str, told: str) -> Event | None:
        """The run's one nudge (``engine.agents.nudge``): ``content`` goes back as a user message
        counted under "results", and the returned non-fatal ``RunError(kind="nudge")`` says
        ``told``; None when this run was already nudged (the reply is then the answer)."""
        if self.nudged:
            return None
        self.nudged = True
        self.add_message({"role": "user", "content": content}, "results")
        return self.event(RunError, round=self.round, kind="nudge", fatal=False, message=told)

    def started_event(self) -> Event:
        return self.event(
            RunStarted,
            task_id=self.task.id,
            task_title=self.task.title,
            provider=self.provider.name,
            model=self.provider.model,
            scripted=bool(getattr(self.provider, "scripted", False)),
            max_rounds=self.max_rounds,
            prompts={
                "system": self.prompts.system_template(self.spec.prompt),
                "task": self.prompts.task_prompt(self.task.prompt),
                "overridden": ",".join(self.prompts.overridden()),
                "fingerprint": self.prompts.fingerprint(),
            },
            options={**self.config.options(), "max_rounds": self.max_rounds},
        )

    # -- the loop -------------------------------------------------------------------------
    async def run(self) -> AsyncIterator[Event]:
        """The run's events, from RunStarted to exactly one RunFinished."""
        self._t0 = time.monotonic()
        self._open_record()
        try:
            yield self.started_event()
            stop: StopReason = "error"
            failure = ""
            try:
                await self._guard(self.setup())
                stop = "max_rounds"
                for number in range(1, self.max_rounds + 1):
                    self.round = number
                    async for ev in self._round(number):
                        yield ev
                    if self.done:
                        stop = "answered"
                        break
            except RunCancelled:
                stop = "cancelled"
            except USER_ERRORS as exc:  # ProviderError, AgentError, ToolSourceError, ...
                stop, failure = "error", one_sentence(exc)
                yield self.event(RunError, round=self.round, kind=exc.kind, message=failure,
                                 fatal=True)
            except Exception as exc:  # a bug or a broken part must not take the app down
                stop, failure = "error", f"The {self.mode} agent failed: {one_sentence(exc)}"
                yield self.event(RunError, round=self.round, kind="internal", message=failure,
                                 fatal=True)
            yield self._finished(stop, failure)
        finally:
            self.cancel_pending()
            with contextlib.suppress(Exception):
                self.cleanup()
            if self.toolbox is not None:
                with contextlib.suppress(Exception):
                    self.toolbox.close()
                self._record_tool_source()
            if self.recorder is not None:
                self.recorder.close()

    def cancel_pending(self) -> None:
        if self._stream_task is not None and not self._stream_task.done():
            self._stream_task.cancel()

    async def _round(self, number: int) -> AsyncIterator[Event]:
        if self._cancelled:
            raise RunCancelled
        if self.gate.step_mode:
            release = self.gate.ticket()
            yield self.event(StepWaiting, round=number)
            await self._guard(release.wait())
        request = self.build_request()
        tokens, breakdown = self.meter.request_tokens()
        yield self.event(RoundStarted, round=number, input_tokens=tokens, breakdown=breakdown)
        if number == 1:
            for kind, message in _notices(self.provider, request, self.task, self.mode):
                yield self.event(RunError, round=number, kind=kind, message=message, fatal=False)
            for warning in self._prompt_warnings():
                yield self.event(RunError, round=number, kind=warning.kind,
                                 message=warning.message, fatal=False)
        self._record_request(number, request)
        request = dataclasses.replace(request, input_tokens=tokens)
        reply = Reply(sent_at=time.monotonic())
        try:
            async for ev in self._stream(request, reply):
                yield ev
        finally:  # a failed stream is recorded too: what arrived before it broke
            if self.recorder is not None:
                self.recorder.response(number, [chunk_to_dict(c) for c in reply.chunks],
                                       raw=reply.raw, attempts=reply.attempts)
        timing = _timing(reply, time.monotonic())
        self.model_ms += timing.total_ms
        if reply.finish is None:
            raise ProviderError(
                "The model's reply was cut off before it finished; try the round again.",
                kind="truncated",
            )
        usage = reply.finish.usage
        out_tokens = self.meter.output_tokens(reply.text, reply.calls)
        self.meter.add_round(
            tokens, out_tokens, breakdown,
            usage.prompt_tokens if usage else None, usage.completion_tokens if usage else None,
        )
        yield self.event(
            Usage, round=number, input_tokens=tokens, output_tokens=out_tokens,
            breakdown=breakdown,
            api_input_tokens=usage.prompt_tokens if usage else None,
            api_output_tokens=usage.completion_tokens if usage else None,
            cost_usd=self.meter.round_cost(self.provider.model),
            ttft_ms=round(timing.ttft_ms, 1), total_ms=round(timing.total_ms, 1),
            latency_source=timing.source,
        )
        if reply.finish.reason == "length":
            yield self.event(RunError, round=number, kind="truncated", fatal=False,
                             message="The reply hit the model's output limit and was cut short.")
        async for ev in self.act(reply):
            yield ev
        yield self.event(RoundFinished, round=number, finish_reason=reply.finish.reason)

    async def _stream(self, request: ChatRequest, reply: Reply) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def produce() -> None:
            try:
                async for chunk in self.provider.stream(request):
                    queue.put_nowait(chunk)
                    if isinstance(chunk, Finish):
                        break
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # handed to the agent, which reports it
                queue.put_nowait(exc)
            finally:
                queue.put_nowait(_END)

        self._stream_task = asyncio.create_task(produce())
        try:
            while True:
                item = await self._guard(queue.get())
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, RawChunk):
                    reply.raw.append(item.data)
                    continue
                if isinstance(item, RetryNotice):
                    discarded = reply.retry(item)
                    yield self.event(Retrying, round=self.round, attempt=item.attempt,
                                     attempts=item.attempts, wait_s=item.wait_s,
                                     reason=item.reason, kind=item.kind,
                                     discarded_text=discarded)
                    continue
                reply.chunks.append(item)
                if reply.first_at is None and isinstance(item, (TextChunk, ToolCallChunk)):
                    reply.first_at = time.monotonic()
                if isinstance(item, TextChunk):
                    if item.text:
                        reply.text += item.text
                        yield self.event(TextDelta, round=self.round, text=item.text)
                elif isinstance(item, ToolCallChunk):
                    reply.calls.append(item)
                elif isinstance(item, Finish):
                    reply.finish = item
        finally:
            if not self._stream_task.done():
                self._stream_task.cancel()
                with contextlib.suppress(BaseException):
                    await self._stream_task

    def _prompt_warnings(self) -> list[PromptWarning]:
        """This run's prompt warnings (``engine.prompt_checks``); sets ``judged``/``comparable``."""
        played = getattr(self.provider, "played_task_prompt", None)
        spec = PROVIDERS.get(self.provider.name)
        warnings = check_prompts(
            self.task, self.prompts, [self.spec],
            played_prompt=played() if callable(played) else None,
            provider_label=spec.label if spec else f"{self.provider.name} provider")
        for warning in warnings:
            if warning.kind == "not_judged":
                self.judged, self.unjudged = False, warning.message
            elif warning.kind == "not_comparable":
                self.comparable = False
        return warnings

    # -- the end ----------------------------------------------------------------------------
    def _finished(self, stop: StopReason, failure: str) -> Event:
        success, reasons = self.judge(stop, failure)
        totals = self.meter.totals()
        return self.event(
            RunFinished, stop_reason=stop, success=success, answer=self.answer,
            verdict=reasons, rounds=self.meter.rounds, input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens, cost_usd=self.meter.cost(self.provider.model),
            api_input_tokens=totals.api_input_tokens, api_output_tokens=totals.api_output_tokens,
            breakdown=totals.breakdown, model_ms=round(self.model_ms, 1), judged=self.judged,
            comparable=self.comparable,
        )

    def judge(self, stop: StopReason, failure: str) -> tuple[bool, list[str]]:
        """The checker's verdict on the answer and the final state of the tools (never raises)."""
        if stop == "cancelled":
            return False, ["The run was cancelled before it finished."]
        if stop == "error":
            return False, [f"The run ended with an error: {failure}"]
        if self.toolbox is None:
            return False, ["The run never reached its tools."]
        if not self.judged:
            return False, [self.unjudged]
        try:
            verdict = self.toolbox.judge(self.task, self.answer)
        except Exception as exc:
            return False, [f"The checker failed: {one_sentence(exc)}"]
        reasons = list(verdict.reasons)
        if stop == "max_rounds":
            reasons.insert(0, f"The round limit ({self.max_rounds}) was hit before an answer.")
        return bool(verdict.success), reasons

    # -- recording ----------------------------------------------------------------------------
    def _open_record(self) -> None:
        if not self.config.record or self.recorder is not None:
            return
        try:
            self.recorder = RunRecorder.create(self)
        except OSError:
            self.recorder = None  # an unwritable data dir must not stop the run

    def _record_tool_source(self) -> None:
        """Keep what the tool source has to say about the run (an MCP server's stderr)."""
        diagnostics = getattr(self.toolbox, "diagnostics", None)
        if self.recorder is None or not callable(diagnostics):
            return
        with contextlib.suppress(Exception):
            self.recorder.tool_source(dict(diagnostics()))

    def _record_request(self, number: int, request: ChatRequest) -> None:
        if self.recorder is None:
            return
        new = request.messages[self._recorded_messages:]
        self._recorded_messages = len(request.messages)
        self.recorder.request(number, request, new)


def _timing(reply: Reply, ended_at: float) -> RoundTiming:
    """The reply's timing: the provider's own (modeled, recorded), else the wall clock's."""
    if reply.finish is not None and reply.finish.timing is not None:
        return reply.finish.timing
    first = reply.first_at if reply.first_at is not None else ended_at
    return RoundTiming((first - reply.sent_at) * 1000.0, (ended_at - reply.sent_at) * 1000.0,
                       "measured")


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


def _notices(provider: Any, request: ChatRequest, task: Task, mode: str) -> list[tuple[str, str]]:
    """Warnings a provider has about this run (the replay provider: recording differs)."""
    notices = getattr(provider, "notices", None)
    if not callable(notices):
        return []
    try:
        return list(notices(request, task, mode))
    except Exception:
        return []
