"""The headless command line: every subcommand but the app itself lives here.

Each module in ``engine.commands`` adds its subcommands with ``register(subparsers)`` and sets
``func(args) -> int`` on them. A ``UserError`` raised anywhere below ends the command with its
one sentence on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from engine.commands import command_modules
from engine.errors import USER_ERRORS, one_sentence


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one sentence on stderr and exit status 2.

    argparse's own error prints the whole usage block before the message; a mistyped flag
    deserves one line that names it and where the help is.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message.rstrip('.')}; `{self.prog} --help` lists the "
                     "options.\n")


def build_parser(
    prog: str = "codeact-explorer", argv: list[str] | None = None
) -> argparse.ArgumentParser:
    """The parser for ``argv``: with it, only the subcommands named in it are registered."""
    parser = OneLineParser(
        prog=prog,
        description="Race a JSON tool-calling agent against a CodeAct agent and count the tokens.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules(argv):
        module.register(sub)
    return parser


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one subcommand, turning user errors and Ctrl-C into one line and an exit status.

    Any error carrying a sentence for the user (``engine.errors.USER_ERRORS``: ``UserError``,
    a task file, a record, a provider, a tool source, the sandbox) ends the command with that
    sentence and status 2."""
    try:
        return func(args)
    except USER_ERRORS as exc:
        print(f"codeact-explorer: {one_sentence(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("codeact-explorer: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
