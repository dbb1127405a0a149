"""Compiling a resolved preset into the request body of a target.

The emission rules are read from the schema's annotations (``x-order``, ``x-emit``,
``x-when-absent``, ``x-null-when-false``, ``x-verbatim``); this module keeps no list of
fields of its own. Functions here are pure: data in, new data out, input untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._loader import Preset, copy_json
from realtime_config._schema import Schema, branch_of_type, load_schema, resolve

TARGETS: Final = ("sessions", "client_secrets", "session.update")
"""Compile targets: the beta sessions body, the GA client_secrets body, the WebSocket event."""

DEFAULT_TARGET: Final = "sessions"

_OMIT: Final = object()


def compile_session(session: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /v1/realtime/sessions`` body for a resolved, valid session table."""
    payload, _ = _emit_table(load_schema(), session)
    return payload


def _emit_table(schema: Schema, table: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Emit ``table`` in the schema's key order; also say whether any written key survived."""
    properties = schema.get("properties", {})
    payload: dict[str, Any] = {}
    written = False
    for key in schema.get("x-order", ()):
        field = resolve(properties[key])
        rule = field.get("x-emit", "present")
        if rule == "never":
            continue
        if key in table:
            value = table[key]
            if rule == "non-default" and value == field.get("default"):
                continue
            emitted = _emit_value(field, value)
            if emitted is _OMIT:
                continue
            payload[key] = emitted
            written = True
        elif rule == "always":
            payload[key] = copy_json(field["x-when-absent"])
    return payload, written


def _emit_value(field: Schema, value: Any) -> Any:
    if value is False and field.get("x-null-when-false"):
        return None
    if field.get("x-verbatim"):
        return copy_json(value)
    if isinstance(value, dict):
        table_schema = branch_of_type(field, "object")
        if table_schema is None:
            return copy_json(value)
        emitted, written = _emit_table(table_schema, value)
        if field.get("x-emit") == "non-empty" and not written:
            return _OMIT
        return emitted
    if isinstance(value, list):
        array_schema = branch_of_type(field, "array")
        items = resolve(array_schema["items"]) if array_schema and "items" in array_schema else {}
        return [_emit_value(items, item) for item in value]
    return value


def compile_preset(
    preset: Preset | Mapping[str, Any],
    target: str | None = None,
    *,
    drop_unsupported: bool = False,
) -> dict[str, Any]:
    """The request body of ``target`` for a loaded preset (or a session table).

    ``target`` defaults to the preset's ``preset.target``, else ``sessions``. A plain
    mapping is checked against the schema first; a PresetError lists its problems.
    ``drop_unsupported`` leaves out the fields the target lacks instead of failing.
    """
    if not isinstance(preset, Preset):
        preset = _preset_from_mapping(preset)
    chosen = target or preset.target or DEFAULT_TARGET
    if chosen == "sessions":
        return compile_session(preset.session)
    if chosen == "session.update":
        session = compile_session(preset.session)
        session.pop("client_secret", None)
        return {"type": "session.update", "session": session}
    if chosen == "client_secrets":
        from realtime_config._compile_ga import compile_client_secrets

        return compile_client_secrets(preset, drop_unsupported=drop_unsupported)
    raise ValueError(f"unknown target {chosen!r}; expected one of {', '.join(TARGETS)}")


def compile_preset_with_warnings(
    preset: Preset | Mapping[str, Any],
    target: str | None = None,
    *,
    drop_unsupported: bool = False,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Like ``compile_preset``, plus the warnings of compiling: each unsupported field dropped."""
    if not isinstance(preset, Preset):
        preset = _preset_from_mapping(preset)
    if (target or preset.target or DEFAULT_TARGET) == "client_secrets":
        from realtime_config._compile_ga import compile_client_secrets_with_warnings

        return compile_client_secrets_with_warnings(preset, drop_unsupported=drop_unsupported)
    return compile_preset(preset, target, drop_unsupported=drop_unsupported), []


def _preset_from_mapping(session: Mapping[str, Any]) -> Preset:
    """A session table given as data, checked as a preset file would be."""
    from pathlib import Path

    from realtime_config._loader import Document, document_diagnostics, with_cross_field_checks

    table = copy_json(dict(session))
    document = Document(Path("<session>"), "<session>", "", table)
    errors = [p for p in document_diagnostics(document) if p.is_error]
    if errors:
        raise PresetError(errors)
    settings = table.pop("preset", {})
    return with_cross_field_checks(
        Preset(
            path=document.path,
            session=table,
            target=settings.get("target"),
            description=settings.get("description"),
            _locate=lambda key, anchor: (document.display, *document.position(key, anchor)),
        )
    )


def dumps_payload(payload: Mapping[str, Any], *, compact: bool = False) -> str:
    """The payload as byte-stable JSON text: indented with a trailing newline, or compact."""
    if compact:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
