"""Redraw something at most a few times a second, and never leave its last change undrawn."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class _Stoppable(Protocol):
    def stop(self) -> None: ...


class Throttle:
    """Calls ``draw`` at most every ``interval`` seconds for the changes reported to it.

    A change reported sooner than ``interval`` after the last draw is drawn when the interval
    is over (``set_timer`` is the widget's own, so the timer dies with it).
    """

    def __init__(self, interval: float, draw: Callable[[], None],
                 set_timer: Callable[[float, Callable[[], None]], _Stoppable]) -> None:
        self.interval = interval
        self._draw = draw
        self._set_timer = set_timer
        self._dirty = False
        self._drawn = 0.0
        self._timer: _Stoppable | None = None

    def changed(self, now: bool = False) -> None:
        """Something changed: draw now (if ``now`` or the interval is over) or soon."""
        self._dirty = True
        wait = self._drawn + self.interval - time.monotonic()
        if now or wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = self._set_timer(wait, self.flush)

    def flush(self, force: bool = False) -> None:
        """Draw now what changed (everything if ``force``)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._dirty or force:
            self._dirty = False
            self._drawn = time.monotonic()
            self._draw()
