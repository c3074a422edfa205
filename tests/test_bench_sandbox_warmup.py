"""On a fresh install the first CodeAct run would pay for compiling the interpreter (seconds):
the bench compiles it before its clock starts, so no run's time and not the wall time count it.

The cache folder is cold (this test's own home); the compiler child is stood in for by a copy of
the session's one compiled module (``runtime._compile`` is what runs the child), so the test
sees when the compile happens without paying for it, and never asserts on a time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sandbox_support import link_cache_into, shared_cache

from engine import bench
from tui.cli import main
from wasm_sandbox import runtime


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What happens, in order: "compile" (the cold cache is built), "clock" (the bench's clock
    starts: its first reading), "race" (a race is built)."""
    compiled = shared_cache()  # before the stand-in: the session's own compile is real
    seen: list[str] = []

    def compile_stand_in(wasm: Path, module: Path, sidecar: Path, expect: dict) -> None:
        seen.append("compile")
        link_cache_into(compiled, module.parent)

    class Clock:
        @staticmethod
        def monotonic() -> float:
            if "clock" not in seen:
                seen.append("clock")
            return time.monotonic()

    real_race = bench.Race

    def race(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append("race")
        return real_race(*args, **kwargs)

    monkeypatch.setattr(runtime, "_compile", compile_stand_in)
    monkeypatch.setattr(bench, "time", Clock)
    monkeypatch.setattr(bench, "Race", race)
    return seen


def test_the_bench_compiles_the_sandbox_before_its_clock_starts(
        order: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["bench", "--tasks", "user-team-info", "--repeat", "2", "--format", "json",
                   "--no-record"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0 and data["tasks"][0]["runs"]["codeact"]["successes"] == 2
    # Compiled once, before the clock; the runs then load it and never compile again.
    assert order == ["compile", "clock", "race", "race"]


def test_a_bench_without_codeact_compiles_nothing(
        order: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--tasks", "user-team-info", "--modes", "tool_calling",
                 "--format", "json", "--no-record"]) == 0
    assert order == ["clock", "race"]


async def test_the_bench_says_when_it_compiles_and_a_warm_cache_says_nothing(
        order: list[str]) -> None:
    said: list[str] = []
    tasks = bench_tasks()
    await bench.run_bench(tasks, bench.RunConfig(record=False), modes=("codeact",),
                          progress=lambda what, done, total: said.append(what))
    assert said[0].startswith("preparing the sandbox") and said[1] == "racing user-team-info"
    said.clear()
    await bench.run_bench(tasks, bench.RunConfig(record=False), modes=("codeact",),
                          progress=lambda what, done, total: said.append(what))
    assert said[0] == "racing user-team-info" and order.count("compile") == 1


def bench_tasks() -> list:  # type: ignore[type-arg]
    from engine.commands.bench_cmd import select_tasks

    return select_tasks("user-team-info", None)
