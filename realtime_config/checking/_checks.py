"""Checks JSON Schema cannot express, run on a resolved preset.

Errors: a function or MCP ``tool_choice`` naming no tool, duplicate tool names or MCP server
labels, VAD settings of the other ``turn_detection.type`` (beta; in GA presets the schema's
closed alternatives catch them), ``tools[].parameters`` that is not a JSON Schema, more than
one ``output_modalities`` value, an MCP tool without exactly one server, a setting that
needs another model, that its model refuses or that needs a feature switched off, reasoning
settings on a model known not to reason, a model past its shutdown date. Warnings: settings
with no effect, deprecated models before their shutdown, unknown model ids, voices and
transcription models.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from realtime_config._diagnostics import Diagnostic
from realtime_config._keys import KeyPath, format_inline, format_path
from realtime_config._schema import (
    Schema,
    branch_of_type,
    branches,
    dialect_schema,
    discriminant,
    field_schema,
    known_values,
    modalities_key,
    object_branch,
    resolve,
)
from realtime_config._wording import (
    describe_value,
    join_alternatives,
    kind_of,
    suggest,
    type_words,
)

if TYPE_CHECKING:
    from realtime_config.preset._model import Preset


def cross_field_diagnostics(preset: Preset) -> list[Diagnostic]:
    """Every cross-field problem of a resolved preset, errors and warnings."""
    session = preset.session
    fields = _present_fields(preset)
    found: list[Diagnostic] = []
    for check in _CHECKS[preset.dialect]:
        found.extend(check(preset, session, fields))
    return found


Fields = list[tuple[KeyPath, "Schema", Any]]
"""Every key a session sets, with its field schema: one walk shared by the checks."""


class _ToolNaming:
    """How one kind of tool is named, for uniqueness and for tool_choice: the key that names
    it and the words for it, read from that key's ``x-tool-name`` annotation."""

    __slots__ = ("defined", "key", "noun", "plural", "reference")

    def __init__(self, key: str, words: dict[str, str]) -> None:
        self.key = key
        self.noun = key.replace("_", " ")
        self.plural = words["plural"]
        self.reference = words["reference"]
        self.defined = words["kind"]


@functools.cache
def _tool_kinds(dialect: str) -> dict[str, _ToolNaming]:
    """Each kind of tool of a dialect (its ``type``), the first branch's first: a tool that
    writes no ``type`` is of that kind."""
    items = field_schema(("tools", 0), dialect)
    found: dict[str, _ToolNaming] = {}
    for branch in branches(items) if items is not None else ():
        for key, node in branch.get("properties", {}).items():
            words = resolve(node).get("x-tool-name")
            if words is not None:
                for kind in discriminant(branch):
                    found.setdefault(kind, _ToolNaming(key, words))
    return found


