"""The seams: modes, providers and tool sources are registry entries every consumer iterates."""

from __future__ import annotations

import pytest
from engine_fakes import fake_task

from engine.modes import (
    BASELINE,
    DEFAULT_RACE,
    MODE_IDS,
    MODES,
    UnknownModeError,
    mode,
    parse_modes,
)
from engine.prompts import PromptSet, prompt_names
from engine.providers import PROVIDERS, ProviderError, provider_spec
from engine.toolbox import Toolbox, api_summary
from engine.toolboxes import TOOL_SOURCES, ToolSourceError, open_toolbox, source_for
from engine.toolboxes.platform import PlatformToolbox


def test_every_mode_names_a_bundled_prompt_and_one_is_the_baseline() -> None:
    assert [m.id for m in MODES] == list(MODE_IDS)
    assert BASELINE.id == "tool_calling" and sum(m.baseline for m in MODES) == 1
    assert all(m.prompt in prompt_names() for m in MODES)
    assert set(DEFAULT_RACE) <= set(MODE_IDS) and len(MODE_IDS) == 3
    assert all(m.colour.startswith("#") and len(m.colour) == 7 for m in MODES)


def test_modes_parse_in_registry_order_and_unknown_ones_say_which_exist() -> None:
    assert parse_modes("codeact, tool_calling,codeact") == ("tool_calling", "codeact")
    assert parse_modes("all") == MODE_IDS
    with pytest.raises(UnknownModeError, match="use one of tool_calling, codeact"):
        parse_modes("tool_calling,json_mode")
    with pytest.raises(UnknownModeError):
        parse_modes(" , ")
    with pytest.raises(UnknownModeError):
        mode("nope")


def test_a_prompt_set_is_complete_and_fills_only_known_placeholders() -> None:
    prompts = PromptSet({"codeact_system": "Write {code} with {api}"})
    assert prompts.system_prompt("codeact_system", api="API") == "Write {code} with API"
    assert prompts.overridden() == ["codeact_system"]
    assert PromptSet.from_dict(prompts.to_dict()) == prompts
    assert prompts.fingerprint() != PromptSet.defaults().fingerprint()
    assert len(prompts.fingerprint()) == 12


def test_providers_come_from_the_registry_with_their_capabilities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert {"scripted", "mistral", "replay"} <= set(PROVIDERS)
    assert not PROVIDERS["scripted"].live and PROVIDERS["mistral"].live
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    missing = PROVIDERS["mistral"].missing()
    assert missing is not None and "MISTRAL_API_KEY" in missing
    monkeypatch.setenv("MISTRAL_API_KEY", "k")
    assert PROVIDERS["mistral"].missing() is None and PROVIDERS["scripted"].missing() is None
    with pytest.raises(ProviderError, match="Unknown provider 'gpt'"):
        provider_spec("gpt")


def test_the_platform_is_a_toolbox_with_flat_names_and_fresh_state_per_run() -> None:
    first, second = open_toolbox(fake_task()), open_toolbox(fake_task())
    assert isinstance(first, PlatformToolbox) and isinstance(first, Toolbox)
    assert len(first.function_schemas()) == 120 and "api.<resource>" in first.python_api()
    created = first.call("teams_create", {"name": "Seams", "department": "engineering"})
    assert created.ok, created.error
    assert second.call("teams_get", {"id": created.value["id"]}).ok is False
    failed = first.call("no_such_tool", {})
    assert not failed.ok and "no_such_tool" in (failed.error or "")
    assert failed.to_wire() == {"ok": False, "error": failed.error}


def test_a_task_naming_an_unknown_tool_source_is_one_sentence() -> None:
    assert source_for(fake_task()) is TOOL_SOURCES["platform"]
    with pytest.raises(ToolSourceError, match="names the tool source 'nowhere'"):
        source_for(fake_task(tool_source="nowhere"))


def test_the_discovery_summary_counts_functions_and_namespaces() -> None:
    api = {"users_get": {"path": "users.get", "params": ["id"], "signature": "", "doc": ""},
           "teams_get": {"path": "teams.get", "params": ["id"], "signature": "", "doc": ""},
           "ping": {"path": "ping", "params": [], "signature": "", "doc": ""}}
    assert api_summary(api) == "it has 3 functions in 2 namespaces (users, teams)."  # type: ignore[arg-type]
    assert api_summary({}) == "it has 0 functions."
