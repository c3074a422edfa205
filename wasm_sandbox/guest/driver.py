"""The guest side of the bridge: runs inside CPython-on-WASI, one copy per interpreter.

The child process starts python.wasm with ``-c <this file>``. Guest stdin and stdout are pipes
whose other ends the app holds. Messages are single lines whose first byte says what they are
(``i`` the init, first: the API and limits; ``x`` execute, ``a`` host-call answer from the app;
``r`` ready, ``o`` output, ``k`` output bytes cut so far, ``c`` host call, ``d`` done from the
guest), followed by JSON. The init comes on stdin, not in argv, so CPython starts while the app
is still building the API.

What a program sees, besides the builtins:

- ``api``: namespaces built from the dotted paths of the guest API (``api.users.get(5)``,
  ``api.users.get(id=5)``); each function makes one host call with its flat tool name. A
  misspelled name raises ``AttributeError`` listing the valid names, closest first.
- ``ToolError``: raised when the platform refuses a call (the message says why);
  ``SandboxLimit``: a limit ended the execution (not an ``Exception``, so ``except Exception``
  does not swallow it).
- ``search_api(query: str, limit: int = 10) -> list[str]``: the functions that best match the
  words of ``query``, as ``"<signature> — <doc>"`` lines (printing the list prints one a line).
  Ranking: functions matching more of the words first (common words like "a", "of" left
  out), then a word found in the path counts three times one found in the doc or signature;
  ties keep the API's order. Deterministic.
- Async programs run: ``asyncio.run(main())``, top-level ``await`` (the session keeps one loop
  for it, as a notebook does), ``await api.x.y(...)``, and API calls given to
  ``asyncio.gather``, ``create_task`` or ``wait_for``. An API call happens when it is made (its
  value is also awaitable), so gathered calls run one after another. The loop has no selector
  (WASI has no socketpair): only timers wake it, and awaiting what nothing can finish is a
  ``RuntimeError``. asyncio is imported (tens of ms) only for programs that say async/await.
- ``help(api.x.y)`` prints that function's signature and doc; ``help(api.x)`` prints what a
  namespace holds (functions with signature and doc, sub-namespaces with their names);
  ``help("api.x.y")`` works too. Other objects get the standard help (pydoc, imported then).

Tracebacks and warnings show the program's own lines only, as ``<code>`` (earlier runs as
``<code of run N>``), never this driver or the standard library.

Only builtin modules are imported here (``_json``, ``_ast``, ``_codecs``, ``posix``): importing
``json`` or ``traceback`` costs tens of milliseconds of interpreter start-up inside WebAssembly,
and ``os`` (which CPython does not import at start-up under ``-S``) 2.3-3.4 ms.
"""

import _ast
import _codecs
import _json
import io
import posix
import sys
import time

# Type names for the checker only: importing ``typing`` in the guest costs start-up time, so the
# annotations that need it are strings (Python 3.12 evaluates the others at definition, cheaply).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

# Each run's code is compiled under its own name, so a function defined in an earlier run
# still shows its own source lines; tracebacks show the current run as "<code>".
_sources: dict[str, list[str]] = {}
_run = [0]


def _display_name(filename: str) -> str:
    if filename in _sources:
        number = int(filename[6:-1])
        return "<code>" if number == _run[0] else f"<code of run {number}>"
    return filename


class _Ctx:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: "dict[str, Any]" = {}  # noqa: RUF012 - the C scanner expects a plain attribute
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"),
                      "-Infinity": float("-inf")}.__getitem__


_scan = _json.make_scanner(_Ctx())  # type: ignore[arg-type]  # duck-typed context


def _not_json(obj: object) -> "Any":
    raise TypeError(f"a value of type {type(obj).__name__} cannot be sent to the platform")


_encode_parts = _json.make_encoder(
    None, _not_json, _json.encode_basestring_ascii, None, ":", ",", False, False, True
)


def _dumps(obj: object) -> str:
    return "".join(_encode_parts(obj, 0))


