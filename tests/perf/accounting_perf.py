"""Incremental token accounting against a whole-request re-encode, 10 rounds with 120 tools.

Run: ``python tests/perf/accounting_perf.py`` (prints JSON). The realistic conversation and the
tool schemas defined here are also what tests/test_accounting.py checks the ledger against.
"""

from __future__ import annotations

import json
import time
from typing import Any

_JSON_TYPES = {"int": "integer", "str": "string", "bool": "boolean", "float": "number"}


def tool_schemas() -> list[dict[str, Any]]:
    """The 120 Mistral tool schemas (tasks.render's when it exists, else built from the catalog)."""
    try:
        from tasks.render import mistral_tools

        return mistral_tools()
    except ImportError:
        pass
    from tasks.catalog import tool_specs

    schemas = []
    for spec in tool_specs():
        props: dict[str, Any] = {}
        for p in spec.params:
            prop: dict[str, Any] = {"type": _JSON_TYPES.get(p.type, "string")}
            prop["description"] = p.description
            if p.enum:
                prop["enum"] = list(p.enum)
            props[p.name] = prop
        required = [p.name for p in spec.params if p.required]
        schemas.append(
            {
                "type": "function",
                "function": {
                    "name": spec.name,
                    "description": spec.description,
                    "parameters": {"type": "object", "properties": props, "required": required},
                },
            }
        )
    return schemas


SYSTEM = (
    "You are an operations agent for a project-management platform.\n"
    "Use the tools to look things up; answer in plain words once you know."
)
TASK = "Which engineers on team Atlas logged more than 20 hours last week? Names and hours."


def _result(round_no: int, width: int) -> str:
    items = [
        {
            "id": 10 * round_no + i,
            "name": f"User {i}",
            "email": f"u{i}@example.com",
            "team_id": 3,
            "hours": 12.5 + i,
            "note": "café ✓" if i == 2 else None,
        }
        for i in range(width)
    ]
    return json.dumps(
        {"ok": True, "value": {"items": items, "total": width}}, separators=(",", ":")
    )


def conversation_rounds(rounds: int, parallel_every: int = 3) -> list[list[dict[str, Any]]]:
    """Per round, the messages appended after the model's reply: its tool call(s), then results.

    Every ``parallel_every``-th round has two parallel calls; one call has invalid JSON
    arguments and one result is a plain-text error, as real runs do.
    """
    out = []
    for r in range(1, rounds + 1):
        calls = [("users_search", json.dumps({"query": f"Atlas {r}", "page": r}))]
        if r % parallel_every == 0:
            calls.append(("time_entries_list", json.dumps({"user_id": r, "week": "2024-W23"})))
        if r == 2:
            calls = [("teams_get", '{"team_id": 3')]  # invalid JSON, passed through
        tool_calls = [
            {
                "id": f"c{r:03d}x{i:04d}",
                "type": "function",
                "function": {"name": name, "arguments": args},
            }
            for i, (name, args) in enumerate(calls)
        ]
        messages: list[dict[str, Any]] = [
            {"role": "assistant", "content": "", "tool_calls": tool_calls}
        ]
        for i, call in enumerate(tool_calls):
            content = "error: arguments are not valid JSON" if r == 2 else _result(r, 6 + i)
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "name": call["function"]["name"],
                    "content": content,
                }
            )
        out.append(messages)
    return out


def measure(rounds: int = 10) -> dict[str, Any]:
    """Time counting ``rounds`` rounds of a 120-tool conversation both ways."""
    from engine.tokens import TokenLedger, count_request, tokenizer

    t0 = time.perf_counter()
    tokenizer()
    load_s = time.perf_counter() - t0
    tools = tool_schemas()
    history = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TASK}]
    per_round = conversation_rounds(rounds)

    # Incremental: each message encoded once as it arrives; the schemas once per run.
    t0 = time.perf_counter()
    ledger = TokenLedger()
    ledger.set_tools(tools)
    ledger.add(history[0], "system")
    ledger.add(history[1], "task")
    incremental = [ledger.input_tokens()]
    for messages in per_round[:-1]:
        for m in messages:
            ledger.add(m, "assistant" if m["role"] == "assistant" else "results")
        incremental.append(ledger.input_tokens())
    incremental_s = time.perf_counter() - t0

    # Full: mistral-common encodes the whole request (schemas and history) every round.
    t0 = time.perf_counter()
    full, msgs = [], list(history)
    full.append(count_request(msgs, tools))
    for messages in per_round[:-1]:
        msgs.extend(messages)
        full.append(count_request(msgs, tools))
    full_s = time.perf_counter() - t0

    diffs = [a - b for a, b in zip(incremental, full, strict=True)]
    return {
        "rounds": rounds,
        "tools": len(tools),
        "tokenizer_load_s": round(load_s, 3),
        "incremental_s": round(incremental_s, 4),
        "full_reencode_s": round(full_s, 4),
        "speedup": round(full_s / incremental_s, 1) if incremental_s else None,
        "input_tokens_per_round": incremental,
        "ledger_minus_full_per_round": diffs,
        "max_abs_difference": max(abs(d) for d in diffs),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
