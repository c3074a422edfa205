"""The app's plumbing without a screen: batching, the tally, the recorded replay."""

from __future__ import annotations

import asyncio

from fakes import synthetic_events

from engine.events import RunFinished, StepWaiting, TextDelta, ToolCall
from engine.replay import RecordedRace
from tui.pump import coalesce, pump
from tui.tally import RaceTally


def delta(mode: str, text: str, round_: int = 1) -> TextDelta:
    return TextDelta(run_id="r", mode=mode, round=round_, text=text)


def test_coalesce_merges_deltas_per_agent_and_keeps_each_agents_order():
    call = ToolCall(run_id="r", mode="tool_calling", round=1, call_id="c", name="x",
                    arguments={})
    events = [delta("tool_calling", "a"), delta("codeact", "x"), delta("tool_calling", "b"),
              call, delta("tool_calling", "c"), delta("codeact", "y"), delta("codeact", "z", 2)]
    out = coalesce(events)
    texts = [(e.mode, e.text) for e in out if isinstance(e, TextDelta)]
    assert texts == [("tool_calling", "ab"), ("codeact", "xy"), ("tool_calling", "c"),
                     ("codeact", "z")]
    tool = [e for e in out if e.mode == "tool_calling"]
    assert isinstance(tool[1], ToolCall)


async def test_pump_batches_a_fast_stream_into_few_posts():
    async def stream():
        for i in range(2000):
            yield delta("codeact", str(i % 10))
            if i % 100 == 0:
                await asyncio.sleep(0.005)

    batches: list[list] = []
    read = await pump(stream(), batches.append, interval=0.02)
    assert read == 2000
    assert len(batches) < 50  # 2,000 deltas arrive as a handful of merged batches
    assert "".join(e.text for b in batches for e in b) == "".join(str(i % 10)
                                                                  for i in range(2000))


def test_tally_counts_tokens_per_agent_and_the_savings():
    tally = RaceTally()
    tally.reset(("tool_calling", "codeact"), "find-user-team")
    for event in synthetic_events():
        tally.apply(event)
    tool, code = tally.modes["tool_calling"], tally.modes["codeact"]
    assert len(tool.rounds) == 4 and len(code.rounds) == 2
    assert tool.success and code.success
    assert tool.rounds[-1].segments["tools"] == 12800
    assert 0.8 < tally.savings < 0.9 and tally.headline == "codeact"
    assert tool.cumulative_input() == [12960, 26160, 39600, 53280]  # climbs round by round
    assert tool.model_ms == 4 * 1200.0


