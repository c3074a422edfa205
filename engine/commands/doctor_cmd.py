"""`doctor`: check what the app needs, one line per check, with how to fix what is wrong.

Checks: python.wasm is there and is the verified build, its compiled cache, the Tekken
tokenizer loads, each live provider's key is set (never its value) or its server URL is, the
config/data/cache folders are writable, and a user price file (if any) reads. Exit status 1
when any check is a problem; a note (no key, cache not built yet) does not fail: the offline
defaults work without them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine import tokens
from engine.pricing import PriceFileError, load_prices, user_prices_path
from engine.providers import PROVIDERS
from engine.settings import paths
from wasm_sandbox import runtime

OK, NOTE, PROBLEM = "ok", "note", "problem"


@dataclass(frozen=True)
class Check:
    """One line of the report: ``status`` is "ok", "note" or "problem"; ``fix`` says how."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<8} {self.name}: {self.detail}"
        return f"{text} Fix: {self.fix}" if self.fix else text


def _sha256(path: Path) -> str:
    st = path.stat()
    return _sha256_of(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime so the wasm is hashed once per run of the checks, not twice.
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _locate_wasm() -> tuple[Path, bool, str]:
    """(path, packaged, pinned hash), through wasm_sandbox; raises its one-sentence error."""
    path, packaged = runtime.locate_wasm()
    return path, packaged, runtime.PINNED_SHA256


def check_wasm() -> Check:
    name = "python.wasm"
    try:
        path, packaged, pinned = _locate_wasm()
    except Exception as exc:  # SandboxError: already one sentence that says what to do
        return Check(name, PROBLEM, str(exc))
    digest = _sha256(path)
    if digest == pinned:
        return Check(name, OK, f"{path}, SHA-256 verified ({digest[:12]}…).")
    if packaged:
        return Check(
            name,
            PROBLEM,
            f"{path} has SHA-256 {digest[:12]}…, not the verified build.",
            "reinstall codeact-explorer (pip install --force-reinstall codeact-explorer).",
        )
    return Check(name, NOTE, f"{path} (from the environment) is not the verified build.")


def check_cache(build: bool = False) -> Check:
    """Whether the compiled interpreter is cached (and intact); ``build`` compiles it now."""
    name = "compiled cache"
    try:
        if build:
            t0 = time.monotonic()
            info = runtime.prepare()
            took = time.monotonic() - t0
            return Check(name, OK, f"{info.module_path} ready ({took:.1f} s).")
        wasm, _packaged = runtime.locate_wasm()
        digest = _sha256(wasm)
        folder = runtime.default_cache_dir()
        version = runtime.wasmtime_version()
        stem = f"python-{digest[:16]}-wasmtime{version}-{runtime.settings_key()}"
    except Exception as exc:
        return Check(name, PROBLEM, str(exc))
    module, sidecar = folder / f"{stem}.cwasm", folder / f"{stem}.json"
    if not module.exists():
        return Check(
            name,
            NOTE,
            f"not built yet in {folder}; the first CodeAct run compiles it (a few seconds).",
            "or build it now with `codeact-explorer doctor --build-cache`.",
        )
    try:
        meta = json.loads(sidecar.read_text())
        intact = meta.get("size") == module.stat().st_size and meta.get("sha256") == _sha256(module)
    except (OSError, ValueError, AttributeError):
        intact = False
    if not intact:
        return Check(
            name,
            NOTE,
            f"{module} does not match its record; it will be rebuilt on next use.",
            "rebuild it now with `codeact-explorer doctor --build-cache`, or let the next run.",
        )
    return Check(name, OK, f"{module} ({module.stat().st_size / 1e6:.0f} MB, intact).")


def check_tokenizer() -> Check:
    name = "tokenizer"
    try:
        t0 = time.monotonic()
        count = tokens.count_text("CodeAct Explorer counts tokens.")
        took = time.monotonic() - t0
        label = getattr(tokens, "TOKENIZER_NAME", "Tekken")
    except Exception as exc:
        return Check(
            name,
            PROBLEM,
            f"the Tekken tokenizer does not load ({type(exc).__name__}: {exc}).",
            "reinstall mistral-common (pip install --force-reinstall 'mistral-common>=1.13,<2').",
        )
    if count <= 0:
        return Check(name, PROBLEM, "the Tekken tokenizer counts nothing.", "reinstall it.")
    return Check(name, OK, f"{label} loads ({took:.1f} s).")


def check_keys() -> list[Check]:
    """One line per live provider of the registry: its key (never its value) or, for a
    provider whose key is optional on a server of your own, its server URL."""
    checks: list[Check] = []
    for spec in PROVIDERS.values():
        if not spec.live or not spec.key_env:
            continue
        name = spec.key_env
        value = os.environ.get(name)
        if value is not None and value.strip():
            if value != value.strip():
                checks.append(Check(name, NOTE,
                                    "set (value not shown), with spaces or newlines around it."))
            else:
                checks.append(Check(name, OK, "set (value not shown)."))
            continue
        missing = spec.missing()
        if missing is None and spec.server_url_env:
            url = os.environ.get(spec.server_url_env, "")
            checks.append(Check(name, OK, f"not set; the {spec.name} provider talks to "
                                          f"{url} ({spec.server_url_env}), which needs none."))
            continue
        how = (f"export {name}=<your key>" + (f" or {spec.server_url_env}=<your server>"
                                              if spec.server_url_env else ""))
        checks.append(Check(name, NOTE, f"not set; the {spec.name} provider needs it, the "
                                        "offline scripted provider does not.",
                            f"{how} to race a live model."))
    return checks


def _writable(folder: Path) -> str | None:
    """None when a file can be created in ``folder`` (made if missing), else the reason."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-", delete=True) as fh:
            fh.write(b"ok")
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def check_folders() -> list[Check]:
    where = paths()
    checks = []
    for label, folder in (("config", where.config), ("data", where.data), ("cache", where.cache)):
        reason = _writable(folder)
        if reason is None:
            checks.append(Check(f"{label} folder", OK, f"{folder} is writable."))
        else:
            checks.append(
                Check(
                    f"{label} folder",
                    PROBLEM,
                    f"cannot write to {folder} ({reason}).",
                    "fix its permissions, or set CODEACT_EXPLORER_HOME to a writable folder.",
                )
            )
    return checks


def check_prices() -> Check:
    path = user_prices_path()
    try:
        prices = load_prices()
    except PriceFileError as exc:
        return Check("prices", PROBLEM, str(exc))
    if path.exists():
        return Check("prices", OK, f"{path} read ({len(prices)} models priced).")
    return Check("prices", OK, f"bundled table ({len(prices)} models); override in {path}.")


def run_checks(build_cache: bool = False) -> list[Check]:
    """Every check, in the order they are printed."""
    steps: list[Callable[[], Check | list[Check]]] = [
        check_wasm,
        lambda: check_cache(build_cache),
        check_tokenizer,
        check_keys,
        check_folders,
        check_prices,
    ]
    out: list[Check] = []
    for step in steps:
        result = step()
        out.extend(result if isinstance(result, list) else [result])
    return out


def doctor(args: argparse.Namespace) -> int:
    checks = run_checks(build_cache=getattr(args, "build_cache", False))
    for check in checks:
        print(check.line())
    problems = sum(c.status == PROBLEM for c in checks)
    print(f"{problems} problem(s) found." if problems else "Everything needed is in place.")
    return 1 if problems else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``doctor``."""
    parser = sub.add_parser(
        "doctor",
        help="check the interpreter, its cache, the tokenizer, the key and the folders",
        description="Check what CodeAct Explorer needs; one line per check, with fixes.",
    )
    parser.add_argument(
        "--build-cache",
        action="store_true",
        help="compile the interpreter into the cache now instead of on first use",
    )
    parser.set_defaults(func=doctor)
