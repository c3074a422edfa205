"""`tasks` and `tools`: look at the task suite and the two renderings of the tool catalog."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Filled in by the workload issue."""
