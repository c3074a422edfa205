"""Races one after another leave nothing of the old ones behind, and the garbage collector never
walks what the app already checked (issue 12: full collections walked every object the app
held, 110-800 ms at the end of a race)."""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from importlib.metadata import version

import pytest
from conftest import until
from textual._styles_cache import StylesCache
from textual.widgets._footer import FooterKey

from tui import textual_fixes
from tui.gc_policy import RaceGarbagePolicy
from tui.widgets.footer import ExplorerFooter
from tui.widgets.stream_text import StreamBlock

# A finished worker is a cycle through its task's context (Textual's); it holds the race runner
# it was given: about 16 objects a race.
WORKERS = {"textual.worker.Worker", "tui.pump.RaceRunner"}
# The Textual whose source tui.textual_fixes was written against.
WRITTEN_FOR = "8.2.8"
freezing_only = pytest.mark.skipif(
    not textual_fixes.apply(),
    reason=f"tui.textual_fixes does not apply to Textual {version('textual')}: the app does "
           "not freeze (test_a_textual_the_fixes_do_not_fit_is_not_frozen covers that)")


async def _race(pilot, screen, number: int) -> None:
    await pilot.press("r")
    await pilot.app.workers.wait_for_complete()
    await until(pilot, lambda: not screen.running, "the race to end")
    await until(pilot, lambda: screen.garbage.races_ended == number, "the end-of-race step")
    await pilot.pause()


async def test_the_footer_keeps_no_removed_keys_across_races(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        footer = screen.query_one(ExplorerFooter)
        for number in range(1, 4):
            await _race(pilot, screen, number)
            keys = list(footer.query(FooterKey))
            watched = [node for node, _ in getattr(footer, "__watchers", {}).get("compact", [])]
            # Textual 8.2.8 kept an entry (and the key) for every key of every recompose.
            assert keys and all(key in keys for key in watched), number
            assert StylesCache.get_inner_outer.cache_info().currsize == 0


def test_the_fixes_apply_to_the_textual_they_were_written_for() -> None:
    if version("textual") != WRITTEN_FOR:
        pytest.skip(f"written for Textual {WRITTEN_FOR}, {version('textual')} is installed")
    assert textual_fixes.apply()  # the compositor's fix matches this Textual's source
    assert RaceGarbagePolicy().freezing


def test_a_textual_the_fixes_do_not_fit_is_not_frozen() -> None:
    """Freezing with a cycle left in Textual would keep what it holds for good: without the
    fixes, the policy leaves Python's collector as it is."""
    policy = RaceGarbagePolicy(freezing=False)
    threshold = gc.get_threshold()
    policy.app_started()
    policy.app_ready()
    policy.race_ended()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == threshold
    assert (policy.steps, policy.deferred_collections, policy.races_ended) == (0, 0, 1)


@freezing_only
async def test_the_app_freezes_what_it_holds_and_gives_it_back_when_it_ends(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "warm-up"])
        await until(pilot, lambda: screen.garbage.steps >= 1, "the start-up step")
        started = gc.get_freeze_count()
        assert started > 0  # start-up's heap is out of the collector's way
        assert gc.get_threshold()[2] >= 1_000_000  # automatic full collections are off
        await _race(pilot, screen, 1)
        # What the race left on screen is frozen too: only young objects are left to walk.
        assert any(isinstance(o, StreamBlock) for o in gc.get_objects()) is False
        assert any(isinstance(w, StreamBlock) for w in screen.query(StreamBlock))
    assert gc.get_freeze_count() == 0  # a closed app leaves nothing frozen in the process
    assert gc.get_threshold()[2] < 1_000_000


@freezing_only
async def test_a_race_s_widgets_are_freed_without_the_garbage_collector(make_app, monkeypatch):
    """Frozen objects are only ever freed by reference counting: every widget a race showed
    (and the footer keys of its time) must be freed once the next race clears the panes, with
    the collector off. A reference cycle anywhere in them (Textual makes several, see
    tui.textual_fixes) keeps the lot alive."""
    gc.collect()  # what earlier tests dropped (the app freezes start-up unchecked)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await until(pilot, lambda: screen.tasks, "the task list")
        await _race(pilot, screen, 1)
        shown = [w for pane in screen.panes.values() for w in pane.stream.walk_children()]
        kinds = {type(w).__name__ for w in shown}
        assert {"StreamBlock", "RoundBox", "RoundHeader", "ToolCallView",
                "ToolResultView", "ResultCard"} <= kinds, kinds
        rounds = [state for pane in screen.panes.values() for state in pane.rounds.values()]
        refs = [weakref.ref(o) for o in [*shown, *screen.query(FooterKey), *rounds]]
        del shown, rounds
        monkeypatch.setattr(screen.garbage, "_step", lambda: None)  # no collection of its own
        gc.disable()
        try:
            await pilot.press("r")  # the next race clears the panes first
            await app.workers.wait_for_complete()
            await until(pilot, lambda: not screen.running, "the second race to end")
            await pilot.pause()
            alive = [type(o).__name__ for ref in refs if (o := ref()) is not None]
            # And nothing either race dropped waits for the collector in a cycle.
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.unfreeze()
            gc.collect()
            cyclic = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
        assert alive == []
        # Left: start-up's few (frozen unchecked on purpose) and the finished workers'.
        drawn = {kind: n for kind, n in cyclic.items()
                 if kind.startswith(("textual.", "rich.", "tui.")) and kind not in WORKERS}
        assert drawn == {}
