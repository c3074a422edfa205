"""A catalogue of the shapes CodeAct replies take, shared by the extractor and agent tests.

Each ``ReplyStyle`` wraps a program (or a program split in two) the way models write it:
every fence kind CommonMark allows, prose before code, two blocks, a block repeated, a block in
another language beside the program, a reply cut short, async programs. ``CONVERSATIONS`` are
whole runs: the replies of each round, what must run, and how many nudges come back. Other
test modules (a stream dialect x reply style matrix) can import these as they are.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

FENCE = "`" * 3  # spelled out so this file's own text never looks like a fence


def _lines(code: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in code.split("\n"))


@dataclass(frozen=True)
class ReplyStyle:
    """``reply(first, second)`` is the reply's text; ``runs(first, second)`` the program that
    must run from it (``second`` is "" for styles that hold one program)."""

    name: str
    reply: Callable[[str, str], str]
    runs: Callable[[str, str], str]
    split: bool = False  # the style needs the program in two parts


def _one(code: str, second: str) -> str:
    return code


def _joined(first: str, second: str) -> str:
    return f"{first}\n\n{second}"


# A triple-quoted string holding Markdown: a fence line inside it at the start of a line.
MARKDOWN_IN_STRING = (
    'summary_template = """Done. In Markdown:\n'
    f"{FENCE}text\n"
    "{name}\n"
    f"{FENCE}\n"
    '"""\n'
)

STYLES: tuple[ReplyStyle, ...] = (
    ReplyStyle("backticks python", lambda c, _: f"{FENCE}python\n{c}\n{FENCE}", _one),
    ReplyStyle("backticks py upper case", lambda c, _: f"{FENCE}PY\n{c}\n{FENCE}", _one),
    ReplyStyle("backticks space python3", lambda c, _: f"{FENCE} Python3\n{c}\n{FENCE}", _one),
    ReplyStyle("tildes python", lambda c, _: f"~~~python\n{c}\n~~~", _one),
    ReplyStyle("long tildes, space", lambda c, _: f"~~~~~ python\n{c}\n~~~~~", _one),
    ReplyStyle("four backticks", lambda c, _: f"````python\n{c}\n````", _one),
    ReplyStyle("closing fence longer", lambda c, _: f"{FENCE}python\n{c}\n{FENCE}``", _one),
    ReplyStyle("unlabelled fence", lambda c, _: f"{FENCE}\n{c}\n{FENCE}", _one),
    ReplyStyle("crlf line endings",
               lambda c, _: f"Here it is:\r\n\r\n{FENCE}python\r\n"
                            f"{c.replace(chr(10), chr(13) + chr(10))}\r\n{FENCE}\r\n", _one),
    ReplyStyle("list item indent",
               lambda c, _: f"Plan:\n\n1. Do it all at once:\n\n   {FENCE}python\n"
                            f"{_lines(c, '   ')}\n   {FENCE}\n2. Then report.", _one),
    ReplyStyle("list item, deeper indent",
               lambda c, _: f"- Step one:\n    {FENCE}python\n{_lines(c, '    ')}\n    {FENCE}",
               _one),
    ReplyStyle("block quote", lambda c, _: f"> {FENCE}python\n{_lines(c, '> ')}\n> {FENCE}", _one),
    ReplyStyle("backticks inside a string",
               lambda c, _: f"{FENCE}python\n{MARKDOWN_IN_STRING}{c}\n{FENCE}",
               lambda c, _: MARKDOWN_IN_STRING + c),
    ReplyStyle("backticks inside a string, four-backtick fence",
               lambda c, _: f"````python\n{MARKDOWN_IN_STRING}{c}\n````",
               lambda c, _: MARKDOWN_IN_STRING + c),
    ReplyStyle("prose before code",
               lambda c, _: f"I'll look everything up and act in one program.\n\n"
                            f"{FENCE}python\n{c}\n{FENCE}\n\nThis prints a summary.", _one),
    ReplyStyle("two blocks",
               lambda a, b: f"First the lookups:\n\n{FENCE}python\n{a}\n{FENCE}\n\n"
                            f"Then the writes:\n\n{FENCE}python\n{b}\n{FENCE}", _joined,
               split=True),
    ReplyStyle("same block twice",
               lambda c, _: f"{FENCE}python\n{c}\n{FENCE}\n\nThe full program again:\n\n"
                            f"{FENCE}python\n{c}\n{FENCE}", _one),
    ReplyStyle("program beside json and bash blocks",
               lambda c, _: f"{FENCE}python\n{c}\n{FENCE}\n\nIt prints something like\n\n"
                            f"{FENCE}json\n{{\"id\": 1}}\n{FENCE}\n\n{FENCE}bash\nls -la\n{FENCE}",
               _one),
    ReplyStyle("program beside an unlabelled output block",
               lambda c, _: f"{FENCE}python\n{c}\n{FENCE}\n\nExpected output:\n\n"
                            f"{FENCE}\nCreated: Orion Data Platform\n{FENCE}", _one),
    ReplyStyle("unclosed fence (reply cut short)", lambda c, _: f"{FENCE}python\n{c}\n", _one),
)

