"""`bench`: race agents on tasks headlessly and print the article's comparison table.

Runs the same ``engine.controller.Race`` as the app (one per task and repeat, every chosen mode
at once) and prints, per task: each mode's tokens, savings against the baseline (tool calling;
only where both runs succeeded), rounds and success, with averages and the article's own
figures beside ours for its five tasks. ``--format json`` is the stable document described in
``engine.bench``.

Exit status (one rule): 0 when every run succeeded; 1 when any run failed its task or ended
with an error (the table is still printed, and says which and why; when runs in a row cannot
reach the server, the bench stops and says so in one sentence instead); 2 for a usage error (a
bad flag, an unknown task or mode, a missing key, nothing to replay).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.bench import run_bench
from engine.bench_render import FORMATS, render
from engine.errors import UserError
from engine.flags import add_server_flags
from engine.modes import DEFAULT_RACE, MODES, UnknownModeError, parse_modes
from engine.prompts import PromptSet
from engine.providers import PROVIDER_NAMES, PROVIDERS, provider_spec
from engine.providers.latency import check_pace
from engine.providers.transport import parse_rate
from engine.records import list_runs
from engine.run import RunConfig
from engine.settings import paths
from engine.toolboxes import TOOL_SOURCES, ToolSourceError, ToolSourceSpec, mcp_source
from tasks.suite import Task, TaskCatalog, TaskFileError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="race the modes on tasks and print the token comparison table",
        description="Race a tool-calling agent against CodeAct agents on each task and print "
                    "tokens, savings, rounds and success, beside the article's figures. Exit "
                    "status: 0 every run succeeded, 1 a run failed or errored, 2 usage error.")
    p.add_argument("--provider", choices=PROVIDER_NAMES, default="scripted",
                   help="; ".join(f"{s.name}: {s.description}" for s in PROVIDERS.values()))
    p.add_argument("--modes", default=",".join(DEFAULT_RACE), metavar="ID,...|all",
                   help="the modes to race, by id ("
                        + "; ".join(f"{m.id}: {m.description}" for m in MODES)
                        + f"); default {','.join(DEFAULT_RACE)}, 'all' for every mode")
    p.add_argument("--replay", default=None, metavar="RUN",
                   help="with --provider replay: the recorded race to play (a run id from "
                        "`codeact-explorer runs`); default: the newest successful recording "
                        "of each task")
    p.add_argument("--model", default=None, help="model name (mistral default: "
                                                 "mistral-small-latest)")
    add_server_flags(p)
    p.add_argument("--tasks", default=None, metavar="ID,...|seed|all",
                   help="task ids separated by commas, 'seed' (the article's five) or 'all'; "
                        "default: the --task-file's own tasks when one is given, else 'seed'")
    p.add_argument("--task-file", type=Path, default=None,
                   help="a TOML file of your own tasks (they join the bundled ones)")
    p.add_argument("--tools", default=None, metavar="SOURCE", choices=list(TOOL_SOURCES),
                   help="race on this tool source's own tasks ("
                        + "; ".join(f"{s.id}: {s.description}" for s in TOOL_SOURCES.values())
                        + ")")
    mcp = p.add_mutually_exclusive_group()
    mcp.add_argument("--mcp", default=None, metavar="COMMAND",
                     help="run the chosen tasks on this stdio MCP server instead of their own "
                          "tool source (a fresh server per run)")
    mcp.add_argument("--mcp-url", default=None, metavar="URL",
                     help="run the chosen tasks on this streamable-HTTP MCP server")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="runs per task and mode (the table shows means)")
    p.add_argument("--parallel-tool-calls", action="store_true",
                   help="let the tool-calling agent ask for several calls per round")
    p.add_argument("--max-rounds", type=int, default=None, metavar="N",
                   help="round limit per run (default: each task's own, 10 as in the article)")
    p.add_argument("--pace", type=float, default=0.0, metavar="SCALE",
                   help="scripted/replay playback time scale: 1 = the model's real speed "
                        "(its latency model or the recording), 0.5 = twice as fast, "
                        "0 = instant (default)")
    p.add_argument("--format", choices=FORMATS, default="table", dest="fmt")
    p.add_argument("--output", type=Path, default=None, help="write to FILE instead of stdout")
    p.add_argument("--breakdown", action="store_true",
                   help="also show where the input tokens went, by source")
    p.add_argument("--no-record", action="store_true",
                   help="do not write run records (they are what --provider replay plays)")
    p.add_argument("--use-saved-prompts", action="store_true",
                   help="race with the prompts saved in the prompt editor (default: the "
                        "bundled prompts, so saved edits never change the bench unasked; the "
                        "output says which prompts were overridden, with a hash)")
    p.set_defaults(func=run)


def parse_rate_flag(text: str) -> float | str | None:
    """``--rate`` as ``RunConfig.rate`` takes it; ``UserError`` with one sentence if invalid."""
    if text == "default":
        return "default"
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def select_tasks(spec: str | None, task_file: Path | None,
                 source: ToolSourceSpec | None = None) -> list[Task]:
    """The tasks named by ``--tasks`` (raises ``UserError`` naming what is wrong); with a tool
    source that has tasks of its own, among those ("seed" then means all of them). ``spec``
    None (no ``--tasks``): the tasks of ``task_file`` when it is given, else "seed"."""
    own = source.tasks if source is not None else None
    try:
        catalog = TaskCatalog.load(task_file, base=own)
    except TaskFileError as exc:
        raise UserError(str(exc)) from exc
    everything = list(catalog)
    if spec is None:
        mine = [t for t in everything if task_file is not None and t.source
                and Path(t.source).resolve() == task_file.resolve()]
        if mine:
            return mine
        spec = "seed"
    key = spec.strip().lower()
    if key == "all" or (key == "seed" and own is not None):
        return everything
    if key == "seed":
        return [t for t in everything if t.article]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in catalog.ids()]
    if unknown or not wanted:
        raise UserError(f"Unknown task {', '.join(map(repr, unknown)) or repr(spec)}; "
                        "`codeact-explorer tasks` lists the task ids.")
    return [catalog.get(s) for s in wanted]


def _replay_paths(tasks: list[Any], modes: tuple[str, ...],
                  chosen: str | None) -> dict[str, str]:
    """Per task, the recorded race to replay: ``chosen`` (one task), else the newest recording
    in which every run of ``modes`` succeeded, all from one provider (never a replay, never a
    failed run silently). Raises ``UserError`` naming what is missing."""
    runs = [r for r in list_runs() if r.readable]  # newest first
    if chosen is not None:
        matches = [r for r in runs if r.run_id == chosen or r.run_id.startswith(chosen)]
        if len(matches) != 1 or len(tasks) != 1 or matches[0].task_id != tasks[0].id:
            raise UserError(f"--replay {chosen} must name one recorded race of the task being "
                            "run (give --tasks that task); `codeact-explorer runs` lists them.")
        return {tasks[0].id: matches[0].run_id}
    newest: dict[str, Any] = {}
    for run in runs:
        source = PROVIDERS.get(run.provider)
        if (source is None or source.replays or run.task_id in newest
                or not set(run.modes) >= set(modes)
                or not all(run.success.get(m) for m in modes)):
            continue
        newest[run.task_id] = run
    missing = [t.id for t in tasks if t.id not in newest]
    if missing:
        raise UserError(f"No successful recorded race of {', '.join(missing)} in modes "
                        f"{','.join(modes)} to replay; run the bench or the app with another "
                        "provider first (or pick one with --replay RUN).")
    providers = {newest[t.id].provider for t in tasks}
    if len(providers) > 1:
        raise UserError("The newest successful recordings come from different providers ("
                        f"{', '.join(sorted(providers))}); pick one race with --replay RUN.")
    return {t.id: newest[t.id].run_id for t in tasks}


def _check_provider(name: str, server_url: str | None) -> None:
    missing = provider_spec(name).missing(server_url)
    if missing:
        raise UserError(missing)


def run(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise UserError("--repeat must be at least 1.")
    if args.max_rounds is not None and args.max_rounds < 1:
        raise UserError("--max-rounds must be at least 1.")
    try:
        modes = parse_modes(args.modes)
    except UnknownModeError as exc:
        raise UserError(str(exc)) from exc
    try:
        pace = check_pace(args.pace)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if args.model is not None and not provider_spec(args.provider).live:
        raise UserError(f"--model is for a live model; the {args.provider} provider is not a "
                        "model (use --provider mistral to pick a model).")
    tasks = select_tasks(args.tasks, args.task_file,
                         TOOL_SOURCES[args.tools] if args.tools else None)
    if not tasks:
        raise UserError("No tasks to run; `codeact-explorer tasks` lists them.")
    if args.mcp or args.mcp_url:
        try:
            mcp_source(command=args.mcp, url=args.mcp_url)  # a bad command line fails here
        except ToolSourceError as exc:
            raise UserError(str(exc)) from exc
        server = {"mcp": args.mcp} if args.mcp else {"mcp_url": args.mcp_url}
        tasks = [replace(t, tool_source=server) for t in tasks]
    # None: each task's saved overrides (engine.prompts.load_prompts), as the app runs it.
    prompts = None if args.use_saved_prompts else PromptSet.defaults()
    config = RunConfig(provider=args.provider, model=args.model, pace=pace,
                       parallel_tool_calls=args.parallel_tool_calls, record=not args.no_record,
                       max_rounds=args.max_rounds, server_url=args.server_url or None,
                       rate=parse_rate_flag(args.rate), prompts=prompts)
    _check_provider(args.provider, args.server_url)
    folders = paths().problem()
    if folders:
        raise UserError(folders)
    replay = None
    replays = provider_spec(args.provider).replays
    if args.replay is not None and not replays:
        raise UserError("--replay RUN goes with --provider replay.")
    if replays:
        replay = _replay_paths(tasks, modes, args.replay)
    with _progress(len(tasks) * args.repeat) as progress:
        report = asyncio.run(run_bench(tasks, config, repeat=args.repeat, modes=modes,
                                       progress=progress, replay_paths=replay))
    if report.stopped:  # the server could not be reached: one sentence, not a table of them
        print(f"codeact-explorer: {report.stopped}", file=sys.stderr)
        return 1
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
    failed = [r for t in report.results for s in t.modes.values() for r in s.runs
              if not r.success]
    return 1 if failed else 0


class _progress:
    """A rich progress bar on stderr when it is a terminal; nothing when piped or captured."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None
        self._task: Task | None = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        # Only on a terminal: rich's progress bar costs 35 ms to import (python -X importtime,
        # load 2.7 on 2 cores), which a bench piped to a file does not need.
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("bench", total=self.total)
        return self.update

    def update(self, what: str, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total,
                         description=what or "done")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
