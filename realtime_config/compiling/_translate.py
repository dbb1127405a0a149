"""Translating between the two dialects, both ways, from one set of schema annotations.

Each beta field says where its value goes in the GA body (``x-ga``: a dotted path, null
when GA has no such field), how a value changes on the way (``x-ga-map``, ``x-ga-pick``)
and whether ``false`` is simply left out when a session is created (``x-ga-omit-false``);
``x-ga-order`` and ``x-ga-const`` at the beta root place the paths in the official order.
Beta -> GA reads them forwards, from the compiled beta body (so what the beta body omits,
the GA body omits); GA -> beta reads the same annotations backwards, and a GA value that
no beta field can take is unsupported. This module keeps no list of fields of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from realtime_config._keys import KeyPath, copy_json
from realtime_config._schema import (
    Schema,
    branch_of_type,
    branches,
    dialect_schema,
    discriminant,
    field_schema,
    object_branch,
    resolve,
)
from realtime_config.compiling._compile import compile_session


def beta_unsupported(session: Mapping[str, Any]) -> list[KeyPath]:
    """The keys of a beta session that GA does not have (``x-ga`` null)."""
    return list(_beta_unsupported(dialect_schema("beta"), session, ()))


def _beta_unsupported(schema: Schema, table: Mapping[str, Any], path: KeyPath) -> Iterator[KeyPath]:
    properties = schema.get("properties", {})
    for key in schema.get("x-order", ()):
        if key not in table:
            continue
        field = resolve(properties[key])
        if "x-ga" in field:
            if field["x-ga"] is None:
                yield (*path, key)
            continue
        nested = branch_of_type(field, "object")
        if nested is not None and isinstance(table[key], Mapping):
            yield from _beta_unsupported(nested, table[key], (*path, key))


def ga_body_from_beta(session: Mapping[str, Any], *, creating: bool = True) -> dict[str, Any]:
    """A beta session as the GA ``client_secrets`` body: ``{"expires_after", "session"}``.

    The values are those of the beta body (its emission rules apply first), translated, in
    the official GA key order. Unsupported fields are left out; callers report them first
    (``beta_unsupported``).
    """
    schema = dialect_schema("beta")
    slots: dict[str, Any] = dict(copy_json(schema.get("x-ga-const", {})))
    _collect(schema, compile_session(session, creating=creating), slots, creating)
    body = _assemble(schema["x-ga-order"], slots)
    # In the official GA key order at every level, as a GA preset's body is: a beta tool
    # lists parameters before description, the GA schema the other way round.
    body["session"] = compile_session(body["session"], "realtime", creating=creating)
    return body


def _collect(
    schema: Schema, emitted: Mapping[str, Any], slots: dict[str, Any], creating: bool
) -> None:
    """Put each emitted value of the sessions body into ``slots``, keyed by its GA path."""
    properties = schema.get("properties", {})
    for key, value in emitted.items():
        field = resolve(properties[key])
        if "x-ga" not in field:
            nested = branch_of_type(field, "object")
            if nested is None or not isinstance(value, Mapping):
                raise ValueError(f"the schema gives no x-ga for {key!r}")
            _collect(nested, value, slots, creating)
            continue
        target = field["x-ga"]
        if target is None or (value is None and creating and field.get("x-ga-omit-false")):
            continue
        slots[target] = ga_value(field, value)


def ga_value(field: Schema, value: Any) -> Any:
    """A beta field's value in its GA form, as the field's ``x-ga-map`` / ``x-ga-pick`` say."""
    if "x-ga-pick" in field and isinstance(value, list):
        picked = next((item for item in field["x-ga-pick"] if item in value), None)
        return [picked] if picked is not None else value
    for branch in branches(field):
        mapping = branch.get("x-ga-map")
        if mapping is not None and isinstance(value, str) and value in mapping:
            return copy_json(mapping[value])
    return value


def ga_place(path: KeyPath) -> tuple[int, KeyPath | None] | None:
    """For a beta key path: how many of its parts name the mapped field, and that field's
    GA path (None: GA has no such field). None when no field on the path has ``x-ga``
    (``preset``, or a table such as ``client_secret`` that is spread into its keys).
    """
    node: Schema | None = dialect_schema("beta")
    for depth, part in enumerate(path):
        if node is None or isinstance(part, int):
            return None
        table = branch_of_type(node, "object")
        if table is None or part not in table.get("properties", {}):
            return None
        node = resolve(table["properties"][part])
        if "x-ga" in node:
            target = node["x-ga"]
            if target is None:
                return depth + 1, None
            return depth + 1, _ga_path(target)
    return None


def _ga_path(dotted: str) -> KeyPath:
    """An ``x-ga`` value as a key path inside the session (``session.`` dropped)."""
    return tuple(dotted.removeprefix("session.").split("."))


def _assemble(order: list[str], slots: Mapping[str, Any]) -> dict[str, Any]:
    """The nested GA body: each filled slot at its dotted path, in ``order``."""
    unplaced = sorted(set(slots) - set(order))
    if unplaced:
        raise ValueError(f"x-ga-order does not place {', '.join(unplaced)}")
    body: dict[str, Any] = {}
    for path in order:
        if path not in slots:
            continue
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = slots[path]
    return body


@functools.cache
def _beta_fields_by_ga_path() -> dict[KeyPath, tuple[KeyPath, Schema]]:
    """Each GA path that a beta field maps to, with that field's path and schema."""
    index: dict[KeyPath, tuple[KeyPath, Schema]] = {}
    stack: list[tuple[KeyPath, Schema]] = [((), dialect_schema("beta"))]
    while stack:
        path, table = stack.pop()
        for key, node in table.get("properties", {}).items():
            field = resolve(node)
            if field.get("x-emit") == "never":
                continue
            if "x-ga" in field:
                if field["x-ga"] is not None:
                    index[_ga_path(field["x-ga"])] = ((*path, key), field)
                continue
            nested = branch_of_type(field, "object")
            if nested is not None:
                stack.append(((*path, key), nested))
    return index


