"""``RunConfig``: everything about a run that is not the task or the mode, frozen.

The TUI builds one from its controls and hands it to ``engine.controller.Race``; the bench
builds one from its flags. Changing a setting means making a new config (``dataclasses.replace``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.prompts import PromptSet
from tasks.suite import Task

DEFAULT_MAX_ROUNDS = 10  # the article's round limit


@dataclass(frozen=True)
class RunConfig:
    """Provider, model and agent options of a run (both agents of a race share it).

    - ``provider``: a name of ``engine.providers.PROVIDERS`` ("scripted", the offline default).
    - ``model``: None for the provider's default.
    - ``pace``: seconds between streamed chunks for the scripted and replay providers (0 = instant).
    - ``parallel_tool_calls``: let the tool-calling model ask for several calls in one round.
    - ``tool_choice``: "auto", "any", "none" or None (the provider's default).
    - ``max_rounds``: None for the task's own limit (10 unless the task says otherwise).
    - ``prompts``: None for ``engine.prompts.load_prompts()`` (defaults + saved overrides).
    - ``record``: write a JSONL run record under ``paths().runs``.
    - ``replay_path``: the recorded run (file or run id) the replay provider plays back.
    - ``server_url``: a self-hosted endpoint for a live provider (None: its default).
    - ``rate``: requests per second a live provider paces itself to; None for no pacing,
      "default" for the provider's own default for its server (``ProviderSpec.default_rate``).
    """

    provider: str = "scripted"
    model: str | None = None
    pace: float = 0.0
    parallel_tool_calls: bool = False
    tool_choice: str | None = None
    max_rounds: int | None = None
    prompts: PromptSet | None = None
    record: bool = True
    replay_path: Path | str | None = None
    server_url: str | None = None
    rate: float | str | None = "default"

    def rounds_for(self, task: Task) -> int:
        """The round limit for ``task``: this config's, else the task's, else 10."""
        if self.max_rounds is not None:
            return max(1, int(self.max_rounds))
        return task.max_rounds or DEFAULT_MAX_ROUNDS

    def options(self) -> dict[str, Any]:
        """The agent options as a JSON-friendly dict (for RunStarted and the run record)."""
        return {
            "pace": self.pace,
            "parallel_tool_calls": self.parallel_tool_calls,
            "tool_choice": self.tool_choice,
            "max_rounds": self.max_rounds,
            "record": self.record,
            "replay_path": str(self.replay_path) if self.replay_path is not None else None,
            "server_url": self.server_url,
            "rate": self.rate,
        }
