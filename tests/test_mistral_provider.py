"""The mistral provider's normal path against the fake API: what it sends, what it yields."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from types import SimpleNamespace

import httpx2
import pytest
from fake_mistral import FakeMistral, fast_provider, text_reply, tool_call_reply

from engine.providers import transport
from engine.providers.base import (
    ChatRequest,
    Finish,
    Provider,
    ProviderError,
    RawChunk,
    TextChunk,
    ToolCallChunk,
)
from engine.providers.mistral import MistralProvider

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "users_search",
            "description": "Search users by name.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    }
]
provider = fast_provider


@pytest.fixture
def server(mistral_server: FakeMistral) -> FakeMistral:
    return mistral_server


MESSAGES = [
    {"role": "system", "content": "You are a helpful agent."},
    {"role": "user", "content": "Find Ada."},
]



async def collect(prov: MistralProvider, request: ChatRequest) -> list:
    """The reply's items (the raw chunks, kept for the record, are left out)."""
    try:
        return [chunk async for chunk in prov.stream(request) if not isinstance(chunk, RawChunk)]
    finally:
        await prov.aclose()


def test_no_key_is_one_config_sentence_naming_the_variable_and_the_offline_provider():
    with pytest.raises(ProviderError) as info:
        MistralProvider()
    error = info.value
    assert error.kind == "config"
    assert "MISTRAL_API_KEY" in str(error) and "scripted" in str(error)
    assert str(error).count(". ") == 0 and "\n" not in str(error)


def test_key_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "from-env")
    prov = MistralProvider()
    assert isinstance(prov, Provider) and prov.model == "mistral-small-latest"
    assert prov.scripted is False and prov.name == "mistral"


async def test_streams_text_then_finish_with_api_usage(server):
    server.enqueue(text_reply("Ada Lovelace is user 7.", prompt_tokens=321))
    chunks = await collect(provider(server), ChatRequest("mistral-small-latest", MESSAGES))
    text = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    assert text == "Ada Lovelace is user 7."
    assert isinstance(chunks[-1], Finish) and chunks[-1].reason == "stop"
    assert chunks[-1].usage.prompt_tokens == 321 and chunks[-1].usage.completion_tokens == 7
    [sent] = server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer test-key"
    assert sent.body["stream"] is True and sent.body["messages"] == MESSAGES
    assert "tools" not in sent.body and "tool_choice" not in sent.body


async def test_request_carries_tools_tool_choice_and_parallel_flag(server):
    server.enqueue(tool_call_reply([("a1", "users_search", '{"query": "Ada"}')]))
    server.enqueue(tool_call_reply([("a2", "users_search", '{"query": "Ada"}')]))
    request = ChatRequest("mistral-large-latest", MESSAGES, tools=TOOLS, tool_choice="any")
    await collect(provider(server), request)
    parallel = ChatRequest("m", MESSAGES, tools=TOOLS, parallel_tool_calls=True)
    await collect(provider(server), parallel)
    first, second = (r.body for r in server.requests)
    assert first["model"] == "mistral-large-latest"
    assert first["tools"] == TOOLS
    assert first["tool_choice"] == "any" and first["parallel_tool_calls"] is False
    assert first["temperature"] == 0.0
    assert second["parallel_tool_calls"] is True and "tool_choice" not in second


async def test_tool_calls_arrive_whole_in_index_order(server):
    server.enqueue(
        tool_call_reply([("c1", "users_search", '{"query": "Ada"}'), ("c2", "teams_list", "{}")])
    )
    request = ChatRequest("m", MESSAGES, tools=TOOLS, parallel_tool_calls=True)
    chunks = await collect(provider(server), request)
    calls = [c for c in chunks if isinstance(c, ToolCallChunk)]
    assert calls == [
        ToolCallChunk(0, "c1", "users_search", '{"query": "Ada"}'),
        ToolCallChunk(1, "c2", "teams_list", "{}"),
    ]
    assert chunks[-1] == Finish("tool_calls", chunks[-1].usage)


