"""The headless bench: the article's table, measured on our tasks, from the same events.

``run_bench`` runs one ``Race`` per task and repeat (every chosen mode at once, as the app does)
and reads only the ``RunFinished`` events; ``engine.bench_render`` prints the result. Tokens are
the whole run's, input plus output, summed over its rounds: the API's own figures when the
provider reports them (every round), else the local Tekken count.

Savings are computed for each mode against the baseline mode (``engine.modes.BASELINE``, tool
calling), **only over pairs in which both runs succeeded** (repeat *i* of the baseline with
repeat *i* of the mode) and are comparable: a run that failed or errored at 0 tokens must not
read as "100% saved", nor a CodeAct run whose system prompt hid the API
(``engine.prompt_checks``). Where no pair qualifies the savings are null with the reason.

The bench races the bundled prompts unless asked (``RunConfig.prompts``; the command's
``--use-saved-prompts``), so an edit saved in the prompt editor never changes it silently.

``--format json`` prints this document (schema ``codeact-explorer/bench/2``; within a schema
keys are only ever added, never renamed or removed)::

    {
      "schema": "codeact-explorer/bench/2",
      "provider": "scripted", "model": "scripted-reference", "scripted": true,
      "local_counts": "reference",  # the provider's: "exact" | "approximate" | "reference"
      "repeat": 1, "parallel_tool_calls": false, "wall_seconds": 3.1,
      "modes": ["tool_calling", "codeact"], "baseline": "tool_calling",
      "prompts": "defaults" | "saved" | "custom",  # bench ignores saved prompt edits unless
                                                   # --use-saved-prompts
      "tasks": [
        {"id": "...", "title": "...", "seed": true,      # one of the article's five tasks
         "prompts": {"overridden": ["codeact_system"], "fingerprint": "06c3d7c614a5"},
                    # the prompts that differ from the bundled ones, and a hash of all of them
         "runs": {
           "tool_calling": {"tokens": 60123, "input_tokens": 60000, "output_tokens": 123,
                            "token_source": "local" | "api", "local_tokens": 60123,
                            "rounds": 4.0, "success": true,
                            "successes": 1, "runs": 1, "stop_reasons": ["answered"],
                            "not_judged": 0,      # runs played for another task prompt
                            "not_comparable": 0,  # runs whose prompt hid the tools
                            "model_seconds": 9.0, # the model's own time per run
                            "cost_usd": 0.0061, "seconds": 0.4,
                            "first_round_input_tokens": 18500,
                            "breakdown": {"system": 0, "tools": 0, "task": 0, "assistant": 0,
                                          "results": 0},
                            "verdict": []},          # the checker's reasons when it failed
           "codeact": {... same keys ...}},
         "savings": {"codeact": {"value": 0.912, "pairs": 1, "why": null}},
                      # value: 1 - mode/baseline tokens over the successful pairs, or null
                      # with "why" ("tool calling failed", ...)
         "article": {"tool_calling_tokens": 51932, "codeact_tokens": 4323, "savings": 0.917,
                     "rounds": [4, 1]} | null}       # the article's own figures, seed tasks
      ],
      "averages": {
        "tasks": 5,
        "modes": {"tool_calling": {"tokens": 68000.0, "rounds": 5.0, "successes": 5,
                                   "first_round_input_tokens": 18500.0,
                                   "run_successes": 5, "runs": 5,   # over runs (--repeat)
                                   "model_seconds": 9.0}, ...},
        "savings": {"codeact": {"value": 0.91, "pairs": 5, "of": 5}}},
                    # the mean of the per-task savings over the tasks whose pair succeeded
      "article_averages": {"tool_calling_tokens": 68809.8, "codeact_tokens": 4535.8,
                           "savings": 0.912} | null
    }

Numbers are means over the repeats (tokens rounded to integers). "rounds" counts model requests
(a CodeAct run is normally one program, then the answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from engine.agents.codeact import SandboxFactory, prepare_sandbox
from engine.controller import Race
from engine.events import TOKEN_SOURCES, RoundStarted, RunError, RunFinished, RunStarted
from engine.modes import BASELINE, DEFAULT_RACE, mode
from engine.modes import label as mode_label
from engine.providers import PROVIDERS
from engine.run import RunConfig
from tasks.suite import Task
from wasm_sandbox.errors import SandboxError

# Runs in a row that could not connect (each after its own short retry window) before the
# bench stops: a server that is down stays down for the next task, and each further run would
# only print the same sentence again.
STOP_AFTER_UNREACHABLE = 2
SCHEMA = "codeact-explorer/bench/2"

# The article's table (Mistral Small, free tier), in its order; matched to our seed tasks.
ARTICLE_ROWS: tuple[tuple[str, int, int, int, int], ...] = (
    ("Find user + get team info", 51_932, 4_323, 4, 1),
    ("Find tasks + add comments", 52_663, 4_513, 4, 1),
    ("Create project + milestone + tasks", 27_012, 4_649, 2, 1),
    ("Aggregate data across projects", 146_073, 4_579, 10, 1),
    ("Search bugs + notify assignees", 66_369, 4_615, 5, 1),
)
# The bundled seed tasks that are the article's rows.
ARTICLE_TASK_IDS = ("user-team-info", "comment-review-tasks", "create-project",
                    "aggregate-projects", "notify-bug-assignees")


@dataclass
class ModeStats:
    """One mode of one task, over the repeats."""

    runs: list[RunFinished] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    first_round_input: list[int] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)  # RunStarted.prompts

    @staticmethod
    def total(run: RunFinished) -> int:
        """The run's tokens, input plus output (the API's when it reported them)."""
        i, o, _ = ModeStats.tokens_of(run)
        return i + o

    @staticmethod
    def tokens_of(run: RunFinished) -> tuple[int, int, str]:
        if run.api_input_tokens is not None and run.api_output_tokens is not None:
            return run.api_input_tokens, run.api_output_tokens, "api"
        return run.input_tokens, run.output_tokens, "local"

    def mean(self, values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    def to_dict(self) -> dict[str, Any]:
        ins, outs, sources = zip(*(self.tokens_of(r) for r in self.runs), strict=True) if (
            self.runs) else ((), (), ())
        breakdown = {s: round(self.mean([r.breakdown.get(s, 0) for r in self.runs]))
                     for s in TOKEN_SOURCES}
        return {
            "tokens": round(self.mean([i + o for i, o in zip(ins, outs, strict=True)])),
            "input_tokens": round(self.mean(ins)),
            "output_tokens": round(self.mean(outs)),
            "token_source": "api" if sources and all(s == "api" for s in sources) else "local",
            # Our own Tekken count, always: beside the API's figures it shows the difference.
            "local_tokens": round(self.mean([r.input_tokens + r.output_tokens
                                             for r in self.runs])),
            "rounds": round(self.mean([r.rounds for r in self.runs]), 2),
            "success": bool(self.runs) and all(r.success for r in self.runs),
            "successes": sum(1 for r in self.runs if r.success),
            "runs": len(self.runs),
            # Runs a provider that does not read prompts played for another task prompt, and
            # runs whose system prompt hid the tools (engine.prompt_checks).
            "not_judged": sum(1 for r in self.runs if not r.judged),
            "not_comparable": sum(1 for r in self.runs if not r.comparable),
            # The model's own time per run (s): modeled, recorded or measured (Usage events).
            "model_seconds": round(self.mean([r.model_ms for r in self.runs]) / 1000, 3),
            "stop_reasons": [r.stop_reason for r in self.runs],
            "cost_usd": round(self.mean([r.cost_usd for r in self.runs]), 6),
            "seconds": round(self.mean(self.seconds), 3),
            "first_round_input_tokens": round(self.mean(self.first_round_input)),
            "breakdown": breakdown,
            "verdict": self.runs[-1].verdict if self.runs and not self.runs[-1].success else [],
        }


@dataclass
class TaskResult:
    task: Task
    modes: dict[str, ModeStats]
    article: tuple[str, int, int, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        article = None
        if self.article:
            _, at, ac, rt, rc = self.article
            article = {"tool_calling_tokens": at, "codeact_tokens": ac,
                       "savings": round(1 - ac / at, 4), "rounds": [rt, rc]}
        return {"id": self.task.id, "title": self.task.title,
                "seed": self.task.article,
                "prompts": self.prompts(),
                "runs": {m: s.to_dict() for m, s in self.modes.items()},
                "savings": {m: self.savings(m) for m in self.modes if m != BASELINE.id
                            and BASELINE.id in self.modes},
                "article": article}

    def prompts(self) -> dict[str, Any]:
        """The prompts this task was raced with: the names that differ from the bundled
        defaults and the hash of all of them (``PromptSet.fingerprint``), from ``RunStarted``."""
        seen = [p for stats in self.modes.values() for p in stats.prompts]
        overridden = sorted({name for p in seen
                             for name in str(p.get("overridden") or "").split(",") if name})
        prints = sorted({str(p.get("fingerprint")) for p in seen if p.get("fingerprint")})
        return {"overridden": overridden, "fingerprint": ",".join(prints) or None}

    def savings(self, mode_id: str) -> dict[str, Any]:
        """``mode_id`` against the baseline over the pairs in which both runs succeeded and
        are comparable: ``{"value": 0.91 | None, "pairs": n, "why": None | "one sentence"}``."""
        base, other = self.modes[BASELINE.id].runs, self.modes[mode_id].runs
        pairs = [(b, o) for b, o in zip(base, other, strict=False) if b.success and o.success]
        hidden = [(b, o) for b, o in pairs if not (b.comparable and o.comparable)]
        pairs = [pair for pair in pairs if pair not in hidden]
        if hidden and not pairs:
            return {"value": None, "pairs": 0, "why": "not comparable: a system prompt does "
                                                      "not show the model its tools"}
        if not pairs and any(not r.judged for r in (*base, *other)):
            return {"value": None, "pairs": 0, "why": "not judged: the provider does not read "
                                                      "the edited task prompt"}
        if not pairs:
            failed = [mode_label(m) for m, runs in ((BASELINE.id, base), (mode_id, other))
                      if not runs or not all(r.success for r in runs)]
            why = (f"{' and '.join(failed)} failed" if failed else "no run") + "; no savings"
            return {"value": None, "pairs": 0, "why": why}
        b_tokens = sum(ModeStats.total(b) for b, _ in pairs)
        o_tokens = sum(ModeStats.total(o) for _, o in pairs)
        value = 1 - o_tokens / b_tokens if b_tokens else None
        return {"value": value, "pairs": len(pairs),
                "why": None if value is not None else "the baseline used no tokens"}


@dataclass
class BenchReport:
    config: RunConfig
    provider: str
    model: str
    scripted: bool
    repeat: int
    results: list[TaskResult]
    wall_seconds: float
    modes: tuple[str, ...] = DEFAULT_RACE
    # Set when the bench stopped early because the server could not be reached: one sentence.
    stopped: str | None = None

    @property
    def prompt_source(self) -> str:
        if self.config.prompts is None:
            return "saved"
        return "defaults" if not self.config.prompts.overridden() else "custom"

    def to_dict(self) -> dict[str, Any]:
        tasks = [r.to_dict() for r in self.results]
        return {
            "schema": SCHEMA, "provider": self.provider, "model": self.model,
            "local_counts": _local_counts(self.provider),
            "scripted": self.scripted, "repeat": self.repeat, "modes": list(self.modes),
            # "defaults": the bundled prompts; "saved": the prompt editor's saved overrides
            # (--use-saved-prompts); "custom": a PromptSet given by the caller.
            "prompts": self.prompt_source,
            "baseline": BASELINE.id,
            "parallel_tool_calls": self.config.parallel_tool_calls,
            "wall_seconds": round(self.wall_seconds, 3), "tasks": tasks,
            "averages": _averages(tasks, self.modes), "article_averages": _article_averages(tasks),
        }


def _local_counts(provider: str) -> str | None:
    """How the local Tekken count relates to the model's (``ProviderSpec.local_counts``)."""
    spec = PROVIDERS.get(provider)
    return spec.local_counts if spec else None