def test_vs_previous_compares_finished_runs_of_the_same_task_and_modes_only():
    tally = RaceTally()
    race = ("tool_calling", "codeact")
    tally.reset(race, "find-user-team")
    for event in synthetic_events():
        tally.apply(event)
    first = {m: t.total for m, t in tally.modes.items()}
    tally.reset(race, "find-user-team")
    events = synthetic_events(tool_rounds=3)
    for event in events[: len(events) // 2]:
        tally.apply(event)
    assert tally.previous == {}  # mid-run: nothing to compare yet (not "-100%")
    for event in events[len(events) // 2:]:
        tally.apply(event)
    assert tally.previous == first
    tally.reset(race, "aggregate-projects")  # another task: not compared with the first
    for event in synthetic_events():
        tally.apply(event)
    assert tally.previous == {}
    tally.reset(("codeact",), "find-user-team")  # other modes: not compared either
    for event in synthetic_events(modes=("codeact",)):
        tally.apply(event)
    assert tally.previous == {}


def test_a_stopped_round_is_not_counted_so_pane_meter_and_chart_agree():
    from engine.events import RoundStarted, RunFinished

    tally = RaceTally()
    tally.reset(("tool_calling",), "t")
    events = [e for e in synthetic_events(modes=("tool_calling",))
              if not isinstance(e, RunFinished)]
    for event in events:
        tally.apply(event)
    tally.apply(RoundStarted(run_id="r", mode="tool_calling", round=5, input_tokens=13_920,
                             breakdown={"tools": 12_800, "results": 1_120}))
    tool = tally.modes["tool_calling"]
    assert len(tool.rounds) == 5 and tool.cumulative_input()[-1] > 53_280  # drawn while live
    # The engine's own totals for a broken run can be 0: the counted rounds are the truth.
    tally.apply(RunFinished(run_id="r", mode="tool_calling", stop_reason="cancelled",
                            success=False, answer="", verdict=[], rounds=4, input_tokens=0,
                            output_tokens=0))
    assert len(tool.rounds) == len(tool.counted) == 4
    assert tool.total == 53_280 + 4 * 30
    assert tally.savings is None and not tally.complete


def test_tally_says_which_events_change_the_meter():
    tally = RaceTally()
    tally.reset(("tool_calling", "codeact"))
    call = ToolCall(run_id="r", mode="tool_calling", round=1, call_id="c", name="x",
                    arguments={})
    assert not tally.apply(delta("tool_calling", "text"))  # the meter is not redrawn for text
    assert not tally.apply(call)
    assert tally.apply(StepWaiting(run_id="r", mode="codeact", round=2))
    assert tally.apply(delta("a_new_mode", "x"))  # a new row in the meter


async def test_pump_slows_its_flushes_while_the_stream_is_busy():
    async def stream():
        for i in range(5000):
            yield delta("codeact", "x")
            if i % 100 == 0:  # 100 deltas a millisecond: busy
                await asyncio.sleep(0.001)

    batches: list[list] = []
    await pump(stream(), batches.append, interval=0.001, busy_interval=0.05)
    assert sum(len(e.text) for b in batches for e in b) == 5000
    assert len(batches) < 15  # not one flush per millisecond


async def test_recorded_race_pauses_in_step_mode_and_cancels_cleanly():
    race = RecordedRace(synthetic_events())
    race.step_mode = True
    seen = []

    async def consume():
        async for event in race.events():
            seen.append(event)

    task = asyncio.create_task(consume())
    for _ in range(50):
        await asyncio.sleep(0)
    waiting = [e for e in seen if isinstance(e, StepWaiting)]
    assert {e.mode for e in waiting} == {"tool_calling", "codeact"}
    race.step()
    for _ in range(50):
        await asyncio.sleep(0)
    assert len([e for e in seen if isinstance(e, StepWaiting)]) == 4  # both paused at round 2
    race.cancel()
    await asyncio.wait_for(task, 2)
    finished = [e for e in seen if isinstance(e, RunFinished)]
    assert {e.stop_reason for e in finished} == {"cancelled"}


async def test_meter_shows_the_local_count_beside_a_live_models_usage():
    from textual.app import App

    from engine.events import Usage
    from tui.widgets.token_meter import TokenMeter

    tally = RaceTally()
    tally.reset(("tool_calling", "codeact"))
    for mode, api in (("tool_calling", 20_100), ("codeact", None)):
        tally.apply(Usage(run_id="r", mode=mode, round=1, input_tokens=19_000, output_tokens=40,
                          api_input_tokens=api, api_output_tokens=None if api is None else 50))
    tool, code = tally.modes["tool_calling"], tally.modes["codeact"]
    assert (tool.total, tool.local_tokens, tool.api_reported) == (20_150, 19_040, True)
    assert not code.api_reported

    class MeterApp(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield TokenMeter(id="meter")

    app = MeterApp()
    async with app.run_test(size=(120, 12)):
        meter = app.query_one(TokenMeter)
        meter.show(tally)
        text = str(meter.table.render())
    assert "local count" in text and "19,040" in text and "(-1,110)" in text


async def test_meter_says_the_local_count_is_approximate_for_another_model():
    from textual.app import App

    from engine.events import RunStarted, Usage
    from tui.widgets.token_meter import TokenMeter

    tally = RaceTally()
    tally.reset(("tool_calling",))
    tally.apply(RunStarted(run_id="r", mode="tool_calling", task_id="t", task_title="T",
                           provider="openai", model="llama3.1", scripted=False, max_rounds=10))
    tally.apply(Usage(run_id="r", mode="tool_calling", round=1, input_tokens=19_000,
                      output_tokens=40, api_input_tokens=21_000, api_output_tokens=50))

    class MeterApp(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield TokenMeter(id="meter")

    app = MeterApp()
    async with app.run_test(size=(120, 12)):
        meter = app.query_one(TokenMeter)
        meter.show(tally)
        text = str(meter.table.render())
    assert "local count (approximate)" in text and "19,040" in text
