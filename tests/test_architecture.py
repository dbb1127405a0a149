"""The package's structure, pinned: its layers, and no import cycle, lazy imports included.

ARCHITECTURE.md draws the same layers: the package's folders in pipeline order. Every module
must be placed in one; a module may import from its own layer or a lower one, never from a
higher one, and the imports of every kind (at the top of a module, inside a function, or only
for the type checker under ``TYPE_CHECKING``) form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import PROJECT

PACKAGE = PROJECT / "realtime_config"

LAYERS = {
    "public API": {"__init__", "__main__"},
    "cli": {
        "cli",
        *["cli._checking", "cli._authoring", "cli._submit", "cli._serve"],
        *["cli._options", "cli._remedies", "cli._shell", "cli._terminal"],
    },
    "serve": {
        "serve",
        *["serve._app", "serve._routes", "serve._presets", "serve._guards"],
        *["serve._access_log", "serve._lifecycle", "serve._responses", "serve._demo_page"],
    },
    "client": {
        "client",
        *["client._client", "client._config", "client._urls", "client._models"],
        *["client._requests", "client._responses", "client._retry", "client._deadline"],
    },
    "authoring": {
        "authoring",
        *["authoring._importer", "authoring._migrate", "authoring._starter"],
        *["authoring._migrate_file", "authoring._toml_layout", "authoring._import_values"],
        *["authoring._explain", "authoring._diff", "authoring._snapshots"],
    },
    "compiling": {
        "compiling",
        *["compiling._targets", "compiling._compile", "compiling._translate"],
        *["compiling._cache", "compiling._batch"],
    },
    "checking": {
        "checking",
        *["checking._compose", "checking._validate", "checking._checks"],
        *["checking._quick_check", "checking._meta_check", "checking._refs"],
    },
    "preset": {
        "preset",
        *["preset._loader", "preset._resolve", "preset._parse", "preset._read"],
        *["preset._paths", "preset._model", "preset._fastparse"],
    },
    "floor": {
        *["_version", "_errors", "_diagnostics", "_report", "_keys", "_wording", "_source"],
        *["_json_source", "_toml_write", "_schema", "_schema_copy", "_files", "_commit"],
        "_project",
    },
}
"""Top to bottom, as ARCHITECTURE.md draws them: the public API and the shell, then each
stage's folder in pipeline order above the shared floor. A module not listed fails the test."""

ORDER = list(LAYERS)


def module_name(path: Path) -> str:
    """``preset._loader`` for realtime_config/preset/_loader.py, ``cli`` for cli/__init__.py."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    for index, name in enumerate(ORDER):
        if module in LAYERS[name]:
            return index
    raise AssertionError(f"realtime_config.{module} is in no layer: place it in LAYERS")


def imports(path: Path, *, type_checking: bool = True) -> set[str]:
    """The package modules a file imports: at the top, inside functions, and (unless
    ``type_checking`` is false) those only for the type checker."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            )
            skipped = checking and not type_checking
            for child in node.orelse if skipped else [*node.body, *node.orelse]:
                self.visit(child)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            module = node.module or ""
            if module == "realtime_config":
                found.update(alias.name for alias in node.names)
            elif module.startswith("realtime_config."):
                found.add(module.removeprefix("realtime_config."))

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                if alias.name.startswith("realtime_config."):
                    found.add(alias.name.removeprefix("realtime_config."))

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def import_graph(*, type_checking: bool = True) -> dict[str, set[str]]:
    modules = package_modules()
    assert len(modules) >= 20
    return {
        name: {m for m in imports(path, type_checking=type_checking) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_every_layer_names_real_modules() -> None:
    assert set().union(*LAYERS.values()) == set(package_modules())


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


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    """A function-level import counts, and so does one only for the type checker: the test
    would miss the cycles it exists for."""
    graph = import_graph()
    runtime = import_graph(type_checking=False)
    assert "client._client" in graph["__init__"] or "client._client" in graph["cli._submit"]
    assert "compiling._targets" in runtime["client._client"]  # imported inside prepare_preset
    # checking/_validate names the preset's types for the type checker only.
    assert "preset._model" in graph["checking._validate"]
    assert "preset._model" not in runtime["checking._validate"]


def test_the_preset_stage_sits_below_checking() -> None:
    """preset/ resolves and runs the checks it is given; it imports nothing of checking/."""
    graph = import_graph()
    preset = [name for name in graph if name == "preset" or name.startswith("preset.")]
    assert {
        name: graph[name] for name in preset if any(m.startswith("checking") for m in graph[name])
    } == {}


def test_the_preset_model_is_a_leaf_that_imports_no_stage() -> None:
    stages = ("cli", "serve", "client", "authoring", "compiling", "checking", "preset.")
    assert sorted(m for m in import_graph()["preset._model"] if m.startswith(stages)) == []


def test_the_shell_and_the_file_writers_stay_small() -> None:
    """The command line is a thin shell, a module per group of commands, and writing files is
    two jobs: none of those modules passes 650 lines, none of their functions 80."""
    modules = package_modules()
    small = {
        name: path for name, path in modules.items() if name == "cli" or name.startswith("cli.")
    }
    small |= {name: modules[name] for name in ("_files", "_commit")}
    assert len(small) >= 10
    too_long = []
    for name, path in sorted(small.items()):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 650:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []
