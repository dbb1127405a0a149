"""Schema validation, with jsonschema's errors rewritten as TOML-speaking diagnostics.

One mistake gives one diagnostic: an ``anyOf`` failure is reported through the alternative
whose type the value has (or as "expected X or Y"), never as a cascade of its branches.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from realtime_config._diagnostics import Diagnostic
from realtime_config._paths import KeyPath, format_key, format_path
from realtime_config._schema import Schema, is_certainly_valid, load_schema, resolve, validator

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from realtime_config._loader import Document


def schema_diagnostics(document: Document) -> list[Diagnostic]:
    """Every schema problem in ``document``, located and worded for a TOML author."""
    if is_certainly_valid(document.table):
        return []
    diagnostics: list[Diagnostic] = []
    for error in validator().iter_errors(document.table):
        diagnostics.extend(_translate(document, error))
    return sorted(dict.fromkeys(diagnostics), key=lambda d: (d.line, d.column))


def suggest(word: str, candidates: Iterable[str]) -> str:
    """``; did you mean `x`?`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def describe_value(value: Any) -> str:
    """A value as TOML would show it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def kind_of(value: Any) -> str:
    """The TOML kind of a value, with its article: a string, an integer, a table..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


_TYPE_WORDS = {
    "object": "a table",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}


def type_words(json_types: Any) -> str:
    """JSON Schema type names in TOML words: ``["string", "array"]`` -> a string or an array."""
    return join_alternatives([_TYPE_WORDS.get(t, str(t)) for t in _as_list(json_types)])


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
            word = _TYPE_WORDS.get(branch.get("type", ""), "a value")
            if "minimum" in branch and "maximum" in branch:
                word += f" from {branch['minimum']!r} to {branch['maximum']!r}"
            words.append(word)
    return words


def join_alternatives(words: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    unique = list(dict.fromkeys(words))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " or " + unique[-1]


def _where(path: KeyPath) -> str:
    if not path:
        return ""
    if isinstance(path[-1], int):
        return f" in `[[{format_path(path[:-1])}]]` entry {path[-1] + 1}"
    return f" in table `{format_path(path)}`"


def _false_hint(value: Any) -> str:
    """Why ``false`` is refused here: name the fields that can be switched off."""
    if value is not False:
        return ""
    nullable = [k for k, v in load_schema()["properties"].items() if v.get("x-null-when-false")]
    return f"; only {', '.join(nullable[:-1])} and {nullable[-1]} can be switched off with false"


def _prefix(path: KeyPath) -> str:
    return f"{format_path(path)}: " if path else ""


def _translate(document: Document, error: ValidationError) -> list[Diagnostic]:
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
                f"{_prefix(path)}expected {expected}, found {kind_of(value)}{_false_hint(value)}",
            )
        ]

    if keyword == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        return [_unknown_key(document, path, key, allowed) for key in extras]

    if keyword == "type":
        expected = type_words(schema.get("type"))
        message = f"{_prefix(path)}expected {expected}, found {kind_of(value)}{_false_hint(value)}"
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


def _unknown_key(document: Document, path: KeyPath, key: str, allowed: list[str]) -> Diagnostic:
    key_path = (*path, key)
    if path == ("preset",) and key in load_schema().get("properties", {}):
        return document.diagnostic(
            key_path,
            "preset-table",
            f"`{format_key(key)}` is a session field, not a [preset] setting: a table header "
            "captures every key after it, so put [preset] at the end of the file or write "
            "its keys as dotted keys (preset.extends = ...)",
            anchor="key",
        )
    return document.diagnostic(
        key_path,
        "unknown-key",
        f"unknown key `{format_key(key)}`{_where(path)}{suggest(key, allowed)}",
        anchor="key",
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _all_same_place(diagnostics: Sequence[Diagnostic]) -> bool:
    return len({(d.line, d.column) for d in diagnostics}) <= 1
