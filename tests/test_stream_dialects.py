"""Both agents through the strict stand-in, in every stream dialect real servers speak, on both
live providers.

Each race runs the tool-calling agent (two parallel calls, then the answer, with words beside
the calls) and the CodeAct agent (a program, then the answer) against ``FakeMistral`` playing
one dialect: the mistral provider against Mistral's API profile (mistral-common serving
validation with the v3 and v7 Tekken tokenizers, the API's own rules), the openai provider
against the OpenAI-compatible profile (OpenAI's request and message fields, then
mistral-common's validation, as a server running a Mistral model does). A request the server
would refuse fails the race with a 400 and shows up in ``server.violations``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from engine_fakes import FakeSandbox, fake_task, install_checker
from fake_mistral import DIALECTS, FakeMistral, RecordedRequest, Reply, dialect_reply

from engine.controller import Race
from engine.events import CodeBlock, RunFinished, ToolCall, ToolResult
from engine.providers import PROVIDERS, ProviderOptions
from engine.run import RunConfig
from engine.settings import paths
from wasm_sandbox import ExecutionResult as SandboxResult

ANSWER = "Lena Okafor is on the Platform team."
CALLS = [("aaaaaaaa1", "users_search", '{"query": "Lena Okafor"}'),
         ("bbbbbbbb2", "teams_list", '{"page_size": 5}')]
PROGRAM = "```python\nprint(api.users.search(query='Lena Okafor'))\n```"


def _assistant_turns(request: RecordedRequest) -> int:
    return sum(1 for m in request.body["messages"] if m.get("role") == "assistant")


def responder(dialect: str, *, ids: bool = True):
    def respond(request: RecordedRequest) -> Reply:
        first = _assistant_turns(request) == 0
        if request.body.get("tools"):
            if first:
                return dialect_reply(dialect, "Let me look that up.", CALLS, ids=ids)
            return dialect_reply(dialect, ANSWER)
        if first:
            return dialect_reply(dialect, f"One program will do.\n\n{PROGRAM}")
        return dialect_reply(dialect, ANSWER)

    return respond


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: ("Lena" in answer, ["judged"]))


@pytest.fixture
def race_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    servers: list[FakeMistral] = []

    async def run(dialect: str, provider: str = "mistral", *, ids: bool = True,
                  modes: tuple[str, ...] = ("tool_calling", "codeact"),
                  ) -> tuple[FakeMistral, list[Any]]:
        profile = "openai" if provider == "openai" else "mistral"
        server = FakeMistral(responder(dialect, ids=ids), validate=profile).start()
        servers.append(server)
        monkeypatch.setenv("MISTRAL_API_KEY", "test-key")

        def factory(name: str, options: ProviderOptions):
            provider = PROVIDERS[name].make(options)  # the registry's own entry
            provider.policy = replace(provider.policy, backoff_initial=0.01)
            return provider

        config = RunConfig(provider=provider, server_url=f"{server.url}/v1", rate=None)
        race = Race(fake_task(), modes, config=config, provider_factory=factory,
                    sandbox_factory=lambda *a, **k: FakeSandbox(
                        lambda code: SandboxResult(output="Lena Okafor, team 3\n")))
        events = [event async for event in race.events()]
        return server, events

    yield run
    for server in servers:
        server.close()


def _record(mode: str) -> list[dict[str, Any]]:
    [path] = sorted(paths().runs.glob(f"*-{mode}.jsonl"))
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


PROVIDER_NAMES = ("mistral", "openai")


@pytest.mark.parametrize("agent", ["tool_calling", "codeact"])
@pytest.mark.parametrize("provider", PROVIDER_NAMES, ids=[f"{p}-provider" for p in PROVIDER_NAMES])
@pytest.mark.parametrize("dialect", DIALECTS, ids=[f"{d}-stream" for d in DIALECTS])
async def test_each_agent_answers_in_every_dialect_with_every_request_valid(
    race_on, dialect, provider, agent
):
    server, events = await race_on(dialect, provider, modes=(agent,))
    assert server.violations == []
    [finished] = [e for e in events if isinstance(e, RunFinished)]
    assert finished.stop_reason == "answered", finished.verdict
    assert finished.answer == ANSWER and finished.success and finished.rounds == 2
    # API usage when the dialect reports it; the local count when it does not.
    assert (finished.api_input_tokens is None) == (dialect == "no_usage")
    last = server.requests[-1].body
    if provider == "openai":  # usage asked for every time
        assert all(r.body["stream_options"] == {"include_usage": True} for r in server.requests)
    if agent == "codeact":
        [code] = [e for e in events if isinstance(e, CodeBlock)]
        assert code.code == PROGRAM.split("\n", 1)[1].rsplit("\n", 1)[0]
        assert last["messages"][-1] == {"role": "user", "content": "Lena Okafor, team 3"}
        return
    # Every call is its own call: Ollama's repeated index 0 merges nothing.
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [
        (cid, name, json.loads(args)) for cid, name, args in CALLS]
    assert all(e.ok for e in events if isinstance(e, ToolResult))
    # The words beside the calls were shown (and recorded) but not sent back (v3 refuses both).
    messages = last["messages"]
    assistant = next(m for m in messages if m["role"] == "assistant")
    assert not assistant.get("content") and len(assistant["tool_calls"]) == 2
    assert [m["tool_call_id"] for m in messages if m["role"] == "tool"] == [c[0] for c in CALLS]
    if provider == "openai":  # tool messages in OpenAI's shape
        assert all("name" not in m for m in messages if m["role"] == "tool")


async def test_both_agents_race_on_one_server_with_every_request_valid(race_on):
    server, events = await race_on("fragments", "mistral")
    assert server.violations == [] and len(server.requests) == 4
    finished = {e.mode: e for e in events if isinstance(e, RunFinished)}
    assert {m: f.stop_reason for m, f in finished.items()} == {
        "tool_calling": "answered", "codeact": "answered"}


@pytest.mark.parametrize("provider", PROVIDER_NAMES, ids=[f"{p}-provider" for p in PROVIDER_NAMES])
@pytest.mark.parametrize("dialect", ["mistral", "fragments", "same_index"])
async def test_calls_without_ids_get_mistral_shaped_ids_used_in_both_messages(
    race_on, dialect, provider
):
    server, events = await race_on(dialect, provider, ids=False)
    assert server.violations == []
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls) == 2 and len({c.call_id for c in calls}) == 2
    assert all(len(c.call_id) == 9 and c.call_id.isalnum() for c in calls)
    second = [r.body for r in server.requests if r.body.get("tools")][-1]["messages"]
    sent = [call["id"] for m in second if m["role"] == "assistant" for call in m["tool_calls"]]
    answered = [m["tool_call_id"] for m in second if m["role"] == "tool"]
    assert sent == answered == [c.call_id for c in calls]


async def test_the_record_keeps_every_call_the_words_and_the_raw_chunks(race_on):
    server, _ = await race_on("same_index")
    assert server.violations == []
    lines = _record("tool_calling")
    [first] = [x for x in lines if x["kind"] == "response" and x["round"] == 1]
    calls = [c for c in first["chunks"] if c["type"] == "tool_call"]
    assert [c["call_id"] for c in calls] == [c[0] for c in CALLS]
    assert "".join(c["text"] for c in first["chunks"] if c["type"] == "text") == (
        "Let me look that up.")
    # The raw chunks are what the server sent: Ollama's index 0 twice is there to see.
    raw_calls = [call for chunk in first["raw"] for choice in chunk.get("choices", [])
                 for call in choice["delta"].get("tool_calls") or []]
    assert [c["index"] for c in raw_calls] == [0, 0]
