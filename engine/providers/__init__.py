"""Model providers behind one streaming interface: mistral, scripted, replay.

``make_provider`` is the one way the engine gets a provider; configuration problems (no API
key, no recording to replay, an unknown name) raise ``ProviderError(kind="config")`` with one
sentence that says what to do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.providers.base import Provider, ProviderError

PROVIDERS = ("scripted", "mistral", "replay")
SERVER_URL_ENV = "MISTRAL_SERVER_URL"  # a self-hosted deployment speaking Mistral's API


def make_provider(
    name: str,
    *,
    task: Any,
    mode: str,
    model: str | None = None,
    pace: float = 0.0,
    replay_path: str | Path | None = None,
) -> Provider:
    """A provider for one agent run of ``task`` in ``mode``."""
    if name == "scripted":
        from engine.providers.scripted import ScriptedProvider

        return ScriptedProvider(task, mode, pace=pace, model=model)
    if name == "replay":
        from engine.providers.replay import ReplayProvider

        if replay_path is None:
            raise ProviderError(
                "The replay provider needs a recorded run; pick one from `codeact-explorer "
                "runs`.", kind="config")
        return ReplayProvider.from_path(replay_path, mode, pace=pace, model=model)
    if name == "mistral":
        from engine.providers.mistral import DEFAULT_MODEL, MistralProvider

        return MistralProvider(model=model or DEFAULT_MODEL,
                               server_url=os.environ.get(SERVER_URL_ENV) or None)
    raise ProviderError(
        f"Unknown provider {name!r}; use one of {', '.join(PROVIDERS)}.", kind="config")


__all__ = ["PROVIDERS", "Provider", "ProviderError", "make_provider"]
