"""Reference cycles Textual 8.2.8 makes, broken so that reference counting alone frees what the
app drops (issue 12). The app freezes its long-lived objects out of the garbage collector's
reach (``tui.gc_policy``); a frozen object in a cycle is never freed, so none may be left.

Found with tests/perf/gc_pause_perf.py (10k tokens per pane) by saving what each collection
freed (``gc.DEBUG_SAVEALL``) and walking ``gc.get_referents`` from samples back to themselves:

- ``Strip.divide`` caches ``[self]`` in the strip's own cache when the only cut is its end,
  which the compositor asks for nearly every line it paints: 3,087 of the 3,098 strips one
  race's end-of-race collection freed were such cycles, and with their caches, segments and
  styles they were 40k of the 47-56k objects it freed per race.
- The compositor builds its map with a nested function that calls itself (a cycle through its
  own cell) and holds the map being built: 26k regions and 51k sizes after a 40k-token race,
  100k objects for the collector, 90-170 ms of CPU at its end; it also kept removed widgets.
- Every node's own ``Styles`` point back at it (textual#6017 proposed weak references and was
  closed in favour of breaking the cycles): every removed widget, and the virtual nodes Textual
  makes for component classes each time it restyles (the footer's keys: 1,200-1,800 objects at
  each race's end), waited for a full collection.
- ``LRUCache`` keeps its entries in a ring; a removed widget's box-model cache stayed one:
  12,600 objects (box models, fractions) frozen for good after 2 races.

``apply()`` installs the fixes; ``release_render_caches()`` empties a cache that keeps removed
widgets' strips. Each keeps Textual's behaviour: the same values are returned and drawn.
tests/tui/test_tui_memory.py frees a race's widgets with the collector off and fails without
any one of them.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from textual import _compositor
from textual._styles_cache import StylesCache
from textual.cache import LRUCache
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.strip import Strip
from textual.widget import Widget

_original_divide = Strip.divide
_original_exit = Widget._message_loop_exit
_original_lru_clear = LRUCache.clear
_original_components = Stylesheet._process_component_classes
_original_arrange_root = _compositor.Compositor._arrange_root
# The compositor's map is built by a nested function that calls itself: the function, its cell
# and everything the cell holds (the map being built, thousands of regions) are a cycle.
_ARRANGE_END = "    widgets -= invisible_widgets\n    return map, widgets\n"
_ARRANGE_FIX = "    del add_widget  # codeact-explorer: the nested function's cycle\n"


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    """``Strip.divide`` without caching the strip in itself (same result, a new list)."""
    cuts = list(cuts)
    length = self.cell_length
    if [cut for cut in cuts if cut <= length] == [length]:
        return [self]
    return _original_divide(self, cuts)


def unlink_styles(nodes: Iterable[DOMNode | None]) -> None:
    """Cut the link from each node's own styles back to the node (call once it is removed:
    its styles then no longer refresh it, as Textual does for styles without a node)."""
    for node in nodes:
        if node is not None:
            node._css_styles.node = None
            node._inline_styles.node = None


def _process_component_classes(self: Stylesheet, node: DOMNode) -> None:
    """Textual's restyling of ``node``'s component classes, which replaces the virtual node of
    each (a ``DOMNode`` whose styles point back at it); the replaced ones are unlinked."""
    old = [styles.node for styles in node._component_styles.values()]
    _original_components(self, node)
    kept = {id(styles.node) for styles in node._component_styles.values()}
    unlink_styles(virtual for virtual in old if id(virtual) not in kept)


def _lru_clear(self: LRUCache) -> None:
    """``LRUCache.clear`` that also unlinks its ring of entries (each entry is a list that
    points at its neighbours, the only one at itself), so that the entries are freed now."""
    for link in self._cache.values():
        link.clear()
    _original_lru_clear(self)


async def _message_loop_exit(self: Widget) -> None:
    """Textual's clean-up of a removed widget, then its cycles cut: its styles' (its component
    nodes' too: Textual forgets them during the clean-up, so they are taken first) and its box
    model cache's ring."""
    components = [styles.node for styles in self._component_styles.values()]
    await _original_exit(self)
    unlink_styles([self, *components])
    self._box_model_cache.clear()


def _arrange_root_without_cycle() -> Callable[..., Any] | None:
    """``Compositor._arrange_root`` with one line added before it returns, ``del add_widget``,
    which empties the cell that made the cycle; None if its source is not the one this line was
    written for (another Textual: left as it is)."""
    try:
        lines, first = inspect.getsourcelines(_original_arrange_root)
    except (OSError, TypeError):
        return None
    source = textwrap.dedent("".join(lines))
    if source.count(_ARRANGE_END) != 1 or not source.startswith("def _arrange_root("):
        return None
    source = "\n" * (first - 1) + source.replace(_ARRANGE_END, _ARRANGE_FIX + _ARRANGE_END)
    # Compiled with this module's ``from __future__ import annotations`` (inherited), as the
    # compositor's own module is: its annotations name types imported for type checking only.
    code = compile(source, inspect.getsourcefile(_original_arrange_root) or "<compositor>",
                   "exec")
    namespace: dict[str, object] = {}
    exec(code, vars(_compositor), namespace)  # the module's own globals, as the original
    function = cast("Callable[..., Any]", namespace["_arrange_root"])
    function.__qualname__ = _original_arrange_root.__qualname__
    return function


def apply() -> bool:
    """Install the fixes (idempotent; the app calls it when it is made). False if the
    compositor's fix did not apply to this Textual (the others always do)."""
    Strip.divide = _divide  # type: ignore[method-assign]
    LRUCache.clear = _lru_clear  # type: ignore[method-assign]
    Stylesheet._process_component_classes = _process_component_classes  # type: ignore[method-assign]
    Widget._message_loop_exit = _message_loop_exit  # type: ignore[method-assign]
    if _compositor.Compositor._arrange_root is not _original_arrange_root:
        return True
    arrange_root = _arrange_root_without_cycle()
    if arrange_root is not None:
        _compositor.Compositor._arrange_root = arrange_root  # type: ignore[method-assign]
    return arrange_root is not None


def release_render_caches() -> None:
    """Let go of the removed widgets that Textual's render cache still holds.

    Textual 8.2.8 caches ``StylesCache.get_inner_outer`` with ``lru_cache(1024)`` on an
    instance method, so the cache holds up to 1,024 widgets' styles caches with their rendered
    strips after the widgets are gone: 74 more each race in tests/perf/gc_pause_perf.py (found
    with ``gc.get_referrers``), about 12,000 objects. The cached values are two styles made from
    two colours, cheap to make again.
    """
    cache_clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if cache_clear is not None:  # a Textual that fixed it may not cache there at all
        cache_clear()
