"""The JSON Schema: where it lives, the validator built from it, and the rules it annotates.

The schema is the single source of truth for what a preset may say and how each field is
emitted; every other module asks this one instead of keeping its own list of fields.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

SCHEMA_FILENAME = "realtime-session.schema.json"

Schema = Mapping[str, Any]


def schema_path() -> Path:
    """Where the schema is: inside the installed wheel, or in the checkout's ``schema/``."""
    here = Path(__file__).resolve().parent
    installed = here / "_data" / SCHEMA_FILENAME
    if installed.is_file():
        return installed
    return here.parent / "schema" / SCHEMA_FILENAME


@functools.cache
def schema_text() -> str:
    """The schema file's text, exactly as published."""
    return schema_path().read_text(encoding="utf-8")


@functools.cache
def load_schema() -> Schema:
    """The parsed schema (cached: it is read once per process)."""
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


DIALECTS: Final = ("beta", "realtime", "transcription", "translation")
"""The preset dialects: the beta sessions body, and the GA session object of each type."""


def dialect_of(table: Mapping[str, Any]) -> str:
    """The dialect a resolved table is written in: GA when it has a top-level ``type``
    (the dialect it names, else realtime, whose schema then says the type is wrong)."""
    kind = table.get("type")
    if kind is None:
        return "beta"
    return kind if kind in DIALECTS[1:] else "realtime"


def dialect_schema(dialect: str) -> Schema:
    """The root schema of one dialect (``$defs/beta``, ``$defs/realtime``...)."""
    root: Schema = load_schema()["$defs"][dialect]
    return root


@functools.cache
def validator(dialect: str = "beta") -> Validator:
    """The validator of one dialect, built once per process.

    TOML keeps integers and floats apart, so ``integer`` here means an int and never a float
    such as ``300.0``: the compiler sends numbers exactly as written.
    """
    from jsonschema import Draft202012Validator, validators

    def is_strict_integer(_checker: object, instance: object) -> bool:
        return isinstance(instance, int) and not isinstance(instance, bool)

    type_checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", is_strict_integer)
    preset_validator = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, type_checker=type_checker
    )
    dispatch = ("anyOf", "if", "then", "else")  # the root's choice of dialect, made here
    whole = {k: v for k, v in load_schema().items() if k not in dispatch}
    built: Validator = preset_validator({**whole, "$ref": f"#/$defs/{dialect}"})
    return built


def resolve(node: Schema) -> Schema:
    """Follow a local ``$ref`` (``#/$defs/...``), keeping the referring node's own keywords.

    The merged node is built once per referring node and shared: treat it as read-only.
    """
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    cached = _RESOLVED.get(id(node))
    if cached is not None and cached[0] is node:
        return cached[1]
    target: Any = load_schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    merged = dict(resolve(target))
    merged.update((k, v) for k, v in node.items() if k != "$ref")
    # The node is kept alive beside its merged form, so that its id is never reused.
    _RESOLVED[id(node)] = (node, merged)
    return merged


_RESOLVED: dict[int, tuple[Schema, Schema]] = {}
"""Each referring schema node's merged form, by the node's id (schema nodes live on)."""


def branches(node: Schema) -> Iterator[Schema]:
    """The node itself and each ``anyOf`` alternative, resolved."""
    node = resolve(node)
    yield node
    for alternative in node.get("anyOf", ()):
        yield from branches(alternative)


def branch_of_type(node: Schema, json_type: str) -> Schema | None:
    """The alternative of ``node`` that describes values of ``json_type`` (object, array...)."""
    for branch in branches(node):
        if branch.get("type") == json_type:
            return branch
    return None


def discriminant(branch: Schema) -> list[Any]:
    """The values of ``type`` that select an object branch of a union (empty: any)."""
    kind = resolve(branch.get("properties", {}).get("type", {}))
    if "const" in kind:
        return [kind["const"]]
    return list(kind.get("enum", ()))


