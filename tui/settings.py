"""What the app remembers between sessions: theme, pace, last task, modes and export folder.

One small TOML file, ``app.toml`` in the config directory (``engine.settings.paths()``, so
``CODEACT_EXPLORER_HOME`` moves it with everything else). Flags on the command line win over
it. A file that cannot be read is reported in one sentence and ignored, never fatal; a value
that no longer makes sense (a mode that left the registry, a negative pace) is dropped.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from engine.modes import MODE_IDS
from engine.settings import paths

SETTINGS_FILE = "app.toml"


@dataclass(frozen=True)
class AppSettings:
    """Remembered settings; None means "not remembered" (the app's default applies)."""

    theme: str | None = None
    pace: float | None = None
    task: str | None = None
    modes: tuple[str, ...] | None = None
    export_dir: Path | None = None

    def with_(self, **changes: object) -> AppSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


def settings_path() -> Path:
    return paths().config / SETTINGS_FILE


def default_export_dir() -> Path:
    """Where exports and screenshots go unless the user picked a folder: data/exports."""
    return paths().data / "exports"


def load_settings(path: Path | None = None) -> tuple[AppSettings, str | None]:
    """The remembered settings, and a sentence if the file could not be read (then defaults)."""
    path = path or settings_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppSettings(), None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return AppSettings(), f"{path} could not be read ({exc}); using the defaults."
    theme = data.get("theme")
    pace = data.get("pace")
    task = data.get("task")
    modes = data.get("modes")
    export_dir = data.get("export_dir")
    kept_modes = None
    if isinstance(modes, list):
        kept_modes = tuple(m for m in MODE_IDS if m in modes) or None
    return AppSettings(
        theme=theme if isinstance(theme, str) and theme else None,
        pace=float(pace) if isinstance(pace, int | float) and pace >= 0 else None,
        task=task if isinstance(task, str) and task else None,
        modes=kept_modes,
        export_dir=Path(export_dir).expanduser() if isinstance(export_dir, str) and export_dir
        else None,
    ), None


def save_settings(settings: AppSettings, path: Path | None = None) -> Path:
    """Write ``settings`` (only the remembered values); returns the file. Raises OSError."""
    path = path or settings_path()
    lines = ["# CodeAct Explorer remembers these between sessions; flags override them."]
    for item in fields(AppSettings):
        value = getattr(settings, item.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            text = "[" + ", ".join(json.dumps(v) for v in value) + "]"
        elif isinstance(value, float):
            text = repr(value)
        else:  # a JSON string is a valid TOML basic string
            text = json.dumps(str(value))
        lines.append(f"{item.name} = {text}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path
