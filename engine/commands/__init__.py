"""Subcommand modules of the command line; each has ``register(subparsers)``."""

from engine.commands import bench_cmd, catalog_cmds, doctor_cmd, runs_cmd, sandbox_cmd

COMMAND_MODULES = [catalog_cmds, doctor_cmd, sandbox_cmd, bench_cmd, runs_cmd]
