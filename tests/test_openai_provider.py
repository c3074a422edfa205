"""The OpenAI-compatible provider against the stand-in in its OpenAI profile: what it sends,
what it yields, and each fault as one sentence."""

from __future__ import annotations

import json

import pytest
from fake_mistral import FakeMistral, cut_reply, dialect_reply, error_reply, text_reply

from engine.modes import mode
from engine.providers import PROVIDERS, ProviderOptions, make_provider, provider_spec
from engine.providers.base import (
    ChatRequest,
    Finish,
    ProviderError,
    RawChunk,
    RetryNotice,
    TextChunk,
    ToolCallChunk,
)
from engine.providers.openai_compatible import (
    NO_KEY,
    OpenAICompatibleProvider,
    normalise_base_url,
    to_openai_messages,
)
from tui.cli import main

TOOLS = [{"type": "function", "function": {
    "name": "users_search", "description": "Search users.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Find Ada."}]
AFTER_CALL = [
    *MESSAGES,
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "abcDEF123", "type": "function", "index": 0,
         "function": {"name": "users_search", "arguments": '{"query": "Ada"}'}}]},
    {"role": "tool", "tool_call_id": "abcDEF123", "name": "users_search", "content": "[]"},
]


@pytest.fixture
def server():
    with FakeMistral(validate="openai") as fake:
        yield fake


def provider(server: FakeMistral, **kwargs) -> OpenAICompatibleProvider:
    kwargs.setdefault("backoff_initial", 0.01)
    kwargs.setdefault("timeout_ms", 20_000)
    return OpenAICompatibleProvider(model="mistral-small", base_url=server.url, **kwargs)


async def collect(prov: OpenAICompatibleProvider, request: ChatRequest) -> list:
    try:
        return [c async for c in prov.stream(request) if not isinstance(c, RawChunk)]
    finally:
        await prov.aclose()


