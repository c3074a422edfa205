"""Entry point of ``codeact-explorer``: the bare command opens the app, subcommands are headless.

Textual is imported only when the app opens, so the headless commands start fast and the
engine stays free of the UI; what only the app's flags need (``engine.settings``: dataclasses
and platformdirs, 15 ms of every ``sandbox run`` before it could start its interpreter,
``python -X importtime``) is imported where they are checked.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli import build_parser, run_command
from engine.errors import one_sentence
from engine.flags import add_server_flags

if TYPE_CHECKING:
    from tui.choices import RunChoice
    from tui.settings import AppSettings

APP_FLAGS = ("--provider", "--model", "--task", "--task-file", "--modes", "--pace", "--step",
             "--server-url", "--rate", "--tools", "--mcp", "--mcp-url")


def add_app_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of the bare command (the app); subcommands keep their own."""
    group = parser.add_argument_group("the app (no subcommand)")
    # No ``choices=``: the registry is checked when the app opens (check_flags), so that
    # every subcommand does not pay for importing the providers' SDKs to build this parser.
    group.add_argument("--provider", default=None,
                       help="model provider: scripted, mistral, openai (an OpenAI-compatible "
                            "server); default: mistral when MISTRAL_API_KEY is set, else the "
                            "scripted reference agent")
    group.add_argument("--model", default=None,
                       help="model name for a live provider (the scripted agent is not a "
                            "model and takes none)")
    group.add_argument("--task", default=None, help="task id to start on")
    group.add_argument("--task-file", type=Path, default=None,
                       help="a TOML file of your own tasks, listed after the bundled ones")
    group.add_argument("--modes", default=None, metavar="ID,...",
                       help="the modes that race, comma-separated ids of `codeact-explorer "
                            "tools analyze`'s modes (tool_calling, codeact, codeact_discovery) "
                            "or 'all'; default: tool_calling,codeact, or the last session's")
    group.add_argument("--pace", type=float, default=None, metavar="SCALE",
                       help="playback time scale of the scripted agent and of replays: 1 = "
                            "the model's real speed (default), 0.5 = twice as fast, 0 = "
                            "instant")
    group.add_argument("--step", action="store_true", help="start in step mode")
    add_server_flags(group)
    # Not choices=TOOL_SOURCES: importing the registry costs 0.4 s (measured at load 10), which
    # every subcommand would pay; check_flags checks the name.
    group.add_argument("--tools", default=None, metavar="SOURCE",
                       help="race on a tool source's own tasks, e.g. demo-git (the bundled "
                            "demo: the real mcp-server-git on a generated repository)")
    mcp = group.add_mutually_exclusive_group()
    mcp.add_argument("--mcp", default=None, metavar="COMMAND",
                     help="run the tasks on this stdio MCP server (a fresh server per run)")
    mcp.add_argument("--mcp-url", default=None, metavar="URL",
                     help="run the tasks on this streamable-HTTP MCP server")


def main(argv: list[str] | None = None) -> int:
    """Run the command line (``argv``: None reads ``sys.argv``, as the installed command does).

    A subcommand that sets ``exit_at_once`` (``sandbox run``) ends the process with
    ``os._exit`` once its output is flushed, when run as the command itself (argv None):
    tearing down the interpreter and the sandbox's objects took 50-90 ms of a 240 ms
    ``sandbox run`` (issue 12), and its child process exits when its pipes close.
    """
    whole_process = argv is None
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv=argv)  # imports only the subcommand that runs
    add_app_flags(parser)
    args = parser.parse_args(argv)
    if args.command is None:
        return open_app(args)
    status = run_command(args.func, args)
    if whole_process and getattr(args, "exit_at_once", False):
        exit_now(status)
    return status


