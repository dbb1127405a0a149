"""Checks JSON Schema cannot express, run on a resolved preset, and the validate entry point.

Errors: a function ``tool_choice`` naming no tool, duplicate tool names, VAD settings of the
other ``turn_detection.type``, ``tools[].parameters`` that is not a JSON Schema. Warnings:
settings with no effect, unknown model ids, voices and transcription models.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._loader import Loader, Preset, dedupe
from realtime_config._paths import KeyPath, format_inline, format_path
from realtime_config._schema import Schema, branch_of_type, field_schema, known_values, load_schema
from realtime_config._validate import (
    describe_value,
    join_alternatives,
    kind_of,
    suggest,
    type_words,
)

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


def cross_field_diagnostics(preset: Preset) -> list[Diagnostic]:
    """Every cross-field problem of a resolved preset, errors and warnings."""
    session = preset.session
    found: list[Diagnostic] = []
    found.extend(_tool_checks(preset, session))
    found.extend(_vad_checks(preset, session))
    found.extend(_no_effect_checks(preset, session))
    found.extend(_unknown_value_checks(preset, session))
    return found


def _tool_checks(preset: Preset, session: Any) -> Iterator[Diagnostic]:
    tools = session.get("tools", [])
    names: dict[str, int] = {}
    for index, tool in enumerate(tools):
        name = tool.get("name")
        if name in names:
            yield preset.diagnostic(
                ("tools", index, "name"),
                "duplicate-tool",
                f"tools[{index}].name: {describe_value(name)} is already the name of "
                f"tools[{names[name]}]; tool names must be unique",
                anchor="value",
            )
        elif isinstance(name, str):
            names[name] = index
        parameters = tool.get("parameters")
        if isinstance(parameters, dict):
            yield from _parameters_check(preset, index, parameters)
    choice = session.get("tool_choice")
    if isinstance(choice, dict) and choice.get("name") not in names:
        name = choice.get("name")
        where = (
            f"no tool in `tools` has that name{suggest(str(name), names)}"
            if names
            else "`tools` defines no function"
        )
        yield preset.diagnostic(
            ("tool_choice", "name"),
            "tool-choice",
            f"tool_choice names the function {describe_value(name)}, but {where}",
            anchor="value",
        )


def _parameters_check(
    preset: Preset, index: int, parameters: dict[str, Any]
) -> Iterator[Diagnostic]:
    try:
        error = _schema_error(json.dumps(parameters))
    except RecursionError:
        error = None
        yield preset.diagnostic(
            ("tools", index, "parameters"),
            "tool-parameters",
            f"tools[{index}].parameters: not a valid JSON Schema: it nests too deeply",
        )
    while error is not None and error.context:
        error = next((e for e in error.context if e.validator != "type"), error.context[0])
    if error is not None:
        path: KeyPath = ("tools", index, "parameters", *error.absolute_path)
        if error.validator == "enum" and isinstance(error.instance, str):
            allowed = [v for v in error.validator_value if isinstance(v, str)]
            reason = (
                f"{describe_value(error.instance)} is not a valid value; expected "
                f"{join_alternatives([describe_value(v) for v in allowed])}"
                f"{suggest(error.instance, allowed)}"
            )
        elif error.validator == "type":
            reason = (
                f"expected {type_words(error.validator_value)}, found {kind_of(error.instance)}"
            )
        else:
            reason = error.message
        yield preset.diagnostic(
            path,
            "tool-parameters",
            f"{format_path(path)}: not a valid JSON Schema: {reason}",
            anchor="value",
        )


@functools.lru_cache(maxsize=256)
def _schema_error(schema_json: str) -> Any:
    """Why a JSON Schema (as JSON text) is not valid draft 2020-12: a ValidationError, or None.

    Cached by content: presets share tools through ``extends``, and checking a schema
    against the meta-schema costs more than everything else about a preset. The plain schemas
    that tools use pass a quick check first, so valid presets never import jsonschema.
    """
    from realtime_config._meta_check import is_certainly_valid_schema

    if is_certainly_valid_schema(json.loads(schema_json)):
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    return best_match(meta.iter_errors(json.loads(schema_json)))


def _vad_checks(preset: Preset, session: Any) -> Iterator[Diagnostic]:
    detection = session.get("turn_detection")
    schema = field_schema(("turn_detection",))
    if not isinstance(detection, dict) or schema is None:
        return
    table = branch_of_type(schema, "object") or {}
    chosen = detection.get("type", table["properties"]["type"].get("x-when-absent"))
    for key in detection:
        belongs_to = table["properties"].get(key, {}).get("x-applies-to")
        if belongs_to is not None and belongs_to != chosen:
            yield preset.diagnostic(
                ("turn_detection", key),
                "vad-field",
                f"turn_detection.{key} applies only to {belongs_to}, but turn_detection.type "
                f"is {chosen}",
            )


def _no_effect_checks(preset: Preset, session: Any) -> Iterator[Diagnostic]:
    properties = load_schema()["properties"]
    modalities_schema = properties["modalities"]
    modalities = session.get("modalities", modalities_schema.get("x-when-absent"))
    for key, field in properties.items():
        needed = field.get("x-needs-modality")
        if needed is not None and key in session and needed not in modalities:
            yield preset.diagnostic(
                (key,),
                "no-effect",
                f"{key} has no effect: modalities does not include {describe_value(needed)}",
                severity="warning",
                anchor="key",
            )


def _unknown_value_checks(preset: Preset, session: Any) -> Iterator[Diagnostic]:
    for path, schema, value in _open_enum_values(load_schema(), session, ()):
        known = known_values(schema)
        if value in known:
            continue
        noun = schema.get("x-known-as", "value")
        yield preset.diagnostic(
            path,
            "unknown-value",
            f"{format_path(path)} `{format_inline(value)}` is not a known {noun}"
            f"{suggest(value, known)}",
            severity="warning",
            anchor="value",
        )


def _open_enum_values(
    schema: Schema, value: Any, path: KeyPath
) -> Iterator[tuple[KeyPath, Schema, str]]:
    if schema.get("x-open-enum") and isinstance(value, str):
        yield path, schema, value
        return
    table = branch_of_type(schema, "object")
    if table is None or not isinstance(value, dict) or schema.get("x-verbatim"):
        return
    for key, child in table.get("properties", {}).items():
        if key in value:
            yield from _open_enum_values(child, value[key], (*path, key))


PARALLEL_MIN_FILES: Final = 200
"""Below this many files, starting worker processes costs more than it saves."""


def default_jobs(file_count: int) -> int:
    """How many processes ``validate`` uses by default: one per CPU for a long list of files.

    Under pre-commit (which sets PRE_COMMIT=1) it stays at one: pre-commit already runs
    parallel batches, one per CPU.
    """
    if file_count < PARALLEL_MIN_FILES or os.environ.get("PRE_COMMIT"):
        return 1
    return os.cpu_count() or 1


def check_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    root: str | os.PathLike[str] | None = None,
    target: str | None = None,
    jobs: int = 1,
) -> list[Diagnostic]:
    """Check every preset in ``paths``: all diagnostics, errors and warnings, in order.

    Never raises for bad input: unreadable or malformed files become diagnostics. With
    ``jobs`` above one (and fork available, as on Linux), contiguous slices of the list are
    checked in that many processes; the result is the same, in the same order.
    """
    files = [Path(path) for path in paths]
    workers = min(jobs, len(files))
    context = _fork_context() if workers > 1 else None
    if context is None:
        return dedupe(_check_slice(files, root, target))
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(files) // workers)
    slices = [files[start : start + size] for start in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=len(slices), mp_context=context) as pool:
        parts = pool.map(_check_slice, slices, [root] * len(slices), [target] * len(slices))
        return dedupe([d for part in parts for d in part])


def _fork_context() -> BaseContext | None:
    """A fork start method: workers inherit the loaded schema and imports for free."""
    import multiprocessing

    if sys.platform != "linux":
        return None
    return multiprocessing.get_context("fork")


def _check_slice(
    files: Sequence[Path], root: str | os.PathLike[str] | None, target: str | None
) -> list[Diagnostic]:
    loader = Loader(Path(root) if root is not None else None)
    return [d for path in files for d in _check_one(loader, path, target)]


def check_preset(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    target: str | None = None,
) -> list[Diagnostic]:
    """Check one preset; the diagnostics it has (empty when it is clean)."""
    return check_files([path], root=root, target=target)


def _check_one(loader: Loader, path: Path, target: str | None) -> list[Diagnostic]:
    try:
        preset = loader.load(path)
    except PresetError as error:
        return list(error.diagnostics)
    found = list(preset.warnings)
    chosen = target or preset.target
    if chosen == "client_secrets" and not any(d.is_error for d in found):
        from realtime_config._compile_ga import target_diagnostics

        found.extend(target_diagnostics(preset))
    return sorted(found, key=lambda d: (d.file, d.line, d.column))
