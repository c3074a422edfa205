"""Prompts: bundled defaults, the user's overrides, and what a run sends and records."""

from __future__ import annotations

import json
import re

import pytest
from engine_fakes import FakeProvider, collect, fake_task, install_checker, text

from engine.agents import CodeActAgent, ToolCallingAgent
from engine.events import RunStarted
from engine.modes import MODES, mode
from engine.prompts import (
    PromptSet,
    default_text,
    load_prompts,
    reset_overrides,
    save_override,
)
from engine.run import RunConfig
from engine.settings import paths
from wasm_sandbox.runtime import INTERPRETER_DIR


def test_defaults_are_package_files_and_codeact_has_the_api_placeholder() -> None:
    defaults = PromptSet.defaults()
    codeact = defaults.system_template("codeact_system")
    assert "{api}" in codeact and "{api}" not in defaults.system_template("tool_calling_system")
    assert codeact == default_text("codeact_system")
    assert defaults.overridden() == []
    sent = defaults.system_prompt("codeact_system", api="def f(): ...")
    assert "def f(): ..." in sent and "{api}" not in sent
    assert defaults.task_prompt(" Do it. ") == "Do it."
    assert PromptSet.from_dict(defaults.to_dict()) == defaults


def test_overrides_are_saved_loaded_and_reset() -> None:
    assert load_prompts() == PromptSet.defaults()
    save_override("tool_calling_system", "Call tools. Be quick.")
    assert load_prompts().system_template("tool_calling_system") == "Call tools. Be quick."
    assert load_prompts().overridden() == ["tool_calling_system"]
    edited = load_prompts().with_system("codeact_system", "Write Python.\n{api}")
    edited = PromptSet(edited.systems, task="Hi")
    written = save_override(edited, task_id="find-user")
    assert len(written) == 3 and all(p.is_relative_to(paths().prompt_overrides) for p in written)
    assert load_prompts("find-user").task == "Hi" and load_prompts("other").task is None
    assert load_prompts().system_template("codeact_system") == "Write Python.\n{api}"
    reset_overrides(task_id="find-user")
    assert load_prompts("find-user").task is None
    assert load_prompts().system_template("codeact_system") == "Write Python.\n{api}"
    reset_overrides()
    assert load_prompts() == PromptSet.defaults()
    with pytest.raises(ValueError):
        save_override("nonsense", "x")  # type: ignore[arg-type]


def test_saving_a_default_removes_its_override() -> None:
    save_override("codeact_system", "Short.\n{api}")
    save_override("codeact_system", default_text("codeact_system"))
    assert not (paths().prompt_overrides / "codeact_system.md").exists()


async def test_a_run_sends_its_prompts_and_records_which(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: (True, []))
    prompts = PromptSet({"tool_calling_system": "Tools only.",
                         "codeact_system": "Python only.\n{api}"}, task="Find Lena, briefly.")
    tool = FakeProvider([text("Done.")])
    code = FakeProvider([text("Done.")])
    config = RunConfig(record=False, prompts=prompts)
    tool_events = await collect(ToolCallingAgent(fake_task(), tool, config,
                                                 spec=mode("tool_calling")).run())
    await collect(CodeActAgent(fake_task(), code, config, spec=mode("codeact"),
                               sandbox_factory=lambda h, a: None).run())
    assert tool.requests[0].messages[0] == {"role": "system", "content": "Tools only."}
    assert tool.requests[0].messages[1] == {"role": "user", "content": "Find Lena, briefly."}
    assert code.requests[0].messages[0]["content"].startswith("Python only.\n")
    assert "api.<resource>" in code.requests[0].messages[0]["content"]
    started = tool_events[0]
    assert isinstance(started, RunStarted)
    assert started.prompts["system"] == "Tools only."
    assert started.prompts["task"] == "Find Lena, briefly."
    assert started.prompts["overridden"] == "codeact_system,tool_calling_system,task"


def test_sandboxed_prompts_name_the_bundled_interpreters_python_version() -> None:
    """A prompt that says 3.12 to a model running 3.13 invites code the guest rejects."""
    build = json.loads((INTERPRETER_DIR / "BUILD.json").read_text(encoding="utf-8"))
    minor = ".".join(build["python"].split(".")[:2])
    sandboxed = [spec for spec in MODES if spec.needs_sandbox]
    assert sandboxed
    for spec in sandboxed:
        template = default_text(spec.prompt)
        named = set(re.findall(r"Python (\d+\.\d+)", template))
        assert named == {minor}, (spec.id, named)
