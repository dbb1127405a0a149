"""Schema validation, with jsonschema's errors rewritten as TOML-speaking diagnostics.

One mistake gives one diagnostic: an ``anyOf`` failure is reported through the alternative
whose type the value has (or as "expected X or Y"), never as a cascade of its branches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from realtime_config._diagnostics import Diagnostic
from realtime_config._paths import KeyPath, format_key, format_path
from realtime_config._schema import (
    Schema,
    branches,
    dialect_schema,
    discriminant,
    field_schema,
    is_certainly_valid,
    object_branch,
    resolve,
    switchable_paths,
    validator,
)
from realtime_config._wording import (
    TYPE_WORDS,
    describe_value,
    join_alternatives,
    kind_of,
    suggest,
    type_words,
)

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from realtime_config._loader import Document, ResolvedTable


def schema_diagnostics(document: Document | ResolvedTable) -> list[Diagnostic]:
    """Every schema problem in ``document``, located and worded for a TOML author."""
    if is_certainly_valid(document.table, document.dialect):
        return []
    diagnostics: list[Diagnostic] = []
    for error in validator(document.dialect).iter_errors(document.table):
        diagnostics.extend(_translate(document, error))
    return sorted(dict.fromkeys(diagnostics), key=lambda d: (d.file, d.line, d.column))


def _matches_type(json_type: Any, value: Any) -> bool:
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "array":
        return isinstance(value, list)
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if json_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _describe_alternatives(alternatives: Sequence[Schema]) -> list[str]:
    """Each alternative in words; an enum is left out where a plain branch of its type exists."""
    resolved = [resolve(b) for b in alternatives]
    plain_types = {b.get("type") for b in resolved if "enum" not in b and "const" not in b}
    words: list[str] = []
    for branch in resolved:
        if "const" in branch:
            const = branch["const"]
            words.append("false (off)" if const is False else describe_value(const))
        elif "enum" in branch:
            if branch.get("type") not in plain_types:
                words.extend(describe_value(v) for v in branch["enum"])
        else:
            word = TYPE_WORDS.get(branch.get("type", ""), "a value")
            if "minimum" in branch and "maximum" in branch:
                word += f" from {branch['minimum']!r} to {branch['maximum']!r}"
            words.append(word)
    return words


def _where(path: KeyPath) -> str:
    if not path:
        return ""
    if isinstance(path[-1], int):
        return f" in `[[{format_path(path[:-1])}]]` entry {path[-1] + 1}"
    return f" in table `{format_path(path)}`"


def _false_hint(value: Any, dialect: str) -> str:
    """Why ``false`` is refused here: name the fields that can be switched off."""
    if value is not False:
        return ""
    nullable = [format_path(path) for path in switchable_paths(dialect)]
    return f"; only {', '.join(nullable[:-1])} and {nullable[-1]} can be switched off with false"


def _prefix(path: KeyPath) -> str:
    return f"{format_path(path)}: " if path else ""


def _translate(document: Document | ResolvedTable, error: ValidationError) -> list[Diagnostic]:
    path: KeyPath = tuple(error.absolute_path)
    schema: Schema = error.schema if isinstance(error.schema, Mapping) else {}
    keyword = error.validator
    value: Any = error.instance

    if keyword == "anyOf":
        alternatives = list(schema.get("anyOf", ()))
        plain = [
            i
            for i, branch in enumerate(alternatives)
            if _matches_type(resolve(branch).get("type"), value)
        ]
        if isinstance(value, dict) and len(plain) > 1:
            unknown_kind = _unknown_discriminant(document, path, schema, value)
            if unknown_kind is not None:
                return [unknown_kind]
            chosen = object_branch(schema, value)
            plain.sort(key=lambda i: resolve(alternatives[i]) != chosen)
        expected = join_alternatives(_describe_alternatives(alternatives))
        for index in plain:
            if "const" in resolve(alternatives[index]):
                return [
                    document.diagnostic(
                        path,
                        "enum",
                        f"{_prefix(path)}{describe_value(value)} is not a valid value; "
                        f"expected {expected}",
                    )
                ]
            inner = [e for e in error.context or () if e.relative_schema_path[0] == index]
            if inner:
                found: list[Diagnostic] = []
                for sub in inner:
                    found.extend(_translate(document, sub))
                return found[:1] if _all_same_place(found) else found
        return [
            document.diagnostic(
                path,
                "type",
                f"{_prefix(path)}expected {expected}, found {kind_of(value)}{_false_hint(value, document.dialect)}",
            )
        ]

    if keyword == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        return [_unknown_key(document, path, key, allowed, value) for key in extras]

    if keyword == "type":
        expected = type_words(schema.get("type"))
        message = f"{_prefix(path)}expected {expected}, found {kind_of(value)}{_false_hint(value, document.dialect)}"
        return [document.diagnostic(path, "type", message)]

    if keyword == "enum":
        allowed = schema.get("enum", [])
        choices = join_alternatives([describe_value(v) for v in allowed])
        hint = (
            suggest(value, [v for v in allowed if isinstance(v, str)])
            if isinstance(value, str)
            else ""
        )
        return [
            document.diagnostic(
                path,
                "enum",
                f"{_prefix(path)}{describe_value(value)} is not a valid value; "
                f"expected {choices}{hint}",
            )
        ]

    if keyword == "const":
        return [
            document.diagnostic(
                path,
                "enum",
                f"{_prefix(path)}{describe_value(value)} is not a valid value; "
                f"expected {describe_value(schema.get('const'))}",
            )
        ]

    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = schema.get(keyword)
        relation = {
            "minimum": "less than the minimum of",
            "maximum": "greater than the maximum of",
            "exclusiveMinimum": "not greater than",
            "exclusiveMaximum": "not less than",
        }[keyword]
        low, high = schema.get("minimum"), schema.get("maximum")
        allowed_range = (
            f" (allowed: {low!r} to {high!r})" if low is not None and high is not None else ""
        )
        return [
            document.diagnostic(
                path,
                "range",
                f"{_prefix(path)}{describe_value(value)} is {relation} {bound!r}{allowed_range}",
            )
        ]

    if keyword == "required":
        missing = [k for k in schema.get("required", []) if k not in value]
        return [
            document.diagnostic(
                path,
                "required",
                f"{_prefix(path) or 'the preset: '}missing required key `{format_key(key)}`",
                anchor="key",
            )
            for key in missing
        ]

    if keyword == "pattern":
        return [
            document.diagnostic(
                path,
                "pattern",
                f"{_prefix(path)}{describe_value(value)} does not have the required form "
                f"{schema.get('pattern')}",
            )
        ]

    if keyword == "minLength":
        return [document.diagnostic(path, "empty", f"{_prefix(path)}must not be empty")]

    if keyword == "minItems":
        return [
            document.diagnostic(
                path,
                "empty",
                f"{_prefix(path)}must list at least {schema.get('minItems')} value"
                + ("s" if schema.get("minItems") != 1 else ""),
            )
        ]

    if keyword == "uniqueItems" and isinstance(value, list):
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                item_path = (*path, index)
                return [
                    document.diagnostic(
                        item_path,
                        "duplicate",
                        f"{_prefix(path)}{describe_value(item)} is listed more than once",
                    )
                ]
            seen.append(item)

    return [document.diagnostic(path, "schema", f"{_prefix(path)}{error.message}")]


def _unknown_discriminant(
    document: Document | ResolvedTable, path: KeyPath, union: Schema, value: dict[str, Any]
) -> Diagnostic | None:
    """A table whose ``type`` selects no alternative of a union of tables, said at ``type``."""
    kinds = [k for b in branches(union) if b.get("type") == "object" for k in discriminant(b)]
    if "type" not in value or not kinds or value["type"] in kinds:
        return None
    found = value["type"]
    hint = (
        suggest(found, [k for k in kinds if isinstance(k, str)]) if isinstance(found, str) else ""
    )
    return document.diagnostic(
        (*path, "type"),
        "enum",
        f"{format_path((*path, 'type'))}: {describe_value(found)} is not a valid value; "
        f"expected {join_alternatives([describe_value(k) for k in kinds])}{hint}",
    )


def _unknown_key(
    document: Document | ResolvedTable, path: KeyPath, key: str, allowed: list[str], table: Any
) -> Diagnostic:
    key_path = (*path, key)
    dialect = document.dialect
    if path == ("preset",) and key in dialect_schema(dialect).get("properties", {}):
        return document.diagnostic(
            key_path,
            "preset-table",
            f"`{format_key(key)}` is a session field, not a [preset] setting: a table header "
            "captures every key after it, so put [preset] at the end of the file or write "
            "its keys as dotted keys (preset.extends = ...)",
            anchor="key",
        )
    explained = _misplaced_key(dialect, path, key, table)
    if explained is not None:
        rule, message = explained
        return document.diagnostic(key_path, rule, message, anchor="key")
    return document.diagnostic(
        key_path,
        "unknown-key",
        f"unknown key `{format_key(key)}`{_where(path)}{suggest(key, allowed)}",
        anchor="key",
    )


def _misplaced_key(dialect: str, path: KeyPath, key: str, table: Any) -> tuple[str, str] | None:
    """Why a key that exists elsewhere is wrong here: the other dialect's spelling, a key a
    transcription session lacks, or a setting of another alternative of a union of tables.
    """
    name = format_key(key)
    if dialect == "transcription" and field_schema((*path, key), "realtime") is not None:
        return (
            "transcription",
            f"`{format_path((*path, key))}` is not part of a transcription session",
        )
    if not path:
        if dialect == "beta" and key in dialect_schema("realtime")["properties"]:
            return (
                "dialect",
                f'`{name}` is a key of GA presets, and a GA preset starts with `type = "realtime"`',
            )
        if dialect != "beta" and key in dialect_schema("beta")["properties"]:
            return "dialect", _beta_key_in_ga(key)
    union = field_schema(path, dialect) if path else None
    if union is None or not isinstance(table, dict):
        return None
    chosen = object_branch(union, table)
    owners = [
        b
        for b in branches(union)
        if b.get("type") == "object" and b is not chosen and key in b.get("properties", {})
    ]
    if chosen is None or not owners or not discriminant(chosen):
        return None
    current = table.get("type", discriminant(chosen)[0])
    kinds = join_alternatives([str(k) for b in owners for k in discriminant(b)])
    return (
        "branch-field",
        f"{format_path((*path, key))} applies only to {kinds}, but {format_path((*path, 'type'))} "
        f"is {current}",
    )


def _beta_key_in_ga(key: str) -> str:
    """The GA spelling of a beta key, from its ``x-ga`` mapping annotations."""
    field = resolve(dialect_schema("beta")["properties"][key])
    name = format_key(key)
    if "x-ga" in field:
        place = field["x-ga"]
        if place is None:
            return f"`{name}` is not part of a GA preset: the GA API has no {name}"
        return f"`{name}` is `{place.removeprefix('session.')}` in a GA preset"
    table = next((b for b in branches(field) if b.get("type") == "object"), {})
    places = [
        resolve(child)["x-ga"].removeprefix("session.")
        for child in table.get("properties", {}).values()
        if resolve(child).get("x-ga")
    ]
    return f"`{name}` is a beta key; a GA preset writes `{'`, `'.join(places)}` instead"


def _all_same_place(diagnostics: Sequence[Diagnostic]) -> bool:
    return len({(d.line, d.column) for d in diagnostics}) <= 1
