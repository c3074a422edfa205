"""`sandbox run FILE|-`: run a Python file in a fresh sandbox against a fresh platform.

What users use to try code against the API before a model does: the program sees the same
``api`` object (and ``ToolError``) that a CodeAct agent's programs see.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import UserError

if TYPE_CHECKING:
    from tasks.platform import Platform
    from wasm_sandbox.api import GuestFunction


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sandbox run``."""
    parser = sub.add_parser("sandbox", help="run Python in the WebAssembly sandbox")
    inner = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    run = inner.add_parser(
        "run",
        help="run a Python file (or - for stdin) against a fresh platform",
        description="Run a Python file in a fresh sandbox session against a fresh platform; "
        "the program calls the platform through `api.<resource>.<action>(...)`.",
    )
    run.add_argument("file", metavar="FILE", help="Python file to run, or - to read stdin")
    run.add_argument("--json", action="store_true", help="print the execution result as JSON")
    # One program, then the process ends: nothing is left to tear down but the interpreter's
    # own objects and the child's pipes (the child exits when they close), 50-90 ms of a
    # 240 ms command (issue 12); the command line ends such commands with os._exit.
    run.set_defaults(func=sandbox_run, exit_at_once=True)


def _read_code(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserError(f"There is no file {path}; give a Python file or - for stdin.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Cannot read {path} ({exc.__class__.__name__}); check the file.") from exc


def sandbox_run(args: argparse.Namespace) -> int:
    """Run the program; exit 0 when it ran to its end, 1 on an error or a limit."""
    # Imported here, in this order, not at the top: `--help` imports every command module,
    # and the sandbox's session costs 46 ms to import (python -X importtime, load 2.7 on
    # 2 cores). The interpreter's own process starts first and loads wasmtime's library on the
    # other core while this one imports and checks the rest; it starts the interpreter as soon
    # as Sandbox() has checked the module, and nothing below waits for it until the run.
    from wasm_sandbox import SandboxError
    from wasm_sandbox.process import ChildProcess, prestart

    child: ChildProcess | None = None
    with contextlib.suppress(SandboxError, OSError):  # Sandbox() below says what is wrong
        child = prestart()
    from engine.settings import paths
    from wasm_sandbox import Sandbox

    problem = paths().problem()
    if problem:
        raise UserError(problem)
    code = _read_code(args.file)
    # The platform is built at the first host call: 19 ms idle, 45-70 ms at load 3 on 2 cores,
    # where building it beside the loading interpreter only slowed the interpreter down
    # (a program without host calls needs none).
    platforms: list[Platform] = []

    def host_call(name: str, arguments: dict) -> dict:
        if not platforms:
            from tasks.platform import new_platform

            platforms.append(new_platform())
        return platforms[0].call(name, arguments).to_wire()

    def guest_api() -> dict[str, GuestFunction]:
        # Built once the interpreter's process has its module: the guest's CPython starts
        # meanwhile (the catalogue and its dataclasses cost 4-20 ms to import and build).
        from tasks.catalog import guest_api_spec

        return guest_api_spec()

    try:
        # No fork server: a zygote would make this process wait while it loads. A compile
        # (a fresh install, or a corrupt cache being rebuilt: 4-10 s that were silent) is said.
        with Sandbox(host_call, guest_api, cache_dir=paths().wasm_cache,
                     fork_server=False, child=child, on_compile=lambda: print(
                         "codeact-explorer: compiling the interpreter (once; a few seconds)…",
                         file=sys.stderr, flush=True)) as sandbox:
            if sandbox.runtime.note:
                print(f"codeact-explorer: {sandbox.runtime.note}.", file=sys.stderr)
            result = sandbox.run(code)
    except SandboxError as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        if result.output:
            print(result.output, end="" if result.output.endswith("\n") else "\n")
            sys.stdout.flush()
        if result.error:
            print(result.error, file=sys.stderr)
        notices = []
        if result.limit and not result.sandbox_error:  # that error says which limit already
            print(result.limit_message(), file=sys.stderr)
        elif result.truncated_bytes:
            notices.append(f"output truncated: {result.truncated_bytes} bytes cut")
        if not result.output and not result.error:
            notices.append("nothing was printed")
        calls = len(result.host_calls)
        notices.append(f"{calls} host call{'s' if calls != 1 else ''}, {result.wall_ms:.0f} ms")
        print(f"[{'; '.join(notices)}]", file=sys.stderr)
    return 0 if result.ok else 1
