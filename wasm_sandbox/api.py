"""The guest's ``api``, as the app describes it: flat tool names, each with a dotted path.

A tool source gives ``{flat tool name: GuestFunction}``. The guest builds nested namespaces from
the dotted paths (``"users.get"`` becomes ``api.users.get``, ``"read_query"`` becomes
``api.read_query``); calling a function sends a host call with the flat name and the arguments
as a dict keyed by parameter name. The guest also offers ``search_api(query, limit=10)`` and
``help(api.x)`` built from the same mapping (signatures and docs; see ``guest/driver.py``), so
a model can discover the tools from inside a program. The same shape is
``engine.toolbox.GuestFunction``; it is defined again here because this package imports
nothing of ``engine``.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Any, TypedDict

# What a host call may be named on the bridge: Mistral's function-name alphabet plus the dot
# that MCP allows (spec 2025-06-18, "Tool names"); never a tab or a newline.
TOOL_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,128}")


class GuestFunction(TypedDict):
    """One function of the guest's ``api``: ``api.<path>(*params)`` calls the flat tool name.

    - ``path``: dotted attribute path under ``api`` (``"users.get"``, ``"read_query"``); each
      part a Python identifier, not a keyword, not starting with ``_``;
    - ``params``: ordered parameter names (positional arguments map onto them), unique strings;
    - ``signature``: the Python signature as shown to the model
      (``"api.users.get(id: int) -> dict"``);
    - ``doc``: one line describing the tool.
    """

    path: str
    params: list[str]
    signature: str
    doc: str


def check_guest_api(guest_api: Mapping[str, Mapping[str, Any]]) -> dict[str, GuestFunction]:
    """A validated plain copy of ``guest_api`` (flat tool name -> ``GuestFunction``).

    Raises ``ValueError`` with one sentence when a tool name is not ``[A-Za-z0-9_.-]{1,128}``,
    a path part is not a usable attribute name, a field is missing or of the wrong type, two
    tools share a path, or a path is both a namespace and a function (``users`` and
    ``users.get``).
    """
    if not isinstance(guest_api, Mapping):
        raise ValueError("guest_api must map flat tool names to GuestFunction dicts.")
    checked: dict[str, GuestFunction] = {}
    paths: dict[str, str] = {}  # path -> the tool it belongs to
    for name, spec in guest_api.items():
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise ValueError(f"guest_api tool name {name!r} must be 1-128 letters, digits, "
                             "'_', '-' or '.'.")
        if not isinstance(spec, Mapping):
            raise ValueError(f"guest_api[{name!r}] must be a dict with path, params, "
                             "signature and doc.")
        path, params = spec.get("path"), spec.get("params")
        signature, doc = spec.get("signature", ""), spec.get("doc", "")
        if not isinstance(path, str) or not path:
            raise ValueError(f"guest_api[{name!r}] has no path; give one like 'users.get'.")
        for part in path.split("."):
            if not part.isidentifier() or keyword.iskeyword(part) or part.startswith("_"):
                raise ValueError(f"guest_api[{name!r}] path {path!r}: {part!r} is not a Python "
                                 "identifier that may follow 'api.' (no keyword, no leading _).")
        if (not isinstance(params, list | tuple)
                or not all(isinstance(p, str) and p for p in params)
                or len(set(params)) != len(params)):
            raise ValueError(f"guest_api[{name!r}] params must be a list of distinct names.")
        if not isinstance(signature, str) or not isinstance(doc, str):
            raise ValueError(f"guest_api[{name!r}] signature and doc must be strings.")
        if path in paths:
            raise ValueError(f"guest_api tools {paths[path]!r} and {name!r} share the path "
                             f"{path!r}.")
        paths[path] = name
        checked[name] = GuestFunction(path=path, params=list(params),
                                      signature=signature or f"api.{path}({', '.join(params)})",
                                      doc=" ".join(doc.split()))
    for path, name in paths.items():
        prefix = path.rpartition(".")[0]
        while prefix:
            if prefix in paths:
                raise ValueError(f"guest_api path {prefix!r} (tool {paths[prefix]!r}) is also "
                                 f"a namespace of {path!r} (tool {name!r}).")
            prefix = prefix.rpartition(".")[0]
    return checked
