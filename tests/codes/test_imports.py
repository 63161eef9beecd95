"""The `codes` modules import each other in one direction only, with the parser at the bottom.

Read from the source with `ast`, so imports placed inside functions (which hide a cycle from
Python but not from a reader) count as much as those at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import codes

CODES_DIR = Path(codes.__file__).resolve().parent


def codes_modules() -> dict[str, Path]:
    return {
        "codes" if path.stem == "__init__" else f"codes.{path.stem}": path
        for path in sorted(CODES_DIR.glob("*.py"))
    }


def imported_codes_modules(path: Path, modules: set[str]) -> set[str]:
    """The `codes.*` modules a file imports anywhere in it (top level, functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from codes import catalog` imports codes.catalog; `from codes.x import y`, codes.x.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = codes_modules()
    return {
        name: imported_codes_modules(path, set(modules)) - {name} for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that starts and ends at the same module, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target, [*path, node]):
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start, []):
            return cycle
    return None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "example.py"
    source.write_text(
        "def f():\n    from codes.decode import decode\n    from codes import catalog\n"
    )
    found = imported_codes_modules(source, {"codes.decode", "codes.catalog", "codes.knowledge"})
    assert found == {"codes.decode", "codes.catalog"}


def test_find_cycle_reports_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_codes_modules():
    graph = import_graph()
    assert "codes.decode" in graph and "codes.knowledge" in graph  # the glob found the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_parser_imports_no_other_codes_module():
    assert import_graph()["codes.parse"] == set()
