"""Reading a CodeAct reply: its fenced code blocks by CommonMark's rules, and its prose.

Models write code the way Markdown renders it, so the blocks are found by a CommonMark parser
(markdown-it-py, the parser Rich and Textual use), never by a regular expression. From the
CommonMark spec (0.31.2, section 4.5 "Fenced code blocks") that gives, for free:

- a fence is a line of at least three backticks or three tildes, indented at most three spaces
  (relative to its container); a fence that does not start its line is not a fence;
- the closing fence is a line of its own, of the same character, at least as long as the
  opening one, with nothing after it but spaces — so ``print("```")`` or a ```` ```json ````
  line inside a block does not end it, and a ```` ```` ```` fence can hold ```` ``` ```` lines;
- a block never closed runs to the end of its container (a reply cut short still counts);
- CRLF and CR line endings are line endings;
- inside a list item or a block quote, the container's indentation and ``>`` markers are
  taken off the block's lines.

On top of the parser, three rules of our own:

- **Which blocks are Python.** The info string's first word, in any case, is ``python``,
  ``py`` or ``python3``. A block with no info string is Python when it parses as Python *and
  does something*: at least one statement that is not a bare expression without a call —
  so JSON, a list of names, a quoted output line or a shell command (``ls -la`` parses as a
  subtraction) is not run, while ``print(x)`` or ``x = 1`` is. Any other language
  (``json``, ``bash``, ``text``, ``output``...) is never run.
- **Indentation.** A block's common leading indentation is removed (``textwrap.dedent``): a
  program whose every line is indented could not run anyway, and models indent fences inside
  list items by more than CommonMark takes off.
- **Backticks at the start of a line inside a triple-quoted string.** CommonMark ends the block
  there (models do write ``doc = \"\"\"`` followed by a ```` ``` ```` line). When a Python block
  fails to parse with an unterminated triple-quoted string, the block is extended to the next
  closing-fence line after which it parses, and the rest of the reply is read from there.
  A block that parses as CommonMark cut it is never changed.

``announces_action`` tells a reply that is clearly not an answer (it ends on a colon or an
ellipsis, or its last sentence is a plan such as "Let me first look up the user.") from one
that may be. Several blocks in one reply, blocks already run and what to do with an
announcement are the agent's policy (``engine.agents.codeact``); this module only reads.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from dataclasses import dataclass

from markdown_it import MarkdownIt

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
_PARSER = MarkdownIt("commonmark")
_LANGUAGE = re.compile(r"[^\s{}]+")
_CLOSING = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[ \t]*$")
_UNTERMINATED = "unterminated triple-quoted string"
# A first-person plan ("Let me...", "I'll...", "Next, we need to..."), not "Let me know...".
_PLAN = re.compile(
    r"^(?:(?:first|next|now|then|so|ok|okay|alright|great|sure|right)\b[,!.:]?\s*)*"
    r"(?:let me(?! know\b)|let's|let us|i'll|i will|i'm going to|i am going to|i need to"
    r"|i'd like to|we'll|we will|we need to|we're going to|we are going to)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKUP = re.compile(r"^[\s>#*_`-]+|^\d+[.)]\s+")


@dataclass(frozen=True)
class FencedBlock:
    """One fenced code block of a reply.

    ``code``: the block's lines (container indentation and common indentation removed, no
    trailing newline). ``info``: the info string as written, stripped (``""`` when none).
    ``line``/``end_line``: 1-based lines of the opening fence and of the block's last line
    (its closing fence, or its last line when never closed), counted in the reply with any
    CRLF read as one line ending. ``python``: whether the block is Python to run.
    """

    code: str
    info: str
    line: int
    end_line: int
    python: bool

    @property
    def language(self) -> str:
        """The info string's first word, lower-cased (``""`` for an unlabelled block)."""
        return _language(self.info)


@dataclass(frozen=True)
class ReplyParts:
    """A reply read once: its fenced blocks in order, and the text outside them.

    ``prose``: the reply's lines outside every fenced block, joined, stripped.
    ``tail``: the reply's last non-blank line when it lies outside every block, else ``""``
    (what the reply ends on, if it ends on prose).
    """

    blocks: tuple[FencedBlock, ...]
    prose: str
    tail: str

    @property
    def python(self) -> tuple[FencedBlock, ...]:
        """The blocks that are Python to run, in reply order (empty ones left out)."""
        return tuple(b for b in self.blocks if b.python and b.code.strip())


