"""A recorded race as Markdown (to read or paste), JSON (everything, stable) or CSV (per round).

- ``json``: ``{"format": 1, "run_id": ..., "agents": {mode: {"header": {...}, "events": [...],
  "requests": [...], "responses": [...]}}}`` — the record's own lines, regrouped.
- ``csv``: one row per agent round and one ``total`` row per agent: run_id, task_id, mode,
  provider, model, round, input_tokens, output_tokens, the input split by source (one column per
  ``engine.events.TOKEN_SOURCES``), api_input_tokens, api_output_tokens, cost_usd, actions (tool
  calls or programs run that round), stop_reason and success (on the total row).
- ``markdown``: a summary table of the modes, then each agent's rounds, answer and verdict.

Agents come in registry order (``engine.modes``), whatever order the record holds them in.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.errors import UserError
from engine.events import (
    TOKEN_SOURCES,
    CodeBlock,
    ExecutionResult,
    Retrying,
    RoundStarted,
    RunError,
    RunFinished,
    TextDelta,
    ToolCall,
    ToolResult,
    Usage,
)
from engine.modes import in_registry_order
from engine.modes import label as mode_label
from engine.records import RunRecord, load_run

FORMATS = ("markdown", "json", "csv")
_LONG = 4000  # characters of one tool result or output shown in Markdown before cutting


def export_run(run: str | Path | RunRecord, fmt: str) -> str:
    """The race ``run`` (a ``RunRecord``, or a race id, run id or file for
    ``engine.records.load_run``) as ``markdown``, ``json`` or ``csv`` text. Raises
    ``RunRecordError`` for a run that cannot be found or read, ``UserError`` for a format."""
    return export_text(run if isinstance(run, RunRecord) else load_run(run), fmt)


def export_text(record: RunRecord, fmt: str) -> str:
    """``record`` as text in ``fmt``, one of ``FORMATS`` (``UserError`` for another)."""
    order = in_registry_order(record.agents)
    record = replace(record, agents={mode: record.agents[mode] for mode in order})
    if fmt == "json":
        return _json(record)
    if fmt == "csv":
        return _csv(record)
    if fmt in ("markdown", "md"):
        return _markdown(record)
    raise UserError(f"Unknown export format {fmt!r}; use markdown, json or csv.")


def _json(record: Any) -> str:
    agents = {
        mode: {"header": a.header, "events": [e.to_dict() for e in a.events],
               "requests": a.requests, "responses": a.responses}
        for mode, a in record.agents.items()
    }
    return json.dumps({"format": 1, "run_id": record.run_id, "agents": agents},
                      ensure_ascii=False, indent=2, default=str) + "\n"


def _csv(record: Any) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["run_id", "task_id", "mode", "provider", "model", "round", "input_tokens",
                     "output_tokens", *TOKEN_SOURCES, "api_input_tokens", "api_output_tokens",
                     "cost_usd", "actions", "stop_reason", "success", "judged", "comparable",
                     "ttft_ms", "total_ms"])
    for mode, agent in record.agents.items():
        head = agent.header
        base = [record.run_id, (head.get("task") or {}).get("id", ""), mode,
                head.get("provider", ""), head.get("model", "")]
        actions: dict[int, int] = {}
        for e in agent.events:
            if isinstance(e, ToolCall | CodeBlock):
                actions[e.round] = actions.get(e.round, 0) + 1
        for e in agent.events:
            if isinstance(e, Usage):
                writer.writerow([*base, e.round, e.input_tokens, e.output_tokens,
                                 *(e.breakdown.get(s, 0) for s in TOKEN_SOURCES),
                                 _blank(e.api_input_tokens), _blank(e.api_output_tokens),
                                 f"{e.cost_usd:.6f}", actions.get(e.round, 0), "", "", "", "",
                                 _blank(e.ttft_ms), _blank(e.total_ms)])
        fin = agent.finished
        if fin is not None:
            writer.writerow([*base, "total", fin.input_tokens, fin.output_tokens,
                             *(fin.breakdown.get(s, 0) for s in TOKEN_SOURCES),
                             _blank(fin.api_input_tokens), _blank(fin.api_output_tokens),
                             f"{fin.cost_usd:.6f}", sum(actions.values()), fin.stop_reason,
                             str(fin.success).lower(), str(fin.judged).lower(),
                             str(fin.comparable).lower(), "", fin.model_ms])
    return out.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _fence(text: str, lang: str = "") -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _cut(text: str) -> str:
    if len(text) <= _LONG:
        return text
    return text[:_LONG] + f"\n… ({len(text) - _LONG} more characters in the JSON export)"


def _markdown(record: Any) -> str:
    head = record.header
    task = head.get("task") or {}
    lines = [f"# {task.get('title') or task.get('id', 'Run')} — run {record.run_id}", ""]
    provider = head.get("provider", "")
    label = " (scripted: shows the mechanics and the token economics, not a model)" if head.get(
        "scripted") else ""
    lines += [f"- Task: `{task.get('id', '')}`", f"- Provider: {provider}{label}",
              f"- Model: {head.get('model', '')}", f"- Started: {head.get('started', '')}",
              f"- Prompts: {_prompts_line(head)}", ""]
    lines += ["| | " + " | ".join(mode_label(m) for m in record.agents) + " |",
              "|---|" + "---|" * len(record.agents)]
    finished = {m: a.finished for m, a in record.agents.items()}

    def row(name: str, fn: Any) -> None:
        cells = [fn(f) if f is not None else "unfinished" for f in finished.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    row("Total tokens", lambda f: f"{f.total_tokens:,}")
    row("Input / output", lambda f: f"{f.input_tokens:,} / {f.output_tokens:,}")
    row("Rounds", lambda f: str(f.rounds))
    row("Stop", lambda f: f.stop_reason)
    row("Success", lambda f: "not judged" if not f.judged else ("yes" if f.success else "no"))
    if any(f is not None and not f.comparable for f in finished.values()):
        row("Comparable", lambda f: "yes" if f.comparable else
            "no: its system prompt does not show the model its tools")
    row("Model time", lambda f: f"{f.model_ms / 1000:.1f} s")
    row("Cost (USD)", lambda f: f"{f.cost_usd:.4f}")
    lines += ["", "## Task prompt", "", _quote(_task_prompt(record)), ""]
    for mode, agent in record.agents.items():
        lines += _agent_markdown(mode_label(mode), agent)
    return "\n".join(lines).rstrip() + "\n"


def _prompts_line(head: dict[str, Any]) -> str:
    """Which prompts the run used: the defaults, or which were overridden, with their hash."""
    overridden = head.get("prompts_overridden")
    fingerprint = head.get("prompts_fingerprint")
    if overridden is None:
        return "not recorded (an older record)"
    if not overridden:
        return f"the bundled defaults (hash {fingerprint})"
    return f"overridden: {', '.join(overridden)} (hash {fingerprint})"


def _task_prompt(record: Any) -> str:
    for agent in record.agents.values():
        for e in agent.events:
            prompts = getattr(e, "prompts", None)
            if prompts and prompts.get("task"):
                return str(prompts["task"])
    return str((record.header.get("task") or {}).get("prompt", ""))


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.strip().splitlines())


def _agent_markdown(label: str, agent: Any) -> list[str]:
    lines = [f"## {label}", ""]
    text: dict[int, str] = {}
    for e in agent.events:
        if isinstance(e, TextDelta):
            text[e.round] = text.get(e.round, "") + e.text
        elif isinstance(e, Retrying):  # what the failed attempt streamed is void
            text[e.round] = ""
    for e in agent.events:
        if isinstance(e, RoundStarted):
            lines += [f"### Round {e.round} — {e.input_tokens:,} input tokens", ""]
        elif isinstance(e, Usage):
            timing = ""
            if e.ttft_ms is not None and e.total_ms is not None:
                timing = (f" First token after {e.ttft_ms / 1000:.2f} s, reply done after "
                          f"{e.total_ms / 1000:.2f} s ({e.latency_source}).")
            lines += [f"_Output: {e.output_tokens:,} tokens.{timing}_", ""]
            if text.get(e.round, "").strip():
                lines += [text[e.round].strip(), ""]
        elif isinstance(e, ToolCall):
            args = e.arguments if isinstance(e.arguments, str) else json.dumps(
                e.arguments, ensure_ascii=False)
            lines += [f"**Tool call** `{e.name}` `{args}`", ""]
        elif isinstance(e, ToolResult):
            status = "result" if e.ok else "error"
            lines += [f"{status} ({e.tokens:,} tokens):", "", _fence(_cut(e.content), "json"), ""]
        elif isinstance(e, CodeBlock):
            lines += ["**Program run in the sandbox:**", "", _fence(e.code, "python"), ""]
        elif isinstance(e, ExecutionResult):
            lines += [f"Execution ({e.tokens:,} tokens back to the model):", "",
                      _fence(_cut(e.content)), ""]
        elif isinstance(e, Retrying):
            lines += [f"> **Retried** ({e.kind}, attempt {e.attempt}/{e.attempts} after "
                      f"{e.wait_s:g} s): {e.reason}", ""]
        elif isinstance(e, RunError):
            lines += [f"> **{'Error' if e.fatal else 'Notice'} ({e.kind}):** {e.message}", ""]
        elif isinstance(e, RunFinished):
            verdict = "not judged" if not e.judged else ("succeeded" if e.success else "failed")
            lines += ["### Answer", "", e.answer.strip() or "_(no answer)_", "",
                      f"### Verdict: {verdict} ({e.stop_reason})", ""]
            lines += [f"- {reason}" for reason in e.verdict] + [""]
    return lines
