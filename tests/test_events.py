import json

import pytest

from engine.events import (
    EventFormatError,
    RunFinished,
    ToolCall,
    event_from_dict,
)


def test_events_round_trip_through_json():
    events = [
        ToolCall(run_id="r", mode="tool_calling", round=1, call_id="c1", name="users_search",
                 arguments={"query": "Ada"}),
        RunFinished(run_id="r", mode="codeact", stop_reason="answered", success=True,
                    answer="done", verdict=[], rounds=2, input_tokens=10, output_tokens=3),
    ]
    for event in events:
        back = event_from_dict(json.loads(json.dumps(event.to_dict())))
        assert back == event


def test_unknown_event_is_a_clear_error():
    with pytest.raises(EventFormatError, match="not an event"):
        event_from_dict({"type": "nonsense"})
