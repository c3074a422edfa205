"""The provider registry: every source of model replies, defined once.

A provider is a ``ProviderSpec``: its name, whether it is a live model, the environment
variable of its key, its default model, how local token counts relate to the model's own (exact
for Mistral's Tekken, approximate for other models, none for the scripted agent), whether
``--pace`` applies, and a factory. The race controller, the bench, the CLI's ``--provider``
choices, ``doctor`` and the app ask this registry; nothing compares provider names.

``make_provider`` is the one way the engine gets a provider; configuration problems (no API
key, no recording to replay, an unknown name) raise ``ProviderError(kind="config")`` with one
sentence that says what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from engine.providers.base import Provider, ProviderError
from engine.providers.mistral import DEFAULT_MODEL as MISTRAL_DEFAULT_MODEL
from engine.providers.mistral import KEY_ENV as MISTRAL_KEY_ENV
from engine.providers.mistral import MistralProvider
from engine.providers.mistral import default_rate as mistral_default_rate
from engine.providers.openai_compatible import BASE_URL_ENV as OPENAI_BASE_URL_ENV
from engine.providers.openai_compatible import DEFAULT_MODEL as OPENAI_DEFAULT_MODEL
from engine.providers.openai_compatible import KEY_ENV as OPENAI_KEY_ENV
from engine.providers.openai_compatible import OpenAICompatibleProvider
from engine.providers.replay import ReplayProvider
from engine.providers.scripted import SCRIPTED_MODEL, ScriptedProvider
from tasks.suite import Task

if TYPE_CHECKING:
    from engine.modes import ModeSpec
    from engine.toolbox import Toolbox

SERVER_URL_ENV = "MISTRAL_SERVER_URL"  # a self-hosted deployment speaking Mistral's API
LocalCounts = Literal["exact", "approximate", "reference"]


@dataclass(frozen=True)
class ProviderOptions:
    """What a provider factory gets for one agent run.

    ``mode`` is the run's ``engine.modes.ModeSpec``; ``tools`` returns the run's toolbox once
    the agent has opened it (the scripted agent reads its guest API); ``pace`` the speed setting
    of offline providers; ``server_url`` a self-hosted endpoint (None: the provider's default);
    ``rate`` the requests per second a live provider paces itself to (None: no pacing;
    "default": the spec's ``default_rate`` for the server).
    """

    task: Task
    mode: ModeSpec
    model: str | None = None
    pace: float = 0.0
    replay_path: str | Path | None = None
    tools: Callable[[], Toolbox] | None = None
    server_url: str | None = None
    rate: float | str | None = "default"


@dataclass(frozen=True)
class ProviderSpec:
    """One registered provider.

    - ``live``: a real model answers (False: the scripted reference agent or a replay);
    - ``key_env``: the environment variable holding its API key (None: needs none);
    - ``key_required``: False when the key is optional (local servers need none);
    - ``local_counts``: how our Tekken count relates to the model's: "exact" (a Mistral model),
      "approximate" (another model: the API's usage is the truth), "reference" (no model);
    - ``paced``: ``--pace`` applies (offline providers stream at a chosen speed);
    - ``replays``: it plays back a recorded race (it needs ``replay_path``);
    - ``default_rate``: for a live provider, the requests per second it paces itself to by
      default, given the server URL (None: the provider's own server), or None for no pacing;
    - ``reads_prompts``: what it sends depends on the prompts (False: the scripted agent plays
      the bundled task's reference programs, a replay plays what was recorded; an edited
      prompt changes their token counts, not what they do — ``engine.prompt_checks``);
    - ``make``: the factory, raising ``ProviderError(kind="config")`` with one sentence.
    """

    name: str
    label: str
    description: str
    live: bool
    default_model: str
    make: Callable[[ProviderOptions], Provider]
    key_env: str | None = None
    key_required: bool = True
    # Where its server URL comes from when no --server-url is given; a provider whose key is
    # needed only for its hosted default (OpenAI's API) names it, so ``missing`` can tell.
    server_url_env: str | None = None
    local_counts: LocalCounts = "exact"
    paced: bool = False
    replays: bool = False
    default_rate: Callable[[str | None], float | None] | None = None
    reads_prompts: bool = True

    def rate_for(self, rate: float | str | None, server_url: str | None) -> float | None:
        """Requests per second for a run: ``rate`` as given, or this provider's default for
        ``server_url`` when ``rate`` is "default" (no pacing when it has none)."""
        if rate == "default":
            return self.default_rate(server_url) if self.default_rate else None
        return float(rate) if isinstance(rate, int | float) and rate > 0 else None

    def missing(self, server_url: str | None = None) -> str | None:
        """One sentence saying what this provider lacks to start, or None.

        A provider with ``key_required`` needs its key; one with ``server_url_env`` (whose key
        is optional on a server of your own) needs either the key or a server URL
        (``server_url``, the ``--server-url`` flag, or that variable)."""
        if not self.key_env or os.environ.get(self.key_env, "").strip():
            return None
        if self.key_required:
            return (f"The {self.name} provider needs an API key: set {self.key_env}, or use "
                    "the offline scripted provider (--provider scripted).")
        if self.server_url_env is None:
            return None
        if (server_url or "").strip() or os.environ.get(self.server_url_env, "").strip():
            return None
        return (f"The {self.name} provider needs a server URL (--server-url or "
                f"{self.server_url_env}) for a server of your own, or {self.key_env} for the "
                "hosted API.")


def _scripted(o: ProviderOptions) -> Provider:
    return ScriptedProvider(o.task, o.mode, pace=o.pace, model=o.model, tools=o.tools)


def _replay(o: ProviderOptions) -> Provider:
    if o.replay_path is None:
        raise ProviderError(
            "The replay provider needs a recorded run; pick one from `codeact-explorer runs`.",
            kind="config")
    return ReplayProvider.from_path(o.replay_path, o.mode.id, pace=o.pace, model=o.model)


def _mistral(o: ProviderOptions) -> Provider:
    url = o.server_url or os.environ.get(SERVER_URL_ENV) or None
    return MistralProvider(model=o.model or MISTRAL_DEFAULT_MODEL, server_url=url,
                           rate=PROVIDERS["mistral"].rate_for(o.rate, url))


def _openai(o: ProviderOptions) -> Provider:
    url = o.server_url or os.environ.get(OPENAI_BASE_URL_ENV) or None
    return OpenAICompatibleProvider(model=o.model, base_url=url,
                                    rate=PROVIDERS["openai"].rate_for(o.rate, url))


_SPECS: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        name="scripted", label="Scripted reference agent",
        description="offline, deterministic: plays each task's reference programs; not a model",
        live=False, default_model=SCRIPTED_MODEL, make=_scripted, local_counts="reference",
        paced=True, reads_prompts=False,
    ),
    ProviderSpec(
        name="mistral", label="Mistral",
        description="Mistral's API (or a self-hosted deployment) through the mistralai SDK",
        live=True, default_model=MISTRAL_DEFAULT_MODEL, make=_mistral,
        key_env=MISTRAL_KEY_ENV, local_counts="exact", default_rate=mistral_default_rate,
    ),
    ProviderSpec(
        name="openai", label="OpenAI-compatible",
        description="an OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio, hosted "
                    "APIs) through the openai SDK; --server-url or OPENAI_BASE_URL, optional "
                    "OPENAI_API_KEY",
        live=True, default_model=OPENAI_DEFAULT_MODEL, make=_openai, key_env=OPENAI_KEY_ENV,
        key_required=False, server_url_env=OPENAI_BASE_URL_ENV, local_counts="approximate",
    ),
    ProviderSpec(
        name="replay", label="Replay",
        description="plays back a recorded run, offline",
        live=False, default_model="(recorded)", make=_replay, local_counts="reference",
        paced=True, replays=True, reads_prompts=False,
    ),
)
PROVIDERS: dict[str, ProviderSpec] = {spec.name: spec for spec in _SPECS}
PROVIDER_NAMES: tuple[str, ...] = tuple(PROVIDERS)
LIVE_PROVIDERS: tuple[str, ...] = tuple(s.name for s in _SPECS if s.live)


def provider_spec(name: str) -> ProviderSpec:
    """The registered provider ``name``; ``ProviderError(kind="config")`` if there is none."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ProviderError(
            f"Unknown provider {name!r}; use one of {', '.join(PROVIDER_NAMES)}.",
            kind="config") from None


def make_provider(name: str, options: ProviderOptions) -> Provider:
    """A provider for one agent run; ``ProviderError(kind="config")`` when it cannot start."""
    return provider_spec(name).make(options)


__all__ = [
    "LIVE_PROVIDERS",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "Provider",
    "ProviderError",
    "ProviderOptions",
    "ProviderSpec",
    "make_provider",
    "provider_spec",
]
