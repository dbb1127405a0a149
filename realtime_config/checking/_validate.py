"""Schema validation, with jsonschema's errors rewritten as TOML-speaking diagnostics.

One mistake gives one diagnostic: an ``anyOf`` failure is reported through the alternative
whose type the value has (or as "expected X or Y"), never as a cascade of its branches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from realtime_config._diagnostics import Diagnostic
from realtime_config._keys import KeyPath, format_key, format_path
from realtime_config._schema import (
    DIALECTS,
    Schema,
    branches,
    dialect_schema,
    discriminant,
    field_schema,
    object_branch,
    resolve,
    session_settings,
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
from realtime_config.checking._quick_check import is_certainly_valid

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from realtime_config.preset._model import Anchor, Document, ResolvedTable


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


@dataclass(frozen=True)
class _Failure:
    """One jsonschema error, seen from the document: where, which rule, what was found."""

    document: Document | ResolvedTable
    error: ValidationError
    path: KeyPath
    schema: Schema
    value: Any

    def say(
        self, rule: str, message: str, *, at: KeyPath | None = None, anchor: Anchor = "value"
    ) -> list[Diagnostic]:
        """One diagnostic: the message after the failing key's dotted path."""
        where = self.path if at is None else at
        return [
            self.document.diagnostic(where, rule, f"{_prefix(self.path)}{message}", anchor=anchor)
        ]


def _translate(document: Document | ResolvedTable, error: ValidationError) -> list[Diagnostic]:
    """The diagnostics of one jsonschema error, by the keyword that failed."""
    failure = _Failure(
        document,
        error,
        tuple(error.absolute_path),
        error.schema if isinstance(error.schema, Mapping) else {},
        error.instance,
    )
    words = _BY_KEYWORD.get(str(error.validator), _as_jsonschema_says)
    return words(failure) or _as_jsonschema_says(failure)


def _any_of(failure: _Failure) -> list[Diagnostic]:
    """Through the alternative the value's type (and a table's ``type``) selects."""
    value, schema = failure.value, failure.schema
    alternatives = list(schema.get("anyOf", ()))
    plain = [
        i
        for i, branch in enumerate(alternatives)
        if _matches_type(resolve(branch).get("type"), value)
    ]
    if isinstance(value, dict) and len(plain) > 1:
        unknown_kind = _unknown_discriminant(failure.document, failure.path, schema, value)
        if unknown_kind is not None:
            return [unknown_kind]
        chosen = object_branch(schema, value)
        plain.sort(key=lambda i: resolve(alternatives[i]) != chosen)
    expected = join_alternatives(_describe_alternatives(alternatives))
    for index in plain:
        if "const" in resolve(alternatives[index]):
            return failure.say(
                "enum", f"{describe_value(value)} is not a valid value; expected {expected}"
            )
        inner = [e for e in failure.error.context or () if e.relative_schema_path[0] == index]
        if inner:
            found = [d for sub in inner for d in _translate(failure.document, sub)]
            return found[:1] if _all_same_place(found) else found
    hint = _false_hint(value, failure.document.dialect)
    return failure.say("type", f"expected {expected}, found {kind_of(value)}{hint}")


def _additional_properties(failure: _Failure) -> list[Diagnostic]:
    allowed = list(failure.schema.get("properties", {}))
    value = failure.value
    extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
    return [_unknown_key(failure.document, failure.path, key, allowed, value) for key in extras]


def _type(failure: _Failure) -> list[Diagnostic]:
    expected = type_words(failure.schema.get("type"))
    hint = _false_hint(failure.value, failure.document.dialect)
    return failure.say("type", f"expected {expected}, found {kind_of(failure.value)}{hint}")


def _enum(failure: _Failure) -> list[Diagnostic]:
    allowed = failure.schema.get("enum", [])
    choices = join_alternatives([describe_value(v) for v in allowed])
    value = failure.value
    hint = (
        suggest(value, [v for v in allowed if isinstance(v, str)]) if isinstance(value, str) else ""
    )
    return failure.say(
        "enum", f"{describe_value(value)} is not a valid value; expected {choices}{hint}"
    )


def _const(failure: _Failure) -> list[Diagnostic]:
    expected = describe_value(failure.schema.get("const"))
    return failure.say(
        "enum", f"{describe_value(failure.value)} is not a valid value; expected {expected}"
    )


_RELATIONS = {
    "minimum": "less than the minimum of",
    "maximum": "greater than the maximum of",
    "exclusiveMinimum": "not greater than",
    "exclusiveMaximum": "not less than",
}


def _bound(failure: _Failure) -> list[Diagnostic]:
    keyword = str(failure.error.validator)
    schema = failure.schema
    low, high = schema.get("minimum"), schema.get("maximum")
    allowed = f" (allowed: {low!r} to {high!r})" if low is not None and high is not None else ""
    relation = f"{_RELATIONS[keyword]} {schema.get(keyword)!r}"
    return failure.say("range", f"{describe_value(failure.value)} is {relation}{allowed}")


def _required(failure: _Failure) -> list[Diagnostic]:
    missing = [k for k in failure.schema.get("required", []) if k not in failure.value]
    where = _prefix(failure.path) or "the preset: "
    return [
        failure.document.diagnostic(
            failure.path,
            "required",
            f"{where}missing required key `{format_key(key)}`",
            anchor="key",
        )
        for key in missing
    ]


def _pattern(failure: _Failure) -> list[Diagnostic]:
    form = failure.schema.get("pattern")
    return failure.say(
        "pattern", f"{describe_value(failure.value)} does not have the required form {form}"
    )


def _min_length(failure: _Failure) -> list[Diagnostic]:
    return failure.say("empty", "must not be empty")


def _min_items(failure: _Failure) -> list[Diagnostic]:
    count = failure.schema.get("minItems")
    return failure.say("empty", f"must list at least {count} value" + ("s" if count != 1 else ""))


def _unique_items(failure: _Failure) -> list[Diagnostic]:
    if not isinstance(failure.value, list):
        return []
    seen: list[Any] = []
    for index, item in enumerate(failure.value):
        if item in seen:
            return failure.say(
                "duplicate",
                f"{describe_value(item)} is listed more than once",
                at=(*failure.path, index),
            )
        seen.append(item)
    return []


def _as_jsonschema_says(failure: _Failure) -> list[Diagnostic]:
    """A keyword with no wording of its own: jsonschema's message, located."""
    return failure.say("schema", failure.error.message)


_BY_KEYWORD: dict[str, Callable[[_Failure], list[Diagnostic]]] = {
    "anyOf": _any_of,
    "additionalProperties": _additional_properties,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minimum": _bound,
    "maximum": _bound,
    "exclusiveMinimum": _bound,
    "exclusiveMaximum": _bound,
    "required": _required,
    "pattern": _pattern,
    "minLength": _min_length,
    "minItems": _min_items,
    "uniqueItems": _unique_items,
}
"""How each JSON Schema keyword's failure is put in TOML words."""


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
    if dialect == "translation" and any(
        field_schema((*path, key), other) is not None for other in DIALECTS if other != dialect
    ):
        return (
            "translation",
            f"`{format_path((*path, key))}` is not part of a translation session, which has "
            f"{', '.join(session_settings(dialect)[:-1])} and {session_settings(dialect)[-1]}",
        )
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
