"""Subcommand modules of the command line; each has ``register(subparsers)``.

``COMMANDS`` names the module that registers each subcommand, so a call imports only the module
of the command it runs: importing all five (asyncio, the event types, the providers and more
for ``bench`` alone) cost 72 ms of every ``sandbox run`` (issue 12; measured with
``python -X importtime -c "import engine.commands.bench_cmd"``). ``tests/test_cli_commands.py``
checks this table against what the modules really register.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

MODULES = ("catalog_cmds", "doctor_cmd", "sandbox_cmd", "bench_cmd", "runs_cmd")
COMMANDS = {
    "tasks": "catalog_cmds",
    "tools": "catalog_cmds",
    "doctor": "doctor_cmd",
    "sandbox": "sandbox_cmd",
    "bench": "bench_cmd",
    "runs": "runs_cmd",
    "export": "runs_cmd",
}


def command_modules(argv: list[str] | None = None) -> list[ModuleType]:
    """The modules to register for ``argv``: those of the commands named in it, else all.

    Any token equal to a command name counts (it may be an option's value: registering one
    module too many is harmless), so the real command is always among those registered.
    """
    wanted = {COMMANDS[token] for token in argv or () if token in COMMANDS}
    names = [name for name in MODULES if name in wanted] or list(MODULES)
    return [import_module(f"engine.commands.{name}") for name in names]