def _loads(text: str) -> "Any":
    obj, _end = _scan(text, 0)
    return obj


class ToolError(Exception):
    """The platform refused a call; the message is the platform's own."""


class SandboxLimit(BaseException):
    """A sandbox limit ended this execution (``except Exception`` does not catch it)."""


_inbuf = b""
_utf8 = _codecs.utf_8_decode


def _write(data: bytes) -> None:
    written = posix.write(1, data)
    if written < len(data):  # a full pipe: the rest in as many writes as it takes
        view = memoryview(data)[written:]
        while view:
            view = view[posix.write(1, view) :]


try:
    # Built into the bundled python.wasm (wasi_build/_codeact_host.c): a host call's request
    # and answer go through two imports that the interpreter's process serves on this thread,
    # instead of stdout and a stdin read that wasmtime serves from another thread.
    from _codeact_host import call as _host_io  # type: ignore[import-not-found]
except ImportError:  # another interpreter: the same lines through stdout and stdin
    _host_io = None


def _readline(request: bytes = b"", host: bool = False) -> str:
    """The next line from the app, decoded without copying it first (a 27 KB host-call
    answer used to be copied twice before it was parsed). ``request``: a line to send first;
    ``host``: send and read through ``_codeact_host`` (a host call's answer)."""
    global _inbuf
    if request:
        if host:
            chunk = _host_io(request)
            if not chunk:
                posix._exit(0)  # the child closed the bridge: nothing left to do
            _inbuf += chunk
        else:
            _write(request)
    while True:
        i = _inbuf.find(b"\n")
        if i >= 0:
            line = _utf8(memoryview(_inbuf)[:i], "replace", True)[0]
            _inbuf = _inbuf[i + 1 :] if i + 1 < len(_inbuf) else b""
            return line
        chunk = _host_io(b"") if host else posix.read(0, 1 << 20)
        if not chunk:
            posix._exit(0)  # the child closed the bridge: nothing left to do
        _inbuf += chunk


class _Output(io.TextIOBase):
    """sys.stdout/sys.stderr: sends printed text to the child, up to the output limit."""

    def __init__(self) -> None:
        self.limit = 16384
        self.reset()

    def reset(self) -> None:
        self.parts: list[str] = []
        self.pending = 0
        self.sent = 0
        self.cut = 0
        self.last = time.monotonic()

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        room = self.limit - self.sent - self.pending
        data = s.encode("utf-8", "replace")
        full = len(data) > room
        if full:
            keep = data[: max(room, 0)].decode("utf-8", "ignore")
            self.cut += len(data) - len(keep.encode("utf-8"))
            data = keep.encode("utf-8")
            if keep:
                self.parts.append(keep)
                self.pending += len(data)
        else:
            self.parts.append(s)
            self.pending += len(data)
        # Flush now and then so the output printed before a crash is not lost.
        if self.parts and (full or self.pending >= 4096 or time.monotonic() - self.last > 0.05):
            self.flush()
        elif full and time.monotonic() - self.last > 0.05:
            _write(f"k{self.cut}\n".encode())  # the count so far, in case the run is killed
            self.last = time.monotonic()
        return len(s)

    def flush(self) -> None:
        if self.parts:
            text = "".join(self.parts)
            self.parts = []
            self.sent += self.pending
            self.pending = 0
            _write(("o" + _dumps(text) + "\n").encode())
        self.last = time.monotonic()


_out = _Output()
_state: "dict[str, Any]" = {"calls": 0, "max_calls": 1000, "max_bytes": 1 << 20, "limit": None,
                            "seq": 0, "nonce": None}


