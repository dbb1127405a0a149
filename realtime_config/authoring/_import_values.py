"""What importing does to the values of a session: the keys a server sets dropped, the nulls
a server fills in read as TOML can say them, unknown keys dropped when asked, and nesting
bounded. Each rule reads the schema (``x-read-only``, ``x-null-when-false``...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from realtime_config._diagnostics import Diagnostic
from realtime_config._keys import KeyPath, format_path
from realtime_config._schema import (
    Schema,
    branch_of_type,
    child,
    dialect_schema,
    object_branch,
    resolve,
    switchable_paths,
)
from realtime_config._toml_write import field_of
from realtime_config.preset._model import Document
from realtime_config.preset._parse import MAX_DEPTH


def drop_read_only(
    root: Schema, session: Mapping[str, Any], prefix: KeyPath
) -> tuple[dict[str, Any], list[str]]:
    """The session without the keys a server sets (``x-read-only``), and the names of those
    dropped, in order, as paths in the JSON.

    A table whose field lists read-only keys of its own (a beta response's
    ``client_secret``) loses those keys, and goes whole when nothing else is left, or null.
    """
    table: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in session.items():
        if key in root.get("x-read-only", ()):
            dropped.append(format_path((*prefix, key)))
            continue
        field = child(root, key)
        inner = field.get("x-read-only") if field is not None else None
        if inner and value is None:
            dropped.append(format_path((*prefix, key)))
        elif inner and isinstance(value, Mapping):
            kept = {
                k: v for k, v in value.items() if not (k in inner and not isinstance(v, Mapping))
            }
            gone = [k for k in value if k not in kept]
            if gone and not kept:
                dropped.append(format_path((*prefix, key)))
                continue
            dropped.extend(format_path((*prefix, key, k)) for k in gone)
            table[key] = kept
        else:
            table[key] = value
    return table, dropped


def nullable_fields(dialect: str) -> str:
    names = [format_path(path) for path in switchable_paths(dialect)]
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def bad_nulls(
    node: Schema | None, value: Any, path: KeyPath, *, verbatim: bool = False
) -> Iterator[KeyPath]:
    """Paths of nulls that cannot be written: all but those on x-null-when-false fields.

    A null under a key the schema does not know is left to the unknown-key error.
    """
    entries = value.items() if isinstance(value, Mapping) else enumerate(value)
    for key, item in entries:
        field = None if verbatim else field_of(node, key)
        inside = verbatim or (field is not None and bool(field.get("x-verbatim")))
        if item is None:
            if verbatim or (field is not None and not field.get("x-null-when-false")):
                yield (*path, key)
        elif isinstance(item, (Mapping, list)):
            yield from bad_nulls(field, item, (*path, key), verbatim=inside)


def nulls_to_false(node: Schema | None, value: Any) -> Any:
    """A copy of ``value`` with null on the x-null-when-false fields turned into false."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            field = field_of(node, key)
            if item is None and field is not None and field.get("x-null-when-false"):
                result[key] = False
            else:
                result[key] = nulls_to_false(field, item)
        return result
    if isinstance(value, list):
        return [nulls_to_false(field_of(node, i), item) for i, item in enumerate(value)]
    return value


def read_ga_nulls(dialect: str, session: Mapping[str, Any]) -> tuple[dict[str, Any], list[KeyPath]]:
    """A GA session's nulls read as a preset says them, and the paths of those it cannot.

    On a switchable path (``switchable_paths``) null is ``false``; on any other field the
    schema knows it is "not set" and the key is left out. A null inside a verbatim value
    (``parameters``) or as an array item has no TOML form; one under an unknown key stays
    for the unknown-key error.
    """
    switchable = frozenset(switchable_paths(dialect))
    bad: list[KeyPath] = []

    def read(node: Schema | None, value: Any, path: KeyPath, verbatim: bool) -> Any:
        if isinstance(value, Mapping):
            result: dict[str, Any] = {}
            for key, item in value.items():
                where = (*path, key)
                field = None if verbatim else field_of(node, key)
                inside = verbatim or (field is not None and bool(field.get("x-verbatim")))
                if item is not None:
                    result[key] = read(field, item, where, inside)
                elif verbatim:
                    bad.append(where)
                elif where in switchable:
                    result[key] = False
                elif field is None:
                    result[key] = None
            return result
        if isinstance(value, list):
            items: list[Any] = []
            for index, item in enumerate(value):
                if item is None:
                    bad.append((*path, index))
                items.append(
                    read(
                        None if verbatim else field_of(node, index), item, (*path, index), verbatim
                    )
                )
            return items
        return value

    table: dict[str, Any] = read(dialect_schema(dialect), session, (), False)
    return table, bad


def drop_unknown_keys(
    document: Document, node: Schema, table: dict[str, Any], path: KeyPath
) -> Iterator[Diagnostic]:
    """Leave out, in place, every key the schema does not know; a warning for each."""
    branch = object_branch(node, table)
    if branch is None or branch.get("x-verbatim") or node.get("x-verbatim"):
        return
    properties = branch.get("properties", {})
    for key in list(table):
        where = (*path, key)
        if key not in properties:
            yield document.diagnostic(
                where,
                "unknown-key",
                f"{format_path(where)}: unknown key dropped; this version's schema has no "
                "such field",
                severity="warning",
                anchor="key",
            )
            del table[key]
            continue
        field = resolve(properties[key])
        value = table[key]
        if isinstance(value, dict):
            yield from drop_unknown_keys(document, field, value, where)
        elif isinstance(value, list):
            array = branch_of_type(field, "array")
            items = resolve(array["items"]) if array and "items" in array else None
            for index, item in enumerate(value):
                if items is not None and isinstance(item, dict):
                    yield from drop_unknown_keys(document, items, item, (*where, index))


def too_deep(value: Any) -> KeyPath | None:
    """The first path nested deeper than MAX_DEPTH, if any (without recursion)."""
    stack: list[tuple[KeyPath, Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if len(path) > MAX_DEPTH:
            return path
        if isinstance(item, Mapping):
            stack.extend(((*path, k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in enumerate(item))
    return None
