"""The package's shape: no import cycle between its modules, no module or function too long.

Imports are read from the source (an AST walk), at module level, inside functions and under
``if TYPE_CHECKING:``, so a cycle hidden behind a lazy import or one that exists only for the
type checker counts too (a type-level cycle still ties two modules together: neither can be
read, moved or tested without the other). ``pkg/__init__.py`` that re-exports its modules is
an edge from the package to them, and importing ``pkg.mod`` is an edge to ``pkg.mod`` only.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "bellmodels"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """``{module: modules of bellmodels it imports}`` (module level and function level)."""
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
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


def test_a_type_checking_import_is_an_edge(tmp_path, monkeypatch):
    """The cycle check sees imports that run only under a type checker."""
    pkg = tmp_path / "bellmodels"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from bellmodels import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bellmodels.a import X\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PKG", pkg)
    assert cycles(_without_package_inits(import_graph())) == [["bellmodels.a", "bellmodels.b"]]


MAX_FUNCTION_LINES = 80


def long_functions(root: Path = PKG) -> dict[str, int]:
    """``{"module/path.function": lines}`` of every function (or method, ``Class.method``) over
    :data:`MAX_FUNCTION_LINES`, counted from its ``def`` to its last line, docstring included."""
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root).with_suffix("").as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        stack: list[tuple[ast.AST, str]] = [(tree, "")]
        while stack:
            node, prefix = stack.pop()
            for child in ast.iter_child_nodes(node):
                name = prefix
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = f"{prefix}{child.name}."
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = child.end_lineno - child.lineno + 1  # type: ignore[operator]
                    if n > MAX_FUNCTION_LINES:
                        found[f"{module}.{name[:-1]}"] = n
                stack.append((child, name))
    return found


def test_no_function_is_over_80_lines():
    long = long_functions()
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_long_functions_finds_nested_functions_and_methods(tmp_path):
    body = "".join(f"x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    source = (
        "def short():\n    return 1\n\n\nclass C:\n    def long(self):\n"
        + textwrap.indent(body, " " * 8)
        + "\n\ndef outer():\n    def inner():\n"
        + textwrap.indent(body, " " * 8)
        + "    return inner\n"
    )
    (tmp_path / "m.py").write_text(source)
    assert long_functions(tmp_path) == {
        "m.C.long": MAX_FUNCTION_LINES + 1,
        "m.outer.inner": MAX_FUNCTION_LINES + 1,
        "m.outer": MAX_FUNCTION_LINES + 3,
    }
