"""One error base for the engine, carrying the one sentence a user reads.

Every error the engine raises for something a user can cause (a bad flag, a missing key, a
broken task or record file, a tool source that does not start, a provider that fails) is an
``ExplorerError``: ``message`` is one sentence that says what is wrong and what to do, ``kind``
a short word for what failed (it becomes ``RunError.kind``). The boundaries — the CLI, the agent
loop, the app's backend — catch it and show ``message``; they never show a traceback, and they
show any other exception through ``one_sentence``, never its raw text. (harlequin's
``HarlequinError`` is the model: one class every boundary raises and the app shows.)

``tasks`` and ``wasm_sandbox`` import nothing of ``engine``; their own bases
(``tasks.errors.TasksError``, ``wasm_sandbox.SandboxError``) have the same shape, and
``USER_ERRORS`` names all three for ``except`` clauses at the boundaries.
"""

from __future__ import annotations

from tasks.errors import TasksError
from wasm_sandbox.errors import SandboxError


class ExplorerError(Exception):
    """An error whose ``message`` is one sentence for the user (``str(error)`` is the same).

    ``kind`` is a short word for what failed (``"config"``, ``"tools"``, ``"sandbox"``,
    ``"record"``...); subclasses set a default, a raiser may pass another.
    """

    kind: str = "error"

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return self.message


class UserError(ExplorerError, ValueError):
    """A value the user gave (a flag, a file, a format) that cannot be used; the message says
    how to fix it. Also a ``ValueError``, for parsers that expect one."""

    kind = "usage"


# Errors that carry a sentence for the user, whichever package raised them.
UserFacing = ExplorerError | TasksError | SandboxError  # each has .message and .kind
USER_ERRORS: tuple[type[ExplorerError] | type[TasksError] | type[SandboxError], ...] = (
    ExplorerError, TasksError, SandboxError)


def one_sentence(exc: BaseException) -> str:
    """The sentence to show for ``exc``, ending with a full stop.

    - an error of ``USER_ERRORS``: its own message;
    - an ``OSError``: what the system said and the file (``"Permission denied: runs/x.jsonl."``);
    - anything else (a bug, or an error a boundary should have turned into one of ours): a
      sentence naming its type, never its raw text, which is written for programmers.
    """
    if isinstance(exc, USER_ERRORS):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else ""
        text = f"{exc.strerror}: {where}" if where else exc.strerror
    else:
        text = f"an unexpected internal error ({type(exc).__name__})"
    text = " ".join(text.split()) or f"an unexpected internal error ({type(exc).__name__})"
    return text if text.endswith((".", "!", "?")) else text + "."


__all__ = ["USER_ERRORS", "ExplorerError", "SandboxError", "TasksError", "UserError", "UserFacing",
           "one_sentence"]
