"""The JSON Schema: where it lives, the validator built from it, and the rules it annotates.

The schema is the single source of truth for what a preset may say and how each field is
emitted; every other module asks this one instead of keeping its own list of fields.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


@functools.cache
def validator() -> Validator:
    """The schema's validator, built once per process.

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
    built: Validator = preset_validator(load_schema())
    return built


def resolve(node: Schema) -> Schema:
    """Follow a local ``$ref`` (``#/$defs/...``), keeping the referring node's own keywords."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = load_schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    merged = dict(resolve(target))
    merged.update((k, v) for k, v in node.items() if k != "$ref")
    return merged


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


def child(node: Schema, key: str | int) -> Schema | None:
    """The schema of ``key`` inside a value described by ``node`` (a property or an item)."""
    if isinstance(key, int):
        array = branch_of_type(node, "array")
        return resolve(array["items"]) if array and "items" in array else None
    table = branch_of_type(node, "object")
    if table is None or key not in table.get("properties", {}):
        return None
    return resolve(table["properties"][key])


def field_schema(path: tuple[str | int, ...]) -> Schema | None:
    """The schema of the value at ``path`` (``("turn_detection", "threshold")``), if any."""
    node: Schema | None = load_schema()
    for key in path:
        if node is None:
            return None
        node = child(node, key)
    return node


def known_values(node: Schema) -> list[str]:
    """The values listed by an open enum (``x-open-enum``), or by a closed ``enum``."""
    values: list[str] = []
    for branch in branches(node):
        values.extend(v for v in branch.get("enum", ()) if isinstance(v, str))
        if "const" in branch and isinstance(branch["const"], str):
            values.append(branch["const"])
    return values