def _host_call(name: str, args: "dict[str, Any]") -> "Any":
    st = _state
    if st["limit"] is not None:
        raise SandboxLimit(f"no more host calls: the {st['limit']} limit was already hit")
    if st["calls"] >= st["max_calls"]:
        st["limit"] = "host_calls"
        raise SandboxLimit(f"host-call limit hit: at most {st['max_calls']} calls per execution")
    st["calls"] += 1
    st["seq"] += 1
    seq = st["seq"]
    # "c<seq>\t<name>\t<args JSON>": JSON never holds a raw tab, and no envelope to encode.
    line = f"c{seq}\t{name}\t{_dumps(args)}\n".encode()
    if len(line) > st["max_bytes"]:
        st["limit"] = "argument_size"
        raise SandboxLimit(
            f"the arguments of {name} are {len(line)} bytes, over the "
            f"{st['max_bytes']}-byte limit per call"
        )
    if _out.parts:
        _out.flush()
    # The answer: "a<seq>\t<nonce>\t<1|0|L>\t<JSON>"; anything else is stale or forged. The
    # JSON is read where it starts in the line (no split: a copy of the whole result).
    head = f"a{seq}\t{st['nonce']}\t"
    at = len(head)
    host = _host_io is not None
    answer = _readline(line, host)
    while True:
        if answer.startswith(head) and answer[at + 1 : at + 2] == "\t":
            break
        answer = _readline(b"", host)
    kind, payload = answer[at], _scan(answer, at + 2)[0]
    if kind == "1":
        return payload
    if kind == "L":
        st["limit"] = payload.get("limit") or "host_calls"
        raise SandboxLimit(payload.get("error") or "a sandbox limit was hit")
    raise ToolError(payload if isinstance(payload, str) else f"{name} failed")


def _await_self(self: object) -> "Any":
    # "await value" is done at once and gives the value: the call already happened.
    return self
    yield


def _awaitable_type(base: type) -> type:
    """``base`` that can also be awaited, named like ``base`` (error messages say "dict").

    Dicts and lists get an identity hash: ``asyncio.gather`` keys its arguments in a dict.
    """
    body: dict[str, object] = {"__slots__": (), "__await__": _await_self,
                               "__module__": "builtins"}
    if base.__hash__ is None:
        body["__hash__"] = object.__hash__
    return type(base.__name__, (base,), body)


# What an API function returns is its value, and also awaitable (``await api.users.get(1)``,
# ``asyncio.gather(api.a(), api.b())``, ``asyncio.create_task(api.a())``), as models used to
# async SDKs write; the call itself has already happened. None and bools cannot be
# subclassed: the await rewrite (``_await_any``) covers ``await`` on those.
_AWAITABLE = {base: _awaitable_type(base) for base in (dict, list, str, int, float)}


class ApiFunction:
    # api.<path>(...): one host call with the flat tool name, arguments by parameter name.
    # (No class docstring: each instance's __doc__ slot holds the tool's one-line doc.)
    __slots__ = ("__doc__", "_name", "_params", "_path", "_signature")

    def __init__(self, name: str, path: str, params: "list[str]", signature: str,
                 doc: str) -> None:
        self._name = name
        self._path = "api." + path
        self._params = tuple(params)
        self._signature = signature
        self.__doc__ = doc

    def __call__(self, *args: "Any", **kwargs: "Any") -> "Any":
        if len(args) > len(self._params):
            raise TypeError(
                f"{self._path}() takes at most {len(self._params)} positional arguments "
                f"({len(args)} given)"
            )
        merged: dict[str, object] = {}
        for pname, value in zip(self._params, args, strict=False):
            merged[pname] = value
        for key, value in kwargs.items():
            if key in merged:
                raise TypeError(f"{self._path}() got multiple values for argument '{key}'")
            merged[key] = value
        value = _host_call(self._name, merged)
        wrap = _AWAITABLE.get(type(value))
        return wrap(value) if wrap is not None else value

    def __repr__(self) -> str:
        return f"<function {self._signature}>"


