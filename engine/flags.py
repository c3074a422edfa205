"""Flags the app and the bench share, defined once (a light module: the app imports it at start).
"""

from __future__ import annotations

from typing import Any


def add_server_flags(parser: Any) -> None:
    """``--server-url`` and ``--rate`` on ``parser`` (an ``ArgumentParser`` or a group)."""
    parser.add_argument("--server-url", default=None, metavar="URL",
                        help="a self-hosted server for a live provider (with or without a "
                             "trailing /v1); default: the provider's environment variable "
                             "(MISTRAL_SERVER_URL, OPENAI_BASE_URL), else its own")
    parser.add_argument("--rate", default="default", metavar="N|none",
                        help="requests per second a live provider paces itself to, or 'none'; "
                             "default: 1 for Mistral's hosted API (its free tier), none for a "
                             "server on this machine or a private network")
