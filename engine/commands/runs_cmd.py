"""`runs` lists the recorded races; `export RUN` writes one as Markdown, JSON or CSV."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from engine.errors import UserError
from engine.modes import MODES, in_registry_order
from engine.record_export import export_run
from engine.records import RunRecordError, RunSummary, list_runs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list the recorded runs, newest first",
                       description="List the recorded races (one line each, newest first).")
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="show at most N")
    p.set_defaults(func=list_command)

    e = sub.add_parser("export", help="export one recorded run",
                       description="Export a recorded race (both agents) as Markdown, JSON or "
                                   "CSV. RUN is a run id from `codeact-explorer runs` (a unique "
                                   "prefix is enough) or a record file.")
    e.add_argument("run", metavar="RUN")
    e.add_argument("--format", choices=("markdown", "json", "csv"), default="markdown",
                   dest="fmt")
    e.add_argument("--output", type=Path, default=None, help="write to FILE instead of stdout")
    e.set_defaults(func=export_command)


MODES_BY_ID = {m.id: m for m in MODES}


def _modes_cell(run: RunSummary) -> str:
    cells = []
    for mode_id in in_registry_order(run.modes):
        ok = run.success.get(mode_id)
        mark = "ok" if ok else ("?" if ok is None else "fail")
        if mode_id in run.not_judged:
            mark = "not judged"
        if mode_id in run.not_comparable:
            mark += ", not comparable"
        spec = MODES_BY_ID.get(mode_id)
        short = spec.short_label if spec else mode_id
        cells.append(f"{short} {run.tokens.get(mode_id, 0):,} {mark}")
    return ", ".join(cells)


def list_command(args: argparse.Namespace) -> int:
    runs = list_runs()
    if args.limit is not None:
        runs = runs[: max(0, args.limit)]
    if args.json:
        rows = [{**asdict(r), "modes": list(in_registry_order(r.modes))} for r in runs]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not runs:
        print("No recorded runs yet; `codeact-explorer bench` or the app records them.")
        return 0
    for run in runs:
        if not run.readable:
            print(f"{run.run_id}  unreadable: {run.problem}")
            continue
        provider = run.provider + (" (scripted)" if run.scripted and run.provider != "scripted"
                                   else "")
        print(f"{run.run_id}  {run.started}  {run.task_id}  {provider}  {_modes_cell(run)}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    try:
        text = export_run(args.run, args.fmt)
    except RunRecordError as exc:
        raise UserError(str(exc)) from exc
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"Cannot write {args.output}: {exc.strerror or exc}.") from exc
    print(f"Wrote {args.output}.", file=sys.stderr)
    return 0
