"""Subcommand modules of the command line; each has ``register(subparsers)``."""

from engine.commands import catalog_cmds

COMMAND_MODULES = [catalog_cmds]
