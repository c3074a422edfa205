"""The headless bench: the article's table, measured on our tasks, from the same events.

``run_bench`` runs one ``Race`` per task and repeat (both modes at once, as the app does) and
reads only the ``RunFinished`` events; ``render`` prints the result. Tokens are the whole run's,
input plus output, summed over its rounds: the API's own figures when the provider reports them
(every round), else the local Tekken count.

``--format json`` prints this document (schema ``codeact-explorer/bench/1``; keys are only ever
added, never renamed or removed)::

    {
      "schema": "codeact-explorer/bench/1",
      "provider": "scripted", "model": "scripted-reference", "scripted": true,
      "repeat": 1, "parallel_tool_calls": false, "wall_seconds": 3.1,
      "tasks": [
        {"id": "...", "title": "...", "seed": true,      # one of the article's five tasks
         "tool_calling": {"tokens": 60123, "input_tokens": 60000, "output_tokens": 123,
                          "token_source": "local" | "api", "local_tokens": 60123,
                          "rounds": 4.0, "success": true,
                          "successes": 1, "runs": 1, "stop_reasons": ["answered"],
                          "cost_usd": 0.0061, "seconds": 0.4,
                          "breakdown": {"system": 0, "tools": 0, "task": 0, "assistant": 0,
                                        "results": 0},
                          "verdict": []},           # the checker's reasons when it failed
         "codeact": {... same keys ...},
         "savings": 0.912,                      # 1 - codeact/tool_calling tokens, or null
         "article": {"tool_calling_tokens": 51932, "codeact_tokens": 4323, "savings": 0.917,
                     "rounds": [4, 1]} | null}  # the article's own figures, seed tasks only
      ],
      "averages": {"tool_calling_tokens": 68000.0, "codeact_tokens": 4500.0, "savings": 0.91,
                   "tool_calling_rounds": 5.0, "codeact_rounds": 2.0,
                   "successes": {"tool_calling": 5, "codeact": 5}, "tasks": 5},
      "article_averages": {"tool_calling_tokens": 68809.8, "codeact_tokens": 4535.8,
                           "savings": 0.912} | null
    }

Numbers are means over the repeats (tokens rounded to integers). Token counts are per task and
mode; "rounds" counts model requests (a CodeAct run is normally one program, then the answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from engine.controller import Race
from engine.events import MODES, TOKEN_SOURCES, RunFinished
from engine.run import RunConfig

SCHEMA = "codeact-explorer/bench/1"

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
            "stop_reasons": [r.stop_reason for r in self.runs],
            "cost_usd": round(self.mean([r.cost_usd for r in self.runs]), 6),
            "seconds": round(self.mean(self.seconds), 3),
            "breakdown": breakdown,
            "verdict": self.runs[-1].verdict if self.runs and not self.runs[-1].success else [],
        }


@dataclass
class TaskResult:
    task: Any
    modes: dict[str, ModeStats]
    article: tuple[str, int, int, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        modes = {m: s.to_dict() for m, s in self.modes.items()}
        tool, code = modes.get("tool_calling"), modes.get("codeact")
        savings = None
        if tool and code and tool["tokens"]:
            savings = round(1 - code["tokens"] / tool["tokens"], 4)
        article = None
        if self.article:
            _, at, ac, rt, rc = self.article
            article = {"tool_calling_tokens": at, "codeact_tokens": ac,
                       "savings": round(1 - ac / at, 4), "rounds": [rt, rc]}
        return {"id": self.task.id, "title": self.task.title,
                "seed": bool(getattr(self.task, "article", False)), **modes,
                "savings": savings, "article": article}


@dataclass
class BenchReport:
    config: RunConfig
    provider: str
    model: str
    scripted: bool
    repeat: int
    results: list[TaskResult]
    wall_seconds: float

    def to_dict(self) -> dict[str, Any]:
        tasks = [r.to_dict() for r in self.results]
        return {
            "schema": SCHEMA, "provider": self.provider, "model": self.model,
            "scripted": self.scripted, "repeat": self.repeat,
            "parallel_tool_calls": self.config.parallel_tool_calls,
            "wall_seconds": round(self.wall_seconds, 3), "tasks": tasks,
            "averages": _averages(tasks), "article_averages": _article_averages(tasks),
        }


def _averages(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    both = [t for t in tasks if "tool_calling" in t and "codeact" in t]
    out: dict[str, Any] = {"tasks": len(tasks), "successes": {}}
    for mode in MODES:
        present = [t[mode] for t in tasks if mode in t]
        out[f"{mode}_tokens"] = mean([m["tokens"] for m in present])
        out[f"{mode}_rounds"] = mean([m["rounds"] for m in present])
        out["successes"][mode] = sum(1 for m in present if m["success"])
    out["savings"] = mean([t["savings"] for t in both if t["savings"] is not None])
    return out


def _article_averages(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    rows = [t["article"] for t in tasks if t.get("article")]
    if not rows:
        return None
    n = len(rows)
    return {"tool_calling_tokens": round(sum(r["tool_calling_tokens"] for r in rows) / n, 1),
            "codeact_tokens": round(sum(r["codeact_tokens"] for r in rows) / n, 1),
            "savings": round(sum(r["savings"] for r in rows) / n, 4)}


def article_row(task: Any, seed_tasks: Sequence[Any]) -> tuple[str, int, int, int, int] | None:
    """The article's figures for a seed task: by its id, else by its place among the seed."""
    if task.id in ARTICLE_TASK_IDS:
        return ARTICLE_ROWS[ARTICLE_TASK_IDS.index(task.id)]
    if not getattr(task, "article", False):
        return None
    seeds = [t.id for t in seed_tasks if getattr(t, "article", False)]
    index = seeds.index(task.id) if task.id in seeds else -1
    return ARTICLE_ROWS[index] if 0 <= index < len(ARTICLE_ROWS) else None


Progress = Callable[[str, int, int], None]  # (what is running, done, total)


async def run_bench(
    tasks: Sequence[Any],
    config: RunConfig,
    *,
    repeat: int = 1,
    modes: Sequence[str] = MODES,
    progress: Progress | None = None,
    replay_paths: dict[str, str] | None = None,
    sandbox_factory: Callable[..., Any] | None = None,
) -> BenchReport:
    """Run every task ``repeat`` times in both modes; the report of what the races did."""
    started = time.monotonic()
    results = [TaskResult(t, {m: ModeStats() for m in modes}, article_row(t, tasks))
               for t in tasks]
    total, done = len(tasks) * repeat, 0
    provider, model, scripted = config.provider, config.model or "", config.provider != "mistral"
    for result in results:
        task_config = config
        if replay_paths is not None:
            task_config = replace(config, replay_path=replay_paths[result.task.id])
        for _ in range(repeat):
            if progress:
                progress(result.task.id, done, total)
            race = Race(result.task, tuple(modes), task_config, sandbox_factory=sandbox_factory)
            t0 = time.monotonic()
            async for event in race.events():
                if event.type == "run_started":
                    model, scripted = event.model, event.scripted
                if isinstance(event, RunFinished):
                    stats = result.modes[event.mode]
                    stats.runs.append(event)
                    stats.seconds.append(time.monotonic() - t0)
            done += 1
    if progress:
        progress("", done, total)
    return BenchReport(config, provider, model, scripted, repeat, results,
                       time.monotonic() - started)
