"""Writing TOML for people: preset text laid out in the schema's order, keys and values.

A preset is written with the session fields in the schema's order, scalars before tables,
``[[tools]]`` as arrays of tables, long instructions as a multi-line string; in a GA preset a
small flat table deep down is written inline. tomli-w formats every scalar; the layout is
written here because tomli-w moves a table's scalars ahead of its sub-tables (which would
reorder a verbatim ``parameters`` object, sent as written) and turns CRLF into LF in its
multi-line strings. The importer, ``new``, ``migrate`` and ``explain`` all write TOML
through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import tomli_w

from realtime_config._keys import BARE_KEY
from realtime_config._schema import Schema, branch_of_type, child, dialect_schema, object_branch

LINE_WIDTH: Final = 100
"""A table or array is written on one line when the line stays this short (as tomli-w)."""

MULTILINE_AFTER: Final = 80
"""A top-level string longer than this, or with a line break, is written between ``\"\"\"``."""


def field_of(node: Schema | None, key: str | int) -> Schema | None:
    """The schema of ``key`` inside ``node``; None inside a verbatim value (sent as written)."""
    if node is None or node.get("x-verbatim"):
        return None
    return child(node, key)


def render_preset(session: Mapping[str, Any], *, header: str, dialect: str = "beta") -> str:
    """A valid table of ``dialect`` as preset text: ``header``, then the fields in schema
    order.

    In a GA preset a small flat table two levels down (``audio.input.format``,
    ``noise_reduction``) or in an array item is written inline, as DESIGN's GA example is;
    a beta preset keeps a table per table.
    """
    blocks = _table_blocks(dialect_schema(dialect), session, (), inline=dialect != "beta")
    body = "\n\n".join("\n".join(block) for block in blocks)
    return f"{header}\n{body}\n" if body else f"{header}\n"


def _ordered(node: Schema | None, table: Mapping[str, Any]) -> list[str]:
    order = list(node.get("x-order", ())) if node is not None else []
    return [k for k in order if k in table] + [k for k in table if k not in order]


def _table_blocks(
    node: Schema | None,
    table: Mapping[str, Any],
    path: tuple[str, ...],
    *,
    item: bool = False,
    inline: bool = False,
) -> list[list[str]]:
    """The lines of a table as blocks: its header and scalars, then each sub-table."""
    schema = object_branch(node, table) if node is not None else None
    own: list[str] = []
    nested: list[list[str]] = []
    for key in _ordered(schema, table):
        value = table[key]
        field = field_of(node, key)
        name = toml_key(key)
        if isinstance(value, Mapping):
            if field is not None and not field.get("x-verbatim"):
                line = f"{name} = {toml_inline(value)}"
                if (
                    inline
                    and (len(path) >= 2 or item)
                    and _is_flat(value)
                    and len(line) <= LINE_WIDTH
                ):
                    own.append(line)
                else:
                    nested.extend(_table_blocks(field, value, (*path, key), inline=inline))
                continue
            line = f"{name} = {toml_inline(value)}"
            if _fits_inline(line, value):
                own.append(line)
            else:
                nested.append([f"[{_dotted((*path, key))}]", *_dotted_lines(value, ())])
        elif _is_table_array(field, value):
            items = field_of(field, 0)
            for entry in value:
                nested.extend(_table_blocks(items, entry, (*path, key), item=True, inline=inline))
        elif not path and isinstance(value, str) and _wants_multiline(value):
            own.append(f"{name} = {toml_multiline(value)}")
        else:
            own.extend(_assignment(name, value))
    head: list[list[str]] = []
    if item:
        head = [[f"[[{_dotted(path)}]]", *own]]
    elif path and (own or not nested):
        head = [[f"[{_dotted(path)}]", *own]]
    elif own:
        head = [own]
    return head + nested


def _is_flat(table: Mapping[str, Any]) -> bool:
    """Whether a table holds no table (an array of them included)."""
    return not any(
        isinstance(value, Mapping)
        or (isinstance(value, list) and any(isinstance(v, Mapping) for v in value))
        for value in table.values()
    )


def _is_table_array(field: Schema | None, value: Any) -> bool:
    if field is None or field.get("x-verbatim") or not isinstance(value, list) or not value:
        return False
    items = field_of(field, 0)
    return (
        items is not None
        and branch_of_type(items, "object") is not None
        and all(isinstance(entry, Mapping) for entry in value)
    )


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(toml_key(part) for part in path)


def _dotted_lines(table: Mapping[str, Any], prefix: tuple[str, ...]) -> list[str]:
    """A verbatim table's keys as dotted keys, in their own order (tables included)."""
    lines: list[str] = []
    for key, value in table.items():
        keys = (*prefix, key)
        if not isinstance(value, Mapping):
            lines.extend(_assignment(_dotted(keys), value))
            continue
        line = f"{_dotted(keys)} = {toml_inline(value)}"
        if _fits_inline(line, value):
            lines.append(line)
        else:
            lines.extend(_dotted_lines(value, keys))
    return lines


def _fits_inline(line: str, table: Mapping[str, Any]) -> bool:
    """Whether a verbatim table reads well inline: empty, or flat and short enough."""
    if not table:
        return True
    flat = not any(isinstance(value, Mapping) and value for value in table.values())
    return flat and len(line) <= LINE_WIDTH


def _assignment(name: str, value: Any) -> list[str]:
    line = f"{name} = {toml_inline(value)}"
    if not isinstance(value, list) or not value or len(line) <= LINE_WIDTH:
        return [line]
    return [f"{name} = [", *(f"    {toml_inline(entry)}," for entry in value), "]"]


def _wants_multiline(text: str) -> bool:
    return len(text) > MULTILINE_AFTER or "\n" in text


def toml_key(key: str) -> str:
    """One key as TOML writes it: bare when it can be, else a basic string as tomli-w writes it."""
    return key if BARE_KEY.fullmatch(key) else toml_inline(key)


def toml_inline(value: Any) -> str:
    """A value on one line: scalars as tomli-w writes them, tables inline, keys in order."""
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        pairs = ", ".join(f"{toml_key(k)} = {toml_inline(v)}" for k, v in value.items())
        return "{ " + pairs + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_inline(entry) for entry in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").removesuffix("\n")


def toml_multiline(text: str) -> str:
    """``text`` as a multi-line basic string that TOML reads back exactly.

    Line feeds and tabs stay as they are; carriage returns are escaped (a parser may turn a
    raw CRLF into LF), as are backslashes, control characters and every third quote in a row.
    """
    parts: list[str] = ['"""\n']
    quotes = 0
    for char in text:
        if char == '"':
            if quotes == 2:
                parts.append('\\"')
                quotes = 0
            else:
                parts.append('"')
                quotes += 1
            continue
        quotes = 0
        if char == "\\":
            parts.append("\\\\")
        elif char in "\n\t":
            parts.append(char)
        elif char == "\r":
            parts.append("\\r")
        elif char < " " or char == "\x7f":
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(char)
    if quotes:
        # Quotes just before the closing delimiter would read as part of it.
        del parts[-quotes:]
        parts.append('\\"' * quotes)
    parts.append('"""')
    return "".join(parts)