def beta_field_of(path: KeyPath) -> KeyPath | None:
    """The beta field a GA path maps to (``audio.output.voice`` -> ``voice``), if any."""
    found = _beta_fields_by_ga_path().get(path)
    if found is not None:
        return found[0]
    for length in range(len(path) - 1, 0, -1):
        parent = _beta_fields_by_ga_path().get(path[:length])
        if parent is not None:
            inner = parent[1]
            for key in path[length:]:
                array = branch_of_type(inner, "array")
                if array is not None:
                    inner = resolve(array.get("items", {}))
                table = branch_of_type(inner, "object")
                if table is None or key not in table.get("properties", {}):
                    return None
                inner = resolve(table["properties"][key])
            return (*parent[0], *path[length:])
    return None


def beta_counterpart(path: KeyPath) -> tuple[KeyPath, Schema] | None:
    """The beta key path and schema of a GA path: of the field that maps to it, or of the
    key inside such a field (``tools[0].name``), as the beta schema has it."""
    index = _beta_fields_by_ga_path()
    for length in range(len(path), 0, -1):
        found = index.get(path[:length])
        if found is not None:
            inner = (*found[0], *path[length:])
            schema = field_schema(inner, "beta")
            return (inner, schema) if schema is not None else None
    return None


def beta_required_missing(path: KeyPath, value: Any) -> list[str]:
    """The keys beta requires that a GA table at ``path`` lacks (a tool's ``name``)."""
    found = _beta_fields_by_ga_path().get(path[:-1] if isinstance(path[-1], int) else path)
    if found is None or not isinstance(value, Mapping):
        return []
    node = found[1]
    if isinstance(path[-1], int):
        array = branch_of_type(node, "array")
        node = resolve(array.get("items", {})) if array else {}
    table = object_branch(node, value) or {}
    kinds = discriminant(table)
    if "type" in value and kinds and value["type"] not in kinds:
        return []  # not a missing key: a kind of value beta does not have
    return [key for key in table.get("required", ()) if key not in value]


def has_beta_counterpart(path: KeyPath) -> bool:
    """Whether a GA path names a value that beta has a place for, though not this value
    (a custom voice, an MCP tool), rather than a key that beta lacks."""
    index = _beta_fields_by_ga_path()
    return path in index or (
        isinstance(path[-1], int) and any(path[: len(ga)] == ga for ga in index)
    )


def _ga_constants() -> set[KeyPath]:
    return {_ga_path(path) for path in dialect_schema("beta").get("x-ga-const", {})}


