"""No import cycles among the project's modules.

The graph is built with ``ast`` from the package files: an edge A -> B for every import of B
in A, at the top of the module or inside a function (a lazy import hides a cycle, it does not
remove one), except imports under ``if TYPE_CHECKING:``, which never run. ``from X import Y``
is an edge to ``X.Y`` when that is a module, else to ``X``; importing ``a.b.c`` is also an edge
to the packages ``a`` and ``a.b``, whose ``__init__`` runs first (except A's own packages). The
assertion lists each cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "tasks", "tui", "wasm_sandbox")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the four packages."""
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Imports(ast.NodeVisitor):
    """The modules one file imports, leaving out ``if TYPE_CHECKING:`` blocks."""

    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.known = known
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            if f"{target}.{alias.name}" in self.known:
                self._add(f"{target}.{alias.name}")
            else:
                self._add(target)

    def _add(self, name: str) -> None:
        # The deepest project module the name reaches (``import a.b.c`` -> ``a.b.c``), and the
        # packages above it, whose ``__init__`` runs first, except this module's own packages
        # (already being imported when it runs).
        while name and name not in self.known:
            name = name.rpartition(".")[0]
        while name:
            if name != self.package and not self.package.startswith(name + "."):
                self.found.add(name)
            name = name.rpartition(".")[0]


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (no self-edges)."""
    modules = project_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py", known)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        graph[name] = visitor.found - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_detector_finds_a_cycle_and_skips_type_checking_imports(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x.y\n"
              "def f():\n    from x import z\n")
    visitor = _Imports("x.w", False, {"x", "x.y", "x.z", "x.w"})
    visitor.visit(ast.parse(source))
    assert visitor.found == {"x.z"}  # the lazy import counts, the TYPE_CHECKING one does not
    # Importing a.b.c runs a.b's __init__ first: an edge to it too, unless a.b is one's own.
    visitor = _Imports("q", False, {"a", "a.b", "a.b.c", "q"})
    visitor.visit(ast.parse("import a.b.c\n"))
    assert visitor.found == {"a", "a.b", "a.b.c"}
    visitor = _Imports("a.b.d", False, {"a", "a.b", "a.b.c", "a.b.d"})
    visitor.visit(ast.parse("from a.b.c import x\n"))
    assert visitor.found == {"a.b.c"}


def test_the_graph_sees_the_project() -> None:
    graph = import_graph()
    assert "engine.cli" in graph and "engine.errors" in graph["engine.cli"]
    assert len(graph) > 80


def test_no_import_cycles_among_the_projects_modules() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)