class ApiNamespace:
    """``api`` and ``api.<prefix>``: attributes are the functions and namespaces under it."""

    def __init__(self, label: str) -> None:
        self._label = label

    def _names(self) -> list[str]:
        return [k for k in self.__dict__ if not k.startswith("_")]

    def __getattr__(self, name: str) -> "Any":  # only reached for names that are not members
        if name.startswith("__"):
            raise AttributeError(name)  # protocol look-ups (copy, pickle) stay quiet
        raise AttributeError(_unknown_name(self._label, name, self._names()))

    def __call__(self, *args: "Any", **kwargs: "Any") -> "Any":
        raise TypeError(f"{self._label} is a namespace, not a function; it has: "
                        f"{', '.join(self._names())}")

    def __dir__(self) -> list[str]:
        return self._names()

    def __repr__(self) -> str:
        return f"<{self._label}: {', '.join(self._names())}>"


def _unknown_name(label: str, name: str, names: list[str]) -> str:
    """One sentence for a misspelled ``api`` attribute: the closest names first, then the rest."""
    import difflib  # only on this error path: about 4 ms inside WebAssembly

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    rest = [n for n in names if n not in close]
    shown = close + rest[: max(0, 40 - len(close))]
    more = len(names) - len(shown)
    hint = f" Did you mean {', '.join(label + '.' + c for c in close)}?" if close else ""
    listing = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return f"{label} has no {name!r}.{hint} Valid names: {listing}."


_spec: "dict[str, dict[str, Any]]" = {}  # flat tool name -> {path, params, signature, doc}
_api: "list[ApiNamespace | None]" = [None]  # the root namespace, for help("api.x")


def _build_api(spec: "dict[str, dict[str, Any]]") -> ApiNamespace:
    """Nested ``ApiNamespace`` objects from flat tool name -> {path, params, signature, doc}."""
    _spec.update(spec)
    root = _api[0] = ApiNamespace("api")
    for name, fn in spec.items():
        parts = fn["path"].split(".")
        node = root
        for depth, part in enumerate(parts[:-1]):
            child = node.__dict__.get(part)
            if child is None:
                child = node.__dict__[part] = ApiNamespace("api." + ".".join(parts[: depth + 1]))
            node = child
        node.__dict__[parts[-1]] = ApiFunction(
            name, fn["path"], fn["params"], fn["signature"], fn["doc"]
        )
    return root


# -- discovery: search_api(query) and help(api.x) ------------------------------------------


class _Lines(list):
    """A list of strings that prints one per line (what ``search_api`` returns)."""

    __slots__ = ()

    def __getitem__(self, index: "Any") -> "Any":
        item = list.__getitem__(self, index)
        return _Lines(item) if isinstance(index, slice) else item

    def __repr__(self) -> str:
        return "\n".join(self) if self else "[]"

    __str__ = __repr__


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# Words too common in docs and questions to tell functions apart.
_STOP = frozenset((
    "a", "an", "and", "any", "all", "are", "as", "at", "be", "by", "do", "does", "each",
    "every", "for", "from", "how", "i", "in", "into", "is", "it", "its", "me", "my", "of", "on",
    "one", "or", "some", "that", "the", "their", "them", "this", "to", "what", "which", "who",
    "with",
))


def _words(text: str) -> list[str]:
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return [_stem(w) for w in words if w not in _STOP]


# (path words, other words, line), in the order the tool source gave, built once
_index: "list[tuple[set[str], set[str], str]]" = []


def _search_index() -> "list[tuple[set[str], set[str], str]]":
    if not _index:
        for name, fn in _spec.items():
            path = set(_words(fn["path"])) | set(_words(name))
            other = set(_words(fn["signature"] + " " + fn["doc"])) - path
            _index.append((path, other, f"{fn['signature']} — {fn['doc']}"))
    return _index


def _match(query_word: str, words: "set[str]") -> int:
    """2: the word itself, 1: one is a prefix of the other (3 letters or more), 0: no match."""
    if query_word in words:
        return 2
    if len(query_word) >= 3:
        for word in words:
            if len(word) >= 3 and (word.startswith(query_word) or query_word.startswith(word)):
                return 1
    return 0


