"""The host-side ``api`` object: the same shape the sandbox guest sees.

``api.users.search(query="Ada")`` or ``api.users.search("Ada")`` becomes the call
``users_search {"query": "Ada"}``; positional arguments map to the parameter order of
``guest_api_spec()``. A failed call raises ``ToolError`` with the platform's message, which is
what the guest raises too, so reference programs run the same natively and in the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tasks.catalog import guest_api_spec
from tasks.platform import Platform

ToolCall = Callable[[str, dict[str, Any]], Any]


class ToolError(Exception):
    """A tool call failed; the message is the platform's explanation."""


class _Action:
    def __init__(self, call: ToolCall, resource: str, action: str, params: list[str]) -> None:
        self._call, self._name, self._params = call, f"{resource}_{action}", params
        self.__name__ = action

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
        return f"<api function {self._name}({', '.join(self._params)})>"


class _Resource:
    def __init__(self, call: ToolCall, resource: str, actions: dict[str, list[str]]) -> None:
        self._resource = resource
        for action, params in actions.items():
            setattr(self, action, _Action(call, resource, action, params))

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not actions.
        raise AttributeError(f"api.{self._resource} has no function {name!r}; it has: "
                             "list, get, create, update, delete, search.")

    def __repr__(self) -> str:
        return f"<api.{self._resource}>"


class ApiProxy:
    """``api.<resource>.<action>(...)`` on top of ``call(name, args)``.

    ``call`` returns the tool's value or raises ``ToolError``.
    """

    def __init__(self, call: ToolCall) -> None:
        self._call = call
        for resource, actions in guest_api_spec().items():
            setattr(self, resource, _Resource(call, resource, actions))

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not resources.
        raise AttributeError(f"api has no resource {name!r}; resources are: "
                             f"{', '.join(guest_api_spec())}.")


def native_api(platform: Platform) -> ApiProxy:
    """An ``api`` bound directly to ``platform``: failed calls raise ``ToolError``."""

    def call(name: str, arguments: dict[str, Any]) -> Any:
        outcome = platform.call(name, arguments)
        if not outcome.ok:
            raise ToolError(outcome.error)
        return outcome.value

    return ApiProxy(call)
