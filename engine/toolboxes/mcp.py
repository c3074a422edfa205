"""An MCP server as a tool source, through the official ``mcp`` SDK (2.x).

``McpToolbox(spec)`` starts (or connects to) one server for one run of one agent, lists its
tools and renders them (``engine.render_python``). The SDK is async; the toolbox runs its client
session in a thread of its own (an anyio blocking portal), so ``call()`` is an ordinary blocking
function that any thread may call (the tool-calling agent, the sandbox's host-call thread).

What goes where:

- tool calling gets the tools as function schemas under names Mistral accepts (mapped back to
  the server's names), and each result as the text of its MCP content blocks;
- CodeAct gets a result as Python values: the server's ``structuredContent`` when it sends one
  (unwrapped from ``{"result": ...}`` where the SDK wrapped a non-object result), else the
  content text parsed as JSON when it is JSON, else the text; a result with ``isError`` becomes
  ``ToolOutcome(ok=False)`` carrying the server's message (``ToolError`` in the guest);
- the guest never sees the server: calls are made here, by the host.

Failures of the server itself — it does not start, exits, does not answer a call within
``call_timeout`` seconds, or writes something that is not MCP — raise ``McpServerError`` with
one sentence; the toolbox is then broken and every later call raises the same sentence. The
server's stderr is kept (the last ``STDERR_LIMIT`` bytes) for the run record: ``stderr()``.

Environment: a stdio server gets the SDK's safe default environment (HOME, PATH, USER, ...)
plus ``spec.env``, never this process's whole environment (no API keys leak to it).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import shlex
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePath
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from pydantic import ValidationError

from engine.render_python import (
    ToolDef,
    arguments_for,
    function_schema,
    guest_functions,
    prepare,
    python_api_text,
    unwrapped_output,
)
from engine.toolbox import GuestFunction, ToolOutcome, ToolSourceError, Verdict
from tasks.checkers import check
from tasks.suite import Task

if TYPE_CHECKING:
    import mcp_types
    from mcp import Client

# The SDK logs a server's protocol faults with tracebacks; with no handler configured they would
# reach stderr (under the TUI, over the screen). Each fault becomes one sentence here instead.
logging.getLogger("mcp").addHandler(logging.NullHandler())

_LAUNCHERS = ("uvx", "npx", "pipx", "bunx", "node", "uv", "deno")  # run the package named next
DEFAULT_CALL_TIMEOUT = 30.0  # seconds one tools/call may take before the run ends
DEFAULT_START_TIMEOUT = 30.0  # seconds to start, initialise and list the tools
STDERR_LIMIT = 64 * 1024  # bytes of the server's stderr kept for the run record
_LIST_PAGES = 100  # a server whose tools/list never ends is cut off here


@cache
def sdk() -> SimpleNamespace:
    """The parts of the ``mcp`` SDK used here, imported on first use: importing it costs about
    0.9 s (0.3 s ``mcp_types`` + 0.6 s ``mcp``, measured at load 12 on 2 cores), which every
    command and the app's start would otherwise pay, MCP or not."""
    client = importlib.import_module("mcp")
    return SimpleNamespace(
        Client=client.Client, StdioServerParameters=client.StdioServerParameters,
        stdio_client=importlib.import_module("mcp.client.stdio").stdio_client,
        MCPError=importlib.import_module("mcp.shared.exceptions").MCPError,
        types=importlib.import_module("mcp_types"))


class McpServerError(ToolSourceError):
    """The MCP server failed (start, crash, hang, garbage); the message is one sentence."""