def object_branch(node: Schema, value: Any) -> Schema | None:
    """The object alternative of ``node`` for ``value``: the one its ``type`` key selects.

    Unions of tables (function or MCP tools, server or semantic VAD, audio formats) are
    told apart by ``type``; a table without one takes the first alternative.
    """
    tables = [branch for branch in branches(node) if branch.get("type") == "object"]
    if len(tables) > 1 and isinstance(value, Mapping) and "type" in value:
        for branch in tables:
            if value["type"] in discriminant(branch):
                return branch
    return tables[0] if tables else None


def child(node: Schema, key: str | int) -> Schema | None:
    """The schema of ``key`` inside a value described by ``node`` (a property or an item)."""
    if isinstance(key, int):
        array = branch_of_type(node, "array")
        return resolve(array["items"]) if array and "items" in array else None
    for branch in branches(node):
        if branch.get("type") == "object" and key in branch.get("properties", {}):
            return resolve(branch["properties"][key])
    return None


def field_schema(path: tuple[str | int, ...], dialect: str = "beta") -> Schema | None:
    """The schema of the value at ``path`` (``("turn_detection", "threshold")``), if any."""
    node: Schema | None = dialect_schema(dialect)
    for key in path:
        if node is None:
            return None
        node = child(node, key)
    return node


@functools.cache
def modalities_key(dialect: str) -> str | None:
    """The key of a dialect's output modalities, the field marked ``x-modalities``
    (``modalities`` in beta, ``output_modalities`` in GA); None when it has none."""
    properties: dict[str, Any] = dialect_schema(dialect).get("properties", {})
    return next((k for k, v in properties.items() if resolve(v).get("x-modalities")), None)


@functools.cache
def switchable_paths(dialect: str) -> tuple[tuple[str, ...], ...]:
    """The key paths of a dialect that ``false`` switches off (``x-null-when-false``)."""
    found: list[tuple[str, ...]] = []
    stack: list[tuple[tuple[str, ...], Schema]] = [((), dialect_schema(dialect))]
    while stack:
        path, node = stack.pop()
        for branch in branches(node):
            if branch.get("type") != "object" or branch.get("x-verbatim"):
                continue
            for key, field in branch.get("properties", {}).items():
                resolved = resolve(field)
                if resolved.get("x-emit") == "never" or (*path, key) in found:
                    continue
                if resolved.get("x-null-when-false"):
                    found.append((*path, key))
                stack.append(((*path, key), resolved))
    return tuple(sorted(found, key=lambda p: _order_key(dialect, p)))


@functools.cache
def session_settings(dialect: str) -> tuple[str, ...]:
    """The settings a dialect's session has, as dotted paths in the schema's key order: a
    plain table is opened (``audio.output.language``), anything else is one setting."""
    found: list[str] = []

    def visit(node: Schema, prefix: str) -> None:
        table = branch_of_type(node, "object")
        for key in table.get("x-order", ()) if table is not None else ():
            field = resolve(table["properties"][key])  # type: ignore[index]
            if field.get("x-emit") == "never":  # a translation preset's type: not a setting
                continue
            inner = branch_of_type(field, "object")
            if inner is not None and field.get("type") == "object" and "anyOf" not in field:
                visit(field, f"{prefix}{key}.")
            else:
                found.append(f"{prefix}{key}")

    visit(dialect_schema(dialect), "")
    return tuple(found)


def _order_key(dialect: str, path: tuple[str, ...]) -> tuple[int, ...]:
    """A path's position in the schema's key order, for lists that read top to bottom."""
    node: Schema | None = dialect_schema(dialect)
    key: list[int] = []
    for part in path:
        table = branch_of_type(node, "object") if node is not None else None
        order = list(table.get("x-order", table.get("properties", ()))) if table else []
        key.append(order.index(part) if part in order else len(order))
        node = child(node, part) if node is not None else None
    return tuple(key)


def known_values(node: Schema) -> list[str]:
    """The values listed by an open enum (``x-open-enum``), or by a closed ``enum``."""
    values: list[str] = []
    for branch in branches(node):
        values.extend(v for v in branch.get("enum", ()) if isinstance(v, str))
        if "const" in branch and isinstance(branch["const"], str):
            values.append(branch["const"])
    return values
