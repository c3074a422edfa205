"""Assembling streamed replies: tool calls by id first, whatever the server's dialect."""

from __future__ import annotations

import pytest

from engine.providers.assembly import (
    ReplyAssembly,
    ToolCallAssembler,
    delta_text,
    is_mistral_call_id,
    new_call_id,
)
from engine.providers.base import ApiUsage, Finish, ProviderError, TextChunk, ToolCallChunk


def _calls(*items: dict) -> list[ToolCallChunk]:
    assembler = ToolCallAssembler()
    for item in items:
        assembler.add(item)
    return assembler.calls()


def _fn(name: str | None = None, arguments: str | None = None) -> dict:
    out = {}
    if name is not None:
        out["name"] = name
    if arguments is not None:
        out["arguments"] = arguments
    return out


def test_mistral_whole_calls_with_distinct_indexes():
    calls = _calls({"id": "abcdefgh1", "index": 0, "function": _fn("a", '{"x": 1}')},
                   {"id": "abcdefgh2", "index": 1, "function": _fn("b", "{}")})
    assert calls == [ToolCallChunk(0, "abcdefgh1", "a", '{"x": 1}'),
                     ToolCallChunk(1, "abcdefgh2", "b", "{}")]


def test_ollama_same_index_with_new_ids_are_separate_calls():
    calls = _calls({"id": "call_1", "index": 0, "function": _fn("a", '{"q": "x"}')},
                   {"id": "call_2", "index": 0, "function": _fn("a", '{"q": "y"}')})
    assert [(c.call_id, c.arguments) for c in calls] == [("call_1", '{"q": "x"}'),
                                                         ("call_2", '{"q": "y"}')]


def test_vllm_fragments_without_id_or_name_extend_their_call():
    calls = _calls({"id": "t1", "index": 0, "function": _fn("a", "")},
                   {"index": 0, "function": _fn(arguments='{"q"')},
                   {"index": 0, "function": _fn(arguments=': "x"}')},
                   {"id": "t2", "index": 1, "function": _fn("b", "")},
                   {"index": 1, "function": _fn(arguments="{}")})
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [
        ("t1", "a", '{"q": "x"}'), ("t2", "b", "{}")]


def test_a_continuation_without_index_extends_the_latest_call():
    calls = _calls({"id": "t1", "function": _fn("a", '{"q":')},
                   {"function": _fn(arguments=' 1}')})
    assert [(c.call_id, c.arguments) for c in calls] == [("t1", '{"q": 1}')]


def test_the_sdk_s_null_id_counts_as_no_id_and_calls_without_ids_get_one():
    calls = _calls({"id": "null", "index": 0, "function": _fn("a", "{}")},
                   {"index": 1, "function": _fn("b", "{}")})
    assert len({c.call_id for c in calls}) == 2
    assert all(is_mistral_call_id(c.call_id) for c in calls)


def test_whole_calls_without_ids_on_one_index_are_told_apart_by_a_new_name():
    calls = _calls({"index": 0, "function": _fn("a", '{"q": 1}')},
                   {"index": 0, "function": _fn("a", '{"q": 2}')})
    assert [c.arguments for c in calls] == ['{"q": 1}', '{"q": 2}']
    assert calls[0].call_id != calls[1].call_id


def test_a_repeated_id_for_a_second_whole_call_gets_its_own_id():
    calls = _calls({"id": "dup", "index": 0, "function": _fn("a", "{}")},
                   {"id": "dup", "index": 1, "function": _fn("b", "{}")})
    assert [c.name for c in calls] == ["a", "b"] and calls[0].call_id == "dup"
    assert calls[1].call_id != "dup" and is_mistral_call_id(calls[1].call_id)


def test_arguments_sent_as_an_object_are_kept_as_json_text():
    [call] = _calls({"id": "x", "function": {"name": "a", "arguments": {"q": "é"}}})
    assert call.arguments == '{"q": "é"}'


def test_new_ids_are_nine_alphanumerics_and_differ():
    ids = {new_call_id() for _ in range(50)}
    assert len(ids) == 50 and all(is_mistral_call_id(i) for i in ids)
    assert not is_mistral_call_id("call_1") and not is_mistral_call_id("")


def test_text_of_content_chunks_skips_thinking():
    content = [{"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]},
               {"type": "text", "text": "Hello"}]
    assert delta_text(content) == "Hello" and delta_text(None) == "" and delta_text("x") == "x"


def _chunk(delta: dict, finish: str | None = None, **extra) -> dict:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def test_a_reply_with_a_usage_only_last_chunk():
    reply = ReplyAssembly()
    out = reply.feed(_chunk({"content": "Hi"}))
    out += reply.feed(_chunk({}, "stop"))
    out += reply.feed({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1}})
    assert out == [TextChunk("Hi")]
    assert reply.end() == [Finish("stop", ApiUsage(5, 1))]


def test_no_finish_reason_is_truncated_and_model_length_is_length():
    reply = ReplyAssembly("Ollama")
    reply.feed(_chunk({"content": "Hi"}))
    with pytest.raises(ProviderError) as info:
        reply.end()
    assert info.value.kind == "truncated" and info.value.retryable
    assert str(info.value).startswith("Ollama's reply was cut off")
    reply.feed(_chunk({}, "model_length"))
    assert reply.end()[-1].reason == "length"


def test_an_error_chunk_is_a_retryable_server_error():
    with pytest.raises(ProviderError) as info:
        ReplyAssembly("vLLM").feed({"error": {"message": "CUDA out of memory."}})
    assert info.value.kind == "server" and info.value.retryable
    assert str(info.value) == "vLLM stopped the reply with an error: CUDA out of memory."
