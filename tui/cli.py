"""Entry point of ``codeact-explorer``: the bare command opens the app, subcommands are headless.

Textual is imported only when the app opens, so the headless commands start fast and the
engine stays free of the UI.
"""

from __future__ import annotations

import sys

from engine.cli import build_parser, run_command


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        print("codeact-explorer: the app is not built yet; try `codeact-explorer --help`.")
        return 0
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
