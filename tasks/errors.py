"""The base of the workload's errors: one sentence a user (or a model) can act on.

``tasks`` imports nothing of ``engine``, so it cannot derive from ``engine.errors.ExplorerError``;
this base has the same shape (``message``, ``kind``) and ``engine.errors.USER_ERRORS`` accepts it
wherever it accepts the engine's own errors.
"""

from __future__ import annotations


class TasksError(Exception):
    """An error of the task suite or the mock platform.

    ``message`` is one sentence saying what is wrong and what to do (``str(error)`` is the same);
    ``kind`` a short word for what failed (``"tasks"`` unless a subclass says otherwise).
    """

    kind: str = "tasks"

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return self.message
