"""The command line imports only the subcommand that runs, and its table of commands is true."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import import_module

from engine.cli import build_parser
from engine.commands import COMMANDS, MODULES


def registered_by(module_name: str) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    import_module(f"engine.commands.{module_name}").register(sub)
    return set(sub.choices)


def test_the_table_names_exactly_the_commands_each_module_registers():
    for name in MODULES:
        assert {c for c, m in COMMANDS.items() if m == name} == registered_by(name)


def test_a_command_line_registers_its_own_command_and_help_registers_all():
    def commands(argv: list[str]) -> set[str]:
        parser = build_parser(argv=argv)
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return set(action.choices)

    assert commands(["sandbox", "run", "-"]) == {"sandbox"}
    assert commands(["export", "abc", "--format", "json"]) == {"runs", "export"}
    assert commands(["--help"]) == set(COMMANDS)
    assert commands(["nonsense"]) == set(COMMANDS)  # so the error lists every choice


def test_sandbox_run_imports_no_other_subcommand():
    probe = (
        "import sys\n"
        "from tui.cli import build_parser\n"
        "args = build_parser(argv=sys.argv[1:]).parse_args(sys.argv[1:])\n"
        "print(sorted(m for m in sys.modules if m.startswith('engine.commands.')))\n"
        "print('textual' in sys.modules, 'asyncio' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, "sandbox", "run", "-"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["['engine.commands.sandbox_cmd']", "False False"]
