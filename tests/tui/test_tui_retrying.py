"""A retry shows in the agent's pane as a status line ("retrying (2/5) in 4 s"), then goes."""

from __future__ import annotations

from conftest import until
from fakes import FakeBackend, synthetic_events

from engine.events import Retrying, TextDelta
from engine.replay import RecordedRace


def _with_retry(stop_after_retry: bool) -> list:
    events = synthetic_events()
    at = next(i for i, e in enumerate(events)
              if isinstance(e, TextDelta) and e.mode == "tool_calling")
    retry = Retrying(run_id="run-1", mode="tool_calling", elapsed=events[at].elapsed,
                     round=1, attempt=2, attempts=5, wait_s=4.0, kind="truncated",
                     reason="Mistral's reply was cut off before it finished",
                     discarded_text="Looking")
    if stop_after_retry:  # the race as it stands while the retry waits
        return [e for e in events[:at + 1] if e.mode == "tool_calling"] + [retry]
    return [*events[:at + 1], retry, *events[at + 1:]]


class RetryBackend(FakeBackend):
    def __init__(self, stop_after_retry: bool) -> None:
        super().__init__()
        self.stop_after_retry = stop_after_retry

    def new_race(self, choice, prompts):
        self.started.append((choice, prompts))
        return RecordedRace(_with_retry(self.stop_after_retry), pace=0)


async def test_a_waiting_retry_is_a_status_line_in_its_pane(make_app):
    app = make_app(RetryBackend(stop_after_retry=True))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await pilot.press("r")
        pane = screen.panes["tool_calling"]
        await until(pilot, lambda: pane.waiting.display, "the retry note")
        note = str(pane.waiting.render())
        assert "retrying (2/5) in 4 s" in note and "cut off" in note
        assert not screen.panes["codeact"].waiting.display


async def test_the_retry_note_goes_when_the_reply_streams_again(make_app):
    app = make_app(RetryBackend(stop_after_retry=False))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.race_screen
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not screen.running, "the race to end")
        pane = screen.panes["tool_calling"]
        assert pane.status == "answered" and not pane.waiting.display
