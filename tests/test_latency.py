"""Time that tells the truth: the latency model, pace as a time scale, latency in the events."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from engine_fakes import FakeSandbox, fake_task, install_checker

from engine import records
from engine.controller import Race
from engine.events import RoundStarted, RunFinished, TextDelta, Usage, event_from_dict
from engine.modes import mode
from engine.providers import replay as replay_module
from engine.providers import scripted as scripted_module
from engine.providers.base import ChatRequest, Finish
from engine.providers.latency import MISTRAL_SMALL, LatencyModel, check_pace
from engine.providers.replay import recorded_timings
from engine.providers.scripted import ScriptedProvider
from engine.replay import RecordedRace
from engine.run import RunConfig

PROGRAM = 'user = api.users.search("Lena Okafor")["items"][0]\nprint(f"{user[\'name\']} found.")'


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("Lena" in answer, ["judged"]))


def _sandbox(host_call, api):  # type: ignore[no-untyped-def]
    from wasm_sandbox import ExecutionResult

    return FakeSandbox(lambda code: ExecutionResult(output="Lena Okafor found.\n"))


class _Sleeps:
    """Records the seconds asked of asyncio.sleep (and yields, as a zero sleep does)."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._real = asyncio.sleep

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self._real(0)


def test_the_model_reproduces_its_published_anchor_and_grows_with_input() -> None:
    # Artificial Analysis: 0.29 s to the first token at ~1,000 input tokens, 112 tokens/s.
    assert MISTRAL_SMALL.ttft_ms(1_000) == pytest.approx(290.0)
    assert MISTRAL_SMALL.decode_ms(112) == pytest.approx(1_000.0)
    assert MISTRAL_SMALL.ttft_ms(18_000) > 5 * MISTRAL_SMALL.ttft_ms(2_000) / 2
    timing = LatencyModel(100.0, 1_000.0, 10.0).timing(2_000, 30)
    assert (timing.ttft_ms, timing.total_ms, timing.source) == (2_100.0, 5_100.0, "modeled")


@pytest.mark.parametrize("pace", [-1.0, float("nan"), float("inf")])
def test_a_pace_that_is_not_a_time_scale_is_one_sentence(pace: float) -> None:
    with pytest.raises(ValueError, match="--pace must be a number of 0 or more"):
        check_pace(pace)
    with pytest.raises(ValueError):
        ScriptedProvider(fake_task(reference=(PROGRAM,)), mode("codeact"), pace=pace)


