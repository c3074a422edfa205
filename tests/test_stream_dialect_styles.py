"""Every CodeAct reply style of the catalogue, in every stream dialect, on both live providers.

The reply styles (tests/reply_styles.py: each fence kind, prose before code, two blocks, a
block repeated, async programs, a reply cut short...) stream from the strict stand-in in each
dialect (tests/fake_mistral.py), the CodeAct agent reads them through the mistral or the openai
provider, and the fake sandbox records what runs: the program the style holds must run, once,
whatever the chunking (vLLM's 4-character fragments cut fences in the middle) and the usage
placement; and a reply streamed as content chunks with a ``thinking`` part first (Magistral)
runs its program without the thinking text. The real sandbox and checker run the same styles
in test_agents_codeact_styles.py; here the stream is what varies.

One server answers every test of the module (its responder reads the style, the round and the
dialect from the request), so each case costs two requests, not a server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from engine_fakes import FakeSandbox, collect, fake_task, install_checker
from fake_mistral import DIALECTS, FakeMistral, RecordedRequest, Reply, dialect_reply
from reply_styles import ANSWER, ASYNC_STYLES, STYLES, ReplyStyle, split_program

from engine.agents import CodeActAgent
from engine.events import CodeBlock, RunFinished
from engine.modes import mode
from engine.providers import PROVIDERS, ProviderOptions
from engine.run import RunConfig
from wasm_sandbox import ExecutionResult as SandboxResult

PROGRAM = ("client = api.clients.search(query='Orion')\n"
           "project = api.projects.create(name='Orion Data Platform')\n"
           "print(project['name'])")
CATALOGUE = {style.name: style for style in STYLES + ASYNC_STYLES}
THINKING = "The user wants a project. I should write one program that does it all."


def _parts(style: ReplyStyle) -> tuple[str, str]:
    return split_program(PROGRAM) if style.split else (PROGRAM, "")


def _respond(request: RecordedRequest) -> Reply:
    # The task prompt names the case: "<style name>|<dialect>|<thinking or plain>".
    task = next(m["content"] for m in request.body["messages"] if m["role"] == "user")
    name, dialect, shape = task.split("|")
    thinking = THINKING if shape == "thinking" else None
    if sum(1 for m in request.body["messages"] if m["role"] == "assistant") == 0:
        style = CATALOGUE[name]
        return dialect_reply(dialect, style.reply(*_parts(style)), thinking=thinking)
    return dialect_reply(dialect, ANSWER, thinking=thinking)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeMistral]:
    with FakeMistral(responder=_respond) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _checker(monkeypatch: pytest.MonkeyPatch) -> None:
    install_checker(monkeypatch, lambda task, answer, final: (answer == ANSWER, ["judged"]))


async def _run(server: FakeMistral, provider: str, case: str, monkeypatch: Any) -> list[Any]:
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key")
    server.validate = "openai" if provider == "openai" else "mistral"
    sandbox = FakeSandbox(lambda code: SandboxResult(output="Orion Data Platform\n"))
    task = fake_task(prompt=case)
    options = ProviderOptions(task=task, mode=mode("codeact"), server_url=server.url,
                              rate=None)
    agent = CodeActAgent(task, PROVIDERS[provider].make(options), RunConfig(record=False),
                         spec=mode("codeact"), sandbox_factory=lambda *a, **k: sandbox)
    try:
        events = await collect(agent.run())
    finally:
        await agent.provider.aclose()
    return [sandbox.codes, events]


PROVIDER_NAMES = ("mistral", "openai")


@pytest.mark.parametrize("provider", PROVIDER_NAMES, ids=[f"{p}-provider" for p in PROVIDER_NAMES])
@pytest.mark.parametrize("dialect", DIALECTS, ids=[f"{d}-stream" for d in DIALECTS])
@pytest.mark.parametrize("style", list(CATALOGUE.values()), ids=list(CATALOGUE))
async def test_each_reply_style_runs_its_program_once_in_every_dialect(
    server, monkeypatch, style, dialect, provider
):
    before = len(server.violations)
    codes, events = await _run(server, provider, f"{style.name}|{dialect}|plain", monkeypatch)
    assert len(server.violations) == before
    assert codes == [style.runs(*_parts(style))]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.stop_reason == "answered"
    assert finished.answer == ANSWER and finished.success


@pytest.mark.parametrize("provider", PROVIDER_NAMES, ids=[f"{p}-provider" for p in PROVIDER_NAMES])
@pytest.mark.parametrize("dialect", DIALECTS, ids=[f"{d}-stream" for d in DIALECTS])
async def test_thinking_chunks_are_not_the_reply(server, monkeypatch, dialect, provider):
    codes, events = await _run(server, provider, f"prose before code|{dialect}|thinking",
                               monkeypatch)
    assert codes == [PROGRAM]
    assert not any(THINKING in getattr(e, "text", "") for e in events)
    [code] = [e for e in events if isinstance(e, CodeBlock)]
    assert code.code == PROGRAM
    finished = events[-1]
    assert finished.answer == ANSWER and finished.success
