"""The package's shape: no import cycle between its modules, no module too long.

Imports are read from the source (an AST walk), both at module level and inside functions, so a
cycle hidden behind a lazy import counts too; imports under ``if TYPE_CHECKING:`` (never run)
do not count. ``pkg/__init__.py`` that re-exports its modules is
an edge from the package to them, and importing ``pkg.mod`` is an edge to ``pkg.mod`` only.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "bellmodels"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def import_graph() -> dict[str, set[str]]:
    """``{module: modules of bellmodels it imports}`` (module level and function level)."""
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for block in [n for n in ast.walk(tree) if _is_type_checking(n)]:
            block.body = []
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges between modules; a package's ``__init__`` (which only re-exports) is kept as a
    node, but the edge from a submodule to its own package is dropped (Python imports the
    package first whatever the submodule says)."""
    return {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}


def test_no_import_cycle_between_modules():
    found = cycles(_without_package_inits(import_graph()))
    assert not found, f"import cycles: {found}"


def test_study_never_imports_the_report():
    graph = import_graph()
    bad = {m: sorted(t for t in ts if t.startswith("bellmodels.report")) for m, ts in graph.items()}
    assert not {m: v for m, v in bad.items() if m.startswith("bellmodels.study") and v}


MAX_MODULE_LINES = 600
LONG_MODULE_EXCEPTIONS: frozenset[str] = frozenset()  # none: every module is a room


def test_no_module_is_over_600_lines():
    long = {
        rel: n
        for p in sorted(PKG.rglob("*.py"))
        if (rel := p.relative_to(PKG).as_posix()) not in LONG_MODULE_EXCEPTIONS
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long
