"""The app's `--server-url` and `--rate`: checked before it opens, and carried to the provider."""

from __future__ import annotations

from fake_mistral import FakeMistral, text_reply, tool_call_reply

from engine.events import RunFinished
from tui.backend import Backend
from tui.cli import add_app_flags, build_parser, check_flags, choice_from_args


def _args(*argv: str):  # type: ignore[no-untyped-def]
    parser = build_parser()
    add_app_flags(parser)
    return parser.parse_args(list(argv))


def test_a_bad_rate_is_refused_in_one_sentence_before_the_app_opens():
    problem = check_flags(_args("--rate", "quick"))
    assert problem and "--rate takes requests per second" in problem and "\n" not in problem
    assert check_flags(_args("--rate", "none")) is None
    assert check_flags(_args("--rate", "2.5")) is None


def test_the_flags_become_the_run_choice():
    choice = choice_from_args(_args("--provider", "mistral", "--server-url",
                                    "http://127.0.0.1:8000/v1", "--rate", "none"))
    assert choice.server_url == "http://127.0.0.1:8000/v1" and choice.rate is None
    assert choice_from_args(_args()).rate == "default"
    assert choice_from_args(_args("--rate", "0.5")).rate == 0.5


async def test_a_race_started_from_the_flags_talks_to_that_server(monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key")

    def respond(request):  # type: ignore[no-untyped-def]
        if not any(m["role"] == "tool" for m in request.body["messages"]):
            return tool_call_reply([("abcdefghi", "users_search", '{"query": "Lena"}')])
        return text_reply("Lena Okafor is on the Design Studio team.")

    with FakeMistral(responder=respond) as server:
        choice = choice_from_args(_args("--provider", "mistral", "--modes", "tool_calling",
                                        "--server-url", f"{server.url}/v1", "--rate", "none"))
        race = Backend().new_race(choice, None)
        events = [event async for event in race.events()]
    [finished] = [e for e in events if isinstance(e, RunFinished)]
    assert finished.stop_reason == "answered"
    assert server.violations == [] and len(server.requests) == 2


def test_the_provider_flag_follows_the_registry(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert check_flags(_args("--provider", "openai", "--model", "llama3.1",
                             "--server-url", "http://127.0.0.1:8000/v1")) is None
    # Neither a server of one's own nor a key for the hosted API: one sentence (since 1830b77).
    missing = check_flags(_args("--provider", "openai", "--model", "llama3.1"))
    assert missing and "OPENAI_API_KEY" in missing and "--server-url" in missing
    unknown = check_flags(_args("--provider", "nope"))
    assert unknown and "no provider 'nope'" in unknown and "openai" in unknown
    assert "use one of scripted, mistral, openai " in unknown  # not replay: the app refuses it
    replay = check_flags(_args("--provider", "replay"))
    assert replay and "history" in replay
