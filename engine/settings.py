"""Where CodeAct Explorer keeps its files, in one place.

Config, data (run records) and cache (the compiled interpreter) live in the user's XDG
directories. ``CODEACT_EXPLORER_HOME`` puts all three under one folder instead: the tests use it
so they never touch a real user's files (the same switch posting uses).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "codeact-explorer"
HOME_ENV = "CODEACT_EXPLORER_HOME"


@dataclass(frozen=True)
class Paths:
    """The three folders the app writes to (created on first use, not here)."""

    config: Path
    data: Path
    cache: Path

    @property
    def runs(self) -> Path:
        return self.data / "runs"

    @property
    def prompt_overrides(self) -> Path:
        return self.config / "prompts"

    @property
    def wasm_cache(self) -> Path:
        return self.cache / "wasm"

    def problem(self) -> str | None:
        """One sentence when a folder cannot be made or written (a file in its place, no
        permission), checked before a race starts so no run fails half-way on it; else None."""
        for label, folder in (("config", self.config), ("data", self.data),
                              ("cache", self.cache)):
            existing = folder
            while not existing.exists() and existing != existing.parent:
                existing = existing.parent
            if not existing.is_dir():
                where = f" (from {HOME_ENV})" if os.environ.get(HOME_ENV) else ""
                return (f"The {label} folder {folder}{where} cannot be made: {existing} is a "
                        "file, not a folder; point it at a folder.")
            if not os.access(existing, os.W_OK | os.X_OK):
                return (f"The {label} folder {folder} cannot be written ({existing} is not "
                        "writable); check its permissions.")
        return None


def paths() -> Paths:
    """The folders in force now (read from the environment each call, so tests can switch)."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser()
        return Paths(config=root / "config", data=root / "data", cache=root / "cache")
    import platformdirs  # 8 ms (-X importtime), not needed when the home folder is set

    return Paths(
        config=Path(platformdirs.user_config_dir(APP_NAME)),
        data=Path(platformdirs.user_data_dir(APP_NAME)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME)),
    )
