"""Entry point of ``codeact-explorer``: the bare command opens the app, subcommands are headless.

Textual is imported only when the app opens, so the headless commands start fast and the
engine stays free of the UI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli import build_parser, run_command

APP_FLAGS = ("--provider", "--model", "--task", "--task-file", "--mode", "--pace", "--step")


def add_app_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of the bare command (the app); subcommands keep their own."""
    group = parser.add_argument_group("the app (no subcommand)")
    group.add_argument("--provider", choices=("scripted", "mistral"), default=None,
                       help="model provider (default: mistral when MISTRAL_API_KEY is set, "
                            "else the scripted reference agent)")
    group.add_argument("--model", default=None, help="model name for the mistral provider")
    group.add_argument("--task", default=None, help="task id to start on")
    group.add_argument("--task-file", type=Path, default=None,
                       help="a TOML file of your own tasks, listed after the bundled ones")
    group.add_argument("--mode", choices=("both", "tool_calling", "codeact"), default="both",
                       help="race both agents side by side, or run one alone")
    group.add_argument("--pace", type=float, default=None,
                       help="seconds between streamed chunks of the scripted agent")
    group.add_argument("--step", action="store_true", help="start in step mode")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    add_app_flags(parser)
    args = parser.parse_args(argv)
    if args.command is None:
        return open_app(args)
    return run_command(args.func, args)


def open_app(args: argparse.Namespace) -> int:
    """Open the Textual app with the flags' choices."""
    from tui.app import ExplorerApp
    from tui.choices import DEFAULT_PACE, RunChoice, default_provider

    if args.task_file is not None and not args.task_file.is_file():
        print(f"codeact-explorer: no task file at {args.task_file}; check the path.",
              file=sys.stderr)
        return 2
    choice = RunChoice(
        task_id=args.task,
        mode=args.mode,
        provider=default_provider(args.provider),
        model=args.model,
        pace=DEFAULT_PACE if args.pace is None else max(0.0, args.pace),
        task_file=args.task_file,
    )
    ExplorerApp(choice, step_mode=args.step).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