# Async programs as models trained on async SDKs write them; the extractor passes them as they
# are (the sandbox is what makes them run).
ASYNC_MAIN = "import asyncio\n\nasync def main():\n    print('hi')\n\nasyncio.run(main())"
TOP_LEVEL_AWAIT = "import asyncio\n\nawait asyncio.sleep(0)\nprint('hi')"
ASYNC_STYLES: tuple[ReplyStyle, ...] = (
    ReplyStyle("async main", lambda c, _: f"{FENCE}python\n{ASYNC_MAIN}\n{FENCE}",
               lambda c, _: ASYNC_MAIN),
    ReplyStyle("top-level await", lambda c, _: f"{FENCE}python\n{TOP_LEVEL_AWAIT}\n{FENCE}",
               lambda c, _: TOP_LEVEL_AWAIT),
)


def split_program(program: str) -> tuple[str, str]:
    """A program cut in two at its middle top-level statement (each half a whole program)."""
    lines = program.split("\n")
    starts = [statement.lineno - 1 for statement in ast.parse(program).body[1:]]
    cut = starts[len(starts) // 2]
    return "\n".join(lines[:cut]), "\n".join(lines[cut:])


@dataclass(frozen=True)
class Conversation:
    """A whole CodeAct run: ``replies(program)`` are the model's replies, round by round;
    ``runs`` how many programs the sandbox must see; ``nudges`` how many nudges come back."""

    name: str
    replies: Callable[[str], list[str]]
    runs: int
    nudges: int = 0


ANSWER = "I created the project Orion Data Platform with its milestone and three tasks."

CONVERSATIONS: tuple[Conversation, ...] = (
    Conversation("program, then answer",
                 lambda p: [f"{FENCE}python\n{p}\n{FENCE}", ANSWER], runs=1),
    Conversation("answer quoting the program (recap)",
                 lambda p: [f"{FENCE}python\n{p}\n{FENCE}",
                            f"{ANSWER}\n\nThe program I ran:\n\n{FENCE}python\n"
                            f"# the whole program\n{p}\n{FENCE}"], runs=1),
    Conversation("announcement first, then program",
                 lambda p: ["Let me first look up the client and the team.",
                            f"{FENCE}python\n{p}\n{FENCE}", ANSWER], runs=1, nudges=1),
    Conversation("announcement ending on a colon",
                 lambda p: ["I'll create the project, the milestone and the tasks with this:",
                            f"{FENCE}python\n{p}\n{FENCE}", ANSWER], runs=1, nudges=1),
    Conversation("program sent again with no prose",
                 lambda p: [f"{FENCE}python\n{p}\n{FENCE}", f"{FENCE}python\n{p}\n{FENCE}",
                            ANSWER], runs=1, nudges=1),
    Conversation("program again beside a new block",
                 lambda p: [f"{FENCE}python\n{p}\n{FENCE}",
                            f"{FENCE}python\n{p}\n{FENCE}\n{FENCE}python\nprint('checked')\n{FENCE}",
                            ANSWER], runs=2),
)
