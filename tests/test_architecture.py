"""The package's structure, pinned: its layers, and no import cycle, lazy imports included.

ARCHITECTURE.md draws the same layers. Every module must be placed in one; a module may
import from its own layer or a lower one, never from a higher one, and the imports (at the
top of a module or inside a function, but not those only for type checking) form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import PROJECT

PACKAGE = PROJECT / "realtime_config"

LAYERS = {
    "shell": {"cli", "__main__"},
    "public API": {"__init__"},
    "features": {"_server", "_snapshots", "_diff", "_explain", "_starter", "_migrate", "_importer"},
    "pipeline": {
        "_batch",
        "_targets",
        "_compile",
        "_translate",
        "_checks",
        "_validate",
        "_loader",
        "_client",
        "_cache",
    },
    "leaves": {
        "_version",
        "_errors",
        "_diagnostics",
        "_report",
        "_keys",
        "_wording",
        "_source",
        "_json_source",
        "_toml_write",
        "_schema",
        "_quick_check",
        "_meta_check",
        "_refs",
        "_fastparse",
        "_files",
        "_project",
        "_deadline",
    },
}
"""Top to bottom, as ARCHITECTURE.md draws them; a module not listed here fails the test."""

ORDER = list(LAYERS)


def layer_of(module: str) -> int:
    for index, name in enumerate(ORDER):
        if module in LAYERS[name]:
            return index
    raise AssertionError(f"realtime_config/{module}.py is in no layer: place it in LAYERS")


def runtime_imports(path: Path) -> set[str]:
    """The package modules a file imports at run time (lazy ones too, TYPE_CHECKING not)."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            )
            for child in node.orelse if checking else [*node.body, *node.orelse]:
                self.visit(child)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            module = node.module or ""
            if module == "realtime_config":
                found.update(alias.name for alias in node.names)
            elif module.startswith("realtime_config."):
                found.add(module.split(".")[1])

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                if alias.name.startswith("realtime_config."):
                    found.add(alias.name.split(".")[1])

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {path.stem: path for path in PACKAGE.glob("*.py")}
    assert len(modules) >= 20
    return {
        name: {m for m in runtime_imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_every_layer_names_real_modules() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert set().union(*LAYERS.values()) == modules


def test_every_module_is_in_a_layer_and_imports_downwards() -> None:
    upwards = [
        f"{module} ({ORDER[layer_of(module)]}) imports {target} ({ORDER[layer_of(target)]})"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if layer_of(target) < layer_of(module)
    ]
    assert upwards == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


def test_the_graph_sees_lazy_imports() -> None:
    """A function-level import counts: the test would miss the cycles it exists for."""
    graph = import_graph()
    assert "_client" in graph["__init__"] or "_client" in graph["cli"]
    assert "_targets" in graph["_client"]  # imported inside prepare_request
