"""The embedded local AWS, the CLI and the infrastructure code import each other in one direction only: no circle
between the modules of a package, counting every import (at module level, inside a function or under
TYPE_CHECKING), so that a circle is never hidden by an import moved into a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (``from a.b import c`` counts ``a.b.c`` when that
    is a module, else ``a.b``)."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                candidates = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
                imported |= {candidate for candidate in candidates if candidate in modules}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names if alias.name in modules}
        graph[name] = imported - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                found.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, path)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return found


def test_the_finder_sees_a_circle_through_a_function_level_import(tmp_path: Path):
    # GIVEN a package whose two modules import each other, one of them inside a function
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n")
    # THEN the circle is found
    assert circles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.a"]]


@pytest.mark.parametrize("package", ["siren_local", "siren_cli", "infra"])
def test_no_import_circle(package: str):
    graph = import_graph(ROOT / package)
    assert graph, f"{package} has no modules?"
    assert circles(graph) == []


def test_the_siren_package_has_no_import_circle():
    graph = import_graph(ROOT / "layers" / "siren")
    assert graph, "layers/siren has no modules?"
    assert circles(graph) == []


# What each layer of the siren package may import of the others (ARCHITECTURE.md draws them): the domain nothing
# but itself; render, config and ports the domain; adapters those and the shared infrastructure modules; the use
# cases everything but the adapters and the composition root. The shared modules (clients, settings, logging and
# metrics, the watchdog's metric names) sit beside the layers.
SHARED = {"siren.clients", "siren.settings", "siren.observability", "siren.watchdog"}
MAY_IMPORT = {
    "siren.domain": {"siren.domain"},
    "siren.render": {"siren.domain", "siren.render"},
    "siren.config": {"siren.domain", "siren.config"},
    "siren.ports": {"siren.domain"},
    "siren.adapters": {"siren.domain", "siren.ports", "siren.adapters", *SHARED},
    "siren.app": {"siren.domain", "siren.render", "siren.ports", "siren.app", *SHARED},
}


def layer_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_each_layer_of_the_siren_package_imports_only_the_layers_below_it():
    graph = import_graph(ROOT / "layers" / "siren")
    upward = sorted(
        (module, imported)
        for module, imports in graph.items()
        if layer_of(module) in MAY_IMPORT
        for imported in imports
        if layer_of(imported) not in MAY_IMPORT[layer_of(module)] and imported != "siren"
    )
    assert upward == []
