"""Run records: one JSON-lines file per agent run, written as it happens, read back and exported.

A race of two agents writes two files, ``<race id>-<mode>.jsonl``, under ``paths().runs``.
Line 1 is a header (``"kind": "header"``: format, versions, race and run ids, mode, the task,
provider, model, the prompts used, the options). Every later line is one of
``{"kind": "event", "event": {...}}`` (``Event.to_dict``), ``{"kind": "request", ...}`` (the
messages added since the previous request, never the whole history again) or
``{"kind": "response", "round": n, "chunks": [...]}`` (the reply exactly as streamed, which the
replay provider plays back). Each line is flushed when written, so Ctrl-C or a crash leaves a
readable file up to the last line; a half-written last line is skipped when reading.

Reading works per race, as the app shows them: ``list_runs()`` (newest first; a file that
cannot be read is listed as unreadable, never a traceback), ``load_run(id_or_path)``,
and ``load_events(id_or_path)`` (``engine.replay.RecordedRace`` plays them back);
``engine.record_export.export_run(run, format)`` writes a race as markdown, json or csv.
"""

from __future__ import annotations

import json
import platform as _platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from engine.errors import ExplorerError
from engine.events import Event, EventFormatError, RunFinished, StopReason, event_from_dict
from engine.settings import paths

if TYPE_CHECKING:  # at run time records know no provider: the provider package reads them
    from engine.providers.base import ChatRequest

FORMAT = 1
SUFFIX = ".jsonl"


class RunRecordError(ExplorerError):
    """A run record that cannot be found or read, in one sentence."""

    kind = "record"