def search_api(query: str, limit: int = 10) -> "list[str]":
    """The API functions that best match the words of ``query``: "signature — doc" lines.

    A word found in a function's path counts most, then in its doc or parameters; functions
    matching more of the words come first, ties in the API's own order. ``limit`` caps the
    list (default 10); an empty query lists the first functions.
    """
    if not isinstance(query, str):
        raise TypeError(f"search_api() takes words as a str, not {type(query).__name__}")
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise TypeError(f"search_api() limit must be an int, not {type(limit).__name__}")
    wanted = list(dict.fromkeys(_words(query)))
    ranked = []
    for order, (path, other, line) in enumerate(_search_index()):
        matched = score = 0
        for word in wanted:
            best = max(3 * _match(word, path), _match(word, other))
            if best:
                matched += 1
                score += best
        if matched or not wanted:
            ranked.append((-matched, -score, order, line))
    ranked.sort()
    return _Lines(item[3] for item in ranked[: max(limit, 0)])


def _describe(node: ApiNamespace, out: "list[str]") -> None:
    functions: list[ApiFunction] = []
    spaces: list[ApiNamespace] = []
    for member in node.__dict__.values():
        if isinstance(member, ApiFunction):
            functions.append(member)
        elif isinstance(member, ApiNamespace):
            spaces.append(member)
    for fn in functions:
        out.append(f"{fn._signature}\n    {fn.__doc__}")
    for space in spaces:
        names = ", ".join(space._names())
        out.append(f"{space._label} — namespace: {names}")


# The programs' help(): the builtin one is site's, absent under -S.
def help(obj: object = None) -> None:
    """Print the signature and doc of an API function, or what an API namespace holds."""
    if isinstance(obj, str) and (obj == "api" or obj.startswith("api.")):
        node = _api[0]
        for part in obj.split(".")[1:]:
            node = getattr(node, part)
        obj = node
    if obj is None:
        print("help(api.<name>) shows a function's signature and doc, or what a namespace "
              "holds; search_api('words') finds functions by words.")
    elif isinstance(obj, ApiFunction):
        print(f"{obj._signature}\n    {obj.__doc__}")
    elif isinstance(obj, ApiNamespace):
        out = [f"{obj._label}: help(<name>) on one of these shows its doc."]
        _describe(obj, out)
        print("\n".join(out))
    else:
        import pydoc  # anything else: the standard help (pydoc costs its import, once)

        pydoc.help(obj)


# -- tracebacks that show the model its own lines, never this file --------------------------


def _source_line(filename: str, lineno: int) -> str:
    lines = _sources.get(filename)
    if lines and 0 < lineno <= len(lines):
        return lines[lineno - 1].strip()
    return ""


def _format_one(exc: BaseException) -> str:
    out: list[str] = []
    frames: list[tuple[str, int, str]] = []
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in _sources:  # the program's own lines: not this driver's
            frames.append((code.co_filename, tb.tb_lineno, code.co_name))  # nor the stdlib's
        tb = tb.tb_next
    if frames:
        out.append("Traceback (most recent call last):")
        prev: tuple[str, int, str] | None = None
        repeats = 0
        for frame in frames:
            if frame == prev:
                repeats += 1
                if repeats >= 3:
                    continue
            else:
                if repeats >= 3:
                    out.append(f"  [Previous line repeated {repeats - 2} more times]")
                prev, repeats = frame, 0
            out.append(f'  File "{_display_name(frame[0])}", line {frame[1]}, in {frame[2]}')
            src = _source_line(frame[0], frame[1])
            if src:
                out.append(f"    {src}")
        if repeats >= 3:
            out.append(f"  [Previous line repeated {repeats - 2} more times]")
    if isinstance(exc, SyntaxError):
        out.append(f'  File "{_display_name(str(exc.filename))}", line {exc.lineno}')
        if exc.text:
            text = exc.text.rstrip("\n")
            stripped = text.lstrip()
            out.append(f"    {stripped}")
            if exc.offset:
                col = max(exc.offset - 1 - (len(text) - len(stripped)), 0)
                out.append("    " + " " * col + "^")
        msg = exc.msg
    else:
        try:
            msg = str(exc)
        except BaseException:
            msg = "<exception str() failed>"
    name = type(exc).__name__
    out.append(f"{name}: {msg}" if msg else name)
    return "\n".join(out)


