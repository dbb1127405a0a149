"""Compiling a resolved preset into the request body of a target.

The emission rules are read from the schema's annotations (``x-order``, ``x-emit``,
``x-update-emit``, ``x-when-absent``, ``x-null-when-false``, ``x-false-on-create``,
``x-verbatim``); this module keeps no list of fields of its own. Each dialect is emitted
from its own branch of the schema; what a target does with the result (wrap it, translate
it) is in ``_targets``.
Functions here are pure: data in, new data out, input untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from realtime_config._keys import copy_json
from realtime_config._schema import Schema, branch_of_type, dialect_schema, object_branch, resolve

_OMIT: Final = object()


def compile_session(
    session: Mapping[str, Any], dialect: str = "beta", *, creating: bool = True
) -> dict[str, Any]:
    """A resolved, valid session table as the API's session object, in its dialect.

    For ``beta`` this is the ``POST /v1/realtime/sessions`` body. ``creating`` says whether
    a session is being created (then a GA feature that is off by default is simply not
    sent when ``false``) or updated (then every ``false`` is sent as null, what only
    creation takes, ``x-create-only``, is left out, and a field whose creation rule adds or
    omits a default follows its ``x-update-emit`` rule: an update sends what is written).
    """
    payload, _ = _emit_table(dialect_schema(dialect), session, creating)
    return payload


def emit_field(field: Schema, value: Any, *, creating: bool = True) -> Any:
    """One value emitted by its field's rules; None when the rules leave it out."""
    emitted = _emit_value(field, value, creating)
    return None if emitted is _OMIT else emitted


def _emit_table(
    schema: Schema, table: Mapping[str, Any], creating: bool
) -> tuple[dict[str, Any], bool]:
    """Emit ``table`` in the schema's key order; also say whether any written key survived."""
    properties = schema.get("properties", {})
    payload: dict[str, Any] = {}
    written = False
    for key in schema.get("x-order", ()):
        field = resolve(properties[key])
        rule = field.get("x-emit", "present")
        if rule == "never" or (not creating and field.get("x-create-only")):
            continue
        if not creating:
            rule = field.get("x-update-emit", rule)
        if key in table:
            value = table[key]
            if rule == "non-default" and value == field.get("default"):
                continue
            emitted = _emit_value(field, value, creating)
            if emitted is _OMIT:
                continue
            payload[key] = emitted
            written = True
        elif rule == "always":
            payload[key] = copy_json(field["x-when-absent"])
    return payload, written


def _emit_value(field: Schema, value: Any, creating: bool) -> Any:
    if value is False and field.get("x-null-when-false"):
        if creating and field.get("x-false-on-create") == "omit":
            return _OMIT
        return None
    if field.get("x-verbatim"):
        return copy_json(value)
    if isinstance(value, dict):
        table_schema = object_branch(field, value)
        if table_schema is None:
            return copy_json(value)
        emitted, written = _emit_table(table_schema, value, creating)
        if field.get("x-emit") == "non-empty" and not written:
            return _OMIT
        return emitted
    if isinstance(value, list):
        array_schema = branch_of_type(field, "array")
        items = resolve(array_schema["items"]) if array_schema and "items" in array_schema else {}
        return [_emit_value(items, item, creating) for item in value]
    return value


def dumps_payload(payload: Mapping[str, Any], *, compact: bool = False) -> str:
    """The payload as byte-stable JSON text: indented with a trailing newline, or compact."""
    if compact:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
