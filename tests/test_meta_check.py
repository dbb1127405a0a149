"""The quick meta-schema check of tools' ``parameters``: never laxer than jsonschema.

``_meta_check.is_certainly_valid_schema`` lets a valid preset with tools skip the jsonschema
import. It may say "not sure" (False) for a valid schema, and jsonschema then decides; it
must never say True for a schema that jsonschema's draft 2020-12 meta-schema rejects.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from realtime_config import check_files

# Never laxer than jsonschema is a property of the quick check alone: through check_files a
# "not sure" is decided by jsonschema, so no public call can tell the two apart.
from realtime_config.checking._meta_check import MAX_DEPTH, SIMPLE_TYPES, is_certainly_valid_schema
from tests.conftest import PROJECT, shipped_presets, write
from tests.strategies import json_values
from tests.test_startup import imported_modules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

META = Draft202012Validator(Draft202012Validator.META_SCHEMA)

names = st.text(max_size=6)
non_negative = st.integers(min_value=0, max_value=10)
numbers = st.integers(-100, 100) | st.floats(allow_nan=False, allow_infinity=False)
simple_type = st.sampled_from(sorted(SIMPLE_TYPES))


def plain_schemas() -> st.SearchStrategy[Any]:
    """Schemas of the subset the quick check knows, every value well typed: all valid."""

    def keywords(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        schema_map = st.dictionaries(names, inner, max_size=3)
        schema_array = st.lists(inner, min_size=1, max_size=2)
        return st.fixed_dictionaries(
            {},
            optional={
                "type": simple_type | st.lists(simple_type, min_size=1, max_size=3, unique=True),
                "properties": schema_map,
                "required": st.lists(names, max_size=3, unique=True),
                "items": inner,
                "prefixItems": schema_array,
                "additionalProperties": inner,
                "anyOf": schema_array,
                "oneOf": schema_array,
                "allOf": schema_array,
                "not": inner,
                "if": inner,
                "then": inner,
                "else": inner,
                "$defs": schema_map,
                "$ref": st.just("#/$defs/a"),
                "enum": st.lists(json_values, max_size=3),
                "const": json_values,
                "default": json_values,
                "examples": st.lists(json_values, max_size=2),
                "description": st.text(max_size=10),
                "title": st.text(max_size=10),
                "format": st.sampled_from(["date", "email", "uri", "x"]),
                "pattern": st.sampled_from(["^[A-Z]{6}$", "[", ""]),
                "minimum": numbers,
                "maximum": numbers,
                "exclusiveMinimum": numbers,
                "multipleOf": st.integers(1, 10) | st.floats(min_value=0.01, max_value=10),
                "minLength": non_negative,
                "maxLength": non_negative,
                "minItems": non_negative,
                "maxItems": non_negative,
                "uniqueItems": st.booleans(),
                "minProperties": non_negative,
                "dependentRequired": st.dictionaries(
                    names, st.lists(names, max_size=2, unique=True), max_size=2
                ),
                "deprecated": st.booleans(),
                "unevaluatedProperties": inner,
            },
        )

    return st.recursive(st.booleans() | keywords(st.booleans()), keywords, max_leaves=6)


@st.composite
def mutated_schemas(draw: st.DrawFn) -> Any:
    """A plain schema with one change somewhere in it: a value replaced by any JSON value, a
    keyword added (known, unknown or one the quick check leaves to jsonschema), an item
    repeated. Some stay valid, most do not."""
    schema = draw(plain_schemas())
    if not isinstance(schema, dict):
        schema = {"not": schema}
    node: Any = schema
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys or draw(st.booleans()):
            break
        key = draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)):
            break
        node = node[key]
    replacement = draw(
        json_values
        | st.sampled_from([1.0, -1, 0, True, "", "text", [], {}, ["string", "string"], [[]]])
    )
    if isinstance(node, dict):
        keyword = draw(
            st.sampled_from(
                [
                    *node,
                    "type",
                    "required",
                    "items",
                    "minLength",
                    "multipleOf",
                    "enum",
                    "$id",
                    "$anchor",
                    "definitions",
                    "dependencies",
                    "x-extra",
                ]
            )
        )
        node[keyword] = replacement
    elif node and draw(st.booleans()):
        node.append(copy.deepcopy(node[draw(st.integers(0, len(node) - 1))]))
    elif node:
        node[draw(st.integers(0, len(node) - 1))] = replacement
    return schema


@settings(max_examples=400, deadline=None)
@given(plain_schemas())
def test_every_schema_of_the_plain_subset_is_certainly_valid(schema: Any) -> None:
    assert META.is_valid(schema)
    assert is_certainly_valid_schema(schema)


@settings(max_examples=1500, deadline=None)
@given(mutated_schemas() | json_values)
def test_the_quick_check_is_never_laxer_than_jsonschema(schema: Any) -> None:
    if is_certainly_valid_schema(schema):
        assert META.is_valid(schema), schema


def nested(levels: int) -> dict[str, Any]:
    """``levels`` object schemas, each the only property of the one around it."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def test_the_parameters_of_every_shipped_tool_are_certainly_valid() -> None:
    checked = 0
    for path in shipped_presets():
        for tool in tomllib.loads(path.read_text(encoding="utf-8")).get("tools", []):
            if "parameters" in tool:
                assert is_certainly_valid_schema(tool["parameters"]), (path.name, tool["name"])
                checked += 1
    assert checked >= 2


