"""Races one after another leave nothing of the old ones behind (issue 12: every object kept
is walked again by each full garbage collection)."""

from __future__ import annotations

from conftest import until
from textual._styles_cache import StylesCache
from textual.widgets._footer import FooterKey

from tui.widgets.footer import ExplorerFooter


async def test_the_footer_keeps_no_removed_keys_across_races(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        footer = screen.query_one(ExplorerFooter)
        for number in range(1, 4):
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await until(pilot, lambda: not screen.running, "the race to end")
            await until(pilot, lambda n=number: screen.garbage.deferred_collections == n,
                        "the end-of-race collection")
            await pilot.pause()
            keys = list(footer.query(FooterKey))
            watched = [node for node, _ in getattr(footer, "__watchers", {}).get("compact", [])]
            # Textual 8.2.8 kept an entry (and the key) for every key of every recompose.
            assert keys and all(key in keys for key in watched), number
            assert StylesCache.get_inner_outer.cache_info().currsize == 0
