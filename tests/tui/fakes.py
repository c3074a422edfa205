"""A fake engine for the app's tests: a deterministic synthetic race, tasks and run records.

The synthetic events follow engine.events exactly and look like a real race: tool calling makes
one call per round and every request resends the schemas and history; CodeAct writes one program.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from engine.events import (
    CodeBlock,
    Event,
    ExecutionResult,
    RoundFinished,
    RoundStarted,
    RunError,
    RunFinished,
    RunStarted,
    TextDelta,
    ToolCall,
    ToolResult,
    Usage,
)
from engine.modes import DEFAULT_RACE
from engine.modes import mode as mode_spec
from engine.prompts import PromptSet
from engine.records import RunSummary
from engine.replay import RecordedRace
from tui.backend import Backend, BackendError, SavedPrompts, TaskInfo
from tui.choices import RunChoice

TASKS = [
    TaskInfo("find-user-team", "Find user + get team info",
             "Find the user Ada Lovelace and tell me which team she is on and who leads it.",
             article=True),
    TaskInfo("aggregate-projects", "Aggregate data across projects",
             "For every active project, total the hours logged and the invoiced amount.",
             article=True),
]


def _chunks(text: str, size: int = 7) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def synthetic_events(modes=DEFAULT_RACE, tool_rounds: int = 4,
                     error_mode: str | None = None, run_id: str = "run-1") -> list[Event]:
    """A whole race of ``modes``, in a deterministic order: the baseline mode calls one tool a
    round, every other mode writes one program (a discovery mode with a smaller prompt)."""
    events: list[Event] = []
    for mode in modes:
        t = 0.0

        def ev(cls, _mode=mode, **kw):
            nonlocal t
            t += 0.01
            return cls(run_id=run_id, mode=_mode, elapsed=round(t, 2), **kw)

        events.append(ev(RunStarted, task_id="find-user-team",
                         task_title="Find user + get team info", provider="scripted",
                         model="scripted-reference", scripted=True, max_rounds=10))
        if mode == error_mode:
            events.append(ev(RunError, round=1, kind="auth",
                             message="MISTRAL_API_KEY is not set; export it or use --provider "
                                     "scripted.", fatal=True))
            events.append(ev(RunFinished, stop_reason="error", success=False, answer="",
                             verdict=["no answer"], rounds=0, input_tokens=0, output_tokens=0))
            continue
        if mode_spec(mode).baseline:
            history = 0
            for n in range(1, tool_rounds + 1):
                breakdown = {"system": 120, "tools": 12800, "task": 40, "assistant": 60 * (n - 1),
                             "results": history}
                total_in = sum(breakdown.values())
                events.append(ev(RoundStarted, round=n, input_tokens=total_in,
                                 breakdown=breakdown))
                last = n == tool_rounds
                text = ("Ada Lovelace is on the Platform team, led by Grace Hopper."
                        if last else f"Looking this up (step {n}).")
                events += [ev(TextDelta, round=n, text=c) for c in _chunks(text)]
                if not last:
                    args = {"query": "Ada Lovelace"} if n == 1 else {"id": 10 + n}
                    name = "users_search" if n == 1 else "teams_get"
                    events.append(ev(ToolCall, round=n, call_id=f"c{n}", name=name,
                                     arguments=args))
                    content = json.dumps({"ok": True, "value": [{"id": 7, "name": "Ada Lovelace",
                                          "team_id": 3, "email": "ada@example.com"}] * 3})
                    events.append(ev(ToolResult, round=n, call_id=f"c{n}", name=name, ok=True,
                                     content=content, tokens=180))
                    history += 180
                events.append(ev(Usage, round=n, input_tokens=total_in, output_tokens=30,
                                 breakdown=breakdown, cost_usd=total_in * 1e-7,
                                 total_ms=1200.0))
                events.append(ev(RoundFinished, round=n,
                                 finish_reason="stop" if last else "tool_calls"))
            total = sum(13020 + 60 * (n - 1) + 180 * (n - 1) for n in range(1, tool_rounds + 1))
            events.append(ev(RunFinished, stop_reason="answered", success=True,
                             answer="Ada Lovelace is on the Platform team, led by Grace Hopper.",
                             verdict=["names the team", "names the lead"], rounds=tool_rounds,
                             input_tokens=total, output_tokens=30 * tool_rounds,
                             cost_usd=total * 1e-7))
        else:
            code = ("user = api.users.search(query=\"Ada Lovelace\")[\"items\"][0]\n"
                    "team = api.teams.get(user[\"team_id\"])\n"
                    "lead = api.users.get(team[\"lead_id\"])\n"
                    "print(team[\"name\"], lead[\"name\"])\n")
            reply = f"I'll look up the user, then her team.\n\n```python\n{code}```\n"
            breakdown = {"system": 300, "tools": 3600, "task": 40}
            if mode_spec(mode).discovers_tools:  # a smaller prompt: the API is searched for
                breakdown = {"system": 420, "tools": 60, "task": 40}
            first_in = sum(breakdown.values())
            events.append(ev(RoundStarted, round=1, input_tokens=first_in, breakdown=breakdown))
            events += [ev(TextDelta, round=1, text=c) for c in _chunks(reply)]
            events.append(ev(CodeBlock, round=1, code=code))
            events.append(ev(ExecutionResult, round=1, output="Platform Grace Hopper\n",
                             error=None, content="Platform Grace Hopper", host_calls=3,
                             wall_ms=84.0, tokens=6))
            events.append(ev(Usage, round=1, input_tokens=first_in, output_tokens=90,
                             breakdown=breakdown, cost_usd=first_in * 1e-7, total_ms=900.0))
            events.append(ev(RoundFinished, round=1, finish_reason="stop"))
            bd2 = {**breakdown, "assistant": 90, "results": 6}
            second_in = sum(bd2.values())
            events.append(ev(RoundStarted, round=2, input_tokens=second_in, breakdown=bd2))
            answer = "Ada Lovelace is on the Platform team, led by Grace Hopper."
            events += [ev(TextDelta, round=2, text=c) for c in _chunks(answer)]
            events.append(ev(Usage, round=2, input_tokens=second_in, output_tokens=20,
                             breakdown=bd2, cost_usd=second_in * 1e-7, total_ms=400.0))
            events.append(ev(RoundFinished, round=2, finish_reason="stop"))
            events.append(ev(RunFinished, stop_reason="answered", success=True, answer=answer,
                             verdict=["names the team", "names the lead"], rounds=2,
                             input_tokens=first_in + second_in, output_tokens=110,
                             cost_usd=(first_in + second_in) * 1e-7))
    # Interleave the two agents as a real race would: alternate event by event.
    by_mode = [[e for e in events if e.mode == m] for m in modes]
    merged: list[Event] = []
    for i in range(max(len(x) for x in by_mode)):
        merged += [x[i] for x in by_mode if i < len(x)]
    return merged


class FakeBackend(Backend):
    """The engine, faked: synthetic races, an in-memory history, prompts saved to a dict."""

    def __init__(self, error_mode: str | None = None, tool_rounds: int = 4,
                 build_delay: float = 0.0) -> None:
        """``build_delay``: seconds ``new_race`` takes (a race that is slow to start)."""
        self.error_mode = error_mode
        self.tool_rounds = tool_rounds
        self.build_delay = build_delay
        self.started: list[tuple[RunChoice, PromptSet | None]] = []
        self.saved: PromptSet | None = None
        self.exports: list[Path] = []
        self.resets: list[tuple[str | None, tuple[str, ...]]] = []

    def warm_up(self) -> None:
        """Nothing to load: the fake races need neither the engine nor the tokenizer."""

    def prepare_sandbox(self, on_compile=None) -> None:
        """Nothing to compile: the fake races run no program."""

    def saved_prompts(self, choice: RunChoice) -> SavedPrompts:
        """What ``saved`` (the prompts the editor saved here) would send; none saved: none."""
        if self.saved is None:
            return SavedPrompts(choice)
        task = next((t for t in TASKS if t.id == choice.task_id), TASKS[0])
        return SavedPrompts.of(choice, task, self.saved)

    def list_tasks(self, task_file: Path | None = None) -> list[TaskInfo]:
        if task_file is not None and task_file.name == "broken.toml":
            raise BackendError(f"{task_file}: task 'x' has no prompt.")
        if task_file is not None:  # any other file holds two tasks of the user's
            return [*TASKS, *(TaskInfo(f"mine-{n}", f"My task {n}", f"Do thing {n}.",
                                       source=task_file.name) for n in (1, 2))]
        return list(TASKS)

    def new_race(self, choice: RunChoice, prompts: PromptSet | None) -> RecordedRace:
        self.started.append((choice, prompts))
        time.sleep(self.build_delay)  # called in a worker thread, as the real one is
        # An edited prompt "saves" a round, so the meter has a difference to show.
        tool_rounds = self.tool_rounds if self.saved is None else self.tool_rounds - 1
        return RecordedRace(synthetic_events(choice.modes, tool_rounds, self.error_mode),
                            pace=0)

    def load_prompts(self, task_id: str | None) -> PromptSet:
        return self.saved or PromptSet({"tool_calling_system": "You call tools.",
                                        "codeact_system": "You write Python:\n{api}"})

    def task_prompt(self, task_id, task_file) -> str:
        return TASKS[0].prompt

    def save_prompts(self, prompts: PromptSet, task_id: str | None) -> None:
        self.saved = prompts

    def reset_prompts(self, task_id: str | None, names: tuple[str, ...]) -> None:
        self.saved = None
        self.resets.append((task_id, names))

    def list_runs(self) -> list[RunSummary]:
        return [RunSummary(
            run_id="race-20260101-a", started="2026-01-01T10:00:00", task_id="find-user-team",
            task_title="Find user + get team info", provider="scripted",
            model="scripted-reference", scripted=False, modes=("tool_calling", "codeact"),
            tokens={"tool_calling": 53_160, "codeact": 8_086},
            success={"tool_calling": True, "codeact": True},
            rounds={"tool_calling": 4, "codeact": 2},
            stop_reasons={"tool_calling": "answered", "codeact": "answered"}, path="")]

    def replay(self, run_id: str, pace: float) -> RecordedRace:
        return RecordedRace(synthetic_events(run_id="replayed"), pace=0)

    def export_run(self, run_id: str, fmt: str, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{run_id}.{fmt}"
        target.write_text("exported")
        self.exports.append(target)
        return target
