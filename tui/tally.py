"""The numbers behind the token meter, the round chart and the summary, kept from the events.

Pure bookkeeping (no widgets), so it is tested on plain events and the widgets only draw. One
rule keeps the pane, the meter and the chart in agreement: a round counts once its ``Usage``
has arrived. A round stopped or broken before that is drawn while the run lasts (the request
went out) and dropped from the counts when the run ends, and the pane says it was not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.events import (
    Event,
    RoundStarted,
    RunError,
    RunFinished,
    RunStarted,
    StepWaiting,
    Usage,
)
from engine.modes import BASELINE, MODE_IDS

# The chart's segments: the event vocabulary's input sources folded into what a presenter names.
# Order is the drawing order, bottom to top.
CHART_SOURCES: tuple[str, ...] = ("tools", "prompt", "history", "results")
CHART_LABELS: dict[str, str] = {
    "tools": "tool schemas / API text",
    "prompt": "system + task prompt",
    "history": "earlier assistant turns",
    "results": "tool results / output",
}
_FOLD = {"tools": "tools", "system": "prompt", "task": "prompt", "assistant": "history",
         "results": "results"}
# Runs that ended like this are not compared with anything ("vs previous run", savings).
UNFINISHED = ("cancelled", "error")


def fold_breakdown(breakdown: dict[str, int]) -> dict[str, int]:
    """Map an input breakdown by event source onto the chart's segments."""
    folded = dict.fromkeys(CHART_SOURCES, 0)
    for source, tokens in breakdown.items():
        folded[_FOLD.get(source, "prompt")] += tokens
    return folded


