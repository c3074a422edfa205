"""How to start ``child.py``, importable at almost no cost.

``sandbox run`` starts its interpreter's process before it imports anything else of the sandbox
(``process.prestart``): the child then starts Python and loads wasmtime's library (13.6 ms of
CPU, ``wasmtime_capi``) on the other core while the app imports and builds the rest.
``runtime`` (hashes, the module cache) took 14 ms more to import, so what the command line of a
child needs lives here.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wasm_sandbox.errors import SandboxError

if TYPE_CHECKING:
    from wasm_sandbox.runtime import RuntimeInfo

# Settings that change the compiled code; part of the cache key, and what child.py applies.
# No epoch checks: child.py's watchdog ends the whole process on a CPU or wall overrun, and
# the checks (every loop back-edge and function entry) cost the guest 25-35% of its speed
# (200k dict/str loop 179 ms with, 133 ms without; interleaved, load 1.9). Bounds checks stay
# eliminated: nothing here shrinks wasmtime's default 4 GiB reservation and guard region.
ENGINE_SETTINGS: dict[str, object] = {
    "epoch_interruption": False,
    "consume_fuel": False,
    "cranelift_opt_level": "speed",
}
CHILD_SCRIPT = str(Path(__file__).with_name("child.py"))
# Imports child.py from its folder (put last on sys.path, after the standard library) rather
# than running it as a script, so its bytecode is cached: compiling it took 2.5 ms of every start.
CHILD_STUB = (f"import sys; sys.path.append({str(Path(__file__).parent)!r}); import child; "
              "sys.exit(child.main(sys.argv[1:]))")


def wasmtime_site() -> str:
    """The folder holding the wasmtime package (the child runs with -S, without site)."""
    spec = importlib.util.find_spec("wasmtime")
    if spec is None or not spec.submodule_search_locations:
        raise SandboxError("The wasmtime package is not installed; reinstall codeact-explorer.")
    return str(Path(next(iter(spec.submodule_search_locations))).parent)


def child_command(mode: str, *args: str) -> list[str]:
    """How to start ``child.py`` (on its own: faster than importing this package)."""
    settings = json.dumps(ENGINE_SETTINGS)
    return [sys.executable, "-I", "-S", "-c", CHILD_STUB, mode, wasmtime_site(), settings, *args]


def module_args(info: RuntimeInfo) -> list[str]:
    """MODULE SIZE INODE STDLIB CODE for child.py (``-``: no stdlib folder, no driver code)."""
    return [str(info.module_path), str(info.module_size), str(info.module_inode),
            str(info.stdlib_dir) if info.stdlib_dir is not None else "-",
            str(info.driver_code) if info.driver_code is not None else "-"]
