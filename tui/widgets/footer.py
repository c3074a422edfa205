"""The footer every screen shows: Textual's ``Footer`` without its watcher leak.

Textual 8.2.8 (textual#6666, open): ``Footer`` recomposes whenever the bindings change (a race
starting or ending, a focus move), and each new ``FooterKey`` is bound to ``Footer.compact``
with ``data_bind``, which stores a watcher entry pointing at the key on the footer. Textual drops
the entries of closed keys only when ``compact`` itself changes, so every old key stayed alive
with its styles cache and rendered strips: 20 keys and about 14,000 objects a race (found with
``gc.get_referrers`` from a detached ``FooterKey``), which every later full collection walked.
"""

from __future__ import annotations

from textual.widgets import Footer


class ExplorerFooter(Footer):
    """``Footer`` that drops the watcher entries of its removed keys after each recompose."""

    async def recompose(self) -> None:
        await super().recompose()
        # The same rule as Textual's own pruning (reactive.Reactive._check_watchers).
        watchers: dict[str, list] = getattr(self, "__watchers", {})
        for entries in watchers.values():
            entries[:] = [(node, callback) for node, callback in entries if not node._closing]