@dataclass
class RoundTally:
    """One request: its input by segment and output (tokens), and the model's time (ms)."""

    round: int
    input_tokens: int = 0
    output_tokens: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    finished: bool = False  # its Usage arrived: it counts
    local_tokens: int = 0
    ttft_ms: float | None = None
    total_ms: float | None = None

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ModeTally:
    """One agent's running totals (tokens, USD, ms), from its counted rounds."""

    mode: str
    rounds: list[RoundTally] = field(default_factory=list)
    cost_usd: float = 0.0
    status: str = "idle"  # idle | running | waiting | answered | max_rounds | cancelled | error
    success: bool | None = None
    errors: int = 0
    wall_s: float = 0.0  # seconds since the run started, as of its latest event
    judged: bool = True  # False: played for another task prompt (engine.prompt_checks)
    comparable_run: bool = True  # False: its prompt hid the tools; left out of savings
    api_reported: bool = False  # a live model's own usage (our Tekken count stays beside it)

    @property
    def counted(self) -> list[RoundTally]:
        return [r for r in self.rounds if r.finished]

    @property
    def input_tokens(self) -> int:
        return sum(r.input_tokens for r in self.rounds if r.finished)

    @property
    def output_tokens(self) -> int:
        return sum(r.output_tokens for r in self.rounds if r.finished)

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def local_tokens(self) -> int:
        return sum(r.local_tokens for r in self.rounds if r.finished)

    @property
    def model_ms(self) -> float:
        """The model's own time over the counted rounds (its latency; not tools, not pace)."""
        return sum(r.total_ms or 0.0 for r in self.rounds if r.finished)

    @property
    def finished(self) -> bool:
        return self.status in ("answered", "max_rounds", "cancelled", "error")

    def cumulative_input(self) -> list[int]:
        """Input tokens sent so far after each round (the pending round included while it
        runs): the curve that climbs for tool calling and stays low for CodeAct."""
        out: list[int] = []
        total = 0
        for r in self.rounds:
            total += r.input_tokens
            out.append(total)
        return out

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
    """Every raced agent's totals for the run on screen, and what the comparison needs.

    ``last_finished`` keeps each (task, modes)'s last run that every agent finished (not
    stopped, not broken), so "vs previous run" compares like with like.
    """

    modes: dict[str, ModeTally] = field(default_factory=dict)
    task_id: str = ""
    scripted: bool = True
    provider: str = ""
    model: str = ""
    task_title: str = ""
    task_prompt: str = ""
    last_finished: dict[tuple[str, tuple[str, ...]], dict[str, int]] = field(
        default_factory=dict)

    def reset(self, modes: tuple[str, ...], task_id: str = "") -> None:
        """Start a new run of ``modes`` on ``task_id``; a finished run is kept to compare.

        Another task forgets the title and the task prompt the last run sent: they were the
        previous task's (the banner would show them as this task's edited prompt)."""
        self.remember()
        ordered = [m for m in MODE_IDS if m in modes] + [m for m in modes if m not in MODE_IDS]
        self.modes = {m: ModeTally(m) for m in ordered}
        if task_id != self.task_id:
            self.task_title = self.task_prompt = ""
        self.task_id = task_id

    def remember(self) -> None:
        if self.complete and self.task_id:
            self.last_finished[self.key] = {m: t.total for m, t in self.modes.items()}

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.task_id, tuple(self.modes))

    @property
    def complete(self) -> bool:
        """Every agent finished (answered or hit its round limit): comparable."""
        return bool(self.modes) and all(
            t.finished and t.status not in UNFINISHED and t.judged and t.comparable_run
            for t in self.modes.values())

    @property
    def over(self) -> bool:
        """Every agent's run has ended, however."""
        return bool(self.modes) and all(t.finished for t in self.modes.values())

    @property
    def previous(self) -> dict[str, int]:
        """The last finished run of the same task and modes, once this one has finished too."""
        if not self.complete:
            return {}
        return self.last_finished.get(self.key, {})

    def apply(self, event: Event) -> bool:
        """Count ``event``; True if it changed what the meter or the chart show."""
        tally = self.modes.get(event.mode)
        new = tally is None  # a new row in the meter, whatever the event
        if tally is None:
            tally = self.modes[event.mode] = ModeTally(event.mode)
        tally.wall_s = max(tally.wall_s, event.elapsed)
        if isinstance(event, RunStarted):
            tally.status = "running"
            self.scripted, self.provider, self.model = event.scripted, event.provider, event.model
            self.task_title = event.task_title
            self.task_id = self.task_id or event.task_id
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
                current.segments = fold_breakdown(event.breakdown)
            current.finished = True
            current.local_tokens = event.input_tokens + event.output_tokens
            current.ttft_ms, current.total_ms = event.ttft_ms, event.total_ms
            tally.api_reported = tally.api_reported or event.api_input_tokens is not None
            tally.cost_usd += event.cost_usd
        elif isinstance(event, RunError):
            tally.errors += 1
        elif isinstance(event, RunFinished):
            tally.status = event.stop_reason
            tally.success = event.success
            tally.judged, tally.comparable_run = event.judged, event.comparable
            # A round whose reply never completed is not counted (the pane says so).
            tally.rounds = [r for r in tally.rounds if r.finished]
            if not tally.cost_usd:
                tally.cost_usd = event.cost_usd
        else:  # text, tool calls and results, programs: the counts arrive with ``Usage``
            return new
        return True

    @property
    def baseline(self) -> ModeTally | None:
        return self.modes.get(BASELINE.id)

    def savings_of(self, mode: str) -> float | None:
        """What ``mode`` saves over the baseline so far, as a fraction (negative: it costs
        more); None for the baseline itself or before both have tokens."""
        base, other = self.baseline, self.modes.get(mode)
        if base is None or other is None or other is base or not base.total or not other.total:
            return None
        return 1.0 - other.total / base.total

    def comparable(self, mode: str) -> bool:
        """Savings of ``mode`` stand for something: neither run failed or was cut short."""
        base, other = self.baseline, self.modes.get(mode)
        for t in (base, other):
            if t is None or not t.comparable_run:
                return False
            if t.finished and (t.status in UNFINISHED or t.success is False):
                return False
        return True

    @property
    def headline(self) -> str | None:
        """The mode whose savings are the big number: the first raced mode that has some."""
        return next((m for m in self.modes if self.savings_of(m) is not None), None)

    @property
    def savings(self) -> float | None:
        """The headline mode's savings (see ``headline``); None once a run of the pair failed
        or was stopped: the big number never shows savings the bench would not count."""
        head = self.headline
        if head is None or not self.comparable(head):
            return None
        return self.savings_of(head)

    @property
    def largest_round(self) -> int:
        return max((r.total for t in self.modes.values() for r in t.rounds), default=0)

    @property
    def largest_cumulative(self) -> int:
        return max((c[-1] for t in self.modes.values() if (c := t.cumulative_input())),
                   default=0)
