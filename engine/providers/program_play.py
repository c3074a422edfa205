"""How the scripted agent plays a task's reference program as a tool-calling model.

Each round the scripted tool-calling agent re-executes the task's reference program(s) against a
fake ``api`` whose calls are answered from the tool results already in the conversation
(``ProgramPlay.call``); the first calls without a result are the calls of its next reply. The
rules are what a competent model does with what is in its context:

- **Results are used in order, once** — the earliest answered result of the same call (same
  tool, same arguments) that this replay has not used yet. A repair program that repeats a call
  of the failed attempt's batch (a create that did succeed) gets that result back instead of
  writing twice.
- **A read is never asked twice while its answer still holds.** A ``list``/``get``/``search``
  already answered is answered again from the conversation, unless a write succeeded after it
  (then the model looks again). So a repair that starts over does not search again for ids it
  has known since round 1, and a loop that meets the same id twice fetches it once.
- **One call per round** (parallel tool calls off): the first unanswered call is the reply.
- **Every call whose arguments are known** (parallel tool calls on): an unanswered call returns
  a ``_Placeholder`` and the program goes on. Indexing or an attribute of a placeholder is
  another placeholder (``api.users.search(q)["items"][0]``); any other use of one (a test, a
  loop over it, formatting it, passing it to a call) cannot be decided yet. The program is
  compiled with each top-level statement, and each statement in the body of a top-level ``for``
  loop, isolated (``isolate``): a statement that cannot be decided is skipped, and the names it
  would have bound or mutated become placeholders, so everything that depends on them waits too,
  while independent statements — the next loop iteration, the next lookup — still make their
  calls. Statements that may leave their block (``raise``, ``assert``, ``break``, ``continue``,
  ``return``, ``exit()``, a call to a program function that raises) are not isolated: when one
  of them cannot be decided, the replay stops there, because what follows may never run. An
  identical read already pending in this reply is not asked twice.

The same programs run unchanged in the CodeAct sandbox; only this replay is transformed.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

ReadCheck = Callable[[str], bool]


class Pending(BaseException):
    """The program needs a result that has not come back yet.

    A BaseException so that a reference program's ``except Exception`` cannot swallow it.
    """


class Placeholder:
    """Stands for a result still pending: indexing and attributes give more placeholders,
    any other use raises ``Pending``."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Placeholder:
        return Placeholder()

    def __getattr__(self, name: str) -> Placeholder:
        if name.startswith("__"):
            raise AttributeError(name)
        return Placeholder()

    def _stop(self, *args: Any, **kwargs: Any) -> Any:
        raise Pending


for _name in (
    "__iter__", "__len__", "__bool__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
    "__ge__", "__hash__", "__str__", "__repr__", "__format__", "__contains__", "__int__",
    "__float__", "__index__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__",
    "__rmul__", "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
    "__rmod__", "__call__", "__round__", "__abs__", "__neg__", "__reversed__", "__setitem__",
    "__delitem__",
):
    setattr(Placeholder, _name, Placeholder._stop)


def has_placeholder(value: Any) -> bool:
    """Whether ``value`` (or anything in its lists, tuples, sets and dicts) is pending."""
    if type(value) is Placeholder:
        return True
    if type(value) in (list, tuple, set, frozenset):
        return any(has_placeholder(v) for v in value)
    if type(value) is dict:
        return any(has_placeholder(v) for v in value.values())
    return False


@dataclass(frozen=True)
class Answered:
    """One tool call of the conversation with the content of its result."""

    name: str
    arguments: Any
    content: str

    def matches(self, name: str, arguments: dict[str, Any]) -> bool:
        """Same tool, same arguments (compared as JSON values)."""
        if name != self.name:
            return False
        try:
            sent = json.loads(self.arguments) if isinstance(self.arguments, str) else self.arguments
            return bool(sent == json.loads(json.dumps(arguments)))
        except (TypeError, ValueError):
            return False

    def result(self) -> tuple[bool, Any, str | None]:
        return parse_result(self.content)


