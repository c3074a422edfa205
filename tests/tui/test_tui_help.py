"""The help screen and the README describe the same keys, and every key the race screen has."""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding

from tui.screens.help import HELP
from tui.screens.race import RaceScreen

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `([^`]+)`(?: / `([^`]+)`)? \| (.+) \|$", re.MULTILINE)


def _keys(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for first, second, does in ROW.findall(text):
        found[first] = does
        if second:
            found[second] = does
    return found


def test_help_and_readme_list_the_same_keys_and_every_race_screen_binding() -> None:
    readme, help_keys = _keys(README.read_text(encoding="utf-8")), _keys(HELP)
    shared = set(readme) - {"f1"}
    assert {k: help_keys[k] for k in shared} == {k: readme[k] for k in shared}
    bound = {b.key for b in RaceScreen.BINDINGS if isinstance(b, Binding)}
    assert bound <= set(readme) and bound <= set(help_keys), bound - set(readme)
    assert "both agents" not in HELP and "Two agents" not in HELP
