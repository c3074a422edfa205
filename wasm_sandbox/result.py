"""What one execution produced, and the text the model reads next."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

LimitName = Literal["cpu", "wall", "memory", "output", "host_calls", "argument_size", "crash"]
LIMIT_NAMES: frozenset[LimitName] = frozenset(get_args(LimitName))


def limit_name(value: object) -> LimitName | None:
    """``value`` when it names a limit (e.g. read from the guest's JSON), else None."""
    for name in LIMIT_NAMES:
        if value == name:
            return name
    return None


# The words for each limit, as users and models read them.
LIMIT_WORDS: dict[str, str] = {
    "cpu": "CPU time limit",
    "wall": "time limit",
    "memory": "memory limit",
    "output": "output limit",
    "host_calls": "host-call limit",
    "argument_size": "argument-size limit",
    "crash": "interpreter crash",
}


@dataclass
class ExecutionResult:
    """The outcome of ``Sandbox.run``.

    ``output`` is what the program printed (at most the output limit); ``error`` a cleaned
    traceback pointing at the program's own lines, or the sandbox's own sentence when it stopped
    the interpreter from outside (``sandbox_error``: a CPU or time limit, a crash, a flood; that
    sentence already says which limit), or None; ``host_calls`` the tool names called, in order;
    ``limit`` the limit that was hit, if any; ``state_lost`` whether the interpreter was
    replaced (names defined by earlier runs are gone); ``truncated_bytes`` output bytes cut.
    """

    output: str = ""
    error: str | None = None
    host_calls: list[str] = field(default_factory=list)
    limit: LimitName | None = None
    state_lost: bool = False
    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    truncated_bytes: int = 0
    sandbox_error: bool = False

    @property
    def ok(self) -> bool:
        """True when the program ran to its end without an error or a limit."""
        return self.error is None and self.limit is None

    @property
    def stopped(self) -> bool:
        """True when a limit ended the program early (cutting its output does not)."""
        return self.limit is not None and (self.limit != "output" or self.state_lost)

    def limit_message(self) -> str | None:
        """One sentence about the limit hit, for the user (None when no limit was hit)."""
        if self.limit is None:
            return None
        if not self.stopped:
            return (f"The output limit was hit: {self.truncated_bytes} bytes of output were "
                    "cut, and the program went on to its end.")
        lost = " Earlier state was lost." if self.state_lost else ""
        if self.limit == "crash":
            return f"The interpreter crashed and the program was stopped.{lost}"
        words = LIMIT_WORDS.get(self.limit, self.limit)
        return f"The sandbox stopped the program: the {words} was hit.{lost}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``host_call_count`` added for readers that only want the count)."""
        data = asdict(self)
        data["host_call_count"] = len(self.host_calls)
        return data

    def for_model(self) -> str:
        """The text the model reads next: output, error, then notices."""
        parts: list[str] = []
        if self.output:
            parts.append(self.output.rstrip("\n"))
        if self.error:
            parts.append(self.error.rstrip("\n"))
        notices: list[str] = []
        if not self.output and not self.error:
            notices.append("nothing was printed")
        if self.truncated_bytes:
            went_on = "" if self.stopped else "; the program went on to its end"
            notices.append(f"output truncated: {self.truncated_bytes} bytes cut{went_on}")
        if self.stopped and self.limit is not None:
            words = LIMIT_WORDS.get(self.limit, self.limit)
            notices.append(f"{words} hit" if self.limit != "crash" else words)
        if self.state_lost:
            notices.append("the interpreter was restarted; earlier state lost")
        if notices:
            parts.append("[" + "; ".join(notices) + "]")
        return "\n".join(parts)
