"""The sandbox's error: one sentence that says what is wrong and what to do.

``wasm_sandbox`` imports nothing of ``engine``, so this cannot derive from
``engine.errors.ExplorerError``; it has the same shape (``message``, ``kind``) and
``engine.errors.USER_ERRORS`` accepts it wherever it accepts the engine's own errors.
"""

from __future__ import annotations


class SandboxError(Exception):
    """The sandbox cannot be set up or used; ``message`` (and ``str(error)``) is one sentence
    that says what to do; ``kind`` is ``"sandbox"``."""

    kind: str = "sandbox"

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return self.message
