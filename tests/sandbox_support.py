"""Shared pieces of the sandbox tests: a toy platform, its guest API and one compiled module."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from wasm_sandbox import GuestFunction, Limits, Sandbox, runtime


def guest_function(path: str, params: list[str], doc: str = "") -> GuestFunction:
    """A ``GuestFunction`` whose signature lists the parameters untyped."""
    return GuestFunction(path=path, params=params, signature=f"api.{path}({', '.join(params)})",
                         doc=doc or f"The toy {path}.")


TOY_API = {
    "users_get": guest_function("users.get", ["id"], "Get one user by id."),
    "users_search": guest_function("users.search", ["query", "limit"],
                                   "Search users by words in their name."),
    "users_echo": guest_function("users.echo", ["payload"], "Return the payload unchanged."),
    "notes_list": guest_function("notes.list", [], "List every note."),
    "notes_create": guest_function("notes.create", ["text"], "Create a note with this text."),
}
# Paths at three depths, as an MCP tool source or a catalog may give them.
MIXED_API = {
    "read_query": guest_function("read_query", ["sql"], "Run a read-only SQL query."),
    "users_get": guest_function("users.get", ["id"], "Get one user by id."),
    "github.issues-list": guest_function("github.issues.list", ["repo", "state"],
                                         "List the issues of a repository."),
}
SMALL = Limits(
    cpu_seconds=1.0,
    wall_seconds=1.5,
    memory_bytes=64 * 1024 * 1024,
    output_bytes=2048,
    host_calls=50,
    argument_bytes=64 * 1024,
)


class ToyPlatform:
    """Answers host calls the way tasks.platform does (wire dicts), and records them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.notes: list[str] = []

    def __call__(self, name: str, args: dict) -> dict:
        self.calls.append((name, args))
        if name == "users_get":
            if args.get("id") == 0:
                return {"ok": False, "error": "user 0 does not exist"}
            return {"ok": True, "value": {"id": args.get("id"), "name": "Ada", "tags": ["a"]}}
        if name == "users_search":
            return {"ok": True, "value": {"items": [{"id": 1, "name": args.get("query")}]}}
        if name == "users_echo":
            return {"ok": True, "value": args.get("payload")}
        if name == "notes_create":
            self.notes.append(args.get("text", ""))
            return {"ok": True, "value": {"id": len(self.notes)}}
        if name == "notes_list":
            return {"ok": True, "value": list(self.notes)}
        return {"ok": False, "error": f"unknown tool {name}"}


_shared: list[Path] = []


def shared_cache() -> Path:
    """One compiled module for the whole test session (compiling takes seconds)."""
    if not _shared:
        root = Path(tempfile.mkdtemp(prefix="codeact-wasm-cache-"))
        atexit.register(shutil.rmtree, root, True)
        runtime.prepare(root)
        _shared.append(root)
    return _shared[0]


def link_cache_into(source: Path, target: Path) -> None:
    """Hard-link (or copy) a compiled cache into another folder, so no test compiles twice."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.suffix in (".cwasm", ".json", ".code"):
            dest = target / item.name
            if not dest.exists():
                try:
                    os.link(item, dest)
                except OSError:
                    shutil.copy2(item, dest)


def new_sandbox(cache: Path, limits: Limits = SMALL) -> tuple[Sandbox, ToyPlatform]:
    platform = ToyPlatform()
    return Sandbox(platform, TOY_API, limits=limits, cache_dir=cache), platform
