"""`bench --server-url URL --rate N|none`, and a bench that stops when the server is down."""

from __future__ import annotations

import json

import pytest
from fake_mistral import FakeMistral, text_reply, tool_call_reply

from engine.settings import paths
from tui.cli import main


def _answering(request):  # type: ignore[no-untyped-def]
    if not any(m["role"] == "tool" for m in request.body["messages"]):
        return tool_call_reply([("abcdefghi", "users_search", '{"query": "Lena"}')])
    return text_reply("Lena Okafor is on the Design Studio team.")


def test_server_url_with_v1_and_no_pacing_reach_the_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key")
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://127.0.0.1:9")  # the flag wins over it
    with FakeMistral(responder=_answering) as server:
        status = main(["bench", "--provider", "mistral", "--modes", "tool_calling",
                       "--tasks", "user-team-info", "--server-url", f"{server.url}/v1",
                       "--rate", "none", "--format", "json"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["tasks"][0]["runs"]["tool_calling"]["stop_reasons"] == ["answered"]
    assert status in (0, 1)  # the checker may judge the short answer; the run itself answered
    assert server.violations == [] and len(server.requests) == 2
    assert {r.path for r in server.requests} == {"/v1/chat/completions"}
    [record] = sorted(paths().runs.glob("*.jsonl"))
    header = json.loads(record.read_text().splitlines()[0])
    assert header["options"]["rate"] is None
    assert header["options"]["server_url"] == f"{server.url}/v1"


def test_a_bench_against_a_server_that_is_down_stops_with_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key")
    with FakeMistral(validate=False) as server:
        url = server.url  # closed again: nothing listens there now
    status = main(["bench", "--provider", "mistral", "--modes", "tool_calling", "--tasks",
                   "all", "--server-url", url, "--no-record"])
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert url in line and "connection refused" in line
    assert "the bench stopped after 2 runs in a row failed to connect" in line


@pytest.mark.parametrize("rate", ["fast", "-1", "0.0.1"])
def test_a_bad_rate_is_one_sentence(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--rate", rate]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--rate takes requests per second" in err
