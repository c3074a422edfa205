"""Every test runs with its own CodeAct Explorer home, never the user's real files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_mistral import FakeMistral


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CODEACT_EXPLORER_HOME", str(home))
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    return home


@pytest.fixture
def mistral_server() -> Iterator[FakeMistral]:
    """A fake Mistral API on 127.0.0.1 for the test, closed after it."""
    with FakeMistral() as fake:
        yield fake