@dataclass(frozen=True)
class McpServerSpec:
    """How to reach one MCP server.

    - ``command``: argv of a stdio server (``("uvx", "mcp-server-git")``), or empty;
    - ``url``: a streamable-HTTP endpoint (``http://127.0.0.1:8000/mcp``), or None;
    - ``env``: extra environment for a stdio server; ``cwd``: its working directory;
    - ``label``: how the UI and the API text name it (default: the command or URL).
    """

    command: tuple[str, ...] = ()
    url: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    label: str = ""

    @classmethod
    def from_command(cls, text: str, **kwargs: Any) -> McpServerSpec:
        """A stdio server from a shell-like command line (``"python -m server --flag"``)."""
        try:
            argv = tuple(shlex.split(text))
        except ValueError as exc:
            raise McpServerError(f"The MCP command {text!r} cannot be split into words "
                                 f"({exc}).") from None
        if not argv:
            raise McpServerError("The MCP command is empty; give the program that starts "
                                 "the server and its arguments.")
        return cls(command=argv, **kwargs)

    def missing_program(self) -> str | None:
        """One sentence when a stdio server's program is not on PATH (checked before any run
        starts, so ``bench`` says it once instead of once per run); None otherwise."""
        if self.url or not self.command or shutil.which(self.command[0]) is not None:
            return None
        return (f"The MCP server {self.describe()} could not start: {self.command[0]!r} was "
                "not found; check the command.")

    def describe(self) -> str:
        """The label; else the URL; else the server's name read from the command line: the
        script or module a Python runs (``python -m mcp_server_git`` -> ``mcp_server_git``),
        the package a launcher runs (``uvx mcp-server-time`` -> ``mcp-server-time``), or the
        program."""
        if self.label or self.url:
            return self.label or str(self.url)
        argv = list(self.command)
        program = PurePath(argv[0]).name if argv else "?"
        rest = [a for a in argv[1:] if not a.startswith("-")]
        if program.startswith("python") and len(argv) > 2 and argv[1] == "-m":
            return argv[2]
        if program.startswith("python") and len(argv) > 2 and argv[1] == "-c":
            return _clip(" ".join([program, *argv[1:]]), 40)  # inline code: show the command
        if (program.startswith("python") or program in _LAUNCHERS) and rest:
            return PurePath(rest[0]).name
        return program


@dataclass(frozen=True)
class McpOutcome(ToolOutcome):
    """A ``ToolOutcome`` whose tool-calling content is the MCP content text, not JSON."""

    text: str = ""

    def content(self) -> str:
        if self.ok:
            return self.text
        return super().content()


def content_text(blocks: list[Any]) -> str:
    """The text of a result's content blocks, joined by newlines; other blocks as one line."""
    mcp_types = sdk().types
    parts: list[str] = []
    for block in blocks or []:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.EmbeddedResource):
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(text if isinstance(text, str)
                         else f"[resource {resource.uri}, {resource.mime_type or 'binary'}]")
        elif isinstance(block, (mcp_types.ImageContent, mcp_types.AudioContent)):
            parts.append(f"[{block.type}: {block.mime_type}, {len(block.data) * 3 // 4} bytes]")
        elif isinstance(block, mcp_types.ResourceLink):
            parts.append(f"[resource link {block.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'content')}]")
    return "\n".join(parts)