def parse_result(content: str) -> tuple[bool, Any, str | None]:
    """A ``tool`` message's content read back: (ok, value, error message)."""
    try:
        value = json.loads(content)
    except (json.JSONDecodeError, TypeError):
        return True, content, None
    if isinstance(value, dict) and set(value) == {"error"}:
        return False, None, str(value["error"])
    if isinstance(value, dict) and value.get("ok") is False and "error" in value:
        return False, None, str(value["error"])
    return True, value, None


def answered_calls(messages: list[dict[str, Any]]) -> list[Answered]:
    """The tool calls of the conversation that got a result, in the order they were made."""
    results = {m.get("tool_call_id"): str(m.get("content") or "")
               for m in messages if m.get("role") == "tool"}
    answered: list[Answered] = []
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            content = results.get(call.get("id"))
            if content is None:
                return answered  # the conversation stops making sense here
            fn = call.get("function") or {}
            answered.append(Answered(str(fn.get("name", "")), fn.get("arguments"), content))
    return answered


@dataclass
class ProgramPlay:
    """One replay of the conversation through the reference programs (see the module doc).

    ``call(name, arguments)`` is the ``api``'s transport: it returns a result's value, raises
    ``error_type`` with the tool's message for a failed result, returns a ``Placeholder``
    (parallel) or raises ``Pending`` (one call per round) for a call not answered yet.
    ``pending`` lists the calls of the next reply, in order.
    """

    history: list[Answered]
    parallel: bool
    is_read: ReadCheck
    error_type: type[Exception]
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    skipped: bool = False
    _used: set[int] = field(default_factory=set)
    _cursor: int = -1
    _pending_reads: dict[str, Placeholder] = field(default_factory=dict)
    _pending_write: bool = False

    def _wrote_after(self, index: int) -> bool:
        """Whether a write succeeded after result ``index``, up to where this replay is."""
        for later in range(index + 1, self._cursor + 1):
            answered = self.history[later]
            if not self.is_read(answered.name) and answered.result()[0]:
                return True
        return False

    def _value(self, answered: Answered) -> Any:
        ok, value, error = answered.result()
        if not ok:
            raise self.error_type(error or "the tool failed")
        return value

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Answer one ``api`` call from the conversation, or make it pending."""
        if has_placeholder(arguments):
            raise Pending  # it needs a result that has not come back
        for index, answered in enumerate(self.history):
            if index not in self._used and answered.matches(name, arguments):
                self._used.add(index)
                self._cursor = max(self._cursor, index)
                return self._value(answered)
        read = self.is_read(name)
        if read and not self._pending_write:
            for index in range(len(self.history) - 1, -1, -1):
                answered = self.history[index]
                if answered.matches(name, arguments) and not self._wrote_after(index):
                    return self._value(answered)
        key = json.dumps([name, arguments], sort_keys=True, default=str)
        if read and key in self._pending_reads:
            return self._pending_reads[key]
        self.pending.append((name, dict(arguments)))
        if not self.parallel:
            raise Pending
        self._pending_write = self._pending_write or not read
        placeholder = Placeholder()
        if read:
            self._pending_reads[key] = placeholder
        return placeholder

    def skip(self, exc: BaseException, scope: dict[str, Any], names: tuple[str, ...],
             containers: tuple[str, ...]) -> bool:
        """An isolated statement raised ``exc``: skip it (True) or let ``exc`` go on (False).

        ``Pending`` is skipped; so is another error (not a tool's) once calls are pending, as it
        can come from data not known yet. The statement's ``names`` become placeholders, and so
        do ``containers`` it may have half-changed (names bound to a list, dict or set).
        """
        undecided = isinstance(exc, Pending) or (
            bool(self.pending) and isinstance(exc, Exception)
            and not isinstance(exc, self.error_type))
        if not undecided:
            return False
        self.skipped = True
        for name in names:
            scope[name] = Placeholder()
        for name in containers:
            if isinstance(scope.get(name), (list, dict, set, bytearray)):
                scope[name] = Placeholder()
        return True


# -- isolating statements -------------------------------------------------------------------
SKIP_NAME = "__scripted_skip__"
_EXITS = frozenset({"exit", "quit"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_LEAVE_ALONE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                ast.ImportFrom, ast.Pass, ast.Global, ast.Nonlocal)


def _walk_same_scope(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and its descendants, not entering nested functions, lambdas or classes."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, _SCOPES):
            yield from _walk_same_scope(child)


def _raising_functions(tree: ast.Module) -> set[str]:
    """Names of the program's top-level functions that may raise."""
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and any(isinstance(n, (ast.Raise, ast.Assert))
                    for stmt in node.body for n in _walk_same_scope(stmt))}


