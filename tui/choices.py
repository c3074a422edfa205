"""What the user has chosen to run: task, mode, provider, model and pace, as one frozen value.

The app republishes a new ``RunChoice`` whenever a control changes (elia's frozen runtime
config), so every screen reads the same settings and a run is always started from one snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from engine.events import Mode
from engine.modes import DEFAULT_RACE
from engine.providers import PROVIDERS as PROVIDER_REGISTRY

ModeChoice = Literal["both", "tool_calling", "codeact"]
MODE_CHOICES: tuple[ModeChoice, ...] = ("both", "tool_calling", "codeact")
MODE_CHOICE_LABELS: dict[str, str] = {
    "both": "Both, side by side",
    "tool_calling": "Tool calling alone",
    "codeact": "CodeAct alone",
}
# The providers a user picks in the app (a replay is picked from the history instead).
PROVIDERS: tuple[str, ...] = tuple(s.name for s in PROVIDER_REGISTRY.values() if not s.replays)
KEY_ENV = "MISTRAL_API_KEY"
# Playback time scale of the scripted agent and replays: 1 = the model's real speed (its latency
# model, engine.providers.latency), so the race's clock tells the truth on stage.
DEFAULT_PACE = 1.0


@dataclass(frozen=True)
class RunChoice:
    """The settings the next run starts from."""

    task_id: str | None = None
    mode: ModeChoice = "both"
    provider: str = "scripted"
    model: str | None = None
    pace: float = DEFAULT_PACE
    task_file: Path | None = None
    server_url: str | None = None  # a self-hosted server for the live provider (None: default)
    rate: float | str | None = "default"  # requests per second, None unpaced (RunConfig.rate)
    # An MCP server every task runs on instead of its own source ({"mcp": command line} or
    # {"mcp_url": URL}); None: each task's own (the mock platform unless the task names one).
    tool_source: Mapping[str, str] | None = None

    @property
    def modes(self) -> tuple[Mode, ...]:
        """The agents this choice races, tool calling first (it is the left pane)."""
        return DEFAULT_RACE if self.mode == "both" else (self.mode,)

    @property
    def scripted(self) -> bool:
        spec = PROVIDER_REGISTRY.get(self.provider)
        return spec is None or not spec.live

    def with_(self, **changes: object) -> RunChoice:
        """A copy with some fields changed (a new snapshot; this one never changes)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def next_mode(self) -> RunChoice:
        index = MODE_CHOICES.index(self.mode)
        return self.with_(mode=MODE_CHOICES[(index + 1) % len(MODE_CHOICES)])


def default_provider(explicit: str | None = None) -> str:
    """``mistral`` when a key is set (or asked for), otherwise the offline scripted agent."""
    if explicit:
        return explicit
    return "mistral" if os.environ.get(KEY_ENV) else "scripted"
