"""Where the time of a scripted bench goes; prints one JSON object (no timed asserts).

Run: ``python tests/perf/bench_perf.py`` (uses the user's compiled-module cache, so run
``codeact-explorer doctor`` or any CodeAct run once first for warm figures).

Figures: tokenizer load; the five seed tasks raced in both modes (what ``codeact-explorer
bench`` does) with the mean seconds per tool-calling and CodeAct run; the scripted provider's
cost of one tool-calling reply on the longest task (it re-runs the reference program each
round); and the per-round token accounting against a whole-request encode.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    from engine import tokens
    from engine.bench import run_bench
    from engine.providers.scripted import ScriptedProvider
    from engine.run import RunConfig
    from tasks.platform import new_platform
    from tasks.render import mistral_tools
    from tasks.suite import get_task, load_tasks

    figures: dict[str, object] = {}
    t0 = time.perf_counter()
    tokens.tokenizer()
    figures["tokenizer_load_s"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    tools = mistral_tools()
    figures["tool_schemas_tokens"] = tokens.count_tools(tools)
    figures["tool_schemas_count_s"] = round(time.perf_counter() - t0, 3)

    seed = [t for t in load_tasks() if t.article]
    t0 = time.perf_counter()
    report = asyncio.run(run_bench(seed, RunConfig(record=False)))
    figures["seed_bench_s"] = round(time.perf_counter() - t0, 3)
    for mode in ("tool_calling", "codeact"):
        figures[f"{mode}_run_mean_s"] = round(
            statistics.mean(r.modes[mode].seconds[0] for r in report.results), 3)
    figures["all_succeeded"] = {m: sum(r.modes[m].runs[0].success for r in report.results)
                                for m in ("tool_calling", "codeact")}

    # The scripted provider re-executes the reference program against the answered results.
    task = get_task("aggregate-projects")
    provider = ScriptedProvider(task, mode("tool_calling"))
    platform = new_platform()
    messages: list[dict] = [{"role": "user", "content": task.prompt}]
    reply_ms = []
    for n in range(40):
        t0 = time.perf_counter()
        _answer, calls = provider.tool_calling_reply(messages)
        reply_ms.append((time.perf_counter() - t0) * 1000)
        if not calls:
            break
        name, args = calls[0]
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": f"c{n:08d}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}]})
        messages.append({"role": "tool", "tool_call_id": f"c{n:08d}", "name": name,
                         "content": platform.call(name, args).content()})
    figures["scripted_reply_ms"] = {"rounds": len(reply_ms), "max": round(max(reply_ms), 2),
                                    "mean": round(statistics.mean(reply_ms), 2)}

    # Accounting: the ledger adds each message once; a whole-request encode redoes everything.
    ledger = tokens.TokenLedger()
    ledger.set_tools(tools)
    incremental, whole = [], []
    for message in messages:
        t0 = time.perf_counter()
        ledger.add(message, "results" if message["role"] == "tool" else "task")
        ledger.input_tokens()
        incremental.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    exact = tokens.count_request(messages, tools)
    whole.append(time.perf_counter() - t0)
    figures["accounting"] = {
        "messages": len(messages),
        "ledger_ms_per_round_mean": round(statistics.mean(incremental) * 1000, 3),
        "whole_request_encode_ms": round(whole[0] * 1000, 1),
        "ledger_tokens": ledger.input_tokens(), "whole_request_tokens": exact,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