@pytest.mark.parametrize(
    "schema",
    [
        True,
        False,
        {},
        {"type": "object", "properties": {}, "required": []},
        {"type": ["string", "null"], "enum": ["a", None], "description": "x"},
        {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
        {"type": "number", "multipleOf": 0.5, "exclusiveMaximum": 10},
        {"type": "string", "pattern": "[", "format": "not-a-format"},
        {"anyOf": [{"$ref": "#/$defs/a"}], "$defs": {"a": True}},
        {"enum": [], "const": {"any": ["value"]}, "default": None},
        nested(MAX_DEPTH // 2 - 1),
    ],
    ids=repr,
)
def test_the_quick_check_accepts_plain_schemas(schema: Any) -> None:
    assert META.is_valid(schema)
    assert is_certainly_valid_schema(schema) is True


@pytest.mark.parametrize(
    "schema",
    [
        None,
        "object",
        1,
        [],
        {"type": "text"},
        {"type": []},
        {"type": ["string", "string"]},
        {"type": 1},
        {"required": "reference"},
        {"required": ["a", "a"]},
        {"required": [1]},
        {"properties": []},
        {"properties": {"a": 1}},
        {"items": [{"type": "string"}]},
        {"anyOf": []},
        {"minLength": -1},
        {"minLength": True},
        {"multipleOf": 0},
        {"minimum": "0"},
        {"enum": "a"},
        {"description": 1},
        {"uniqueItems": 1},
        {"$id": "#fragment"},
        {"dependentRequired": {"a": "b"}},
    ],
    ids=repr,
)
def test_the_quick_check_rejects_invalid_schemas(schema: Any) -> None:
    assert not META.is_valid(schema)
    assert is_certainly_valid_schema(schema) is False


@pytest.mark.parametrize(
    "schema",
    [
        {"minLength": 1.0},
        {"x-extra": 1},
        {"$id": "https://example.com/tool"},
        {"$anchor": "a"},
        {"definitions": {}},
        {"dependencies": {"a": ["b"]}},
        {"minimum": 1, "discriminator": {}},
        nested(MAX_DEPTH // 2),
    ],
    ids=repr,
)
def test_what_the_quick_check_is_not_sure_of_is_left_to_jsonschema(schema: Any) -> None:
    assert META.is_valid(schema)
    assert is_certainly_valid_schema(schema) is False


def tool_preset(project: Path, parameters: dict[str, Any]) -> Path:
    """A preset with one tool whose ``parameters`` is written as inline JSON-ish TOML."""
    table = json.dumps(parameters).replace('":', '" =')
    return write(
        project / "presets" / "tool.toml",
        f'model = "gpt-realtime-1.5"\n\n[[tools]]\nname = "f"\nparameters = {table}\n',
    )


def test_a_schema_left_to_jsonschema_is_still_checked_by_it(project: Path) -> None:
    path = tool_preset(project, {"type": "object", "minLength": -1})
    assert [d.message for d in check_files([path])] == [
        "tools[0].parameters.minLength: not a valid JSON Schema: -1 is less than the minimum of 0"
    ]
    assert check_files([tool_preset(project, {"type": "object", "minLength": 1.0})]) == []


def test_valid_presets_with_tools_are_validated_without_importing_jsonschema() -> None:
    presets = [
        str(p.relative_to(PROJECT))
        for p in shipped_presets()
        if "[[tools]]" in p.read_text(encoding="utf-8")
    ]
    assert presets
    result, modules = imported_modules("-m", "realtime_config", "validate", *presets)
    assert result.returncode == 0, result.stderr
    assert "realtime_config.checking._meta_check" in modules
    assert "jsonschema" not in modules