def beta_session_from_ga(
    session: Mapping[str, Any], *, creating: bool = True
) -> tuple[dict[str, Any], list[KeyPath]]:
    """A GA realtime session as a beta session table, and the GA paths beta cannot carry.

    What cannot be carried is left out of the table. When ``creating``, a value that is the
    beta default (``["audio"]`` output, beta's ``["audio", "text"]``) is left for the beta
    emission rules to add; in an update, which adds nothing, it is written out.
    """
    index = _beta_fields_by_ga_path()
    constants = _ga_constants()
    beta: dict[str, Any] = {}
    unsupported: list[KeyPath] = []
    stack: list[tuple[KeyPath, Any]] = [((key,), value) for key, value in session.items()]
    stack.reverse()
    while stack:
        path, value = stack.pop()
        if path in constants:
            continue
        if path in index:
            beta_path, field = index[path]
            converted, lost = _backward(field, value, path, creating)
            unsupported.extend(lost)
            if converted is not _ABSENT:
                _put(beta, beta_path, converted)
            continue
        inside = [ga for ga in index if ga[: len(path)] == path and len(ga) > len(path)]
        if inside and isinstance(value, Mapping):
            stack.extend(reversed([((*path, k), v) for k, v in value.items()]))
            continue
        unsupported.append(path)
    return beta, unsupported


_ABSENT = object()


def _backward(
    field: Schema, value: Any, path: KeyPath, creating: bool = True
) -> tuple[Any, list[KeyPath]]:
    """A GA value in the beta field's form, and the parts of it beta cannot carry."""
    if "x-ga-pick" in field:
        absent = field.get("x-when-absent")
        if value == ga_value(field, absent):
            return (_ABSENT if creating else copy_json(absent)), []
        return copy_json(value), _lost_parts(field, value, path)
    mapping = field.get("x-ga-map")
    if mapping is not None:
        for beta_value, ga_form in mapping.items():
            fits = isinstance(value, Mapping) and "type" in value and set(value) <= set(ga_form)
            if fits and all(value[key] == ga_form[key] for key in value):
                return beta_value, []
        return _ABSENT, [path]
    lost = _lost_parts(field, value, path)
    return _without(copy_json(value), [p[len(path) :] for p in lost]), lost


def _lost_parts(node: Schema, value: Any, path: KeyPath) -> list[KeyPath]:
    """The parts of ``value`` (by GA path) that the beta schema ``node`` cannot take."""
    if value is False and node.get("x-null-when-false"):
        return []
    if isinstance(value, Mapping):
        table = object_branch(node, value)
        if table is None:
            return [path]
        kinds = discriminant(table)
        if "type" in value and kinds and value["type"] not in kinds:
            return [path]
        if any(key not in value for key in table.get("required", ())):
            return [path]  # a GA function tool without a name: beta needs one
        if node.get("x-verbatim") or table.get("x-verbatim"):
            return []
        properties = table.get("properties", {})
        lost: list[KeyPath] = []
        for key, item in value.items():
            if key not in properties:
                lost.append((*path, key))
            else:
                lost.extend(_lost_parts(resolve(properties[key]), item, (*path, key)))
        return lost
    if isinstance(value, list):
        array = branch_of_type(node, "array")
        items = resolve(array["items"]) if array and "items" in array else {}
        return [p for i, item in enumerate(value) for p in _lost_parts(items, item, (*path, i))]
    if any(_scalar_fits(branch, value) for branch in branches(node)):
        return []
    return [path]


def _scalar_fits(branch: Schema, value: Any) -> bool:
    kind = branch.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "number"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


def _without(value: Any, parts: list[KeyPath]) -> Any:
    """``value`` with the sub-paths ``parts`` removed (array items from the last one up)."""
    for part in sorted(parts, key=lambda p: [(isinstance(k, str), k) for k in p], reverse=True):
        if not part:
            return _ABSENT
        node = value
        for key in part[:-1]:
            node = node[key]
        del node[part[-1]]
    return value


def _put(table: dict[str, Any], path: KeyPath, value: Any) -> None:
    node = table
    for key in path[:-1]:
        node = node.setdefault(str(key), {})
    node[str(path[-1])] = value
