"""The numbers behind the token meter and the round chart, kept from the event stream.

Pure bookkeeping (no widgets), so it is tested on plain events and the two widgets only draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.events import (
    Event,
    Mode,
    RoundStarted,
    RunError,
    RunFinished,
    RunStarted,
    StepWaiting,
    Usage,
)

# The chart's segments: the event vocabulary's input sources folded into what a presenter names,
# plus the output. Order is the drawing order, left to right.
CHART_SOURCES: tuple[str, ...] = ("tools", "prompt", "history", "results", "output")
CHART_LABELS: dict[str, str] = {
    "tools": "tool schemas / API text",
    "prompt": "system + task prompt",
    "history": "earlier assistant turns",
    "results": "tool results / output",
    "output": "model output",
}
_FOLD = {"tools": "tools", "system": "prompt", "task": "prompt", "assistant": "history",
         "results": "results"}


def fold_breakdown(breakdown: dict[str, int], output_tokens: int = 0) -> dict[str, int]:
    """Map an input breakdown by event source onto the chart's segments, plus the output."""
    folded = dict.fromkeys(CHART_SOURCES, 0)
    for source, tokens in breakdown.items():
        folded[_FOLD.get(source, "prompt")] += tokens
    folded["output"] += output_tokens
    return folded


@dataclass
class RoundTally:
    round: int
    input_tokens: int = 0
    output_tokens: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    finished: bool = False
    local_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ModeTally:
    """One agent's running totals."""

    mode: Mode
    rounds: list[RoundTally] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    status: str = "idle"  # idle | running | waiting | answered | max_rounds | cancelled | error
    success: bool | None = None
    errors: int = 0
    # With a live model the totals are the API's; our own Tekken count stays beside them.
    local_tokens: int = 0
    api_reported: bool = False

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def round(self, number: int) -> RoundTally:
        if self.rounds and self.rounds[-1].round == number:
            return self.rounds[-1]
        for tally in self.rounds:
            if tally.round == number:
                return tally
        tally = RoundTally(number)
        self.rounds.append(tally)
        return tally


@dataclass
class RaceTally:
    """Both agents' totals for the run on screen, and the previous run's for comparison."""

    modes: dict[str, ModeTally] = field(default_factory=dict)
    previous: dict[str, int] = field(default_factory=dict)  # mode -> total tokens last run
    scripted: bool = True
    provider: str = ""
    model: str = ""
    task_title: str = ""
    task_prompt: str = ""

    def reset(self, modes: tuple[Mode, ...], keep_previous: bool = True) -> None:
        """Start a new run; the finished totals of this one become the comparison."""
        if keep_previous:
            done = {m: t.total for m, t in self.modes.items() if t.status not in ("idle",)}
            if done:
                self.previous = done
        else:
            self.previous = {}
        self.modes = {mode: ModeTally(mode) for mode in modes}

    def apply(self, event: Event) -> bool:
        """Count ``event``; True if it changed what the meter or the chart show."""
        tally = self.modes.get(event.mode)
        new = tally is None  # a new row in the meter, whatever the event
        if tally is None:
            tally = self.modes[event.mode] = ModeTally(event.mode)
        if isinstance(event, RunStarted):
            tally.status = "running"
            self.scripted, self.provider, self.model = event.scripted, event.provider, event.model
            self.task_title = event.task_title
            self.task_prompt = str(event.prompts.get("task") or "")
        elif isinstance(event, RoundStarted):
            tally.status = "running"
            current = tally.round(event.round)
            current.input_tokens = event.input_tokens
            current.segments = fold_breakdown(event.breakdown)
        elif isinstance(event, StepWaiting):
            tally.status = "waiting"
        elif isinstance(event, Usage):
            current = tally.round(event.round)
            current.input_tokens = event.api_input_tokens or event.input_tokens
            current.output_tokens = event.api_output_tokens or event.output_tokens
            if event.breakdown:
                current.segments = fold_breakdown(event.breakdown, current.output_tokens)
            else:  # no breakdown in this usage: keep the one announced when the round started
                current.segments = {**fold_breakdown({}), **current.segments,
                                    "output": current.output_tokens}
            current.finished = True
            current.local_tokens = event.input_tokens + event.output_tokens
            tally.api_reported = tally.api_reported or event.api_input_tokens is not None
            tally.local_tokens = sum(r.local_tokens for r in tally.rounds)
            tally.input_tokens = sum(r.input_tokens for r in tally.rounds)
            tally.output_tokens = sum(r.output_tokens for r in tally.rounds)
            tally.cost_usd += event.cost_usd
        elif isinstance(event, RunError):
            tally.errors += 1
        elif isinstance(event, RunFinished):
            tally.status = event.stop_reason
            tally.success = event.success
            tally.input_tokens = event.api_input_tokens or event.input_tokens
            tally.output_tokens = event.api_output_tokens or event.output_tokens
            tally.cost_usd = event.cost_usd or tally.cost_usd
            tally.local_tokens = event.input_tokens + event.output_tokens
            tally.api_reported = tally.api_reported or event.api_input_tokens is not None
        else:  # text, tool calls and results, programs: the counts arrive with ``Usage``
            return new
        return True

    @property
    def savings(self) -> float | None:
        """CodeAct's saving over tool calling so far, as a fraction, when both have tokens."""
        tool, code = self.modes.get("tool_calling"), self.modes.get("codeact")
        if not tool or not code or not tool.total or not code.total:
            return None
        return 1.0 - code.total / tool.total

    @property
    def largest_round(self) -> int:
        return max((r.total for t in self.modes.values() for r in t.rounds), default=0)
