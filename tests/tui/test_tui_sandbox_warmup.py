"""A fresh install compiles the sandbox's interpreter once (seconds): the app does it at start-up
in the background, says so in the banner until it is done, and a race started meanwhile waits
for that compile instead of compiling again. Real engine, cold cache (this test's own
``CODEACT_EXPLORER_HOME``); the compiler child is stood in for by a copy of the session's one
compiled module, held back until the test lets it finish, so "meanwhile" is certain."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import until
from sandbox_support import link_cache_into, shared_cache

from tui.app import ExplorerApp
from tui.choices import RunChoice
from tui.messages import SandboxPreparing
from wasm_sandbox import runtime

TASK = "user-team-info"


async def test_a_cold_cache_is_compiled_at_start_up_and_a_race_waits_for_it(
        monkeypatch: pytest.MonkeyPatch, _isolated_home: Path) -> None:
    compiled = shared_cache()  # the session's real compile, before the stand-in
    release = threading.Event()
    compiles: list[Path] = []

    def compile_stand_in(wasm: Path, module: Path, sidecar: Path, expect: dict) -> None:
        compiles.append(module)
        assert release.wait(60), "the test never let the compile finish"
        link_cache_into(compiled, module.parent)

    monkeypatch.setattr(runtime, "_compile", compile_stand_in)
    assert not (_isolated_home / "cache" / "wasm").exists()  # a fresh install's cache
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        notice = screen.banner.preparing
        await until(pilot, lambda: notice.display, "the notice")
        assert "preparing the sandbox" in str(notice.render())
        await until(pilot, lambda: screen.tasks, "the tasks")
        await pilot.press("r")  # on stage, before the compile is over
        tools, codeact = screen.panes["tool_calling"], screen.panes["codeact"]
        await until(pilot, lambda: tools.finished is not None, "tool calling", tries=600)
        assert codeact.finished is None and screen.running  # CodeAct waits for the sandbox
        assert notice.display
        release.set()
        await until(pilot, lambda: not screen.running, "the race to end", tries=600)
        await until(pilot, lambda: not notice.display, "the notice to clear")
        assert codeact.finished is not None and codeact.finished.success
        assert len(compiles) == 1  # the race loaded what the start-up compiled


async def test_a_warm_cache_says_nothing(warm_wasm_cache: Path) -> None:
    messages: list = []
    app = ExplorerApp(RunChoice(task_id=TASK, pace=0))
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        screen = app.race_screen
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "warm-up"])
        await pilot.pause(0.05)
        assert not screen.banner.preparing.display
        said = [m for m in messages if isinstance(m, SandboxPreparing)]
        assert said and not any(m.preparing for m in said) and said[-1].error is None
