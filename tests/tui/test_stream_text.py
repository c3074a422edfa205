"""Streamed replies as a user sees them: the same rows however the text was chunked, code that
wraps with a hanging indent, fences never drawn half-written, and pieces that never re-render
what is already final (the property that keeps long lines cheap)."""

from __future__ import annotations

import random

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from tui.widgets.stream_text import ReplyWriter, StreamBlock, wrap_code, wrap_prose


class BlockApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="stream")


def rows(block: StreamBlock) -> list[str]:
    return [block._row(y).plain for y in range(block.row_count)]  # type: ignore[union-attr]


async def stream_into(app: App[None], pilot, text: str, language: str | None,
                      chunk_sizes: tuple[int, int]) -> StreamBlock:
    block = StreamBlock(language)
    await app.query_one("#stream").mount(block)
    position = 0
    rng = random.Random(len(text))
    while position < len(text):
        size = rng.randint(*chunk_sizes)
        block.append(text[position:position + size])
        position += size
        if rng.random() < 0.3:
            await pilot.pause()
    block.finish()
    await pilot.pause()
    return block


PROSE = ("The tool result lists every project with its hours, and the agent reads it again "
         "while CodeAct prints only what it needs. ") * 12 + "\nA second paragraph.\n\n\nThird."
CODE = ("def totals(api):\n"
        "    data = [" + ", ".join(f'{{"id": {i}, "name": "user {i}", "tags": ["a", "b"]}}'
                                   for i in range(40)) + "]\n"
        "    for row in data:\n"
        "        print(f\"{row['name']}: {row['id']}, tags {', '.join(row['tags'])}\")\n"
        "\n"
        "    return '''a docstring\n"
        "that spans lines, with, commas'''\n")


async def test_streamed_text_wraps_exactly_as_the_whole_text_would():
    app = BlockApp()
    async with app.run_test(size=(60, 40)) as pilot:
        for text, language in ((PROSE, None), (CODE, "python")):
            whole = await stream_into(app, pilot, text, language, (len(text), len(text)))
            tiny = await stream_into(app, pilot, text, language, (1, 5))
            big = await stream_into(app, pilot, text, language, (40, 400))
            assert rows(tiny) == rows(whole) == rows(big)
            assert whole.text == text.rstrip("\n")


async def test_wrapped_code_keeps_a_hanging_indent_and_breaks_between_items():
    app = BlockApp()
    async with app.run_test(size=(60, 40)) as pilot:
        block = await stream_into(app, pilot, CODE, "python", (3, 30))
        shown = rows(block)
        data_rows = [r for r in shown if '"user' in r]
        assert data_rows[0].startswith("    data = [")
        for row in data_rows[1:]:  # continuation rows: the line's indent (4) plus 4
            assert row.startswith("        ") and not row.startswith("         ")
        for row in data_rows[:-1]:  # broken after a space or a bracket, never inside a word
            assert row.endswith((" ", "[", "{", "(", ","))
        assert all(len(r) <= block.size.width for r in shown)


async def test_a_theme_change_redraws_code_in_the_new_colours():
    app = BlockApp()
    async with app.run_test(size=(60, 20)) as pilot:
        block = await stream_into(app, pilot, "x = 'text'\n", "python", (2, 2))
        before = block.render_line(0)
        app.theme = "textual-light"
        await pilot.pause()
        assert block.render_line(0).text == before.text
        assert block.render_line(0) != before


async def test_a_reply_is_split_into_prose_and_code_at_its_fences_without_half_fences():
    app = BlockApp()
    async with app.run_test(size=(80, 30)) as pilot:
        stream = app.query_one("#stream")
        writer = ReplyWriter(stream.mount)
        reply = ("I'll count them.\n\n```python\nprint(len(api.users.list()['items']))\n```\n"
                 "Then I answer.")
        shown_during: list[str] = []
        for index in range(0, len(reply), 3):
            writer.append(reply[index:index + 3])
            await pilot.pause()
            shown_during += [b.text for b in stream.query(StreamBlock)]
        writer.finish()
        await pilot.pause()
        blocks = list(stream.query(StreamBlock))
        assert [(b.language, b.text) for b in blocks] == [
            (None, "I'll count them."),
            ("python", "print(len(api.users.list()['items']))"),
            (None, "Then I answer."),
        ]
        assert not any("`" in text for text in shown_during)  # no fence was ever drawn
        assert writer.streamed == reply


def test_greedy_wrapping_never_moves_a_row_that_has_a_row_after_it():
    text = PROSE
    for end in range(50, len(text), 37):
        now, later = wrap_prose(text[:end], 30), wrap_prose(text[:end + 37], 30)
        assert now[:-1] == later[: len(now) - 1]
    code = CODE.split("\n")[1]
    for end in range(50, len(code), 41):
        now, later = wrap_code(code[:end], 50, 8), wrap_code(code[:end + 41], 50, 8)
        assert now[:-1] == later[: len(now) - 1]
