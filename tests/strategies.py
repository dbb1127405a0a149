"""Hypothesis strategies built by walking the preset schema.

``session_tables()`` draws session tables that are valid presets: the schema's own
constraints (types, enums, ranges, ``anyOf`` alternatives, ``false`` on the nullable fields,
``minItems``/``uniqueItems``, required keys) come from walking the schema; the cross-field
rules the project checks on top (unique tool names, a forced ``tool_choice`` that names a
tool, VAD settings of the chosen ``turn_detection.type``, ``parameters`` that is a JSON
Schema) are applied after drawing.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from realtime_config import load_schema

# The strategies walk the schema's nodes: its $ref resolution and union branches are internals.
from realtime_config._schema import Schema, branch_of_type, resolve

INT64_MAX = 2**63 - 1
"""TOML integers are 64-bit: an unbounded integer field is drawn within that range."""

_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)

json_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=INT64_MAX),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
"""JSON scalars that TOML can hold (no null, no non-finite numbers)."""

json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Small JSON-ish values: scalars, arrays and objects, nested."""

json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
"""Small JSON-ish objects, keys in drawn order (tables before scalars included)."""


@st.composite
def function_parameters(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible ``parameters`` JSON Schema: properties first, then ``required``."""
    names = draw(st.lists(st.text(min_size=1, max_size=8), max_size=3, unique=True))
    properties = {
        name: draw(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["string", "integer", "number", "boolean"])},
                optional={"description": st.text(max_size=20)},
            )
        )
        for name in names
    }
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if names:
        schema["required"] = draw(st.lists(st.sampled_from(names), unique=True))
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


verbatim_objects = function_parameters() | json_objects.filter(_META.is_valid)
"""Values of ``x-verbatim`` fields; every one is also a valid JSON Schema (for parameters)."""


def from_schema(node: Schema, *, top: bool = False) -> st.SearchStrategy[Any]:
    """Values valid against one schema node (resolved), drawn by walking it."""
    node = resolve(node)
    if node.get("x-verbatim"):
        return verbatim_objects
    if "anyOf" in node:
        return st.one_of([from_schema(branch) for branch in node["anyOf"]])
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "object":
        properties = {
            key: from_schema(child)
            for key, child in node.get("properties", {}).items()
            if not (top and resolve(child).get("x-emit") == "never")
        }
        required = set(node.get("required", ()))
        return st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
    if kind == "array":
        return st.lists(
            from_schema(node["items"]),
            min_size=node.get("minItems", 0),
            max_size=3,
            unique=bool(node.get("uniqueItems")),
        )
    if kind == "string":
        return st.text(min_size=node.get("minLength", 0), max_size=30)
    if kind == "integer":
        return st.integers(
            min_value=node.get("minimum", -(2**63)), max_value=node.get("maximum", INT64_MAX)
        )
    if kind == "number":
        low, high = node.get("minimum"), node.get("maximum")
        floats = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
        whole_low = math.ceil(low) if low is not None else -(2**63)
        whole_high = math.floor(high) if high is not None else INT64_MAX
        if whole_low > whole_high:
            return floats
        return floats | st.integers(min_value=whole_low, max_value=whole_high)
    if kind == "boolean":
        return st.booleans()
    raise AssertionError(f"the strategy does not know this schema node: {node}")


@st.composite
def session_tables(draw: st.DrawFn) -> dict[str, Any]:
    """A session table that is a valid preset, schema and cross-field checks included."""
    schema = load_schema()["$defs"]["beta"]
    table: dict[str, Any] = draw(from_schema(schema, top=True))
    if "tools" in table:
        unique: dict[str, dict[str, Any]] = {}
        for tool in table["tools"]:
            unique.setdefault(tool["name"], tool)
        table["tools"] = list(unique.values())
    names = [tool["name"] for tool in table.get("tools", [])]
    choice = table.get("tool_choice")
    if isinstance(choice, dict):
        if names:
            table["tool_choice"] = {"type": "function", "name": draw(st.sampled_from(names))}
        else:
            del table["tool_choice"]
    detection = table.get("turn_detection")
    field = schema["properties"]["turn_detection"]
    vad = branch_of_type(resolve(field), "object")
    if isinstance(detection, dict) and vad is not None:
        chosen = detection.get("type", vad["properties"]["type"].get("x-when-absent"))
        table["turn_detection"] = {
            key: value
            for key, value in detection.items()
            if vad["properties"][key].get("x-applies-to", chosen) == chosen
        }
    return table


# --- GA presets ------------------------------------------------------------------------------

WHISPER = "gpt-realtime-whisper"
"""The transcription model that takes ``delay`` and needs turn detection off."""


def _is_valid_preset(table: dict[str, Any]) -> bool:
    """Whether the project's own checks accept the table (warnings allowed)."""
    from realtime_config import PresetError, compile_preset

    try:
        compile_preset(table)  # a GA table's own target carries it whole: only checks fail
    except PresetError:
        return False
    return True


def _fix_tools(draw: st.DrawFn, table: dict[str, Any]) -> None:
    """Unique tool names and server labels, one MCP server each, a tool_choice that names
    a tool of the table."""
    tools: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for tool in table.get("tools", []):
        kind = tool.get("type", "function")
        name = tool.get("server_label" if kind == "mcp" else "name", "")
        if kind == "function" and "name" not in tool:
            # GA does not require a name, the beta translation (sessions) does: a nameless
            # function tool compiles to a beta body the beta schema refuses.
            tool["name"] = f"tool_{len(tools)}"
            name = tool["name"]
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        if kind == "mcp":
            servers = [key for key in ("server_url", "connector_id", "tunnel_id") if key in tool]
            if not servers:
                tool["server_url"] = "https://mcp.example/sse"
                servers = ["server_url"]
            keep = draw(st.sampled_from(servers))
            for key in servers:
                if key != keep:
                    del tool[key]
        tools.append(tool)
    if "tools" in table:
        table["tools"] = tools
    choice = table.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "mcp":
            labels = [t["server_label"] for t in tools if t.get("type") == "mcp"]
            if labels:
                choice["server_label"] = draw(st.sampled_from(labels))
            else:
                del table["tool_choice"]
        else:
            names = [
                t["name"] for t in tools if t.get("type", "function") == "function" and "name" in t
            ]
            if names:
                table["tool_choice"] = {"type": "function", "name": draw(st.sampled_from(names))}
            else:
                del table["tool_choice"]


@st.composite
def ga_session_tables(draw: st.DrawFn, kind: str | None = None) -> dict[str, Any]:
    """A GA preset's table (``type = "realtime"``, ``"transcription"`` or ``"translation"``),
    drawn from the schema's GA branch, valid by the schema and the project's checks."""
    dialect = kind or draw(st.sampled_from(["realtime", "transcription"]))
    schema = load_schema()["$defs"][dialect]
    table: dict[str, Any] = draw(from_schema(schema, top=True))
    table["type"] = dialect
    table = {"type": dialect, **{k: v for k, v in table.items() if k != "type"}}
    for key in schema.get("x-required-on-create", ()):  # a translation session's model
        if key not in table:
            table[key] = draw(from_schema(schema["properties"][key]))
    if "output_modalities" in table:
        table["output_modalities"] = table["output_modalities"][:1]
    if table.get("model") in schema["properties"].get("model", {}).get(
        "x-non-reasoning-models", ()
    ):
        table.pop("reasoning", None)
        table.pop("parallel_tool_calls", None)
    _fix_tools(draw, table)
    audio_input = table.get("audio", {}).get("input", {})
    transcription = audio_input.get("transcription")
    if isinstance(transcription, dict):
        if transcription.get("model") == WHISPER:
            transcription.pop("prompt", None)
            if dialect == "transcription":
                audio_input["turn_detection"] = False
        else:
            transcription.pop("delay", None)
    table = {key: value for key, value in table.items() if value != {} or key == "type"}
    assume_valid = _is_valid_preset(table)
    if not assume_valid:
        from hypothesis import assume

        assume(False)
    return table
