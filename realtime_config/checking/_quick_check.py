"""The schema compiled into a quick yes/no check, so that valid presets never pay for jsonschema.

Each keyword the schema uses becomes a small closure, from a table of one function per
keyword; a keyword the table lacks gives up the quick check for the whole schema, and every
answer goes to jsonschema. A property test (tests/test_startup.py) shows the check is never
laxer than the validator.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from realtime_config import _schema
from realtime_config._schema import Schema

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"}
    | {"format"}  # an annotation in draft 2020-12: validators do not assert it by default
)


class _UnknownKeywordError(Exception):
    """The quick check does not implement a keyword the schema uses."""


def is_certainly_valid(instance: object, dialect: str = "beta") -> bool:
    """True when ``instance`` satisfies the schema, by a quick check compiled from it.

    False means "not known to be valid": only then does jsonschema run, to find and word the
    errors. Valid presets, the common case, never pay for jsonschema's import or its
    per-keyword machinery; the check is never laxer than the validator.
    """
    check = quick_check(dialect)
    return check is not None and check(instance)


@functools.cache
def quick_check(dialect: str = "beta") -> Check | None:
    """A dialect's schema compiled into nested closures, once; None if it uses an unknown
    keyword.
    """
    try:
        return _compile_check(_schema.dialect_schema(dialect), ())
    except _UnknownKeywordError:
        return None


def _compile_check(node: object, refs: tuple[str, ...]) -> Check:
    if node is True:
        return _always
    if node is False or not isinstance(node, Mapping):
        return _never
    keywords = {
        keyword: value
        for keyword, value in node.items()
        if keyword not in _ANNOTATIONS and not keyword.startswith("x-")
    }
    checks: list[Check] = []
    if {"properties", "additionalProperties", "required"} & keywords.keys():
        checks.append(
            _table_check(
                keywords.pop("properties", {}),
                keywords.pop("additionalProperties", None),
                keywords.pop("required", ()),
                refs,
            )
        )
    checks.extend(_keyword_check(keyword, value, node, refs) for keyword, value in keywords.items())
    return _all_of(checks)


def _all_of(checks: list[Check]) -> Check:
    """One check that all of ``checks`` pass, without a generator for the common sizes."""
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda instance: first(instance) and second(instance)
    if len(checks) == 3:
        first, second, third = checks
        return lambda instance: first(instance) and second(instance) and third(instance)
    return lambda instance: all(check(instance) for check in checks)


def _always(_instance: object) -> bool:
    return True


def _never(_instance: object) -> bool:
    return False


def _table_check(properties: Any, additional: Any, required: Any, refs: tuple[str, ...]) -> Check:
    """``properties``, ``additionalProperties`` and ``required`` in one pass over a table."""
    if not isinstance(properties, Mapping) or not isinstance(required, list | tuple):
        raise _UnknownKeywordError("properties")
    children = {key: _compile_check(child, refs) for key, child in properties.items()}
    extra = None if additional is None else _compile_check(additional, refs)
    needed = tuple(required)

    def check(instance: object) -> bool:
        if not isinstance(instance, dict):
            return True
        for key in needed:
            if key not in instance:
                return False
        for key, item in instance.items():
            each = children.get(key)
            if each is None:
                if extra is not None and not extra(item):
                    return False
            elif not each(item):
                return False
        return True

    return check


def _keyword_check(keyword: str, value: Any, node: Schema, refs: tuple[str, ...]) -> Check:
    """The check of one keyword, from the table; an unknown keyword gives up the check."""
    compile_keyword = _KEYWORDS.get(keyword)
    if compile_keyword is None:
        raise _UnknownKeywordError(keyword)
    return compile_keyword(value, refs)


def _ref(value: Any, refs: tuple[str, ...]) -> Check:
    if not isinstance(value, str) or not value.startswith("#/") or value in refs:
        raise _UnknownKeywordError("$ref")
    target: Any = _schema.load_schema()
    for part in value[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return _compile_check(target, (*refs, value))


def _type(value: Any, refs: tuple[str, ...]) -> Check:
    types = tuple(value) if isinstance(value, list) else (value,)
    if not set(types) <= set(_TYPE_TESTS):
        raise _UnknownKeywordError("type")
    tests = [_TYPE_TESTS[t] for t in types]
    if len(tests) == 1:
        return tests[0]
    return lambda instance: any(test(instance) for test in tests)


def _enum(value: Any, refs: tuple[str, ...]) -> Check:
    if all(type(allowed) is str for allowed in value):
        # _same of strings: a str of equal value, looked up in a set.
        strings = frozenset(value)
        return lambda instance: type(instance) is str and instance in strings
    return lambda instance: any(_same(instance, allowed) for allowed in value)


def _const(value: Any, refs: tuple[str, ...]) -> Check:
    return lambda instance: _same(instance, value)


def _items(value: Any, refs: tuple[str, ...]) -> Check:
    if not isinstance(value, (Mapping, bool)):
        raise _UnknownKeywordError("items")
    each = _compile_check(value, refs)
    return lambda instance: not isinstance(instance, list) or all(map(each, instance))


def _any_of(value: Any, refs: tuple[str, ...]) -> Check:
    alternatives = [_compile_check(branch, refs) for branch in value]
    if len(alternatives) == 2:
        first, second = alternatives
        return lambda instance: first(instance) or second(instance)
    return lambda instance: any(alternative(instance) for alternative in alternatives)


def _minimum(value: Any, refs: tuple[str, ...]) -> Check:
    return lambda instance: not _TYPE_TESTS["number"](instance) or instance >= value


def _maximum(value: Any, refs: tuple[str, ...]) -> Check:
    return lambda instance: not _TYPE_TESTS["number"](instance) or instance <= value


def _min_length(value: Any, refs: tuple[str, ...]) -> Check:
    return lambda instance: not isinstance(instance, str) or len(instance) >= value


def _pattern(value: Any, refs: tuple[str, ...]) -> Check:
    if not isinstance(value, str):
        raise _UnknownKeywordError("pattern")
    pattern = re.compile(value)
    return lambda instance: not isinstance(instance, str) or pattern.search(instance) is not None


def _min_items(value: Any, refs: tuple[str, ...]) -> Check:
    return lambda instance: not isinstance(instance, list) or len(instance) >= value


def _unique_items(value: Any, refs: tuple[str, ...]) -> Check:
    if value is not True:
        raise _UnknownKeywordError("uniqueItems")
    # Only arrays of strings are answered here; any other array goes to jsonschema,
    # whose notion of equal numbers (1 == 1.0, true != 1) this need not repeat.
    return lambda instance: (
        not isinstance(instance, list)
        or (all(isinstance(item, str) for item in instance) and len(set(instance)) == len(instance))
    )


_KEYWORDS: dict[str, Callable[[Any, tuple[str, ...]], Check]] = {
    "$ref": _ref,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "items": _items,
    "anyOf": _any_of,
    "minimum": _minimum,
    "maximum": _maximum,
    "minLength": _min_length,
    "pattern": _pattern,
    "minItems": _min_items,
    "uniqueItems": _unique_items,
}
"""How each keyword the schema uses becomes a check; ``properties``, ``additionalProperties``
and ``required`` are checked together, in one pass over a table (``_table_check``)."""


_TYPE_TESTS: dict[str, Check] = {
    "object": lambda instance: isinstance(instance, dict),
    "array": lambda instance: isinstance(instance, list),
    "string": lambda instance: isinstance(instance, str),
    "boolean": lambda instance: isinstance(instance, bool),
    "null": lambda instance: instance is None,
    "integer": lambda instance: isinstance(instance, int) and not isinstance(instance, bool),
    "number": lambda instance: (
        isinstance(instance, (int, float)) and not isinstance(instance, bool)
    ),
}


def _same(instance: object, expected: object) -> bool:
    """Equal and of the same type all the way down: stricter than JSON Schema's equality."""
    if type(instance) is not type(expected):
        return False
    if isinstance(instance, dict) and isinstance(expected, dict):
        return instance.keys() == expected.keys() and all(
            _same(instance[key], expected[key]) for key in instance
        )
    if isinstance(instance, list) and isinstance(expected, list):
        return len(instance) == len(expected) and all(map(_same, instance, expected))
    return instance == expected