def python_value(text: str) -> Any:
    """The text as a Python value: parsed JSON when it is a JSON document, else the text."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def outcome_of(tool: ToolDef, result: mcp_types.CallToolResult) -> McpOutcome:
    """One ``tools/call`` result as a ``ToolOutcome`` (see the module docstring)."""
    text = content_text(result.content)
    if result.is_error:
        return McpOutcome(ok=False, error=" ".join(text.split()) or
                          f"The tool {tool.name!r} failed without saying why.", text=text)
    structured = result.structured_content
    if structured is not None:
        if unwrapped_output(tool.output_schema) is not None and isinstance(structured, dict) \
                and set(structured) == {"result"}:
            structured = structured["result"]
        return McpOutcome(ok=True, value=structured, text=text or json.dumps(
            structured, ensure_ascii=False, separators=(",", ":")))
    return McpOutcome(ok=True, value=python_value(text), text=text)


class McpToolbox:
    """One run's MCP server as a ``Toolbox`` (see the module docstring).

    ``judge``: the checker for tasks on this source, ``judge(task, answer, toolbox) ->
    Verdict``; without one, a task's answer-only checks run with no state. Raises
    ``McpServerError`` when the server cannot be started or listed.
    """

    def __init__(self, spec: McpServerSpec, *, call_timeout: float = DEFAULT_CALL_TIMEOUT,
                 start_timeout: float = DEFAULT_START_TIMEOUT,
                 judge: Callable[[Any, str, McpToolbox], Verdict] | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        self.spec = spec
        self.name = spec.describe()
        self.about = f"the tools of the MCP server {self.name}"
        self.call_timeout = float(call_timeout)
        self._judge = judge
        self._on_close = on_close
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._closed = False
        # The child writes its stderr straight into this file; closed (and kept as text) by close().
        self._errlog = tempfile.TemporaryFile("w+b")  # noqa: SIM115
        self._stderr_kept: str | None = None
        self._portal_cm: Any = None
        self._portal: BlockingPortal | None = None
        self._session: Future[Any] | None = None
        self._client: Client | None = None
        self._stop: anyio.Event | None = None
        self._failed: anyio.Event | None = None
        self.tools: list[ToolDef] = []
        self.server_name = ""
        try:
            self._start(float(start_timeout))
        except BaseException:
            self.close()
            raise
        self._by_name = {t.function_name: t for t in self.tools}

    # -- lifecycle ----------------------------------------------------------------------------
    def _start(self, timeout: float) -> None:
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        ready: Future[list[mcp_types.Tool]] = Future()
        self._session = self._portal.start_task_soon(self._hold_session, ready)
        try:
            raw = ready.result(timeout=timeout)
        except FutureTimeout:
            raise McpServerError(f"The MCP server {self.name} did not start within "
                                 f"{timeout:g} s{self._stderr_hint()}.") from None
        except McpServerError:
            raise
        except BaseException as exc:
            raise McpServerError(self._start_failure(exc)) from None
        tools = [ToolDef(name=t.name, description=t.description or "",
                         input_schema=dict(t.input_schema or {"type": "object"}),
                         output_schema=dict(t.output_schema) if t.output_schema else None)
                 for t in raw]
        self.tools = prepare(tools)

    def _client_for(self) -> Client:
        mcp = sdk()
        timeout = self.call_timeout
        if self.spec.url:
            return mcp.Client(self.spec.url, read_timeout_seconds=timeout,
                              message_handler=self._on_message, cache=None)
        params = mcp.StdioServerParameters(command=self.spec.command[0], args=list(
            self.spec.command[1:]), env=dict(self.spec.env) or None, cwd=self.spec.cwd)
        return mcp.Client(mcp.stdio_client(params, errlog=self._errlog),
                          read_timeout_seconds=timeout, message_handler=self._on_message,
                          cache=None)

    async def _hold_session(self, ready: Future[list[mcp_types.Tool]]) -> None:
        """Open the client session, hand the tool list over, and keep it open until stopped."""
        self._stop, self._failed = anyio.Event(), anyio.Event()
        try:
            async with self._client_for() as client:
                self._client = client
                tools: list[mcp_types.Tool] = []
                cursor: str | None = None
                for _ in range(_LIST_PAGES):
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
                ready.set_result(tools)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else
                                    McpServerError(f"The MCP server {self.name} was stopped "
                                                   "while starting."))
            if not isinstance(exc, Exception):
                raise
        finally:
            self._client = None

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, Exception) and self._broken is None:
            self._broken = (f"The MCP server {self.name} wrote something that is not an MCP "
                            f"message: {_what_was_read(message)}.")
            if self._failed is not None:
                self._failed.set()

    def close(self) -> None:
        """Stop the server (stdio: close its stdin, then terminate it) and the session thread.
        Idempotent; never raises."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        portal = self._portal
        if portal is not None:
            with contextlib.suppress(Exception):
                if self._stop is not None:
                    portal.call(self._stop.set)
            session = self._session
            if session is not None:
                with contextlib.suppress(BaseException):
                    session.result(timeout=10)
                if not session.done():
                    session.cancel()
            with contextlib.suppress(BaseException):
                self._portal_cm.__exit__(None, None, None)
        self._portal = None
        self._stderr_kept = self.stderr()
        with contextlib.suppress(OSError):
            self._errlog.close()
        if self._on_close is not None:
            with contextlib.suppress(Exception):
                self._on_close()

    def __enter__(self) -> McpToolbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def diagnostics(self) -> dict[str, str]:
        """For the run record: which server it was, and its stderr (see ``stderr``)."""
        return {"server": self.name, "stderr": self.stderr()}

    def stderr(self) -> str:
        """The server's stderr so far (its last ``STDERR_LIMIT`` bytes), as text."""
        if self._stderr_kept is not None:
            return self._stderr_kept
        try:
            self._errlog.flush()
            size = self._errlog.seek(0, 2)
            self._errlog.seek(max(0, size - STDERR_LIMIT))
            return self._errlog.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""

    def _stderr_hint(self) -> str:
        lines = [line for line in self.stderr().splitlines() if line.strip()]
        return f"; its last stderr line: {_clip(lines[-1], 160)}" if lines else ""

    def _start_failure(self, exc: BaseException) -> str:
        root = _root_cause(exc)
        if isinstance(root, FileNotFoundError):
            return self.spec.missing_program() or (
                f"The MCP server {self.name} could not start: {self.spec.command[0]!r} was "
                "not found; check the command.")
        if isinstance(root, OSError) and not self.spec.url:
            return f"The MCP server {self.name} could not start ({_clip(str(root), 120)})."
        if self._broken:
            return self._broken
        if self.spec.url:
            return (f"The MCP server at {self.spec.url} could not be reached or did not answer "
                    f"as MCP ({_clip(str(root) or type(root).__name__, 120)}).")
        return (f"The MCP server {self.name} exited or failed while starting "
                f"({_clip(str(root) or type(root).__name__, 100)}){self._stderr_hint()}.")

    # -- the Toolbox protocol -----------------------------------------------------------------
    def function_schemas(self) -> list[dict[str, Any]]:
        """The tools as function-calling schemas (names Mistral accepts)."""
        return [function_schema(t) for t in self.tools]

    def python_api(self) -> str:
        """The tools as a compact typed Python API."""
        return python_api_text(self.tools, f"the MCP server {self.server_label()}")

    def server_label(self) -> str:
        return self.spec.label or self.name

    def guest_api(self) -> dict[str, GuestFunction]:
        """Flat tool name -> guest function (path, params, signature, doc)."""
        return guest_functions(self.tools)

    def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call one tool; a tool's failure is an outcome, a server's failure raises
        ``McpServerError`` (one sentence)."""
        if self._broken:
            raise McpServerError(self._broken)
        tool = self._by_name.get(name)
        if tool is None:
            return ToolOutcome(ok=False, error=f"There is no tool named {name!r}; the tools are: "
                               f"{', '.join(sorted(self._by_name))}.")
        if not isinstance(arguments, dict):
            return ToolOutcome(ok=False, error="The arguments must be an object of parameter "
                               "names to values.")
        portal = self._portal
        if portal is None or self._closed:
            raise McpServerError(f"The MCP server {self.name} is already stopped.")
        args = arguments_for(tool, arguments)
        try:
            result = portal.call(self._call, tool.name, args)
        except McpServerError as exc:
            self._broken = self._broken or str(exc)
            raise McpServerError(self._broken) from None
        except RuntimeError as exc:  # the portal is gone: the run is closing
            raise McpServerError(f"The MCP server {self.name} is stopped ({exc}).") from None
        return outcome_of(tool, result)

    async def _call(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        client, failed = self._client, self._failed
        if client is None or failed is None:
            raise McpServerError(self._broken or f"The MCP server {self.name} has stopped.")
        outcome: list[Any] = []

        async def run(scope: anyio.CancelScope) -> None:
            try:
                outcome.append(await client.call_tool(name, arguments))
            except Exception as exc:
                outcome.append(exc)
            scope.cancel()

        async def watch(scope: anyio.CancelScope) -> None:
            await failed.wait()
            scope.cancel()

        with anyio.move_on_after(self.call_timeout + 2):
            async with anyio.create_task_group() as group:
                group.start_soon(run, group.cancel_scope)
                group.start_soon(watch, group.cancel_scope)
        if self._broken:
            raise McpServerError(self._broken)
        if not outcome:
            raise McpServerError(f"The MCP server {self.name} did not answer {name} within "
                                 f"{self.call_timeout:g} s.")
        item = outcome[0]
        if isinstance(item, sdk().types.CallToolResult):
            return item
        raise McpServerError(self._call_failure(name, item))

    def _call_failure(self, name: str, exc: BaseException) -> str:
        mcp = sdk()
        if isinstance(exc, mcp.MCPError):
            if exc.error.code == mcp.types.REQUEST_TIMEOUT:
                return (f"The MCP server {self.name} did not answer {name} within "
                        f"{self.call_timeout:g} s.")
            if exc.error.code == mcp.types.CONNECTION_CLOSED:
                return (f"The MCP server {self.name} closed the connection during {name} "
                        f"(it probably crashed){self._stderr_hint()}.")
            return (f"The MCP server {self.name} refused the call to {name}: "
                    f"{_clip(exc.error.message, 160)}.")
        if isinstance(exc, ValidationError):
            return (f"The MCP server {self.name} answered {name} with something that is not an "
                    "MCP tool result.")
        return f"The call to {name} on the MCP server {self.name} failed: {_clip(str(exc), 160)}."

    def judge(self, task: Task, answer: str) -> Verdict:
        """The verdict of the source's checker, else the task's answer-only checks."""
        if self._judge is not None:
            return self._judge(task, answer, self)
        return answer_only_verdict(task, answer)


def answer_only_verdict(task: Task, answer: str) -> Verdict:
    """A task's checker run on the answer alone (no state): for sources with no checker."""
    verdict = check(task, answer, {}, {})
    return Verdict(bool(verdict.success), list(verdict.reasons))


def _what_was_read(exc: Exception) -> str:
    """The offending line of a transport parse error, quoted and clipped."""
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        if errors:
            line = errors[0].get("input")
            # What was read, never the validation library's own report.
            text = line if isinstance(line, str) else json.dumps(line, default=str)
            return repr(_clip(text, 60))
        return "a line that is not JSON-RPC"
    return _clip(str(exc) or type(exc).__name__, 80)


def _root_cause(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
