"""Reading code out of model replies by CommonMark's rules (engine.agents.code_blocks)."""

from __future__ import annotations

import pytest
from reply_styles import ASYNC_STYLES, FENCE, STYLES, ReplyStyle, split_program

from engine.agents.code_blocks import (
    announces_action,
    fenced_blocks,
    program_key,
    python_blocks,
    read_reply,
)

# A program with what fences and indents can break: a blank line, a nested block, a string
# holding backticks mid-line and a triple-quoted string.
PROGRAM = '''users = api.users.search("Lena Okafor")["items"]

for user in users:
    if user["active"]:
        print(f"{user['name']}: `{user['id']}` ```")
note = """two
lines"""
print(note)'''


def _ran(text: str) -> str:
    return "\n\n".join(dict.fromkeys(b.code for b in python_blocks(text)))


@pytest.mark.parametrize("style", STYLES + ASYNC_STYLES, ids=lambda s: s.name)
def test_every_reply_style_yields_exactly_its_program(style: ReplyStyle) -> None:
    first, second = split_program(PROGRAM) if style.split else (PROGRAM, "")
    assert _ran(style.reply(first, second)) == style.runs(first, second)


def test_the_closing_fence_is_a_line_of_its_own_same_char_at_least_as_long() -> None:
    text = f"{FENCE}python\nprint('{FENCE}')\n~~~\n``\n  {FENCE} not a fence\n{FENCE}  \nafter"
    [block] = fenced_blocks(text)
    assert block.code == f"print('{FENCE}')\n~~~\n``\n  {FENCE} not a fence"
    assert (block.line, block.end_line) == (1, 6)
    [block] = fenced_blocks("````python\nx = 1\n```\n````")
    assert block.code == "x = 1\n```"  # a shorter line does not close a longer fence
    [block] = fenced_blocks("~~~\nx = 1\n```\n~~~")
    assert block.code == "x = 1\n```"  # nor does the other character


def test_info_strings_name_python_in_any_case_with_or_without_a_space() -> None:
    for info in ("python", "py", "python3", "Python", "PY", " python3", "  Py", "python title"):
        [block] = fenced_blocks(f"{FENCE}{info}\nx = 1\n{FENCE}")
        assert block.python and block.language in {"python", "py", "python3"}, info
    for info in ("json", "bash", "sh", "text", "output", "javascript", "pycon", "console"):
        [block] = fenced_blocks(f"{FENCE}{info}\nprint(1)\n{FENCE}")
        assert not block.python, info  # another language never runs, even if it parses


@pytest.mark.parametrize("content", [
    '{"id": 1, "active": true, "team": null}',
    '[{"id": 1}, {"id": 2}]',
    "Lena Okafor\nPriya Raman",
    "Team: Platform",
    "ls -la",
    "42",
    "pip install requests",
    "The answer is 42.",
    "# just a comment",
    "",
])
def test_an_unlabelled_block_that_does_nothing_is_not_python(content: str) -> None:
    blocks = fenced_blocks(f"Result:\n{FENCE}\n{content}\n{FENCE}")
    assert len(blocks) == 1 and not blocks[0].python


@pytest.mark.parametrize("content", [
    "print(42)",
    "x = api.users.list()",
    "for u in users:\n    print(u)",
    "import json",
    "await api.users.get(1)",
    "def f():\n    return 1",
])
def test_an_unlabelled_block_that_is_a_program_is_python(content: str) -> None:
    [block] = fenced_blocks(f"{FENCE}\n{content}\n{FENCE}")
    assert block.python and block.info == ""


def test_crlf_and_lone_cr_are_line_endings_and_lines_are_counted_the_same() -> None:
    [block] = fenced_blocks("Plan:\r\n\r\n```python\r\nx = 1\r\nprint(x)\r\n```\r\nDone.")
    assert block.code == "x = 1\nprint(x)" and "\r" not in block.code
    assert (block.line, block.end_line) == (3, 6)
    [block] = fenced_blocks("```python\rprint(1)\r```")
    assert block.code == "print(1)"