async def test_pacing_spaces_requests_of_two_concurrent_agents(server, monkeypatch):
    """Three concurrent streams through one provider: each request gets its own slot,
    ``min_interval`` after the one before. The pacer runs on a stopped virtual clock and its
    sleeps return at once, each remembering the time it would wake at: no timing is asserted."""
    start = 1000.0
    wake_at: dict[object, float] = {}
    real_sleep = asyncio.sleep

    async def virtual_sleep(seconds: float) -> None:
        wake_at[asyncio.current_task()] = start + seconds
        await real_sleep(0)

    monkeypatch.setattr(transport, "time", SimpleNamespace(monotonic=lambda: start,
                                                           time=time.time))
    monkeypatch.setattr(transport, "asyncio", SimpleNamespace(sleep=virtual_sleep))
    server.enqueue(text_reply("one"), text_reply("two"), text_reply("three"))
    prov = provider(server, min_interval=0.2)
    request = ChatRequest("m", MESSAGES)
    released: list[float] = []
    wait = prov.pacer.wait

    async def timed_wait() -> None:
        await wait()
        released.append(wake_at.pop(asyncio.current_task(), start))  # when it may go

    prov.pacer.wait = timed_wait  # type: ignore[method-assign]

    async def run() -> list:
        return [c async for c in prov.stream(request)]

    try:
        await asyncio.gather(run(), run(), run())
    finally:
        await prov.aclose()
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(sorted(released))]
    assert len(server.requests) == 3 and gaps == [0.2, 0.2]


async def test_a_caller_supplied_httpx2_client_is_used_and_left_open():
    seen: list[dict] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        body = (
            'data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"hi"},'
            '"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,'
            '"total_tokens":4}}\n\ndata: [DONE]\n\n'
        )
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, text=body)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    prov = MistralProvider(api_key="k", async_client=client, min_interval=0)
    chunks = await collect(prov, ChatRequest("m", MESSAGES))
    assert chunks == [TextChunk("hi"), Finish("stop", chunks[-1].usage)]
    assert seen[0]["model"] == "m" and not client.is_closed
    await client.aclose()


async def test_raw_chunks_are_yielded_exactly_as_the_server_sent_them(server):
    reply = text_reply("Ada.")
    server.enqueue(reply)
    prov = provider(server)
    try:
        chunks = [c async for c in prov.stream(ChatRequest("m", MESSAGES))]
    finally:
        await prov.aclose()
    assert [c.data for c in chunks if isinstance(c, RawChunk)] == reply.chunks


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
async def test_a_server_url_with_or_without_v1_reaches_the_chat_endpoint(server, suffix):
    server.enqueue(text_reply("ok"))
    prov = MistralProvider(api_key="k", server_url=server.url + suffix, rate=None)
    chunks = await collect(prov, ChatRequest("m", MESSAGES))
    assert chunks[-1].reason == "stop"
    assert [r.path for r in server.requests] == ["/v1/chat/completions"]


@pytest.mark.parametrize(("url", "interval"), [
    (None, 1.0),  # Mistral's hosted API: its free tier's one request a second
    ("https://api.mistral.ai", 1.0),
    ("http://127.0.0.1:8000", 0.0),
    ("http://localhost:11434/v1", 0.0),
    ("http://[::1]:8080", 0.0),
    ("http://192.168.1.20:8000", 0.0),
    ("https://llm.example.com", 0.0),  # a self-hosted server: its own limits, answered 429
])
def test_pacing_defaults_to_the_free_tier_only_on_mistral_s_hosted_api(url, interval):
    assert MistralProvider(api_key="k", server_url=url).pacer.min_interval == interval


def test_a_rate_or_an_interval_overrides_the_default_pacing():
    assert MistralProvider(api_key="k", rate=4).pacer.min_interval == 0.25
    assert MistralProvider(api_key="k", rate=None).pacer.min_interval == 0.0
    assert MistralProvider(api_key="k", min_interval=2.0).pacer.min_interval == 2.0


def test_providers_spending_one_request_budget_share_one_pacer():
    """A bench makes new providers for every race; a rate limit is per key and server."""
    first = MistralProvider(api_key="k1", server_url="https://api.mistral.ai")
    again = MistralProvider(api_key="k1", server_url="https://api.mistral.ai/v1")
    other_key = MistralProvider(api_key="k2", server_url="https://api.mistral.ai")
    assert first.pacer is again.pacer and first.pacer is not other_key.pacer
    assert MistralProvider(api_key="k1", rate=None).pacer is not first.pacer
