"""Bundled demo tool sources: generated data that real third-party MCP servers serve offline."""

from pathlib import Path

GIT_TASKS = Path(__file__).parent / "git.toml"  # the tasks of the mcp-server-git demo
