"""Keep Python's full garbage collections out of a streaming race.

Measured with tests/perf/tui_perf.py: a pane full of widgets, styles and rendered strips makes
every full (generation 2) collection walk tens of thousands of objects, and those pauses grew
to 100-230 ms during a race, as the panes filled — the event loop's worst stalls. While a race
streams, only the young generations are collected automatically (cheap: they hold the objects
just made); the full collection waits until the race ends and the app is idle.
"""

from __future__ import annotations

import gc

from textual._styles_cache import StylesCache

_DEFERRED_THRESHOLD2 = 1_000_000  # full collections effectively off while a race streams


class RaceGarbagePolicy:
    """Defers full collections during races; collects once afterwards."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None
        self.deferred_collections = 0

    def app_ready(self) -> None:
        """After start-up: the app's long-lived objects need not be scanned again."""
        gc.collect()
        gc.freeze()

    def race_started(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            first, second, _ = self._saved
            gc.set_threshold(first, second, _DEFERRED_THRESHOLD2)

    def race_ended(self) -> None:
        """Restore the thresholds and collect now (call when the UI is idle)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
            release_render_caches()
            gc.collect()
            self.deferred_collections += 1


def release_render_caches() -> None:
    """Let go of the removed widgets that Textual's render cache still holds.

    Textual 8.2.8 caches ``StylesCache.get_inner_outer`` with ``lru_cache(1024)`` on an
    instance method, so the cache holds up to 1,024 widgets' styles caches with their rendered
    strips after the widgets are gone: 74 more each race in tests/perf/gc_pause_perf.py (found
    with ``gc.get_referrers``), about 12,000 objects that every full collection walked. The
    cached values are two styles made from two colours, cheap to make again.
    """
    cache_clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if cache_clear is not None:  # a Textual that fixed it may not cache there at all
        cache_clear()