def read_reply(text: str) -> ReplyParts:
    """Split a model's reply into fenced blocks and prose (never raises on any text)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks = _blocks(lines)
    inside = {n for b in blocks for n in range(b.line - 1, b.end_line)}
    prose = "\n".join(line for n, line in enumerate(lines) if n not in inside).strip()
    last = max((n for n, line in enumerate(lines) if line.strip()), default=None)
    tail = lines[last].strip() if last is not None and last not in inside else ""
    return ReplyParts(tuple(blocks), prose, tail)


def fenced_blocks(text: str) -> list[FencedBlock]:
    """Every fenced block of ``text``, in order (see the module docstring for the rules)."""
    return list(read_reply(text).blocks)


def python_blocks(text: str) -> list[FencedBlock]:
    """The fenced blocks of ``text`` that are Python to run, in order."""
    return list(read_reply(text).python)


def program_key(code: str) -> str:
    """What makes two programs the same program: their syntax tree (so whitespace and comments
    do not count, indentation does), or for code that does not parse, its non-blank lines with
    trailing spaces removed."""
    tree = _parse(code)
    if tree is not None:
        return "ast:" + ast.dump(tree)
    return "text:" + "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


def announces_action(parts: ReplyParts) -> bool:
    """Whether a reply without code is clearly not a final answer.

    True for an empty reply; for one that ends on prose ending in ``:``, ``...`` or ``…``
    (it introduces something that never came); and for one whose prose ends on a first-person
    plan ("Let me first look up the user.", "I'll check her team next.", "Now let's count
    them."), but not on a courtesy ("Let me know if you need more."). Tuned to be sure
    rather than complete: a reply it misses is taken as the answer, as before.
    """
    if not parts.prose and not parts.blocks:
        return True
    if parts.tail.endswith((":", "...", "…")):
        return True
    lines = [line for line in parts.prose.splitlines() if line.strip()]
    if not lines:
        return False
    last = _SENTENCE_END.split(lines[-1].strip())[-1]
    last = _MARKUP.sub("", last).replace("\u2019", "'")
    return _PLAN.match(last) is not None


def _blocks(lines: list[str]) -> list[FencedBlock]:
    found: list[FencedBlock] = []
    offset = 0
    while offset < len(lines):
        resume = None
        for token in _PARSER.parse("\n".join(lines[offset:])):
            if token.type != "fence" or token.map is None:
                continue
            start, end = token.map[0] + offset, token.map[1] + offset
            info = token.info.strip()
            code = _tidy(token.content)
            language = _language(info)
            if language in PYTHON_LANGUAGES or not language:
                extended = _extend_through_string(lines, start, end, token.markup, code)
                if extended is not None:
                    code, end = extended
                    resume = end
            python = language in PYTHON_LANGUAGES or (not language and _does_something(code))
            found.append(FencedBlock(code, info, start + 1, max(end, start + 1), python))
            if resume is not None:
                break  # the rest of the reply is read again from after the extended block
        if resume is None:
            break
        offset = resume
    return found


def _extend_through_string(lines: list[str], start: int, end: int, markup: str,
                           code: str) -> tuple[str, int] | None:
    """(code, end) of a block cut by a fence line inside a triple-quoted string, or None."""
    if '"""' not in code and "'''" not in code:
        return None  # no triple-quoted string: spare the parse
    error = _syntax_error(code)
    if error is None or not error.startswith(_UNTERMINATED):
        return None
    opening = lines[start]
    column = opening.find(markup)
    if column < 0 or ">" in opening[:column]:
        return None  # inside a block quote: not worth guessing the markers
    for close in range(end, len(lines)):
        body = lines[close][column:] if not lines[close][:column].strip() else lines[close]
        match = _CLOSING.match(body)
        if match is None or match.group(1)[0] != markup[0] or len(match.group(1)) < len(markup):
            continue
        candidate = _tidy("\n".join(_unindent(line, column) for line in lines[start + 1:close]))
        if _parse(candidate) is not None:
            return candidate, close + 1
    return None


def _unindent(line: str, column: int) -> str:
    """``line`` without up to ``column`` leading spaces (the list item's indentation)."""
    stripped = line.lstrip(" ")
    return line[min(column, len(line) - len(stripped)):]


def _tidy(content: str) -> str:
    return textwrap.dedent(content).strip("\n")


def _language(info: str) -> str:
    match = _LANGUAGE.match(info.strip())
    return match.group(0).lower() if match else ""


def _parse(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid escape sequence" and the like
            return ast.parse(code)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte in the text
        return None


def _syntax_error(code: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
    except SyntaxError as exc:
        return str(exc.msg)
    except ValueError as exc:
        return str(exc)
    return None


def _does_something(code: str) -> bool:
    """Whether unlabelled ``code`` is a program: it parses, and some statement acts."""
    tree = _parse(code)
    return tree is not None and any(_acts(statement) for statement in tree.body)


def _acts(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Expr):  # a bare value (JSON, names, prose-like) does nothing
        return any(isinstance(node, ast.Call | ast.Await) for node in ast.walk(statement))
    # "Team: Platform" parses as an annotation without a value: a quoted output line.
    return not (isinstance(statement, ast.AnnAssign) and statement.value is None)
