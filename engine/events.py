"""The one event vocabulary of a run.

Every consumer — the Textual panes and token meter, the headless bench, the run recorder and
the replay provider — reads the same stream of these events. They are plain frozen dataclasses
that round-trip through JSON (``to_dict`` / ``event_from_dict``), so a recorded run can be
played back into the same UI.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from engine.errors import ExplorerError

# A mode id of ``engine.modes`` (the registry; events stay free of it so a recording of a mode
# that no longer exists still loads).
Mode = str

# Where the input tokens of a request come from. The meter and the bench break input down by
# these keys; every request's breakdown sums to its input token count.
TOKEN_SOURCES: tuple[str, ...] = ("system", "tools", "task", "assistant", "results")
TOKEN_SOURCE_LABELS: dict[str, str] = {
    "system": "system prompt",
    "tools": "tool schemas / API text",
    "task": "task prompt",
    "assistant": "earlier assistant turns",
    "results": "tool results / execution output",
}

StopReason = Literal["answered", "max_rounds", "cancelled", "error"]

_REGISTRY: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event: which run, which mode, seconds since the run started."""

    type: ClassVar[str] = "event"
    run_id: str
    mode: Mode
    elapsed: float = 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict with a ``type`` key naming the event."""
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    type: ClassVar[str] = "run_started"
    task_id: str
    task_title: str
    provider: str
    model: str
    scripted: bool
    max_rounds: int
    prompts: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RoundStarted(Event):
    """A request is about to go to the model; ``breakdown`` is its input tokens by source."""

    type: ClassVar[str] = "round_started"
    round: int
    input_tokens: int
    breakdown: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StepWaiting(Event):
    """Step mode: the agent is paused before ``round`` until the user advances it."""

    type: ClassVar[str] = "step_waiting"
    round: int


@dataclass(frozen=True, kw_only=True)
class TextDelta(Event):
    type: ClassVar[str] = "text_delta"
    round: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ToolCall(Event):
    """The model asked for a tool. ``arguments`` is the parsed dict, or the raw text if invalid."""

    type: ClassVar[str] = "tool_call"
    round: int
    call_id: str
    name: str
    arguments: dict[str, Any] | str


@dataclass(frozen=True, kw_only=True)
class ToolResult(Event):
    """What went back to the model for one tool call (``content`` is exactly what it reads)."""

    type: ClassVar[str] = "tool_result"
    round: int
    call_id: str
    name: str
    ok: bool
    content: str
    tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class CodeBlock(Event):
    """The Python program taken from a CodeAct reply, about to run in the sandbox."""

    type: ClassVar[str] = "code"
    round: int
    code: str


@dataclass(frozen=True, kw_only=True)
class ExecutionResult(Event):
    """The sandbox ran a program; ``content`` is exactly what goes back to the model."""

    type: ClassVar[str] = "execution_result"
    round: int
    output: str
    error: str | None
    content: str
    host_calls: int = 0
    limit: str | None = None
    state_lost: bool = False
    wall_ms: float = 0.0
    tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class Usage(Event):
    """Token use and latency of one round, as soon as its reply has streamed.

    Tokens: the local count (by source) and the API's, when it reports one. Latency (ms): time
    to the reply's first token (``ttft_ms``) and to its end (``total_ms``), the model's own
    time whatever the playback pace; ``latency_source`` says where it comes from: "modeled"
    (the scripted provider's latency model of the real model), "recorded" (a replay, from the
    recording) or "measured" (the wall clock around a live model's stream). None in records
    written before latency was kept.
    """

    type: ClassVar[str] = "usage"
    round: int
    input_tokens: int
    output_tokens: int
    breakdown: dict[str, int] = field(default_factory=dict)
    api_input_tokens: int | None = None
    api_output_tokens: int | None = None
    cost_usd: float = 0.0
    ttft_ms: float | None = None
    total_ms: float | None = None
    latency_source: str | None = None


@dataclass(frozen=True, kw_only=True)
class RoundFinished(Event):
    type: ClassVar[str] = "round_finished"
    round: int
    finish_reason: str


@dataclass(frozen=True, kw_only=True)
class Retrying(Event):
    """A request failed and is retried: attempt ``attempt`` of at most ``attempts`` starts in
    ``wait_s`` seconds. ``reason`` says why in one sentence (``kind`` as in ``RunError``);
    ``discarded_text`` is the reply text the failed attempt had streamed, now void (the next
    attempt streams the reply from its beginning). ``message`` is the status line to show."""

    type: ClassVar[str] = "retrying"
    round: int
    attempt: int
    attempts: int
    wait_s: float
    reason: str
    kind: str = "server"
    discarded_text: str = ""

    @property
    def message(self) -> str:
        return f"retrying ({self.attempt}/{self.attempts}) in {self.wait_s:.0f} s"


@dataclass(frozen=True, kw_only=True)
class RunError(Event):
    """Something went wrong, in one sentence a user can act on. ``fatal`` ends the run."""

    type: ClassVar[str] = "error"
    round: int
    kind: str
    message: str
    fatal: bool = False


@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    """The run is over; the task's checker has judged the answer and the final state."""

    type: ClassVar[str] = "run_finished"
    stop_reason: StopReason
    success: bool
    answer: str
    verdict: list[str]
    rounds: int
    input_tokens: int
    output_tokens: int
    cost_usd: float = 0.0
    api_input_tokens: int | None = None
    api_output_tokens: int | None = None
    breakdown: dict[str, int] = field(default_factory=dict)
    # The model's time over all rounds (ms, the sum of the rounds' Usage.total_ms): how long the
    # model itself took, whatever the playback pace; tool and sandbox time are not in it.
    model_ms: float = 0.0
    # False when the run cannot be judged as an answer to the task prompt it was sent (a
    # provider that does not read prompts played another one; then success is False and the
    # verdict says why), or compared with the other modes (its system prompt does not show the
    # model its tools). See engine.prompt_checks.
    judged: bool = True
    comparable: bool = True

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class EventFormatError(ExplorerError, ValueError):
    """A recorded event could not be read back; the message is one sentence."""

    kind = "record"


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``Event.to_dict`` output; unknown keys are ignored."""
    try:
        cls = _REGISTRY[data["type"]]
    except (KeyError, TypeError) as exc:
        raise EventFormatError(f"not an event: {str(data)[:80]}") from exc
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise EventFormatError(f"malformed {data['type']} event: {exc}") from exc