def _tool_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    tools = session.get("tools", [])
    kinds = _tool_kinds(preset.dialect)
    typeless = next(iter(kinds), None)
    named: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
    for index, tool in enumerate(tools):
        kind = tool.get("type", typeless)
        if kind not in kinds:
            continue
        naming = kinds[kind]
        key, noun, plural = naming.key, naming.noun, naming.plural
        names = named[kind]
        name = tool.get(key)
        if name in names:
            yield preset.diagnostic(
                ("tools", index, key),
                "duplicate-tool",
                f"tools[{index}].{key}: {describe_value(name)} is already the {noun} of "
                f"tools[{names[name]}]; {plural} must be unique",
                anchor="value",
            )
        elif isinstance(name, str):
            names[name] = index
        parameters = tool.get("parameters")
        if isinstance(parameters, dict):
            yield from _parameters_check(preset, index, parameters)
    choice = session.get("tool_choice")
    kind = choice.get("type", typeless) if isinstance(choice, dict) else None
    if kind not in kinds:
        return
    key, reference, defined = kinds[kind].key, kinds[kind].reference, kinds[kind].defined
    names = named[kind]
    name = choice.get(key)
    if name in names:
        return
    any_name = "that name" if key == "name" else f"that {key}"
    where = (
        f"no tool in `tools` has {any_name}{suggest(str(name), names)}"
        if names
        else f"`tools` defines no {defined}"
    )
    yield preset.diagnostic(
        ("tool_choice", key),
        "tool-choice",
        f"tool_choice names {reference} {describe_value(name)}, but {where}",
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
            anchor="key",
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
        return
    from realtime_config.checking._refs import dangling_references, recursive_reference

    for place, reference in dangling_references(parameters):
        where: KeyPath = ("tools", index, "parameters", *place, "$ref")
        yield preset.diagnostic(
            where,
            "dangling-ref",
            f"{format_path(where)}: {json.dumps(reference)} points at nothing in the parameters",
            severity="warning",
            anchor="value",
        )
    recursive = recursive_reference(parameters)
    if recursive is not None:
        where = ("tools", index, "parameters", *recursive[0], "$ref")
        yield preset.diagnostic(
            where,
            "recursive-ref",
            f"{format_path(where)}: {json.dumps(recursive[1])} makes the parameters recursive: "
            "it refers to a schema that contains it, so the arguments have no depth limit",
            severity="warning",
            anchor="value",
        )


@functools.lru_cache(maxsize=256)
def _schema_error(schema_json: str) -> Any:
    """Why a JSON Schema (as JSON text) is not valid draft 2020-12: a ValidationError, or None.

    Cached by content: presets share tools through ``extends``, and checking a schema
    against the meta-schema costs more than everything else about a preset. The plain schemas
    that tools use pass a quick check first, so valid presets never import jsonschema.
    """
    from realtime_config.checking._meta_check import is_certainly_valid_schema

    if is_certainly_valid_schema(json.loads(schema_json)):
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    return best_match(meta.iter_errors(json.loads(schema_json)))


def _modalities_check(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    """The API takes one output modality, although its schema allows an array of both."""
    for path, field, value in fields:
        if field.get("x-modalities") and isinstance(value, list) and len(value) > 1:
            yield preset.diagnostic(
                path,
                "modalities",
                f"{format_path(path)}: the API takes one value, "
                f'["audio"] (audio with a transcript) or ["text"]; found {len(value)}',
                anchor="value",
            )


def _one_of_group_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    """Tables that need exactly one key of a group (``x-one-of-group``: an MCP server)."""
    for index, tool in enumerate(session.get("tools", [])):
        branch = object_branch(field_schema(("tools", index), preset.dialect) or {}, tool)
        if branch is None or not isinstance(tool, dict):
            continue
        for group, keys in _one_of_groups(branch).items():
            present = [key for key in keys if key in tool]
            if len(present) == 1:
                continue
            options = join_alternatives([f"`{key}`" for key in keys])
            if present:
                where: KeyPath = ("tools", index, present[1])
                found = f"found {' and '.join(f'`{key}`' for key in present)}"
            else:
                where = ("tools", index, "type")
                found = "found none"
            yield preset.diagnostic(
                where,
                "one-of",
                f"tools[{index}]: an {group} needs exactly one of {options}; {found}",
                anchor="key",
            )


_GROUPS: dict[int, tuple[Schema, dict[str, list[str]]]] = {}


def _one_of_groups(branch: Schema) -> dict[str, list[str]]:
    """The ``x-one-of-group`` groups of a table's keys, once per schema node."""
    cached = _GROUPS.get(id(branch))
    if cached is None or cached[0] is not branch:
        groups: dict[str, list[str]] = {}
        for key, node in branch.get("properties", {}).items():
            group = resolve(node).get("x-one-of-group")
            if group is not None:
                groups.setdefault(group, []).append(key)
        cached = _GROUPS[id(branch)] = (branch, groups)
    return cached[1]


def _model_requirement_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    """Settings only one model takes (``x-needs-model``), settings some models refuse
    (``x-not-with-model``), and models that need a feature switched off (``x-requires-off``)."""
    present: dict[KeyPath, Any] = {}
    for path, field, value in fields:
        needed = field.get("x-needs-model")
        if needed is None and not _MODEL_RULES.intersection(field):
            continue
        if not present:
            present = {path: value for path, _, value in fields}
        model_path = (*path[:-1], "model")
        if needed is not None and present.get(model_path) != needed:
            model = present.get(model_path)
            current = f"is {describe_value(model)}" if model is not None else "is not set"
            yield preset.diagnostic(
                path,
                "needs-model",
                f"{format_path(path)} is supported only with model {describe_value(needed)}, "
                f"but {format_path(model_path)} {current}",
                anchor="key",
            )
        model = present.get(model_path)
        if model in field.get("x-not-with-model", ()):
            yield preset.diagnostic(
                path,
                "not-with-model",
                f"{format_path(path)} is not supported with model {describe_value(model)}",
                anchor="key",
            )
        for model, off_path in field.get("x-requires-off", {}).items():
            switch = tuple(off_path.split("."))
            if value == model and present.get(switch) is not False:
                yield preset.diagnostic(
                    path,
                    "needs-off",
                    f"{format_path(path)} {describe_value(model)} needs "
                    f"{off_path} = false: it does no turn detection of its own",
                    anchor="value",
                )


_MODEL_RULES: Final = frozenset({"x-not-with-model", "x-requires-off"})
"""The annotations of a field that a model's value decides, besides ``x-needs-model``."""


@functools.cache
def _non_reasoning_models(dialect: str) -> tuple[Any, ...]:
    model_field = field_schema(("model",), dialect) or {}
    return tuple(model_field.get("x-non-reasoning-models", ()))


def _reasoning_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    """Reasoning settings on a model the schema knows does not reason: an error, since the
    API rejects the whole request (or update) for them."""
    model = session.get("model")
    if model not in _non_reasoning_models(preset.dialect):
        return
    for path, field, _ in fields:
        if field.get("x-needs-reasoning"):
            yield preset.diagnostic(
                path,
                "needs-reasoning",
                f"{format_path(path)} is not supported by model {describe_value(model)}: it is "
                "not a reasoning model",
                anchor="key",
            )


def _present_fields(preset: Preset) -> Fields:
    """Every key the session sets, with its field schema, through tables (not arrays)."""
    found: Fields = []
    stack: list[tuple[KeyPath, Schema, Any]] = [
        ((), dialect_schema(preset.dialect), preset.session)
    ]
    while stack:
        path, schema, value = stack.pop()
        if path:
            found.append((path, schema, value))
        if not isinstance(value, dict):
            continue
        plan = _table_plan(schema)
        if not plan:
            continue
        children = plan[0][1]
        if len(plan) > 1 and "type" in value:
            kind = value["type"]
            children = next((c for values, c in plan if kind in values), children)
        for key in reversed(list(value)):
            node = children.get(key)
            if node is not None:
                stack.append(((*path, key), node, value[key]))
    return found


TablePlan = list[tuple[list[Any], dict[str, Schema]]]
"""A table's object alternatives: the ``type`` values that select each, and its fields
(resolved, those never emitted left out); empty for a verbatim table or a non-table."""

_PLANS: dict[int, tuple[Schema, TablePlan]] = {}


def _table_plan(schema: Schema) -> TablePlan:
    """The plan of ``schema``, built once per schema node (the node is kept, so that its id
    is never reused): what object_branch, resolve and the x-emit rule would say each time."""
    cached = _PLANS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    plan: TablePlan = []
    if not schema.get("x-verbatim"):
        for branch in branches(schema):
            if branch.get("type") != "object":
                continue
            fields = {}
            for key, node in branch.get("properties", {}).items():
                if resolve(node).get("x-emit") != "never":
                    fields[key] = resolve(node)
            plan.append((discriminant(branch), fields))
    _PLANS[id(schema)] = (schema, plan)
    return plan


@functools.cache
def _vad_table() -> Schema | None:
    """The beta ``turn_detection`` table's schema (None if the schema has no such field)."""
    schema = field_schema(("turn_detection",))
    return None if schema is None else branch_of_type(schema, "object") or {}


def _vad_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    detection = session.get("turn_detection")
    table = _vad_table()
    if not isinstance(detection, dict) or table is None:
        return
    chosen = detection.get("type", table["properties"]["type"].get("x-when-absent"))
    for key in detection:
        belongs_to = table["properties"].get(key, {}).get("x-applies-to")
        if belongs_to is not None and belongs_to != chosen:
            yield preset.diagnostic(
                ("turn_detection", key),
                "vad-field",
                f"turn_detection.{key} applies only to {belongs_to}, but turn_detection.type "
                f"is {chosen}",
                anchor="key",
            )


@functools.cache
def _modalities_field(dialect: str) -> tuple[str, Any]:
    """The key of a dialect's output modalities, and what they are when it is absent."""
    key = modalities_key(dialect)
    assert key is not None, f"the {dialect} branch marks no field x-modalities"
    modalities_schema = resolve(dialect_schema(dialect)["properties"][key])
    return key, modalities_schema.get("x-when-absent", modalities_schema.get("default"))


def _no_effect_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    modalities_key, absent = _modalities_field(preset.dialect)
    modalities = session.get(modalities_key, absent)
    for path, field, _ in fields:
        needed = field.get("x-needs-modality")
        if needed is not None and needed not in modalities:
            yield preset.diagnostic(
                path,
                "no-effect",
                f"{format_path(path)} has no effect: {modalities_key} does not include "
                f"{describe_value(needed)}",
                severity="warning",
                anchor="key",
            )


def _unknown_value_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    for path, schema, value in fields:
        if not schema.get("x-open-enum") or not isinstance(value, str):
            continue
        known, known_set = _known_values(schema)
        if value in known_set:
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


TODAY_VARIABLE: Final = "REALTIME_CONFIG_TODAY"
"""The environment variable that fixes the date model shutdowns are judged on (YYYY-MM-DD):
a CI run that must not change with the calendar, or a look ahead at a coming shutdown."""


def _lifecycle_checks(preset: Preset, session: Any, fields: Fields) -> Iterator[Diagnostic]:
    """Deprecated models (``x-deprecated``): a warning before their shutdown, an error from
    that day on, naming the date and the successor."""
    for path, field, value in fields:
        retired = field.get("x-deprecated", {}).get(value) if isinstance(value, str) else None
        if retired is None:
            continue
        today = _today()
        name = f"{format_path(path)} `{format_inline(value)}`"
        successor = f"use `{retired['use']}`"
        if today is None:
            yield preset.diagnostic(
                path,
                "deprecated",
                f"{name}: {TODAY_VARIABLE} is not a date (YYYY-MM-DD), so the shutdown on "
                f"{retired['shutdown']} cannot be judged",
                anchor="value",
            )
        elif today < retired["shutdown"]:
            yield preset.diagnostic(
                path,
                "deprecated",
                f"{name} is deprecated and shuts down on {retired['shutdown']}; {successor}",
                severity="warning",
                anchor="value",
            )
        else:
            yield preset.diagnostic(
                path,
                "shut-down",
                f"{name} shut down on {retired['shutdown']}; {successor}",
                anchor="value",
            )


def _today() -> str | None:
    """Today as YYYY-MM-DD, or the date that TODAY_VARIABLE fixes (None if it is no date)."""
    import datetime
    import os

    fixed = os.environ.get(TODAY_VARIABLE)
    if fixed is None:
        return datetime.date.today().isoformat()
    try:
        return datetime.date.fromisoformat(fixed).isoformat() if len(fixed) == 10 else None
    except ValueError:
        return None


_KNOWN: dict[int, tuple[Schema, list[str], frozenset[str]]] = {}


def _known_values(schema: Schema) -> tuple[list[str], frozenset[str]]:
    """known_values of a field schema, listed and as a set, once per schema node."""
    cached = _KNOWN.get(id(schema))
    if cached is None or cached[0] is not schema:
        known = known_values(schema)
        cached = _KNOWN[id(schema)] = (schema, known, frozenset(known))
    return cached[1], cached[2]


_CHECKS: Final = {
    "beta": (
        _tool_checks,
        _vad_checks,
        _no_effect_checks,
        _lifecycle_checks,
        _unknown_value_checks,
    ),
    "realtime": (
        _modalities_check,
        _tool_checks,
        _one_of_group_checks,
        _model_requirement_checks,
        _reasoning_checks,
        _no_effect_checks,
        _lifecycle_checks,
        _unknown_value_checks,
    ),
    "transcription": (_model_requirement_checks, _lifecycle_checks, _unknown_value_checks),
    "translation": (_lifecycle_checks, _unknown_value_checks),
}
"""The cross-field checks of each dialect, in the order their findings are listed."""