def exit_now(status: int) -> None:
    """Flush stdout and stderr, then end the process with ``status`` without teardown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(status)


def fail(message: str) -> int:
    print(f"codeact-explorer: {message}", file=sys.stderr)
    return 2


def check_flags(args: argparse.Namespace) -> str | None:
    """The first problem with the app's flags, as one sentence, or None.

    Checked before the app opens, so a missing API key or a flag that cannot apply is said
    once, on the command line, not after the first run.
    """
    from engine.modes import UnknownModeError, parse_modes
    from engine.providers import MISTRAL_KEY_ENV, ProviderError, provider_spec
    from engine.providers.latency import check_pace
    from engine.settings import paths
    from engine.toolboxes import TOOL_SOURCES, ToolSourceError, mcp_source  # 0.4 s, see above
    from tui.backend import Backend, BackendError
    from tui.choices import PROVIDERS, default_provider

    if args.tools is not None and args.tools not in TOOL_SOURCES:
        return (f"there is no tool source {args.tools!r}; the sources are: "
                f"{', '.join(TOOL_SOURCES)}.")
    if args.mcp or args.mcp_url:
        try:
            mcp_source(command=args.mcp, url=args.mcp_url)
        except ToolSourceError as exc:
            return one_sentence(exc)
    if args.pace is not None:
        try:
            check_pace(args.pace)
        except ValueError as exc:
            return one_sentence(exc)
    if args.modes is not None:
        try:
            parse_modes(args.modes)
        except UnknownModeError as exc:
            return one_sentence(exc)
    chosen = default_provider(args.provider)
    try:
        spec = provider_spec(chosen)
    except ProviderError:
        return (f"there is no provider {chosen!r} in the app; use one of {', '.join(PROVIDERS)} "
                "(a replay is chosen in the app's history, h).")
    if spec.replays:
        return (f"--provider {spec.name} is chosen in the app's history (h), not on the "
                "command line.")
    if args.model is not None and not spec.live:
        return (f"--model is for a live model; the {spec.name} agent is not a model (set "
                f"{MISTRAL_KEY_ENV} and use --provider mistral to pick a model).")
    folders = paths().problem()
    if folders:
        return folders
    missing = spec.missing(args.server_url)
    if missing:
        return missing
    if args.task_file is not None and not args.task_file.is_file():
        return f"no task file at {args.task_file}; check the path."
    if args.rate != "default":
        from engine.providers.transport import parse_rate

        try:
            parse_rate(args.rate)
        except ValueError as exc:
            return one_sentence(exc)
    if args.task is None and args.task_file is None:
        return None
    try:
        tasks = Backend().list_tasks(args.task_file)
    except BackendError as exc:
        return one_sentence(exc)
    if args.task is not None and args.task not in {t.id for t in tasks}:
        return (f"there is no task {args.task!r}; `codeact-explorer tasks` lists them "
                f"(for example {tasks[0].id!r})." if tasks else f"there is no task {args.task!r}.")
    return None


def use_source_tasks(args: argparse.Namespace) -> None:
    """With ``--tools SOURCE`` whose source has tasks of its own (and no ``--task-file``): list
    those tasks, and start on the first unless ``--task`` names one."""
    from engine.toolboxes import TOOL_SOURCES  # 0.4 s, see add_app_flags
    from tasks.suite import load_tasks  # 8-14 ms that every subcommand paid (-X importtime)

    spec = TOOL_SOURCES.get(args.tools) if args.tools else None
    if spec is None or spec.tasks is None or args.task_file is not None:
        return
    args.task_file = spec.tasks
    if args.task is None:
        args.task = load_tasks(spec.tasks)[0].id


def open_app(args: argparse.Namespace) -> int:
    """Open the Textual app with the flags' choices."""
    use_source_tasks(args)
    problem = check_flags(args)
    if problem:
        return fail(problem)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Without a terminal the app cannot draw or read keys (it would spin, unseen).
        return fail("the app needs a terminal; run it in one, or use a subcommand such as "
                    "`codeact-explorer bench` when piping.")
    from tui.app import ExplorerApp
    from tui.settings import load_settings

    settings, problem = load_settings()
    if problem:
        print(f"codeact-explorer: {problem}", file=sys.stderr)
    ExplorerApp(choice_from_args(args, settings), step_mode=args.step, settings=settings).run()
    return 0


def choice_from_args(args: argparse.Namespace, settings: AppSettings | None = None) -> RunChoice:
    """The app's first ``RunChoice`` from checked flags (``check_flags`` returned None), with
    what the last session remembered where no flag says otherwise."""
    from engine.modes import DEFAULT_RACE, parse_modes
    from engine.providers.transport import parse_rate
    from tui.backend import Backend, BackendError
    from tui.choices import DEFAULT_PACE, RunChoice, default_provider
    from tui.settings import AppSettings

    remembered = settings or AppSettings()
    task = args.task
    if task is None and remembered.task is not None:
        try:  # a remembered task that is no longer there is forgotten quietly
            ids = {t.id for t in Backend().list_tasks(args.task_file)}
        except BackendError:
            ids = set()
        task = remembered.task if remembered.task in ids else None
    modes = (parse_modes(args.modes) if args.modes is not None
             else remembered.modes or DEFAULT_RACE)
    pace = args.pace if args.pace is not None else (
        remembered.pace if remembered.pace is not None else DEFAULT_PACE)
    return RunChoice(
        task_id=task,
        modes=modes,
        provider=default_provider(args.provider),
        model=args.model,
        pace=pace,
        task_file=args.task_file,
        server_url=args.server_url or None,
        rate="default" if args.rate == "default" else parse_rate(args.rate),
        tool_source=({"mcp": args.mcp} if args.mcp else
                     {"mcp_url": args.mcp_url} if args.mcp_url else None),
    )


if __name__ == "__main__":
    sys.exit(main())