def _format_exc(exc: "BaseException | None") -> str:
    chain: list[BaseException] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(chain) < 5:
        seen.add(id(exc))
        chain.append(exc)
        if exc.__cause__ is not None:
            exc = exc.__cause__
        elif exc.__context__ is not None and not exc.__suppress_context__:
            exc = exc.__context__
        else:
            exc = None
    parts = []
    for i, item in enumerate(reversed(chain)):
        if i:
            parts.append("\nDuring handling of the above exception, another exception occurred:\n")
        parts.append(_format_one(item))
    text = "\n".join(parts)
    return text if len(text) <= 8000 else text[:3000] + "\n  ...\n" + text[-4000:]


# -- async programs ----------------------------------------------------------------------
# WASI has no socketpair, so asyncio's default loop cannot even be created. Programs that
# mention async get a loop without a selector: nothing but timers can wake it (no sockets, no
# threads), so it sleeps until the next timer, and a wait on nothing is an error, not a hang.

_loop: "list[Any]" = [None]  # the loop that runs top-level await, kept across runs (notebook)


def _install_asyncio() -> "Any":
    """Make ``asyncio.run`` and friends work; the first call imports asyncio (tens of ms)."""
    if _loop[0] is not None:
        return _loop[0]
    import asyncio

    class _Timers:
        def select(self, timeout: float | None = None) -> "list[Any]":
            if timeout is None:
                raise RuntimeError(
                    "the program awaits something that nothing can finish (the sandbox has no "
                    "sockets, threads or subprocesses; only timers and API calls complete)"
                )
            if timeout > 0:
                time.sleep(timeout)
            return []

        def close(self) -> None:
            pass

    class SandboxEventLoop(asyncio.BaseEventLoop):
        def __init__(self) -> None:
            super().__init__()
            self._selector = _Timers()

        def _process_events(self, event_list: "list[Any]") -> None:
            pass

        def _write_to_self(self) -> None:
            pass

        def create_task(self, coro: "Any", **kwargs: "Any") -> "Any":
            # An API function's result is awaitable but not a coroutine; tasks need one.
            if not asyncio.iscoroutine(coro) and hasattr(type(coro), "__await__"):
                coro = _as_coroutine(coro)
            return super().create_task(coro, **kwargs)

    class _Policy(asyncio.events.BaseDefaultEventLoopPolicy):
        _loop_factory = SandboxEventLoop

    asyncio.set_event_loop_policy(_Policy())  # type: ignore[abstract]  # (typeshed: child watchers)
    _loop[0] = SandboxEventLoop()
    return _loop[0]


async def _as_coroutine(awaitable: "Any") -> "Any":
    return await awaitable


def _await_any(value: object) -> object:
    """What ``await value`` awaits: ``value`` itself when it can be awaited, else a finished
    awaitable giving ``value`` (so ``await`` on a plain result, e.g. None, is not an error)."""
    if hasattr(type(value), "__await__"):
        return value
    return _Done(value)


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __await__(self) -> "Any":
        return self.value
        yield


def _rewrite_awaits(node: "Any") -> None:
    """``await x`` becomes ``await _await_any(x)``, everywhere in the tree (``_ast`` only)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item).__name__ == "Await":
            inner = item.value
            where: dict[str, Any] = {k: getattr(inner, k, None) for k in
                     ("lineno", "col_offset", "end_lineno", "end_col_offset")}
            name = _ast.Name(id="_await_any", ctx=_ast.Load(), **where)
            item.value = _ast.Call(func=name, args=[inner], keywords=[], **where)
            stack.append(inner)
            continue
        for field in item._fields:
            child = getattr(item, field, None)
            if isinstance(child, list):
                stack.extend(c for c in child if isinstance(c, _ast.AST))
            elif isinstance(child, _ast.AST):
                stack.append(child)


_TOP_LEVEL_AWAIT = 0x2000  # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
_CO_COROUTINE = 0x80


def _run_code(code: "Any", env: "dict[str, Any]") -> "Any":
    """exec/eval ``code``; code with top-level await runs to its end on the session's loop."""
    result = eval(code, env)
    if code.co_flags & _CO_COROUTINE:
        result = _loop[0].run_until_complete(result)
    return result


