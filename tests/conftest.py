"""Every test runs with its own CodeAct Explorer home, never the user's real files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_mistral import FakeMistral


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CODEACT_EXPLORER_HOME", str(home))
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    # The tests' own task files are trusted: the scripted tool-calling agent plays them on the
    # host (test_scripted_refuses_task_files.py checks the refusal without this).
    monkeypatch.setenv("CODEACT_EXPLORER_PLAY_TASK_FILES", "1")
    return home


@pytest.fixture
def mistral_server() -> Iterator[FakeMistral]:
    """A fake Mistral API on 127.0.0.1 for the test, closed after it."""
    with FakeMistral() as fake:
        yield fake


@pytest.fixture
def warm_wasm_cache(_isolated_home: Path) -> Path:
    """This test's own home with the session's one compiled interpreter as its sandbox cache
    (``$CODEACT_EXPLORER_HOME/cache/wasm``): the default sandbox, the bench and the app find
    it built and compile nothing (compiling takes seconds)."""
    from sandbox_support import shared_cache

    cache = _isolated_home / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "wasm").symlink_to(shared_cache(), target_is_directory=True)
    return cache / "wasm"
