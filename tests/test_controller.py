"""Race: both agents at once, step mode, cancel mid-stream, one failing while the other runs."""

from __future__ import annotations

import asyncio

import pytest
from engine_fakes import FakeProvider, FakeSandbox, calls, fake_task, install_checker, text

from engine.controller import Race
from engine.events import RunError, RunFinished, StepWaiting, TextDelta
from engine.providers import ProviderOptions
from engine.providers.base import ProviderError, TextChunk
from engine.run import RunConfig

NO_RECORD = RunConfig(record=False)


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: (bool(answer), []))


def _race(providers: dict[str, FakeProvider], sandbox: FakeSandbox | None = None,
          config: RunConfig = NO_RECORD, **task: object) -> Race:
    def factory(name: str, options: ProviderOptions) -> FakeProvider:
        return providers[options.mode.id]

    return Race(fake_task(**task), tuple(providers), config, provider_factory=factory,
                sandbox_factory=lambda host_call, api: sandbox or FakeSandbox())


async def test_both_agents_run_concurrently_and_each_finishes_once() -> None:
    race = _race({
        "tool_calling": FakeProvider([calls(("c1", "users_get", '{"id": 1}')), text("Found.")]),
        "codeact": FakeProvider([text("```python\nprint(1)\n```"), text("Found.")]),
    })
    events = [e async for e in race.events()]
    modes_in_order = [e.mode for e in events]
    first_codeact = modes_in_order.index("codeact")
    assert "tool_calling" in modes_in_order[first_codeact:]  # interleaved, not one after another
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert sorted(e.mode for e in finished) == ["codeact", "tool_calling"]
    assert race.finished and set(race.results) == {"codeact", "tool_calling"}
    assert all(e.run_id == race.run_ids[e.mode] for e in events)


async def test_step_mode_waits_before_each_round_until_step() -> None:
    race = _race({"tool_calling": FakeProvider([calls(("c1", "users_get", '{"id": 1}')),
                                                text("Found.")])})
    race.step_mode = True
    seen: list[object] = []
    stream = race.events()
    async for event in stream:
        seen.append(event)
        if isinstance(event, StepWaiting):
            # Nothing else happens while it waits.
            nxt = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.05)
            assert not nxt.done()
            race.step()
            seen.append(await nxt)
            if isinstance(seen[-1], RunFinished):
                break
    waits = [e.round for e in seen if isinstance(e, StepWaiting)]
    assert waits == [1, 2]
    assert isinstance(seen[-1], RunFinished) and seen[-1].stop_reason == "answered"


class _Hanging(FakeProvider):
    """Streams one chunk, then waits for ever (a model that stalls mid-reply)."""

    async def stream(self, request):  # type: ignore[no-untyped-def,override]
        self.requests.append(request)
        yield TextChunk("thinking")
        await asyncio.Event().wait()


async def test_cancel_mid_stream_ends_both_runs_as_cancelled() -> None:
    tool, code = _Hanging([]), _Hanging([])
    race = _race({"tool_calling": tool, "codeact": code})
    events: list[object] = []
    async for event in race.events():
        events.append(event)
        if sum(isinstance(e, TextDelta) for e in events) == 2 and event.type == "text_delta":
            asyncio.get_running_loop().call_later(0.02, race.cancel)
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert sorted(f.mode for f in finished) == ["codeact", "tool_calling"]
    assert all(f.stop_reason == "cancelled" and not f.success for f in finished)
    assert all(f.verdict == ["The run was cancelled before it finished."] for f in finished)


async def test_cancel_interrupts_a_running_program() -> None:
    block = asyncio.Event()
    sandbox = FakeSandbox(block=block)
    race = _race({"codeact": FakeProvider([text("```python\nwhile True: pass\n```")])},
                 sandbox=sandbox)
    events = []
    async for event in race.events():
        events.append(event)
        if event.type == "code":
            asyncio.get_running_loop().call_later(0.02, race.cancel)
    assert events[-1].stop_reason == "cancelled"
    assert sandbox.interrupted and sandbox.closed


async def test_one_agent_failing_leaves_the_other_running() -> None:
    race = _race({
        "tool_calling": FakeProvider([[ProviderError("The server failed; try again.")]]),
        "codeact": FakeProvider([text("```python\nprint(1)\n```"), text("All done.")]),
    })
    events = [e async for e in race.events()]
    assert race.results["tool_calling"].stop_reason == "error"
    assert race.results["codeact"].stop_reason == "answered"
    errors = [e for e in events if isinstance(e, RunError)]
    assert [e.mode for e in errors] == ["tool_calling"]


async def test_a_provider_that_cannot_be_made_is_an_error_event_not_an_exception() -> None:
    def factory(name: str, options: ProviderOptions) -> object:
        raise ProviderError("No Mistral API key: set MISTRAL_API_KEY.", kind="config")

    race = Race(fake_task(), ("tool_calling", "codeact"), RunConfig(provider="mistral",
                record=False), provider_factory=factory,
                sandbox_factory=lambda host_call, api: FakeSandbox())
    events = [e async for e in race.events()]
    errors = [e for e in events if isinstance(e, RunError)]
    assert len(errors) == 2 and all("MISTRAL_API_KEY" in e.message for e in errors)
    assert all(e.kind == "config" for e in errors)
    assert all(r.stop_reason == "error" for r in race.results.values())


async def test_the_real_provider_factory_without_a_key_says_so() -> None:
    race = Race(fake_task(), ("tool_calling",), RunConfig(provider="mistral", record=False))
    events = [e async for e in race.events()]
    error = next(e for e in events if isinstance(e, RunError))
    assert "MISTRAL_API_KEY" in error.message
    assert events[-1].stop_reason == "error"


async def test_cancel_before_start_still_finishes_every_run() -> None:
    race = _race({"tool_calling": FakeProvider([text("x")]), "codeact": FakeProvider([text("x")])})
    race.cancel()
    events = [e async for e in race.events()]
    assert [e.stop_reason for e in events if isinstance(e, RunFinished)] == ["cancelled"] * 2


async def test_a_race_runs_once_and_rejects_unknown_modes() -> None:
    race = _race({"tool_calling": FakeProvider([text("x")])})
    [e async for e in race.events()]
    with pytest.raises(RuntimeError):
        [e async for e in race.events()]
    with pytest.raises(ValueError):
        Race(fake_task(), ("telepathy",), NO_RECORD)  # type: ignore[arg-type]


async def test_a_paced_scripted_race_steps_and_stops_promptly() -> None:
    task = fake_task(reference=('print(api.users.get(1)["name"])',))
    race = Race(task, ("tool_calling", "codeact"), RunConfig(record=False, pace=0.5),
                sandbox_factory=lambda host_call, api: FakeSandbox())
    race.step_mode = True
    waiting: set[str] = set()
    after_cancel: list[object] = []
    cancelled = False
    async for event in race.events():
        if cancelled:
            after_cancel.append(event)
        if isinstance(event, StepWaiting):
            waiting.add(event.mode)
            if waiting == {"tool_calling", "codeact"}:
                race.step()  # one step releases both
        if isinstance(event, TextDelta) and not cancelled:
            cancelled = True
            race.cancel()
    assert cancelled
    # Promptly: no paced reply goes on streaming after the cancel, each agent just finishes.
    assert not [e for e in after_cancel if isinstance(e, TextDelta)]
    assert {r.stop_reason for r in race.results.values()} == {"cancelled"}