@pytest.mark.parametrize("pace", [0.0, 0.5, 1.0])
async def test_the_scripted_reply_takes_pace_times_the_models_time(
        pace: float, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = _Sleeps()
    monkeypatch.setattr(scripted_module.asyncio, "sleep", sleeps)
    provider = ScriptedProvider(fake_task(reference=(PROGRAM,)), mode("codeact"), pace=pace)
    request = ChatRequest(model="x", messages=[{"role": "user", "content": "go"}],
                          input_tokens=3_000)
    chunks = [c async for c in provider.stream(request)]
    finish = chunks[-1]
    assert isinstance(finish, Finish) and finish.timing is not None
    assert finish.timing.ttft_ms == pytest.approx(MISTRAL_SMALL.ttft_ms(3_000))
    assert finish.timing.total_ms > finish.timing.ttft_ms  # the program takes decoding
    assert sleeps.asked[0] == pytest.approx(finish.timing.ttft_ms * pace / 1000)
    assert sum(sleeps.asked) == pytest.approx(finish.timing.total_ms * pace / 1000)


async def test_every_round_reports_its_latency_and_tool_calling_pays_for_its_prompt() -> None:
    race = Race(fake_task(reference=(PROGRAM,)), ("tool_calling", "codeact"),
                RunConfig(record=False), sandbox_factory=_sandbox)
    events = [e async for e in race.events()]
    usages = [e for e in events if isinstance(e, Usage)]
    assert usages and all(u.latency_source == "modeled" for u in usages)
    for u in usages:
        started = next(e for e in events if isinstance(e, RoundStarted)
                       and e.mode == u.mode and e.round == u.round)
        assert u.ttft_ms == pytest.approx(MISTRAL_SMALL.ttft_ms(started.input_tokens), abs=0.1)
        assert u.total_ms is not None and u.ttft_ms is not None and u.total_ms >= u.ttft_ms
    first = {u.mode: u for u in usages if u.round == 1}
    assert first["tool_calling"].ttft_ms > 3 * first["codeact"].ttft_ms  # 120 schemas resent
    for mode_id, finished in race.results.items():
        assert finished.model_ms == pytest.approx(
            sum(u.total_ms or 0 for u in usages if u.mode == mode_id), abs=0.5)
    # JSON-serialisable and replay-safe.
    assert event_from_dict(usages[0].to_dict()) == usages[0]


async def test_a_live_provider_gets_the_wall_clock() -> None:
    from engine_fakes import FakeProvider, text

    race = Race(fake_task(reference=(PROGRAM,)), ("tool_calling",), RunConfig(record=False),
                provider_factory=lambda *a, **k: FakeProvider([text("Lena Okafor.")]))
    usages = [e async for e in race.events() if isinstance(e, Usage)]
    assert [u.latency_source for u in usages] == ["measured"]
    assert usages[0].ttft_ms is not None and usages[0].ttft_ms >= 0


async def test_the_replay_provider_keeps_the_recorded_timing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = Race(fake_task(reference=(PROGRAM,)), ("tool_calling", "codeact"), RunConfig(),
                    sandbox_factory=_sandbox)
    recorded = [e async for e in original.events() if isinstance(e, Usage)]
    sleeps = _Sleeps()
    monkeypatch.setattr(replay_module.asyncio, "sleep", sleeps)
    replay = Race(fake_task(reference=(PROGRAM,)), ("tool_calling", "codeact"),
                  RunConfig(provider="replay", replay_path=original.race_id, record=False,
                            pace=0.5),
                  sandbox_factory=_sandbox)
    replayed = [e async for e in replay.events() if isinstance(e, Usage)]
    key = sorted((u.mode, u.round, u.ttft_ms, u.total_ms) for u in recorded)
    assert sorted((u.mode, u.round, u.ttft_ms, u.total_ms) for u in replayed) == key
    assert {u.latency_source for u in replayed} == {"recorded"}
    total = sum(u.total_ms or 0 for u in recorded)
    assert sum(sleeps.asked) == pytest.approx(total * 0.5 / 1000, rel=0.01)


def test_records_without_latency_get_it_from_the_events_times() -> None:
    base = dict(run_id="r", mode="tool_calling")
    events = [RoundStarted(**base, elapsed=1.0, round=1, input_tokens=10),
              TextDelta(**base, elapsed=1.4, round=1, text="Hi"),
              TextDelta(**base, elapsed=1.9, round=1, text=" there"),
              Usage(**base, elapsed=2.0, round=1, input_tokens=10, output_tokens=2)]
    [(number, timing)] = recorded_timings(events).items()
    assert (number, timing.ttft_ms, timing.total_ms) == (1, 400.0, 1000.0)


async def test_a_recorded_race_replays_its_gaps_times_pace(
        monkeypatch: pytest.MonkeyPatch) -> None:
    race = Race(fake_task(reference=(PROGRAM,)), ("codeact",), RunConfig(),
                sandbox_factory=_sandbox)
    async for _ in race.events():
        pass
    events = records.load_events(race.race_id)
    # Stretch the recording so that its gaps are large and known.
    events = [dataclasses.replace(e, elapsed=i * 2.0) for i, e in enumerate(events)]
    sleeps = _Sleeps()
    monkeypatch.setattr("engine.replay.asyncio.sleep", sleeps)
    played = [e async for e in RecordedRace(events, pace=0.25).events()]
    assert isinstance(played[-1], RunFinished)
    assert sleeps.asked == [0.0] + [0.5] * (len(events) - 1)
    with pytest.raises(ValueError):
        RecordedRace(events, pace=-1)