async def test_text_and_usage_with_usage_asked_for_and_no_key_needed(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.enqueue(dialect_reply("usage_only", "Ada is user 7.", prompt_tokens=321))
    chunks = await collect(provider(server), ChatRequest("m", MESSAGES))
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == "Ada is user 7."
    assert chunks[-1] == Finish("stop", chunks[-1].usage) and chunks[-1].usage.prompt_tokens == 321
    [sent] = server.requests
    assert sent.path == "/v1/chat/completions" and server.violations == []
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    assert sent.headers.get("authorization") == f"Bearer {NO_KEY}"


async def test_tool_round_is_sent_in_openai_s_shape_and_any_becomes_required(server):
    server.enqueue(text_reply("Nobody."))
    request = ChatRequest("m", AFTER_CALL, tools=TOOLS, tool_choice="any")
    await collect(provider(server, api_key="sk-test"), request)
    [sent] = server.requests
    assert server.violations == [] and sent.body["tool_choice"] == "required"
    assert sent.body["messages"][-1] == {"role": "tool", "tool_call_id": "abcDEF123",
                                         "content": "[]"}
    assert "index" not in sent.body["messages"][-2]["tool_calls"][0]
    assert sent.headers.get("authorization") == "Bearer sk-test"


async def test_fragmented_calls_are_assembled(server):
    server.enqueue(dialect_reply("fragments", "", [("abcdefgh1", "users_search",
                                                    '{"query": "Ada Lovelace"}')]))
    chunks = await collect(provider(server), ChatRequest("m", MESSAGES, tools=TOOLS))
    assert [c for c in chunks if isinstance(c, ToolCallChunk)] == [
        ToolCallChunk(0, "abcdefgh1", "users_search", '{"query": "Ada Lovelace"}')]


def test_base_urls():
    assert normalise_base_url("http://localhost:11434") == "http://localhost:11434/v1"
    assert normalise_base_url("http://localhost:11434/v1/") == "http://localhost:11434/v1"
    assert normalise_base_url("https://api.groq.com/openai/v1") == (
        "https://api.groq.com/openai/v1")
    assert normalise_base_url(None) == "https://api.openai.com/v1"


def test_messages_keep_nothing_openai_s_schema_lacks():
    sent = to_openai_messages(AFTER_CALL)
    assert sent[:2] == MESSAGES and "name" not in sent[3]
    assert sent[2]["tool_calls"][0] == {"id": "abcDEF123", "type": "function", "function": {
        "name": "users_search", "arguments": '{"query": "Ada"}'}}


async def test_the_server_refusing_a_mistral_shaped_request_is_what_the_mapping_prevents(server):
    """Sent as is (a tool message with a name, "any"), the stand-in refuses it like OpenAI."""
    import httpx2

    async with httpx2.AsyncClient() as client:
        response = await client.post(f"{server.url}/v1/chat/completions", json={
            "model": "m", "stream": True, "messages": AFTER_CALL, "tools": TOOLS})
    assert response.status_code == 400 and "'name' was unexpected" in response.text


async def test_429_with_retry_after_is_retried_with_a_notice(server):
    server.enqueue(error_reply(429, "slow down", retry_after="0.2"), text_reply("ok"))
    prov = provider(server)
    try:
        chunks = [c async for c in prov.stream(ChatRequest("m", MESSAGES))]
    finally:
        await prov.aclose()
    [notice] = [c for c in chunks if isinstance(c, RetryNotice)]
    assert notice.kind == "rate_limit" and notice.wait_s == 0.2 and len(server.requests) == 2


async def test_a_cut_stream_is_retried(server):
    server.enqueue(cut_reply("Ada is", framing="chunked"), text_reply("Ada is 7."))
    chunks = await collect(provider(server), ChatRequest("m", MESSAGES))
    notices = [c for c in chunks if isinstance(c, RetryNotice)]
    assert [n.kind for n in notices] == ["truncated"] and chunks[-1].reason == "stop"


@pytest.mark.parametrize(("status", "kind", "words"), [
    (401, "auth", "rejected the API key (HTTP 401); set OPENAI_API_KEY"),
    (404, "bad_request", "no such model or endpoint (HTTP 404): model 'x' not found"),
    (400, "bad_request", "refused the request (HTTP 400): model 'x' not found"),
])
async def test_refusals_are_one_sentence(server, status, kind, words):
    server.enqueue(openai_error(status))
    with pytest.raises(ProviderError) as info:
        await collect(provider(server), ChatRequest("m", MESSAGES))
    assert info.value.kind == kind and words in str(info.value)
    assert "\n" not in str(info.value) and len(server.requests) == 1


def openai_error(status: int):
    reply = error_reply(status)
    reply.body = {"error": {"message": "model 'x' not found", "type": "invalid_request_error"}}
    return reply


async def test_a_server_that_is_down_is_one_sentence_after_a_short_window():
    with FakeMistral(validate=False) as closed:
        url = closed.url
    prov = OpenAICompatibleProvider(base_url=url, backoff_initial=0.05, connect_window=0.2)
    with pytest.raises(ProviderError) as info:
        await collect(prov, ChatRequest("m", MESSAGES))
    assert info.value.kind == "network" and "connection refused" in str(info.value)
    assert f"{url}/v1" in str(info.value)


def test_the_registry_entry(monkeypatch):
    spec = provider_spec("openai")
    assert spec.live and spec.local_counts == "approximate" and spec.key_env == "OPENAI_API_KEY"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    # Neither a key nor a server of your own: one sentence that says both ways out.
    assert "--server-url or OPENAI_BASE_URL" in (spec.missing() or "")
    assert spec.missing("http://127.0.0.1:11434") is None  # a local server needs no key
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434")
    assert spec.missing() is None
    made = make_provider("openai", ProviderOptions(task=None, mode=mode("codeact"),
                                                   model="llama3.1"))
    assert made.base_url == "http://127.0.0.1:11434/v1" and made.model == "llama3.1"
    assert made.pacer.min_interval == 0.0 and PROVIDERS["openai"].rate_for(2, None) == 2.0


def test_bench_with_provider_openai(monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def respond(request):  # type: ignore[no-untyped-def]
        if not any(m["role"] == "tool" for m in request.body["messages"]):
            return dialect_reply("usage_only", "", [("abcdefghi", "users_search",
                                                     '{"query": "Lena"}')])
        return dialect_reply("usage_only", "Lena Okafor is on the Design Studio team.",
                             prompt_tokens=900, completion_tokens=12)

    with FakeMistral(responder=respond, validate="openai") as server:
        status = main(["bench", "--provider", "openai", "--model", "mistral-small",
                       "--server-url", server.url, "--modes", "tool_calling",
                       "--tasks", "user-team-info", "--format", "json", "--no-record"])
    data = json.loads(capsys.readouterr().out)
    assert status in (0, 1) and server.violations == []
    assert data["provider"] == "openai" and data["model"] == "mistral-small"
    stats = data["tasks"][0]["runs"]["tool_calling"]
    assert stats["stop_reasons"] == ["answered"] and stats["token_source"] == "api"
    assert stats["tokens"] == 100 + 20 + 900 + 12
    assert data["local_counts"] == "approximate"


def test_the_bench_table_labels_the_local_count_approximate_for_another_model(
    monkeypatch, capsys
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def respond(request):  # type: ignore[no-untyped-def]
        return dialect_reply("usage_only", "Lena Okafor is on the Design Studio team.")

    with FakeMistral(responder=respond, validate="openai") as server:
        main(["bench", "--provider", "openai", "--server-url", server.url, "--modes",
              "tool_calling", "--tasks", "user-team-info", "--no-record"])
    out = capsys.readouterr().out
    assert "local Tekken count (approximate)" in out


async def test_a_stream_broken_after_its_finish_reason_is_a_whole_reply(server):
    finished = dialect_reply("no_usage", "All done.")
    finished.cut_after = len(finished.chunks)
    finished.framing = "chunked"
    server.enqueue(finished)
    chunks = await collect(provider(server), ChatRequest("m", MESSAGES))
    assert chunks[-1].reason == "stop" and len(server.requests) == 1
    assert not any(isinstance(c, RetryNotice) for c in chunks)


async def test_a_connection_that_times_out_is_a_server_that_cannot_be_reached():
    import httpx2

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectTimeout("timed out", request=request)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    prov = OpenAICompatibleProvider(base_url="http://127.0.0.1:9", http_client=client,
                                    backoff_initial=0.05, connect_window=0.2)
    with pytest.raises(ProviderError) as info:
        await collect(prov, ChatRequest("m", MESSAGES))
    await client.aclose()
    assert info.value.kind == "network" and "connection timed out" in str(info.value)


def test_openai_s_own_api_without_a_key_is_one_config_sentence(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ProviderError) as info:
        OpenAICompatibleProvider()
    assert info.value.kind == "config" and "--server-url" in str(info.value)
    assert "OPENAI_API_KEY" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert OpenAICompatibleProvider().base_url == "https://api.openai.com/v1"
