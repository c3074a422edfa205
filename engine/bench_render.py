"""The bench report as text: the article's table (plain or Markdown), CSV, or stable JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from engine.events import TOKEN_SOURCE_LABELS, TOKEN_SOURCES

FORMATS = ("table", "json", "csv", "markdown")


def render(report: dict[str, Any], fmt: str, *, breakdown: bool = False) -> str:
    """``report`` is ``BenchReport.to_dict()``."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(report, breakdown)
    if fmt not in ("table", "markdown"):
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    md = fmt == "markdown"
    parts = [_title(report, md), _grid(*_main_rows(report), md)]
    if breakdown:
        parts.append(("### " if md else "") + "Where the input tokens went (all tasks, means)")
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
    line = f"CodeAct vs tool calling — provider: {provider}, {report['repeat']} run(s) per task"
    if report.get("parallel_tool_calls"):
        line += ", parallel tool calls"
    return f"## {line}" if md else line


def _success(task: dict[str, Any]) -> str:
    marks = []
    for mode in ("tool_calling", "codeact"):
        if mode in task:
            m = task[mode]
            mark = "yes" if m["success"] else "no"
            if m["runs"] > 1:
                mark = f"{m['successes']}/{m['runs']}"
            marks.append(mark)
    return " / ".join(marks)


def _main_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    tasks = report["tasks"]
    show_article = any(t.get("article") for t in tasks)
    header = ["Task", "Tool tokens", "CodeAct tokens", "Savings", "Rounds", "Success"]
    if show_article:
        header += ["Article: tool / CodeAct", "Savings", "Rounds"]
    rows = []
    for t in tasks:
        tool, code = t.get("tool_calling"), t.get("codeact")
        rounds = (f"{_rounds(tool['rounds']) if tool else '-'} → "
                  f"{_rounds(code['rounds']) if code else '-'}")
        row = [t["title"], _n(tool["tokens"]) if tool else "-",
               _n(code["tokens"]) if code else "-", _pct(t["savings"]), rounds, _success(t)]
        if show_article:
            a = t.get("article")
            row += ([f"{a['tool_calling_tokens']:,} / {a['codeact_tokens']:,}", _pct(a["savings"]),
                     f"{a['rounds'][0]} → {a['rounds'][1]}"] if a else ["", "", ""])
        rows.append(row)
    avg = report["averages"]
    succ = avg["successes"]
    last = ["Average", _n(avg.get("tool_calling_tokens")), _n(avg.get("codeact_tokens")),
            _pct(avg.get("savings")),
            f"{_rounds(avg.get('tool_calling_rounds') or 0)} → "
            f"{_rounds(avg.get('codeact_rounds') or 0)}",
            f"{succ.get('tool_calling', 0)}/{avg['tasks']} / "
            f"{succ.get('codeact', 0)}/{avg['tasks']}"]
    if show_article:
        aa = report.get("article_averages") or {}
        last += [f"{_n(aa.get('tool_calling_tokens'))} / {_n(aa.get('codeact_tokens'))}",
                 _pct(aa.get("savings")), ""]
    rows.append(last)
    return header, rows


def _breakdown_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    modes = [m for m in ("tool_calling", "codeact") if any(m in t for t in report["tasks"])]
    totals = {m: {s: 0 for s in TOKEN_SOURCES} for m in modes}
    outputs = dict.fromkeys(modes, 0)
    for t in report["tasks"]:
        for m in modes:
            if m in t:
                for s in TOKEN_SOURCES:
                    totals[m][s] += t[m]["breakdown"].get(s, 0)
                outputs[m] += t[m]["output_tokens"]
    header = ["Source", *(("Tool calling" if m == "tool_calling" else "CodeAct") for m in modes)]
    grand = {m: sum(totals[m].values()) + outputs[m] for m in modes}
    rows = []
    for s in TOKEN_SOURCES:
        rows.append([TOKEN_SOURCE_LABELS[s], *(_share(totals[m][s], grand[m]) for m in modes)])
    rows.append(["output (model's replies)", *(_share(outputs[m], grand[m]) for m in modes)])
    rows.append(["total", *(_n(grand[m]) for m in modes)])
    return header, rows


def _share(value: int, total: int) -> str:
    pct = f" ({value / total * 100:.0f}%)" if total else ""
    return f"{value:,}{pct}"


def _notes(report: dict[str, Any]) -> str:
    sources = {t[m]["token_source"] for t in report["tasks"] for m in ("tool_calling", "codeact")
               if m in t}
    counted = ("tokens as reported by the API" if sources == {"api"} else
               "tokens counted locally with Mistral's Tekken tokenizer "
               "(input + output, all rounds)")
    lines = [f"Tokens: {counted}. Rounds: model requests per run.",
             f"Wall time: {report['wall_seconds']:.1f} s."]
    for task in report["tasks"]:
        for mode in ("tool_calling", "codeact"):
            stats = task.get(mode)
            if stats and stats["token_source"] == "api":
                diff = stats["local_tokens"] - stats["tokens"]
                lines.append(f"{task['title']} ({mode.replace('_', ' ')}): API {stats['tokens']:,}"
                             f" tokens, local Tekken count {stats['local_tokens']:,} ({diff:+,}).")
    failed = [(t["title"], m, t[m]["verdict"]) for t in report["tasks"]
              for m in ("tool_calling", "codeact") if m in t and t[m]["verdict"]]
    for title, mode, verdict in failed:
        reasons = "; ".join(r.rstrip(".") for r in verdict)
        lines.append(f"{title} ({mode.replace('_', ' ')}) failed: {reasons}.")
    return "\n".join(lines)


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
    head = ["task_id", "title", "seed"]
    for m in ("tool_calling", "codeact"):
        head += [f"{m}_tokens", f"{m}_input_tokens", f"{m}_output_tokens", f"{m}_rounds",
                 f"{m}_success", f"{m}_cost_usd"]
        if breakdown:
            head += [f"{m}_{s}" for s in TOKEN_SOURCES]
    head += ["savings", "article_tool_calling_tokens", "article_codeact_tokens",
             "article_savings"]
    writer.writerow(head)
    for t in report["tasks"]:
        row: list[Any] = [t["id"], t["title"], str(t["seed"]).lower()]
        for m in ("tool_calling", "codeact"):
            d = t.get(m)
            row += ([d["tokens"], d["input_tokens"], d["output_tokens"], d["rounds"],
                     str(d["success"]).lower(), d["cost_usd"]] if d else [""] * 6)
            if breakdown:
                row += [d["breakdown"].get(s, 0) if d else "" for s in TOKEN_SOURCES]
        a = t.get("article") or {}
        row += [t["savings"] if t["savings"] is not None else "",
                a.get("tool_calling_tokens", ""), a.get("codeact_tokens", ""),
                a.get("savings", "")]
        writer.writerow(row)
    return out.getvalue()
