"""The bench report as text: the article's table (plain or Markdown), CSV, or stable JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from engine.errors import UserError
from engine.events import TOKEN_SOURCE_LABELS, TOKEN_SOURCES
from engine.modes import label as mode_label

FORMATS = ("table", "json", "csv", "markdown")


def render(report: dict[str, Any], fmt: str, *, breakdown: bool = False) -> str:
    """``report`` is ``BenchReport.to_dict()``."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(report, breakdown)
    if fmt not in ("table", "markdown"):
        raise UserError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    md = fmt == "markdown"
    parts = [_title(report, md), _grid(*_main_rows(report), md)]
    if breakdown:
        parts.append(("### " if md else "") + "Where the tokens went (means per task)")
        parts.append(_grid(*_breakdown_rows(report), md))
    parts.append(_notes(report))
    return "\n\n".join(p for p in parts if p) + "\n"


def _n(value: float | None) -> str:
    return "-" if value is None else f"{round(value):,}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _rounds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _title(report: dict[str, Any], md: bool) -> str:
    label = "scripted (a reference agent: the mechanics and the token economics, not a model)"
    provider = label if report["scripted"] and report["provider"] == "scripted" else (
        f"{report['provider']} ({report['model']})")
    modes = " vs ".join(mode_label(m) for m in report["modes"])
    line = f"{modes} — provider: {provider}, {report['repeat']} run(s) per task"
    if report.get("parallel_tool_calls"):
        line += ", parallel tool calls"
    return f"## {line}" if md else line


def _mark(stats: dict[str, Any]) -> str:
    unjudged = stats.get("not_judged", 0)
    if stats["runs"] > 1:
        mark = f"{stats['successes']}/{stats['runs']}"
        return f"{mark} ({unjudged} not judged)" if unjudged else mark
    if unjudged:
        return "not judged"
    return "yes" if stats["success"] else "no"


def _savings_cell(entry: dict[str, Any] | None, repeat: int) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    cell = _pct(entry["value"])
    return f"{cell} ({entry['pairs']}/{repeat})" if repeat > 1 and entry["pairs"] < repeat else cell


def _main_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    tasks, modes, base = report["tasks"], report["modes"], report["baseline"]
    show_article = any(t.get("article") for t in tasks)
    header = ["Task"]
    for m in modes:
        header.append(f"{mode_label(m)} tokens")
        if m != base and base in modes:
            header.append("Savings")
    header += ["Rounds", "Success"]
    if show_article:
        header += ["Article: tool / CodeAct", "Savings", "Rounds"]
    rows = []
    for t in tasks:
        row = [t["title"]]
        for m in modes:
            row.append(_n(t["runs"][m]["tokens"]))
            if m != base and base in modes:
                row.append(_savings_cell(t["savings"].get(m), report["repeat"]))
        row.append(" → ".join(_rounds(t["runs"][m]["rounds"]) for m in modes))
        row.append(" / ".join(_mark(t["runs"][m]) for m in modes))
        if show_article:
            a = t.get("article")
            row += ([f"{a['tool_calling_tokens']:,} / {a['codeact_tokens']:,}", _pct(a["savings"]),
                     f"{a['rounds'][0]} → {a['rounds'][1]}"] if a else ["", "", ""])
        rows.append(row)
    avg = report["averages"]
    last = ["Average"]
    for m in modes:
        last.append(_n(avg["modes"][m]["tokens"]))
        if m != base and base in modes:
            sv = avg["savings"].get(m) or {}
            cell = _pct(sv.get("value")) if sv.get("value") is not None else "—"
            if sv.get("pairs", 0) < sv.get("of", 0):
                cell += f" ({sv['pairs']}/{sv['of']} pairs)"
            last.append(cell)
    last.append(" → ".join(_rounds(avg["modes"][m]["rounds"] or 0) for m in modes))
    # Runs, as the rows count them (with --repeat a row is successes/runs of that task).
    last.append(" / ".join(
        f"{avg['modes'][m].get('run_successes', avg['modes'][m]['successes'])}/"
        f"{avg['modes'][m].get('runs', avg['tasks'])}" for m in modes))
    if show_article:
        aa = report.get("article_averages") or {}
        last += [f"{_n(aa.get('tool_calling_tokens'))} / {_n(aa.get('codeact_tokens'))}",
                 _pct(aa.get("savings")), ""]
    rows.append(last)
    return header, rows


def _breakdown_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Per mode, the mean over tasks of each source's input tokens per run (and its share)."""
    modes, tasks = report["modes"], report["tasks"]
    n = max(1, len(tasks))
    means = {m: {s: sum(t["runs"][m]["breakdown"].get(s, 0) for t in tasks) / n
                 for s in TOKEN_SOURCES} for m in modes}
    outputs = {m: sum(t["runs"][m]["output_tokens"] for t in tasks) / n for m in modes}
    header = ["Source (mean per task)", *(mode_label(m) for m in modes)]
    grand = {m: sum(means[m].values()) + outputs[m] for m in modes}
    rows = []
    for s in TOKEN_SOURCES:
        rows.append([TOKEN_SOURCE_LABELS[s], *(_share(means[m][s], grand[m]) for m in modes)])
    rows.append(["output (model's replies)", *(_share(outputs[m], grand[m]) for m in modes)])
    rows.append(["total", *(_n(grand[m]) for m in modes)])
    return header, rows


def _share(value: float, total: float) -> str:
    pct = f" ({value / total * 100:.0f}%)" if total else ""
    return f"{round(value):,}{pct}"