def _versions() -> dict[str, str]:
    found = {"python": _platform.python_version()}
    for dist in ("codeact-explorer", "mistralai", "mistral-common", "wasmtime", "textual"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


class RunRecorder:
    """Appends one agent run's lines to its file, flushing each one."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: TextIO | None = path.open("a", encoding="utf-8")
        self._write({"kind": "header", **header})

    @classmethod
    def create(cls, agent: Any) -> RunRecorder:
        """A recorder for ``agent`` (an ``engine.agents.Agent``) under ``paths().runs``."""
        task = agent.task
        header = {
            "format": FORMAT,
            "record": "codeact-explorer-run",
            "run_id": agent.run_id,
            "race_id": agent.race_id,
            "mode": agent.mode,
            "started": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "versions": _versions(),
            "task": {"id": task.id, "title": task.title, "prompt": task.prompt,
                     "max_rounds": task.max_rounds, "tags": list(task.tags)},
            "provider": agent.provider.name,
            "model": agent.provider.model,
            "scripted": bool(getattr(agent.provider, "scripted", False)),
            "prompts": agent.prompts.to_dict(),
            # Which prompts differ from the bundled defaults, and a hash of all of them.
            "prompts_overridden": agent.prompts.overridden(),
            "prompts_fingerprint": agent.prompts.fingerprint(),
            "options": {**agent.config.options(), "max_rounds": agent.max_rounds},
        }
        return cls(paths().runs / f"{agent.run_id}{SUFFIX}", header)

    def _write(self, line: dict[str, Any]) -> None:
        if self._file is None:
            return
        try:
            self._file.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
            self._file.flush()
        except (OSError, ValueError):
            self.close()  # a full disk must not break the run; the record just stops here

    def event(self, event: Event) -> None:
        self._write({"kind": "event", "event": event.to_dict()})

    def request(self, round_: int, request: ChatRequest, new: list[dict[str, Any]]) -> None:
        self._write({
            "kind": "request", "round": round_, "model": request.model,
            "tools": len(request.tools or ()), "tool_choice": request.tool_choice,
            "parallel_tool_calls": request.parallel_tool_calls,
            "messages_total": len(request.messages), "messages_added": new,
        })

    def tool_source(self, details: dict[str, Any]) -> None:
        """What the run's tool source reported at its end (an MCP server's stderr)."""
        self._write({"kind": "tool_source", **details})

    def response(self, round_: int, chunks: list[dict[str, Any]], *,
                 raw: list[Any] | None = None,
                 attempts: list[dict[str, Any]] | None = None) -> None:
        """The round's reply: ``chunks`` as read (``engine.providers.base.chunk_to_dict``),
        ``raw`` as the server sent them, and each failed ``attempts`` entry (see
        ``engine.agents.parts.Reply``)."""
        line: dict[str, Any] = {"kind": "response", "round": round_, "chunks": chunks}
        if raw:
            line["raw"] = raw
        if attempts:
            line["attempts"] = attempts
        self._write(line)

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None


@dataclass
class AgentRecord:
    """One agent run read back from its file."""

    path: Path
    header: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    tool_source: dict[str, Any] = field(default_factory=dict)  # e.g. an MCP server's stderr
    skipped_lines: int = 0

    @property
    def run_id(self) -> str:
        return str(self.header.get("run_id") or self.path.stem)

    @property
    def mode(self) -> str:
        return str(self.header.get("mode", ""))

    @property
    def finished(self) -> RunFinished | None:
        last = self.events[-1] if self.events else None
        return last if isinstance(last, RunFinished) else None

    def messages(self) -> list[dict[str, Any]]:
        """The whole conversation as sent in the last request."""
        out: list[dict[str, Any]] = []
        for request in self.requests:
            out.extend(request.get("messages_added") or [])
        return out


def read_agent_record(path: Path) -> AgentRecord:
    """Read one file; raises ``RunRecordError`` when it is not a run record at all."""
    try:
        with path.open(encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RunRecordError(f"{path.name} cannot be read ({exc}).") from exc
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("kind") != "header":
        raise RunRecordError(f"{path.name} is not a CodeAct Explorer run record.")
    record = AgentRecord(path=path, header=header)
    for line in lines[1:]:
        try:
            data = json.loads(line)
            kind = data.get("kind")
            if kind == "event":
                record.events.append(event_from_dict(data["event"]))
            elif kind == "request":
                record.requests.append(data)
            elif kind == "response":
                record.responses.append(data)
            elif kind == "tool_source":
                record.tool_source = {k: v for k, v in data.items() if k != "kind"}
        except (json.JSONDecodeError, EventFormatError, AttributeError, KeyError, TypeError):
            record.skipped_lines += 1  # a line cut by a crash, or from a newer version
    return record


@dataclass
class RunRecord:
    """A recorded race: the agent runs that shared a race id (one or two modes)."""

    run_id: str
    agents: dict[str, AgentRecord]

    @property
    def header(self) -> dict[str, Any]:
        return next(iter(self.agents.values())).header

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self.agents)

    @property
    def events(self) -> list[Event]:
        """Every agent's events, merged by time (each agent's own order kept)."""
        merged = [(e.elapsed, i, n, e) for i, a in enumerate(self.agents.values())
                  for n, e in enumerate(a.events)]
        merged.sort(key=lambda item: (item[0], item[1], item[2]))
        return [item[3] for item in merged]


@dataclass(frozen=True)
class RunSummary:
    """One line of ``list_runs()``: a race as the history lists it."""

    run_id: str
    started: str
    task_id: str
    task_title: str
    provider: str
    model: str
    scripted: bool
    modes: tuple[str, ...]
    tokens: dict[str, int]
    success: dict[str, bool | None]
    rounds: dict[str, int]
    stop_reasons: dict[str, StopReason | None]
    path: str
    paths: tuple[str, ...] = ()
    readable: bool = True
    problem: str | None = None
    # Modes whose run could not be judged / compared (engine.prompt_checks); () for none.
    not_judged: tuple[str, ...] = ()
    not_comparable: tuple[str, ...] = ()


def _record_files() -> list[Path]:
    folder = paths().runs
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{SUFFIX}"))


def _race_id(record: AgentRecord) -> str:
    return str(record.header.get("race_id") or record.run_id)


def _summary(race_id: str, agents: list[AgentRecord]) -> RunSummary:
    head = agents[0].header
    task = head.get("task") or {}
    tokens, success, rounds, stops = {}, {}, {}, {}
    for a in agents:
        fin = a.finished
        tokens[a.mode] = fin.total_tokens if fin else sum(
            getattr(e, "input_tokens", 0) + getattr(e, "output_tokens", 0)
            for e in a.events if e.type == "usage")
        success[a.mode] = fin.success if fin else None
        rounds[a.mode] = fin.rounds if fin else sum(1 for e in a.events if e.type == "usage")
        stops[a.mode] = fin.stop_reason if fin else None
    return RunSummary(
        run_id=race_id, started=str(head.get("started", "")), task_id=str(task.get("id", "")),
        task_title=str(task.get("title", "")), provider=str(head.get("provider", "")),
        model=str(head.get("model", "")), scripted=bool(head.get("scripted", False)),
        modes=tuple(a.mode for a in agents), tokens=tokens, success=success, rounds=rounds,
        stop_reasons=stops, path=str(agents[0].path), paths=tuple(str(a.path) for a in agents),
        not_judged=tuple(a.mode for a in agents if a.finished and not a.finished.judged),
        not_comparable=tuple(a.mode for a in agents if a.finished and not a.finished.comparable),
    )


def _file_order(record: AgentRecord) -> str:
    # Records know no mode registry (it sits above the agents that write them): the agents of a
    # race come in the order of their files; consumers show them in registry order
    # (engine.modes.in_registry_order).
    return record.path.name


def list_runs() -> list[RunSummary]:
    """Every recorded race, newest first; unreadable files are listed with their problem."""
    races: dict[str, list[AgentRecord]] = {}
    broken: list[RunSummary] = []
    for path in _record_files():
        try:
            record = read_agent_record(path)
        except RunRecordError as exc:
            broken.append(RunSummary(
                run_id=path.stem, started="", task_id="", task_title="", provider="", model="",
                scripted=False, modes=(), tokens={}, success={}, rounds={}, stop_reasons={},
                path=str(path), paths=(str(path),), readable=False, problem=str(exc)))
            continue
        races.setdefault(_race_id(record), []).append(record)
    summaries = [_summary(rid, sorted(agents, key=_file_order)) for rid, agents in races.items()]
    everything = summaries + broken
    everything.sort(key=lambda s: (s.started or "", s.run_id), reverse=True)
    return everything


def load_run(id_or_path: str | Path) -> RunRecord:
    """A recorded race by race id, agent run id or file path (its sibling runs included)."""
    path = _find(id_or_path)
    first = read_agent_record(path)
    race_id = _race_id(first)
    agents = {first.mode: first}
    for other in _record_files():
        if other == path or not other.name.startswith(race_id):
            continue
        try:
            record = read_agent_record(other)
        except RunRecordError:
            continue
        if _race_id(record) == race_id and record.mode not in agents:
            agents[record.mode] = record
    ordered = dict(sorted(agents.items(), key=lambda item: _file_order(item[1])))
    return RunRecord(run_id=race_id, agents=ordered)


def _find(id_or_path: str | Path) -> Path:
    candidate = Path(id_or_path).expanduser()
    if candidate.suffix == SUFFIX and candidate.is_file():
        return candidate
    key = str(id_or_path)
    files = _record_files()
    exact = [p for p in files if p.stem == key]
    if exact:
        return exact[0]
    prefixed = [p for p in files if p.stem.startswith(key)]
    races = {p.stem.rpartition("-")[0] for p in prefixed}  # "<race id>-<mode id>": no "-" in ids
    if len(races) > 1:
        raise RunRecordError(f"{key!r} matches {len(races)} recorded runs; give more of the id.")
    if prefixed:
        return prefixed[0]
    raise RunRecordError(
        f"No recorded run {key!r}; `codeact-explorer runs` lists the recorded runs."
    )


def load_events(id_or_path: str | Path) -> list[Event]:
    """Every event of a recorded race, merged by time, ready to replay into the panes."""
    return load_run(id_or_path).events

