"""Run generated Python in CPython compiled to WASI, under wasmtime, with host calls and limits.

``Sandbox(host_call, guest_api, limits=Limits(), cache_dir=None)`` keeps one interpreter alive
(in a child process) across ``run(code) -> ExecutionResult`` calls. See ``session.py``;
``guest_api`` is flat tool name -> ``GuestFunction`` (``api.py``).

The names below are loaded on first use (PEP 562): importing the session and its process
machinery measured 40-48 ms (``python -X importtime -c "import wasm_sandbox"``, load 5-12 on
2 cores), which ``engine.errors`` — imported by every command — must not pay for
``SandboxError``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from wasm_sandbox.errors import SandboxError

if TYPE_CHECKING:
    from wasm_sandbox.api import GuestFunction, check_guest_api
    from wasm_sandbox.hostcalls import HostCall
    from wasm_sandbox.limits import Limits
    from wasm_sandbox.result import ExecutionResult
    from wasm_sandbox.runtime import RuntimeInfo
    from wasm_sandbox.session import Sandbox

_LAZY = {
    "ExecutionResult": "wasm_sandbox.result",
    "GuestFunction": "wasm_sandbox.api",
    "HostCall": "wasm_sandbox.hostcalls",
    "Limits": "wasm_sandbox.limits",
    "RuntimeInfo": "wasm_sandbox.runtime",
    "Sandbox": "wasm_sandbox.session",
    "check_guest_api": "wasm_sandbox.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wasm_sandbox' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ExecutionResult",
    "GuestFunction",
    "HostCall",
    "Limits",
    "RuntimeInfo",
    "Sandbox",
    "SandboxError",
    "check_guest_api",
]