def test_a_fence_in_a_list_item_loses_the_items_indent() -> None:
    text = ("1. Look up:\n\n   ```python\n   for u in users:\n       print(u)\n   ```\n"
            "2. Then:\n   - nested:\n     ~~~py\n     print(2)\n     ~~~")
    first, second = python_blocks(text)
    assert first.code == "for u in users:\n    print(u)" and first.line == 3
    assert second.code == "print(2)" and second.line == 9


def test_backticks_at_line_start_inside_a_triple_quoted_string_do_not_end_the_block() -> None:
    text = (f'Here:\n{FENCE}python\ndoc = """\n{FENCE}json\n{{"a": 1}}\n{FENCE}\n"""\n'
            f"print(doc)\n{FENCE}\nAnd then:\n{FENCE}py\nprint(2)\n{FENCE}")
    first, second = python_blocks(text)
    assert first.code == f'doc = """\n{FENCE}json\n{{"a": 1}}\n{FENCE}\n"""\nprint(doc)'
    assert (first.line, first.end_line) == (2, 9)
    assert second.code == "print(2)" and second.line == 11
    assert read_reply(text).prose == "Here:\nAnd then:"
    # The same inside a list item.
    text = f'- step\n  {FENCE}python\n  doc = """\n  {FENCE}\n  hi\n  """\n  print(doc)\n  {FENCE}'
    [block] = python_blocks(text)
    assert block.code == f'doc = """\n{FENCE}\nhi\n"""\nprint(doc)'


def test_a_block_that_does_not_parse_is_left_as_commonmark_cut_it() -> None:
    # A syntax error of the model's own is its to fix: not glued to what follows.
    text = f"{FENCE}python\nprint(1\n{FENCE}\nprose\n{FENCE}python\nprint(2)\n{FENCE}"
    assert [b.code for b in python_blocks(text)] == ["print(1", "print(2)"]


def test_prose_and_tail_are_the_text_outside_the_blocks() -> None:
    parts = read_reply(f"Let me run this:\n\n{FENCE}python\nprint(1)\n{FENCE}\n\nThat is all.")
    assert parts.prose == "Let me run this:\n\n\nThat is all." and parts.tail == "That is all."
    assert read_reply(f"Intro\n{FENCE}\nx\n{FENCE}").tail == ""
    assert read_reply("").blocks == () and read_reply("").prose == ""


@pytest.mark.parametrize("reply", [
    "",
    "   \n",
    "Let me first look up the user.",
    "I'll check her team next.",
    "I will now count the overdue tasks.",
    "Lena is on the Platform team. Now let's count its members.",
    "**Next, I'll** look up the milestones.",
    "Let’s look up the client.",
    "Here is the program:",
    "Looking up the user...",
    f"Let me list the files:\n{FENCE}bash\nls\n{FENCE}",
])
def test_replies_that_clearly_are_not_answers(reply: str) -> None:
    assert announces_action(read_reply(reply))


@pytest.mark.parametrize("reply", [
    "Lena Okafor is on the Platform team (Engineering), led by Sam Ortiz, with 6 members.",
    "There are 4 overdue tasks. Let me know if you need more.",
    "The users are:\n```\nLena\nPriya\n```",
    "Nothing matches: no webhook is inactive.",
    "I deleted 3 inactive webhooks: #2, #5 and #9.",
    f"{FENCE}json\n{{\"overdue\": 4}}\n{FENCE}",
])
def test_replies_that_may_be_answers(reply: str) -> None:
    assert not announces_action(read_reply(reply))


def test_the_same_program_modulo_whitespace_and_comments() -> None:
    base = "for u in users:\n    print(u)"
    assert program_key(base) == program_key("# all users\nfor u in users :\n\n  print( u )  \n")
    assert program_key(base) != program_key("for u in users:\n    pass\nprint(u)")
    assert program_key("print(1") == program_key("print(1   \n\n")  # unparsable: by lines
    assert program_key("print(1") != program_key("print(2")


def test_any_text_is_read_without_raising() -> None:
    for text in ("\x00```python\n\x00\n```", "```" * 50, "~~~\n" * 30, "> " * 200, "```\n\\d\n```",
                 "1.\n" * 100 + "```python\nx = '''\n```\n```"):
        read_reply(text)
