"""What the user has chosen to run: task, modes, provider, model and pace, as one frozen value.

The app republishes a new ``RunChoice`` whenever a control changes (elia's frozen runtime
config), so every screen reads the same settings and a run is always started from one snapshot.
Modes and providers come from their registries (``engine.modes``, ``engine.providers``); nothing
here names one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine.modes import BASELINE, DEFAULT_RACE, MODE_IDS, MODES, ModeSpec, label, mode
from engine.providers import PROVIDERS as PROVIDER_REGISTRY
from engine.providers import ProviderSpec

# The providers a user picks in the app (a replay is picked from the history instead).
PROVIDERS: tuple[str, ...] = tuple(s.name for s in PROVIDER_REGISTRY.values() if not s.replays)
# Playback time scale of the scripted agent and replays: 1 = the model's real speed (its latency
# model, engine.providers.latency), so the race's clock tells the truth on stage.
DEFAULT_PACE = 1.0


def mode_sets() -> tuple[tuple[str, ...], ...]:
    """The sets of modes ``m`` cycles through, in registry order, each once.

    The default race first, then every mode, then the baseline against each mode the default
    race leaves out, then each mode alone.
    """
    sets: list[tuple[str, ...]] = [DEFAULT_RACE, MODE_IDS]
    sets += [(BASELINE.id, spec.id) for spec in MODES
             if not spec.baseline and spec.id not in DEFAULT_RACE]
    sets += [(spec.id,) for spec in MODES]
    return tuple(dict.fromkeys(ordered(s) for s in sets))


def ordered(modes: Sequence[str]) -> tuple[str, ...]:
    """``modes`` deduplicated, in registry order (the baseline is the left pane)."""
    wanted = set(modes)
    return tuple(m for m in MODE_IDS if m in wanted)


def describe_modes(modes: Sequence[str]) -> str:
    """ "Tool calling vs CodeAct", "CodeAct alone" — what a set of modes races, for people."""
    labels = [label(m) for m in modes]
    if len(labels) == 1:
        return f"{labels[0]} alone"
    return " vs ".join(labels)


@dataclass(frozen=True)
class RunChoice:
    """The settings the next run starts from."""

    task_id: str | None = None
    modes: tuple[str, ...] = DEFAULT_RACE
    provider: str = "scripted"
    model: str | None = None
    pace: float = DEFAULT_PACE
    task_file: Path | None = None
    server_url: str | None = None  # a self-hosted server for the live provider (None: default)
    rate: float | str | None = "default"  # requests per second, None unpaced (RunConfig.rate)
    # An MCP server every task runs on instead of its own source ({"mcp": command line} or
    # {"mcp_url": URL}); None: each task's own (the mock platform unless the task names one).
    tool_source: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", ordered(self.modes) or DEFAULT_RACE)

    @property
    def mode_specs(self) -> tuple[ModeSpec, ...]:
        return tuple(mode(m) for m in self.modes)

    @property
    def provider_spec(self) -> ProviderSpec | None:
        return PROVIDER_REGISTRY.get(self.provider)

    @property
    def scripted(self) -> bool:
        """No live model answers (the scripted agent, a replay): the registry says so."""
        spec = self.provider_spec
        return spec is None or not spec.live

    @property
    def paced(self) -> bool:
        """The pace setting applies to this provider."""
        spec = self.provider_spec
        return spec is not None and spec.paced

    def with_(self, **changes: object) -> RunChoice:
        """A copy with some fields changed (a new snapshot; this one never changes)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def next_modes(self) -> RunChoice:
        """The next useful set of modes (``mode_sets``)."""
        sets = mode_sets()
        index = sets.index(self.modes) if self.modes in sets else -1
        return self.with_(modes=sets[(index + 1) % len(sets)])


def default_provider(explicit: str | None = None) -> str:
    """The first live provider whose API key is set, else the first offline one (the scripted
    agent); ``explicit`` when given."""
    if explicit:
        return explicit
    specs = [s for s in PROVIDER_REGISTRY.values() if not s.replays]
    for spec in specs:
        if spec.live and spec.key_env and spec.key_required and os.environ.get(spec.key_env):
            return spec.name
    return next(s.name for s in specs if not s.live)