def _exits(call: ast.Call, raising: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in _EXITS or func.id in raising
    return (isinstance(func, ast.Attribute) and func.attr == "exit"
            and isinstance(func.value, ast.Name) and func.value.id in {"sys", "os"})


def _escapes(node: ast.AST, raising: set[str], loops: int = 0) -> bool:
    """Whether running ``node`` may leave its block early (loops: enclosing loops inside it)."""
    if isinstance(node, (ast.Raise, ast.Assert, ast.Return)):
        return True
    if isinstance(node, (ast.Break, ast.Continue)):
        return loops == 0
    if isinstance(node, ast.Call) and _exits(node, raising):
        return True
    if isinstance(node, _SCOPES):
        return False
    inner = loops + isinstance(node, _LOOPS)
    return any(_escapes(child, raising, inner) for child in ast.iter_child_nodes(node))


def _targets(node: ast.AST, names: set[str], containers: set[str]) -> None:
    """Collect what assigning to ``node`` binds (names) or changes in place (containers)."""
    if isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            _targets(element, names, containers)
    elif isinstance(node, ast.Starred):
        _targets(node.value, names, containers)
    elif isinstance(node, (ast.Subscript, ast.Attribute)):
        base = node.value
        while isinstance(base, (ast.Subscript, ast.Attribute)):
            base = base.value
        if isinstance(base, ast.Name):
            containers.add(base.id)


def _changed_names(stmt: ast.stmt) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names ``stmt`` binds, names it may change in place), not counting comprehension
    variables or the insides of nested functions."""
    names: set[str] = set()
    containers: set[str] = set()
    local: set[int] = set()
    for node in _walk_same_scope(stmt):
        if isinstance(node, ast.comprehension):
            local.update(id(n) for n in ast.walk(node.target))
    for node in _walk_same_scope(stmt):
        if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and isinstance(
                getattr(node, "ctx", None), (ast.Store, ast.Del)) and id(node) not in local:
            _targets(node, names, containers)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            _targets(node.func, names, containers)  # x.append(...) may change x
        elif isinstance(node, ast.NamedExpr):
            _targets(node.target, names, containers)
    containers -= names
    return tuple(sorted(names)), tuple(sorted(containers))


def _wrapped(stmt: ast.stmt) -> ast.stmt:
    """``try: stmt`` / ``except BaseException as e: if not skip(e, ...): raise``."""
    names, containers = _changed_names(stmt)
    handler = ast.parse(
        f"try:\n    pass\nexcept BaseException as __scripted_exc__:\n"
        f"    if not {SKIP_NAME}(__scripted_exc__, globals(), {names!r}, {containers!r}):\n"
        f"        raise\n"
    ).body[0]
    assert isinstance(handler, ast.Try)
    handler.body = [stmt]
    return ast.copy_location(handler, stmt)


def _isolate_block(body: list[ast.stmt], raising: set[str]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, _LEAVE_ALONE) or _escapes(stmt, raising):
            out.append(stmt)  # undecided here, the replay stops: what follows may not run
            continue
        if (isinstance(stmt, ast.For) and not stmt.orelse
                and not any(_escapes(s, raising) for s in stmt.body)):
            stmt.body = _isolate_block(stmt.body, raising)
        out.append(_wrapped(stmt))
    return out


def isolate(source: str, filename: str) -> Any:
    """``source`` compiled with its statements isolated (see the module doc); a code object.

    Raises ``SyntaxError`` like ``compile`` for a program that does not parse.
    """
    tree = ast.parse(source, filename)
    tree.body = _isolate_block(tree.body, _raising_functions(tree))
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")