def _execute(code: str, env: "dict[str, Any]") -> None:
    _run[0] += 1
    path = f"<code#{_run[0]}>"
    _sources[path] = code.splitlines()
    # PyCF_ONLY_AST: find a trailing expression, and rewrite awaits in programs that have any.
    tree: Any = compile(code, path, "exec", 0x400 | _TOP_LEVEL_AWAIT)
    if "async" in code or "await" in code:
        _install_asyncio()
        env["_await_any"] = _await_any
        if "await" in code:
            _rewrite_awaits(tree)
    last = None
    if tree.body and type(tree.body[-1]).__name__ == "Expr":
        last = tree.body.pop()
    _run_code(compile(tree, path, "exec", _TOP_LEVEL_AWAIT), env)
    if last is not None:
        expression = _ast.Expression(body=last.value)
        value = _run_code(compile(expression, path, "eval", _TOP_LEVEL_AWAIT), env)
        if _loop[0] is not None and type(value).__name__ == "coroutine":
            value = _loop[0].run_until_complete(value)  # a last line "main()" meant to run it
        if value is not None:
            print(repr(value))


def _show_warning(message: "Warning | str", category: "type[Warning]", filename: str,
                  lineno: int, file: "Any" = None, line: str | None = None) -> None:
    """A warning as one line at the program's own line (no driver path, no tracemalloc hint)."""
    where = f"{_display_name(filename)}:{lineno}: " if filename in _sources else ""
    text = f"{where}{category.__name__}: {message}\n"
    source = _source_line(filename, lineno)
    (file or sys.stderr).write(text + (f"  {source}\n" if source else ""))


def _quiet_warnings() -> None:
    import warnings  # about 1 ms inside WebAssembly

    warnings.showwarning = _show_warning


def _main() -> None:
    line = _readline()
    init = _loads(line[1:]) if line[:1] == "i" else {}
    limits = init.get("limits", {})
    _out.limit = int(limits.get("output_bytes", 16384))
    _state["max_calls"] = int(limits.get("host_calls", 1000))
    _state["max_bytes"] = int(limits.get("argument_bytes", 1 << 20))
    env = {
        "__name__": "__main__",
        "__builtins__": __builtins__,
        "api": _build_api(init.get("api", {})),
        "ToolError": ToolError,
        "SandboxLimit": SandboxLimit,
        "search_api": search_api,
        "help": help,
    }
    sys.stdout = sys.stderr = _out
    sys.stdin = io.StringIO("")  # input() sees end of file instead of stealing bridge bytes
    _write(b"r\n")
    _quiet_warnings()  # after "r": it overlaps with the app sending the first program
    while True:
        text = _readline()
        if text[:1] != "x":
            continue
        req = _loads(text[1:])
        code = req.get("code", "")
        _state["nonce"] = req.get("nonce")
        _out.reset()
        _state["calls"] = 0
        _state["limit"] = None
        error = None
        memory = False
        sys.stdout = sys.stderr = _out  # the previous program may have replaced them
        try:
            _execute(code, env)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                error = f"SystemExit: {exc.code}"
        except BaseException as exc:
            memory = isinstance(exc, MemoryError)
            try:
                error = _format_exc(exc)
            except BaseException:
                error = f"{type(exc).__name__} (traceback unavailable)"
            exc = None
        for stream in (_out, sys.__stdout__, sys.__stderr__):
            try:  # not contextlib.suppress: it costs milliseconds to import in the guest
                if stream is not None:
                    stream.flush()  # the real streams: text the program printed around _out
            except BaseException:
                pass
        done = {"nonce": req.get("nonce"), "error": error, "cut": _out.cut,
                "limit": "memory" if memory else _state["limit"]}
        _write(("d" + _dumps(done) + "\n").encode())


_main()