def _notes(report: dict[str, Any]) -> str:
    modes = report["modes"]
    sources = {t["runs"][m]["token_source"] for t in report["tasks"] for m in modes}
    approximate = report.get("local_counts") == "approximate"
    tekken = "Mistral's Tekken tokenizer" + (", approximate for this model" if approximate
                                             else "")
    counted = ("tokens as reported by the API" if sources == {"api"} else
               f"tokens counted locally with {tekken} (input + output, all rounds)")
    lines = [f"Tokens: {counted}. Rounds: model requests per run. Savings: against "
             f"{mode_label(report['baseline'])}, only where both runs succeeded. Success: "
             "runs that succeeded / runs.",
             _prompts_note(report),
             _model_time_note(report),
             f"Wall time: {report['wall_seconds']:.1f} s."]
    lines = [line for line in lines if line]
    for task in report["tasks"]:
        for m in modes:
            stats = task["runs"][m]
            if stats["token_source"] == "api":
                diff = stats["local_tokens"] - stats["tokens"]
                lines.append(f"{task['title']} ({mode_label(m)}): API {stats['tokens']:,}"
                             f" tokens, local Tekken count{' (approximate)' if approximate else ''}"
                             f" {stats['local_tokens']:,} ({diff:+,}).")
    for task in report["tasks"]:
        unjudged = [m for m in modes if task["runs"][m].get("not_judged")]
        if unjudged:
            reason = task["runs"][unjudged[0]]["verdict"] or ["not judged."]
            who = " and ".join(mode_label(m) for m in unjudged)
            lines.append(f"{task['title']} ({who}) not judged: {reason[0]}")
        for m in modes:
            verdict = task["runs"][m]["verdict"]
            if verdict and m not in unjudged:
                reasons = "; ".join(r.rstrip(".") for r in verdict)
                lines.append(f"{task['title']} ({mode_label(m)}) failed: {reasons}.")
        for m, entry in task["savings"].items():
            if entry.get("value") is None and entry.get("why"):
                lines.append(f"{task['title']}: no savings for {mode_label(m)} — {entry['why']}.")
    return "\n".join(lines)


def _prompts_note(report: dict[str, Any]) -> str:
    """Which prompts raced: the bundled defaults, or which were overridden (with the hash)."""
    source = report.get("prompts", "defaults")
    edited = [(t["title"], t["prompts"]) for t in report["tasks"]
              if (t.get("prompts") or {}).get("overridden")]
    if not edited:
        hashes = sorted({(t.get("prompts") or {}).get("fingerprint") or "" for t in
                         report["tasks"]} - {""})
        note = "Prompts: the bundled defaults"
        note += f" (hash {', '.join(hashes)})" if hashes else ""
        if source == "defaults":
            note += "; saved prompt edits are ignored unless --use-saved-prompts."
        return note + ("" if note.endswith(".") else ".")
    parts = [f"{title}: {', '.join(p['overridden'])} (hash {p['fingerprint']})"
             for title, p in edited]
    origin = "saved overrides" if source == "saved" else "edited prompts"
    return f"Prompts: {origin} — " + "; ".join(parts) + "."


def _model_time_note(report: dict[str, Any]) -> str:
    """The model's own time per run, mean over tasks (modeled for the scripted agent)."""
    seconds = {m: report["averages"]["modes"][m].get("model_seconds") for m in report["modes"]}
    if any(value is None for value in seconds.values()):
        return ""  # a report from before the model's time was kept
    cells = [f"{mode_label(m)} {value:.1f} s" for m, value in seconds.items()]
    how = ("modeled on Mistral Small's measured speed" if
           report.get("scripted") and report.get("provider") == "scripted" else
           "as recorded or measured")
    return f"Model time per run (mean; {how}): " + ", ".join(cells) + "."


def _grid(header: list[str], rows: list[list[str]], md: bool) -> str:
    if md:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])])


def _csv(report: dict[str, Any], breakdown: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    modes = report["modes"]
    head = ["task_id", "title", "seed"]
    for m in modes:
        head += [f"{m}_tokens", f"{m}_input_tokens", f"{m}_output_tokens", f"{m}_rounds",
                 f"{m}_success", f"{m}_cost_usd", f"{m}_first_round_input_tokens"]
        if breakdown:
            head += [f"{m}_{s}" for s in TOKEN_SOURCES]
    savings_modes = [m for m in modes if m != report["baseline"] and report["baseline"] in modes]
    head += [f"{m}_savings" for m in savings_modes]
    head += ["article_tool_calling_tokens", "article_codeact_tokens", "article_savings"]
    writer.writerow(head)
    for t in report["tasks"]:
        row: list[Any] = [t["id"], t["title"], str(t["seed"]).lower()]
        for m in modes:
            d = t["runs"][m]
            row += [d["tokens"], d["input_tokens"], d["output_tokens"], d["rounds"],
                    str(d["success"]).lower(), d["cost_usd"], d["first_round_input_tokens"]]
            if breakdown:
                row += [d["breakdown"].get(s, 0) for s in TOKEN_SOURCES]
        for m in savings_modes:
            value = t["savings"][m]["value"]
            row.append("" if value is None else value)
        a = t.get("article") or {}
        row += [a.get("tool_calling_tokens", ""), a.get("codeact_tokens", ""),
                a.get("savings", "")]
        writer.writerow(row)
    return out.getvalue()
