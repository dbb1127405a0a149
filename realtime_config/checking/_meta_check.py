"""A quick check of the JSON Schemas that tools' ``parameters`` hold, against draft 2020-12.

Checking a tool's ``parameters`` with jsonschema costs its import (about 50 ms) before the
first preset is done. Tools use a small, plain part of JSON Schema: ``type``, ``properties``,
``required``, ``items``, ``enum``, ``description`` and a few more, with values of the right
type. :func:`is_certainly_valid_schema` answers True only for that part, checked keyword by
keyword the way the 2020-12 meta-schema checks it; anything else it is not sure of (an
unknown keyword, ``$id``, ``$anchor``, a keyword with a pattern or a format that would need
a closer look, nesting deeper than :data:`MAX_DEPTH`) is False, and jsonschema runs as before
to find and word the error. The check is never laxer than ``Draft202012Validator`` on the
meta-schema; the tests prove it on generated schemas.

A leaf module: it imports nothing of the project's, so that checking tools stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

MAX_DEPTH: Final = 48
"""Levels of nested objects and arrays the quick check follows before it leaves the answer
to jsonschema, far below where jsonschema or ``json.dumps`` would hit the recursion limit
(so a schema the quick check accepts is never one that "nests too deeply")."""

SIMPLE_TYPES: Final = frozenset(
    {"array", "boolean", "integer", "null", "number", "object", "string"}
)
"""The meta-schema's ``simpleTypes``: what ``type`` may name."""

KeywordCheck = Callable[[Any, int], bool]
"""Whether a keyword's value is certainly valid, given the nesting depth of the value."""


def is_certainly_valid_schema(value: object) -> bool:
    """True when ``value`` is certainly a valid draft 2020-12 JSON Schema; False when unsure."""
    return _schema(value, 0)


def _schema(value: Any, depth: int) -> bool:
    if type(value) is bool:
        return True
    if type(value) is not dict or depth >= MAX_DEPTH:
        return False
    for keyword, item in value.items():
        check = _KEYWORDS.get(keyword)
        if check is None or not check(item, depth + 1):
            return False
    return True


def _string(value: Any, _depth: int) -> bool:
    return type(value) is str


def _boolean(value: Any, _depth: int) -> bool:
    return type(value) is bool


def _number(value: Any, _depth: int) -> bool:
    return type(value) is int or type(value) is float


def _positive_number(value: Any, _depth: int) -> bool:
    return (type(value) is int or type(value) is float) and value > 0


def _non_negative_integer(value: Any, _depth: int) -> bool:
    return type(value) is int and value >= 0


def _anything(_value: Any, _depth: int) -> bool:
    return True


def _array(value: Any, _depth: int) -> bool:
    return type(value) is list


def _type(value: Any, _depth: int) -> bool:
    if type(value) is str:
        return value in SIMPLE_TYPES
    return (
        type(value) is list
        and len(value) > 0
        and all(type(name) is str and name in SIMPLE_TYPES for name in value)
        and len(set(value)) == len(value)
    )


def _string_array(value: Any, _depth: int) -> bool:
    return (
        type(value) is list
        and all(type(name) is str for name in value)
        and len(set(value)) == len(value)
    )


def _schema_map(value: Any, depth: int) -> bool:
    return type(value) is dict and all(_schema(item, depth + 1) for item in value.values())


def _schema_array(value: Any, depth: int) -> bool:
    return (
        type(value) is list and len(value) > 0 and all(_schema(item, depth + 1) for item in value)
    )


def _string_array_map(value: Any, depth: int) -> bool:
    return type(value) is dict and all(_string_array(item, depth + 1) for item in value.values())


_KEYWORDS: Final[dict[str, KeywordCheck]] = {
    # core (``$id`` and the anchors carry patterns: left to jsonschema)
    "$schema": _string,
    "$ref": _string,
    "$dynamicRef": _string,
    "$comment": _string,
    "$defs": _schema_map,
    # applicator
    "prefixItems": _schema_array,
    "items": _schema,
    "contains": _schema,
    "additionalProperties": _schema,
    "properties": _schema_map,
    "patternProperties": _schema_map,
    "dependentSchemas": _schema_map,
    "propertyNames": _schema,
    "if": _schema,
    "then": _schema,
    "else": _schema,
    "allOf": _schema_array,
    "anyOf": _schema_array,
    "oneOf": _schema_array,
    "not": _schema,
    # unevaluated
    "unevaluatedItems": _schema,
    "unevaluatedProperties": _schema,
    # validation
    "type": _type,
    "const": _anything,
    "enum": _array,
    "multipleOf": _positive_number,
    "maximum": _number,
    "exclusiveMaximum": _number,
    "minimum": _number,
    "exclusiveMinimum": _number,
    "maxLength": _non_negative_integer,
    "minLength": _non_negative_integer,
    "pattern": _string,
    "maxItems": _non_negative_integer,
    "minItems": _non_negative_integer,
    "uniqueItems": _boolean,
    "maxContains": _non_negative_integer,
    "minContains": _non_negative_integer,
    "maxProperties": _non_negative_integer,
    "minProperties": _non_negative_integer,
    "required": _string_array,
    "dependentRequired": _string_array_map,
    # meta-data
    "title": _string,
    "description": _string,
    "default": _anything,
    "deprecated": _boolean,
    "readOnly": _boolean,
    "writeOnly": _boolean,
    "examples": _array,
    # format annotation, content
    "format": _string,
    "contentEncoding": _string,
    "contentMediaType": _string,
    "contentSchema": _schema,
}
"""Each keyword the quick check knows, with the check of its value (jsonschema's own layout:
one small function per keyword). A keyword missing here makes the answer "not sure"."""
