"""The host-side ``api`` object: the same shape the sandbox guest sees.

Built from the flat guest API (tool name -> ``GuestFunction``, ``guest_api_spec()`` by
default): ``api.users.search(query="Ada")`` or ``api.users.search("Ada")`` becomes the call
``users_search {"query": "Ada"}``; positional arguments map to the function's ``params`` order.
A failed call raises ``ToolError`` with the platform's message, which is what the guest raises
too, so reference programs run the same natively and in the sandbox. A misspelled name raises
``AttributeError`` listing the valid names, closest first, as the guest does.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from tasks.catalog import GuestFunction, guest_api_spec
from tasks.errors import TasksError
from tasks.platform import Platform

ToolCall = Callable[[str, dict[str, Any]], Any]


class ToolError(TasksError):
    """A tool call failed; the message is the platform's explanation."""

    kind = "tool"


class ApiFunction:
    """``api.<path>(...)``: one call of the flat tool name with arguments by parameter name."""

    def __init__(self, call: ToolCall, name: str, fn: GuestFunction) -> None:
        self._call, self._name, self._params = call, name, list(fn["params"])
        self._path = "api." + fn["path"]
        self._signature = fn["signature"]
        self.__name__ = fn["path"].rpartition(".")[2]
        self.__doc__ = fn["doc"]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(self._params):
            raise ToolError(f"{self._name} takes at most {len(self._params)} positional "
                            f"arguments ({', '.join(self._params)}), got {len(args)}.")
        arguments = dict(zip(self._params, args, strict=False))
        for key, value in kwargs.items():
            if key in arguments:
                raise ToolError(f"{self._name} got two values for {key!r}.")
            arguments[key] = value
        return self._call(self._name, arguments)

    def __repr__(self) -> str:
        return f"<function {self._signature}>"


def unknown_name_message(label: str, name: str, names: list[str]) -> str:
    """One sentence for a misspelled ``api`` attribute: the closest names first, then the rest.

    The guest's driver (``wasm_sandbox/guest/driver.py``) words it the same way.
    """
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    rest = [n for n in names if n not in close]
    shown = close + rest[: max(0, 40 - len(close))]
    more = len(names) - len(shown)
    hint = f" Did you mean {', '.join(label + '.' + c for c in close)}?" if close else ""
    listing = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return f"{label} has no {name!r}.{hint} Valid names: {listing}."


class ApiNamespace:
    """``api`` or ``api.<prefix>``: its attributes are the functions and namespaces below it."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._members: dict[str, ApiNamespace | ApiFunction] = {}

    def _add(self, name: str, member: ApiNamespace | ApiFunction) -> None:
        self._members[name] = member
        setattr(self, name, member)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not members.
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(unknown_name_message(self._label, name, list(self._members)))

    def __dir__(self) -> list[str]:
        return list(self._members)

    def __repr__(self) -> str:
        return f"<{self._label}: {', '.join(self._members)}>"


class ApiProxy(ApiNamespace):
    """``api.<path>(...)`` on top of ``call(name, args)``, for every function of ``guest_api``.

    ``call`` returns the tool's value or raises ``ToolError``; ``guest_api`` is flat tool name
    -> ``GuestFunction`` (the platform's 120 tools when omitted).
    """

    def __init__(self, call: ToolCall,
                 guest_api: Mapping[str, GuestFunction] | None = None) -> None:
        super().__init__("api")
        self._call = call
        for name, fn in (guest_api_spec() if guest_api is None else guest_api).items():
            *parents, leaf = fn["path"].split(".")
            node: ApiNamespace = self
            for depth, part in enumerate(parents):
                child = node._members.get(part)
                if not isinstance(child, ApiNamespace):
                    child = ApiNamespace("api." + ".".join(parents[: depth + 1]))
                    node._add(part, child)
                node = child
            node._add(leaf, ApiFunction(call, name, fn))


def native_api(platform: Platform) -> ApiProxy:
    """An ``api`` bound directly to ``platform``: failed calls raise ``ToolError``."""

    def call(name: str, arguments: dict[str, Any]) -> Any:
        outcome = platform.call(name, arguments)
        if not outcome.ok:
            raise ToolError(outcome.error or f"{name} failed.")
        return outcome.value

    return ApiProxy(call)