def _averages(tasks: list[dict[str, Any]], modes: Sequence[str]) -> dict[str, Any]:
    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    out: dict[str, Any] = {"tasks": len(tasks), "modes": {}, "savings": {}}
    for m in modes:
        present = [t["runs"][m] for t in tasks if m in t["runs"]]
        out["modes"][m] = {
            "tokens": mean([r["tokens"] for r in present]),
            "rounds": mean([r["rounds"] for r in present]),
            "first_round_input_tokens": mean([r["first_round_input_tokens"] for r in present]),
            "successes": sum(1 for r in present if r["success"]),
            # Over runs, as the rows count them with --repeat (successes counts tasks).
            "run_successes": sum(r["successes"] for r in present),
            "runs": sum(r["runs"] for r in present),
            "model_seconds": mean([r["model_seconds"] for r in present]),
        }
        if m == BASELINE.id or BASELINE.id not in modes:
            continue
        values = [t["savings"][m]["value"] for t in tasks
                  if t["savings"].get(m, {}).get("value") is not None]
        out["savings"][m] = {"value": mean(values), "pairs": len(values), "of": len(tasks)}
    return out


def _article_averages(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    rows = [t["article"] for t in tasks if t.get("article")]
    if not rows:
        return None
    n = len(rows)
    return {"tool_calling_tokens": round(sum(r["tool_calling_tokens"] for r in rows) / n, 1),
            "codeact_tokens": round(sum(r["codeact_tokens"] for r in rows) / n, 1),
            "savings": round(sum(r["savings"] for r in rows) / n, 4)}


def article_row(task: Task, seed_tasks: Sequence[Task]) -> tuple[str, int, int, int, int] | None:
    """The article's figures for a seed task: by its id, else by its place among the seed."""
    if task.id in ARTICLE_TASK_IDS:
        return ARTICLE_ROWS[ARTICLE_TASK_IDS.index(task.id)]
    if not task.article:
        return None
    seeds = [t.id for t in seed_tasks if getattr(t, "article", False)]
    index = seeds.index(task.id) if task.id in seeds else -1
    return ARTICLE_ROWS[index] if 0 <= index < len(ARTICLE_ROWS) else None


Progress = Callable[[str, int, int], None]  # (what is running, done, total)


def _prepare_sandbox(progress: Progress | None, total: int) -> None:
    """Build the sandbox's compiled-module cache now (``engine.agents.codeact.prepare_sandbox``),
    saying so through ``progress`` when it compiles. A sandbox that cannot be set up is left to
    each CodeAct run, which ends in its one sentence as before."""
    def compiling() -> None:
        if progress is not None:
            progress("preparing the sandbox (compiling the interpreter, once)", 0, total)

    with contextlib.suppress(SandboxError, OSError):
        prepare_sandbox(on_compile=compiling)


async def run_bench(
    tasks: Sequence[Task],
    config: RunConfig,
    *,
    repeat: int = 1,
    modes: Sequence[str] = DEFAULT_RACE,
    progress: Progress | None = None,
    replay_paths: dict[str, str] | None = None,
    sandbox_factory: SandboxFactory | None = None,
) -> BenchReport:
    """Run every task ``repeat`` times in each of ``modes`` (ids of ``engine.modes``, raced
    together); the report of what the races did. ``UnknownModeError`` for an unknown mode.

    The sandbox's one-time set-up (compiling the interpreter on a fresh install: seconds) is
    done before the clock starts, so no run's time and not the wall time include it."""
    modes = tuple(mode(m).id for m in dict.fromkeys(modes))
    results = [TaskResult(t, {m: ModeStats() for m in modes}, article_row(t, tasks))
               for t in tasks]
    total, done = len(tasks) * repeat, 0
    if sandbox_factory is None and any(mode(m).needs_sandbox for m in modes):
        await asyncio.to_thread(_prepare_sandbox, progress, total)
    started = time.monotonic()
    provider, model, scripted = config.provider, config.model or "", False
    unreachable = 0  # runs in a row that could not connect to the server
    stopped: str | None = None
    for result in results:
        if stopped:
            break
        task_config = config
        if replay_paths is not None:
            task_config = replace(config, replay_path=replay_paths[result.task.id])
        for _ in range(repeat):
            if progress:
                progress(f"racing {result.task.id}", done, total)
            race = Race(result.task, tuple(modes), task_config, sandbox_factory=sandbox_factory)
            t0 = time.monotonic()
            refused: list[RunError] = []
            async for event in race.events():
                if isinstance(event, RunError) and event.fatal and event.kind == "network":
                    refused.append(event)
                if isinstance(event, RunStarted):
                    model, scripted = event.model, event.scripted
                    result.modes[event.mode].prompts.append(dict(event.prompts))
                if isinstance(event, RoundStarted) and event.round == 1:
                    result.modes[event.mode].first_round_input.append(event.input_tokens)
                if isinstance(event, RunFinished):
                    stats = result.modes[event.mode]
                    stats.runs.append(event)
                    stats.seconds.append(time.monotonic() - t0)
            done += 1
            unreachable = unreachable + len(refused) if len(refused) == len(modes) else 0
            if unreachable >= STOP_AFTER_UNREACHABLE:
                stopped = (f"{refused[-1].message.rstrip('.')} (the bench stopped after "
                           f"{unreachable} runs in a row failed to connect).")
                break
    if progress:
        progress("", done, total)
    return BenchReport(config, provider, model, scripted, repeat, results,
                       time.monotonic() - started, modes, stopped)
