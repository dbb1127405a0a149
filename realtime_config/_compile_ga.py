"""Compiling a preset for the GA endpoint: the body of ``POST /v1/realtime/client_secrets``.

The GA body is the ``sessions`` body translated field by field (the beta emission rules
apply first, so what is omitted there is omitted here), by annotations the schema carries
and documents in its ``$comment``: ``x-ga`` (where a field goes; null when GA has no such
field), ``x-ga-order``, ``x-ga-const``, ``x-ga-map``, ``x-ga-pick`` and ``x-ga-omit-false``.
This module keeps no list of fields of its own.

Key order (``x-ga-order``) is the order in which the official GA request schema lists its
properties: ``expires_after`` (``anchor``, ``seconds``), then ``session``: ``type``,
``output_modalities``, ``model``, ``instructions``, ``audio`` (``input``: ``format``,
``transcription``, ``noise_reduction``, ``turn_detection``; ``output``: ``format``, ``voice``,
``speed``), ``tracing``, ``tools``, ``tool_choice``, ``max_output_tokens``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from realtime_config._compile import compile_session
from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._errors import PresetError
from realtime_config._loader import Preset, copy_json
from realtime_config._paths import KeyPath, format_path
from realtime_config._schema import Schema, branch_of_type, load_schema, resolve

TARGET: Final = "client_secrets"


def target_diagnostics(preset: Preset, *, severity: Severity = "error") -> list[Diagnostic]:
    """One diagnostic per field the preset sets that the GA endpoint does not have."""
    problems = []
    for path in _unsupported_paths(load_schema(), preset.session, ()):
        name = format_path(path)
        remedy = (
            "dropped from the payload"
            if severity == "warning"
            else "remove it or use --drop-unsupported"
        )
        problems.append(
            preset.diagnostic(
                path,
                "target-unsupported",
                f"{name} is not supported by target {TARGET} (the GA endpoint has no {name}); "
                f"{remedy}",
                severity=severity,
            )
        )
    return problems


def _unsupported_paths(
    schema: Schema, table: Mapping[str, Any], path: KeyPath
) -> Iterator[KeyPath]:
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
            yield from _unsupported_paths(nested, table[key], (*path, key))


def compile_client_secrets(preset: Preset, *, drop_unsupported: bool = False) -> dict[str, Any]:
    """The ``POST /v1/realtime/client_secrets`` body for a loaded preset.

    A field GA does not have (``temperature``) is a PresetError located at its key, unless
    ``drop_unsupported`` is set: then it is left out (the warnings are in
    ``compile_client_secrets_with_warnings``).
    """
    body, _ = compile_client_secrets_with_warnings(preset, drop_unsupported=drop_unsupported)
    return body


def compile_client_secrets_with_warnings(
    preset: Preset, *, drop_unsupported: bool = False
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The GA body and the warnings of compiling it: one per field dropped as unsupported."""
    problems = target_diagnostics(preset, severity="warning" if drop_unsupported else "error")
    if problems and not drop_unsupported:
        raise PresetError(problems)
    schema = load_schema()
    slots: dict[str, Any] = dict(copy_json(schema.get("x-ga-const", {})))
    _collect(schema, compile_session(preset.session), slots)
    return _assemble(schema["x-ga-order"], slots), problems


def _collect(schema: Schema, emitted: Mapping[str, Any], slots: dict[str, Any]) -> None:
    """Put each emitted value of the sessions body into ``slots``, keyed by its GA path."""
    properties = schema.get("properties", {})
    for key, value in emitted.items():
        field = resolve(properties[key])
        if "x-ga" not in field:
            nested = branch_of_type(field, "object")
            if nested is None or not isinstance(value, Mapping):
                raise ValueError(f"the schema gives no x-ga for {key!r}")
            _collect(nested, value, slots)
            continue
        target = field["x-ga"]
        if target is None or (value is None and field.get("x-ga-omit-false")):
            continue
        slots[target] = _translate(field, value)


def _translate(field: Schema, value: Any) -> Any:
    """A value of the sessions body in its GA form, as the field's annotations say."""
    if "x-ga-pick" in field and isinstance(value, list):
        picked = next((item for item in field["x-ga-pick"] if item in value), None)
        return [picked] if picked is not None else value
    mapping = field.get("x-ga-map")
    if mapping is not None and isinstance(value, str) and value in mapping:
        return copy_json(mapping[value])
    return value


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
