"""`tasks` and `tools`: look at the task suite and the two renderings of the tool catalog."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.commands.tools_cmd import add_analyze
from engine.errors import UserError
from engine.tokens import count_text, count_tools
from tasks.render import mistral_tools, python_api_text
from tasks.suite import TaskCatalog, TaskFileError

FORMATS = ("mistral-json", "python")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``tasks`` and ``tools`` subcommands."""
    tasks = sub.add_parser("tasks", help="list the tasks (bundled, plus a file of your own)",
                           description="List the task suite: id, title and tags.")
    tasks.add_argument("--json", action="store_true", help="print JSON for machines")
    tasks.add_argument("--file", type=Path, metavar="PATH",
                       help="also list the tasks of your own TOML file")
    tasks.set_defaults(func=run_tasks)

    tools = sub.add_parser("tools", help="print the tool catalog as Mistral JSON or Python API",
                           description="Print one rendering of the 120 tools and its size in "
                           "Mistral's Tekken tokens; without --format, compare both sizes.")
    tools.add_argument("--format", choices=FORMATS, default=None,
                       help="which rendering to print (default: only the token counts)")
    tools.set_defaults(func=run_tools)
    add_analyze(tools)


def _load(file: Path | None) -> TaskCatalog:
    try:
        return TaskCatalog.load(file)
    except TaskFileError as exc:
        raise UserError(str(exc)) from None


def run_tasks(args: argparse.Namespace) -> int:
    """Print the tasks as an aligned table, or as JSON with ``--json``."""
    tasks = _load(args.file)
    if args.json:
        payload = [{"id": t.id, "title": t.title, "tags": list(t.tags), "article": t.article,
                    "max_rounds": t.max_rounds, "checker": t.checker, "prompt": t.prompt,
                    "source": t.source} for t in tasks]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    width = max(len(t.id) for t in tasks)
    title_width = max(len(t.title) for t in tasks)
    print(f"{'ID':<{width}}  {'TITLE':<{title_width}}  TAGS")
    for t in tasks:
        tags = ", ".join(t.tags)
        print(f"{t.id:<{width}}  {t.title:<{title_width}}  {tags}".rstrip())
    print(f"{len(tasks)} tasks ({sum(t.article for t in tasks)} from the article)")
    return 0


def _rendering(fmt: str) -> tuple[str, int]:
    if fmt == "python":
        text = python_api_text()
        return text, count_text(text)
    tools = mistral_tools()
    return json.dumps(tools, indent=2, ensure_ascii=False) + "\n", count_tools(tools)


def run_tools(args: argparse.Namespace) -> int:
    """Print a rendering (its token count on stderr), or compare both renderings' sizes."""
    if args.format is not None:
        text, tokens = _rendering(args.format)
        sys.stdout.write(text)
        sys.stdout.flush()
        print(f"{args.format}: {tokens:,} Tekken tokens for 120 tools", file=sys.stderr)
        return 0
    print(f"{'FORMAT':<14}{'TOKENS':>8}{'CHARS':>9}")
    for fmt in FORMATS:
        text, tokens = _rendering(fmt)
        print(f"{fmt:<14}{tokens:>8,}{len(text):>9,}")
    print("Tokens counted with Mistral's Tekken tokenizer (mistral-common); mistral-json as a "
          "chat request carries the tools.")
    return 0
