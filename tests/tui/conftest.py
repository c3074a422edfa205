"""Helpers for the app's Pilot tests: a fake engine and waiting on conditions, not on time."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.message import Message
from textual.notifications import Notify

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FakeBackend

from tui.app import ExplorerApp
from tui.choices import RunChoice


async def until(pilot, condition: Callable[[], bool], what: str, tries: int = 300) -> None:
    """Let the app process messages until ``condition`` holds (bounded; fails with ``what``)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def notified(messages: list[Message]) -> list[str]:
    """The texts of the notifications among ``messages`` (what ``run_test(message_hook=...)``
    collected), each once, in order."""
    seen = {id(m): m for m in messages if isinstance(m, Notify)}
    return [str(m.notification.message) for m in seen.values()]


@pytest.fixture
def fake_backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def make_app(tmp_path: Path):
    def make(backend=None, **choice) -> ExplorerApp:
        return ExplorerApp(RunChoice(pace=0, **choice), backend=backend or FakeBackend(),
                           export_dir=tmp_path)

    return make


@pytest.fixture
def real_engine(_isolated_home: Path, warm_wasm_cache: Path) -> Path:
    """The real engine (scripted provider) in this test's own home, with the session's one
    compiled interpreter (tests/conftest.py) as its sandbox cache."""
    return _isolated_home
