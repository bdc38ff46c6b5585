"""The package's import graph has no cycle, counting imports inside functions too.

A cycle hidden behind a function-level import still ties two modules together: neither can be
read, tested or moved without the other, and the order in which they first load decides whether a
name exists yet. The graph is built from the source (AST), not by importing, so a lazy import that
no test happens to reach counts just like a top-level one.

Edges: ``import a.b.c`` → ``a.b.c``; ``from a.b import c`` → ``a.b.c`` when ``c`` is a module of
the package, else ``a.b`` (a package's ``__init__`` is the module ``a.b``); relative imports are
resolved against the importing module. Importing ``a.b.c`` also runs the ``__init__`` of ``a`` and
``a.b`` first, so those are edges too (a package re-exporting its modules is in the graph), except
towards the importing module's own packages, which have always run before it.

Beside the graph: no module finds another of the project's by string (``importlib.import_module``,
``__import__``), where neither a reader nor this test could follow the edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jobpipeline

PACKAGE_ROOT = Path(jobpipeline.__file__).resolve().parent
PACKAGE = "jobpipeline"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules that ``name`` (at ``path``) imports anywhere in its body."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    own_packages = {name.rsplit(".", depth)[0] for depth in range(1, name.count(".") + 1)}
    edges = set()
    for target in targets:
        parts = target.split(".")
        # ``a.b.c`` runs ``a`` and ``a.b`` first: each is an edge unless it encloses this module.
        for length in range(1, len(parts) + 1):
            prefix = ".".join(parts[:length])
            if prefix in modules and prefix != name and prefix not in own_packages:
                edges.add(prefix)
    return edges


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports_of(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in on_stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def test_the_graph_sees_function_level_relative_and_package_imports(tmp_path):
    """The checker itself: a lazy import and a package re-export are edges (else it could not fail)."""
    graph = import_graph()
    assert "jobpipeline.lib.hn.parse" in graph["jobpipeline.lib.hn"]  # __init__ re-export
    source = tmp_path / "probe.py"
    source.write_text("from . import b\ndef later():\n    from .sub import c\n    import p.sub.d\n    from p.sub import VALUE\n")
    modules = dict.fromkeys(["p", "p.a", "p.b", "p.sub", "p.sub.c", "p.sub.d"], source)
    assert _imports_of("p.a", source, modules) == {"p.b", "p.sub", "p.sub.c", "p.sub.d"}
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycle():
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles (each line one strongly connected group):\n" + "\n".join(
        " <-> ".join(component) for component in cycles
    )


def test_no_module_is_imported_by_a_string():
    """``importlib.import_module`` / ``__import__`` hide an edge from readers and from the graph.
    (``importlib.util.find_spec`` of an optional third-party package such as vllm is fine.)"""
    by_string = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in ("import_module", "__import__"):
                    by_string.append(f"{path.relative_to(PACKAGE_ROOT.parent)}:{node.lineno}")
                if called == "find_spec" and node.args and PACKAGE in ast.unparse(node.args[0]):
                    by_string.append(f"{path.relative_to(PACKAGE_ROOT.parent)}:{node.lineno}")
    assert by_string == [], "modules imported by a string: " + ", ".join(by_string)
