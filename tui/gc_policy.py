"""Keep every pause of Python's garbage collector short, during races and between them.

A full (generation 2) collection walks every object the collector tracks. A race's panes hold
tens of thousands of widgets, rows and rendered strips, so walking them all grew with the race:
the end-of-race full collection took 110 ms after 10k streamed tokens per pane and 800 ms after
40k (issue 12). The policy keeps the collector off what it has already checked:

- when the app is on screen, ``gc.freeze()``: what start-up imported and built moves to the
  permanent generation that collections skip (the technique of Python's ``gc.freeze``
  documentation), and automatic full collections are turned off for the app's life;
- instead, a check every ``TICK`` seconds on the event loop makes one full collection once
  ``STEP_EVERY`` young (generation 1) collections have run since the last one, and freezes what
  survived it. Each of these walks only what is younger than the last freeze, so its pause is
  bounded by how much the app made in between, not by how much it holds;
- the same step once the warm-up thread is done, and once a race has ended and its panes have
  settled (with Textual's render cache emptied), so the app idles with nothing left to walk.

Frozen objects are still freed by reference counting when they are dropped, so the objects the
app drops must not sit in reference cycles: ``tui.textual_fixes`` breaks Textual's, the app's
own objects make none (a Pilot test frees a race's widgets with the collector off), the engine
cuts its race's two (``Race.events`` and ``CodeActAgent.cleanup``: 470 KB a real race stayed
frozen without them), and tests/perf/gc_pause_perf.py's leak check counts what froze instead
of being freed: about 16 objects a race, each finished Textual worker's cycle through its
task's context, and a few hundred from start-up, frozen unchecked on purpose.

On a Textual whose source one of those fixes was not written for (``textual_fixes.apply()``
returns False), freezing would keep what that cycle holds for good: the policy then leaves the
collector as Python sets it (longer pauses, nothing kept).
"""

from __future__ import annotations

import gc

from tui.textual_fixes import apply, release_render_caches

TICK = 0.1  # seconds between two checks (each a call of gc.get_count())
# Young collections between two full ones. tests/perf/gc_pause_perf.py --tokens 40000 --races 2
# --step-every N (load 5 on 2 cores): with 10, its full collections took 14.8 ms of CPU on
# average, 32.1 at most (133 ms wall); with 5, 8.6 and 29.4 (60 ms wall).
STEP_EVERY = 5
_OFF = 1_000_000  # a generation-2 threshold no app reaches: automatic full collections off


class RaceGarbagePolicy:
    """When the garbage collector may walk what (see the module's docstring)."""

    def __init__(self, *, freezing: bool | None = None) -> None:
        """``freezing``: whether to freeze at all; by default, whether ``tui.textual_fixes``
        applies to the installed Textual."""
        self.freezing = apply() if freezing is None else freezing
        self._saved: tuple[int, int, int] | None = None
        self.steps = 0  # full collections made by the policy
        self.deferred_collections = 0  # of them, made after a race ended
        self.races_ended = 0  # calls of race_ended(), freezing or not

    def app_started(self) -> None:
        """The app is on screen: freeze what it imported and built, without a collection
        (that would walk it all; start-up leaves no cyclic garbage to keep: a full collection
        at this point freed 0 objects and cost 72 ms of CPU), and turn automatic full
        collections off."""
        if not self.freezing:
            return
        if self._saved is None:
            self._saved = gc.get_threshold()
            first, second, _ = self._saved
            gc.set_threshold(first, second, _OFF)
        gc.freeze()

    def app_ready(self) -> None:
        """The warm-up thread is done: check and freeze what it built."""
        if self.freezing:
            self._step()

    def tick(self) -> None:
        """Call every ``TICK`` seconds from the event loop (never from inside a drawing)."""
        if self.freezing and gc.get_count()[2] >= STEP_EVERY:
            self._step()

    def race_ended(self) -> None:
        """Call once the race's panes have settled and the app is idle."""
        release_render_caches()
        if self.freezing:
            self._step()
            self.deferred_collections += 1
        self.races_ended += 1

    def app_closing(self) -> None:
        """The app ends: give everything back to the collector (a test process goes on)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
        gc.unfreeze()

    def _step(self) -> None:
        full = gc.get_stats()[2]["collections"]
        gc.collect()  # walks only what is younger than the last freeze
        if gc.get_stats()[2]["collections"] == full:
            # Python skips a collection asked for while another thread's is under way (the
            # race's thread, paused in a finalizer): freezing now would keep its garbage for
            # good. The next tick tries again.
            return
        gc.freeze()
        self.steps += 1
