"""Run generated Python in CPython compiled to WASI, under wasmtime, with host calls and limits.

``Sandbox(host_call, guest_api, limits=Limits(), cache_dir=None)`` keeps one interpreter alive
(in a child process) across ``run(code) -> ExecutionResult`` calls. See ``session.py``;
``guest_api`` is flat tool name -> ``GuestFunction`` (``api.py``).
"""

from wasm_sandbox.api import GuestFunction, check_guest_api
from wasm_sandbox.hostcalls import HostCall
from wasm_sandbox.limits import Limits
from wasm_sandbox.result import ExecutionResult
from wasm_sandbox.runtime import RuntimeInfo, SandboxError
from wasm_sandbox.session import Sandbox

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
