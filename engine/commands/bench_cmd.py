"""`bench`: race both agents on tasks headlessly and print the article's comparison table.

Runs the same ``engine.controller.Race`` as the app (one per task and repeat) and prints, per
task: tool-calling tokens, CodeAct tokens, savings, rounds (tool -> CodeAct) and success, with
averages and the article's own figures beside ours for its five tasks. ``--format json`` is the
stable document described in ``engine.bench``. Exit status 1 when a run ended with an error
(a provider or sandbox failure), not when an agent merely failed its task.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from engine.bench_render import FORMATS
from engine.providers import PROVIDERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="run tasks in both modes and print the token comparison table",
        description="Race a tool-calling agent against a CodeAct agent on each task and print "
                    "tokens, savings, rounds and success, beside the article's figures.")
    p.add_argument("--provider", choices=PROVIDERS, default="scripted",
                   help="scripted (offline reference agent, default), mistral (live; needs "
                        "MISTRAL_API_KEY) or replay (the newest recorded run of each task)")
    p.add_argument("--model", default=None, help="model name (mistral default: "
                                                 "mistral-small-latest)")
    p.add_argument("--tasks", default="seed", metavar="ID,...|seed|all",
                   help="task ids separated by commas, 'seed' (the article's five, default) "
                        "or 'all'")
    p.add_argument("--task-file", type=Path, default=None,
                   help="a TOML file of your own tasks (they join the bundled ones)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="runs per task and mode (the table shows means)")
    p.add_argument("--parallel-tool-calls", action="store_true",
                   help="let the tool-calling agent ask for several calls per round")
    p.add_argument("--max-rounds", type=int, default=None, metavar="N",
                   help="round limit per run (default: each task's own, 10 as in the article)")
    p.add_argument("--pace", type=float, default=0.0,
                   help="seconds between streamed chunks (scripted/replay; default 0)")
    p.add_argument("--format", choices=FORMATS, default="table", dest="fmt")
    p.add_argument("--output", type=Path, default=None, help="write to FILE instead of stdout")
    p.add_argument("--breakdown", action="store_true",
                   help="also show where the input tokens went, by source")
    p.add_argument("--no-record", action="store_true",
                   help="do not write run records (they are what --provider replay plays)")
    p.set_defaults(func=run)


def select_tasks(spec: str, task_file: Path | None) -> list[Any]:
    """The tasks named by ``--tasks`` (raises ``UserError`` naming what is wrong)."""
    from engine.cli import UserError
    from tasks.suite import TaskFileError, load_tasks

    try:
        everything = load_tasks()
        if task_file is not None:
            everything += load_tasks(task_file)
    except (TaskFileError, OSError) as exc:
        raise UserError(str(exc)) from exc
    key = spec.strip().lower()
    if key == "all":
        return everything
    if key == "seed":
        return [t for t in everything if t.article]
    by_id = {t.id: t for t in everything}
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in by_id]
    if unknown or not wanted:
        raise UserError(f"Unknown task {', '.join(map(repr, unknown)) or repr(spec)}; "
                        "`codeact-explorer tasks` lists the task ids.")
    return [by_id[s] for s in wanted]


def _replay_paths(tasks: list[Any]) -> dict[str, str]:
    from engine.cli import UserError
    from engine.records import list_runs

    newest: dict[str, str] = {}
    for run in list_runs():  # newest first
        if (run.readable and run.provider != "replay" and set(run.modes) >= {"tool_calling",
                                                                            "codeact"}):
            newest.setdefault(run.task_id, run.run_id)
    missing = [t.id for t in tasks if t.id not in newest]
    if missing:
        raise UserError(f"No recorded race of {', '.join(missing)} to replay; run the bench "
                        "or the app with another provider first.")
    return {t.id: newest[t.id] for t in tasks}


def _check_provider(config: Any, task: Any) -> None:
    from engine.cli import UserError
    from engine.providers import ProviderError, make_provider

    if config.provider != "mistral":
        return
    try:
        make_provider("mistral", task=task, mode="codeact", model=config.model)
    except ProviderError as exc:
        raise UserError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    from engine.bench import run_bench
    from engine.bench_render import render
    from engine.cli import UserError
    from engine.run import RunConfig

    if args.repeat < 1:
        raise UserError("--repeat must be at least 1.")
    if args.max_rounds is not None and args.max_rounds < 1:
        raise UserError("--max-rounds must be at least 1.")
    tasks = select_tasks(args.tasks, args.task_file)
    if not tasks:
        raise UserError("No tasks to run; `codeact-explorer tasks` lists them.")
    config = RunConfig(provider=args.provider, model=args.model, pace=max(0.0, args.pace),
                       parallel_tool_calls=args.parallel_tool_calls, record=not args.no_record,
                       max_rounds=args.max_rounds)
    _check_provider(config, tasks[0])
    replay = _replay_paths(tasks) if args.provider == "replay" else None
    with _progress(len(tasks) * args.repeat) as progress:
        report = asyncio.run(run_bench(tasks, config, repeat=args.repeat, progress=progress,
                                       replay_paths=replay))
    data = report.to_dict()
    text = render(data, args.fmt, breakdown=args.breakdown)
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"Cannot write {args.output}: {exc.strerror or exc}.") from exc
        print(f"Wrote {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    errors = [r for t in report.results for s in t.modes.values() for r in s.runs
              if r.stop_reason == "error"]
    return 1 if errors else 0


class _progress:
    """A rich progress bar on stderr when it is a terminal; nothing when piped or captured."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("bench", total=self.total)
        return self.update

    def update(self, what: str, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total,
                         description=f"racing {what}" if what else "done")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
