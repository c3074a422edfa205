"""Flags the app and the bench share, defined once (a light module: the app imports it at start).
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit


def server_url(text: str) -> str:
    """``--server-url``'s type: an http(s) URL with a host and a valid port, as given.

    Raises ``argparse.ArgumentTypeError`` (one sentence) otherwise: a typo such as
    ``http://localhost:99999`` used to surface as the SDK's "unhandled errors in a TaskGroup"
    after 5 s of retries, and ``notaurl`` or ``ftp://x`` were retried as refused connections.
    """
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of 0-65535 or not a number
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a usable URL ({exc}).") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http(s) URL with a host, such as http://localhost:8000.")
    return text.strip()


def add_server_flags(parser: Any) -> None:
    """``--server-url`` and ``--rate`` on ``parser`` (an ``ArgumentParser`` or a group)."""
    parser.add_argument("--server-url", default=None, metavar="URL", type=server_url,
                        help="a self-hosted server for a live provider (with or without a "
                             "trailing /v1); default: the provider's environment variable "
                             "(MISTRAL_SERVER_URL, OPENAI_BASE_URL), else its own")
    parser.add_argument("--rate", default="default", metavar="N|none",
                        help="requests per second a live provider paces itself to, or 'none'; "
                             "default: 1 for Mistral's hosted API (its free tier), none for a "
                             "server on this machine or a private network")
