"""Explaining the preset format: every field's type, allowed values, default and emission rule.

Everything here is read from the schema (types, ranges, known values, ``default``, the
``x-*`` emission annotations and ``description``), so ``realtime-config explain`` cannot
drift from what the validator checks and the compiler sends.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from realtime_config._errors import UnknownFieldError
from realtime_config._keys import format_key
from realtime_config._schema import (
    DIALECTS,
    Schema,
    dialect_schema,
    field_schema,
    modalities_key,
    resolve,
)
from realtime_config._toml_write import toml_inline
from realtime_config._wording import join_alternatives

DEFAULT_WIDTH = 100
"""Text is laid out for a terminal this wide unless told otherwise."""

_LABEL_WIDTH = 15

_NO_BREAK = "\u00a0"

_TYPE_WORDS = {
    "object": "table",
    "array": "array",
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Field:
    """One field of the preset format, where it sits and its (resolved) schema.

    ``path`` is dotted with ``[]`` after an array of tables (``tools[].name``); ``parent``
    is the path of the table that holds the field (empty at the top level).
    """

    path: str
    schema: Schema
    parent: str = ""
    required: bool = False
    inside_never: bool = False
    dialect: str = "beta"

    @property
    def name(self) -> str:
        """The field's path without array markers: the form ``explain`` looks names up by."""
        return _normalize(self.path)


DEFAULT_DIALECT = "realtime"
"""What ``explain`` describes unless told otherwise: the GA realtime session a team writes."""


def fields(dialect: str = DEFAULT_DIALECT) -> list[Field]:
    """Every field of a dialect, nested ones included, in the order the compiler sends them."""
    return list(_walk(dialect_schema(dialect), "", inside_never=False, dialect=dialect))


def _walk(table: Schema, prefix: str, *, inside_never: bool, dialect: str) -> Iterator[Field]:
    properties: dict[str, Any] = table.get("properties", {})
    order = [*table.get("x-order", ()), *properties]
    required = set(table.get("required", ()))
    for key in dict.fromkeys(order):
        node = resolve(properties[key])
        path = f"{prefix}.{format_key(key)}" if prefix else format_key(key)
        never = inside_never or node.get("x-emit") == "never"
        yield Field(path, node, prefix, key in required, inside_never, dialect)
        if node.get("x-verbatim"):
            continue
        seen: set[str] = set()
        for branch in _alternatives(node):
            if branch.get("type") == "array":
                items, path_of_items = resolve(branch.get("items", {})), f"{path}[]"
                shapes = [b for b in _alternatives(items) if b.get("type") == "object"]
            else:
                path_of_items, shapes = path, [branch] if branch.get("type") == "object" else []
            for shape in shapes:
                for found in _walk(shape, path_of_items, inside_never=never, dialect=dialect):
                    if found.path not in seen:  # a key shared by two alternatives, once
                        seen.add(found.path)
                        yield found


def _alternatives(node: Schema) -> list[Schema]:
    """The value shapes a field accepts: its ``anyOf`` branches, or the node itself."""
    if "anyOf" not in node:
        return [node]
    found: list[Schema] = []
    for branch in node["anyOf"]:
        found.extend(_alternatives(resolve(branch)))
    return found


def _normalize(name: str) -> str:
    """``tools[].name``, ``tools[0].name`` and ``tools.name`` all become ``tools.name``."""
    return re.sub(r"\[\d*\]", "", name.strip())


def find_field(name: str, dialect: str | None = None) -> Field:
    """The field called ``name`` (``turn_detection.threshold``, ``tools[].name`` or ``tools.name``).

    Without a ``dialect``, a GA realtime field, else a beta one, else a transcription one,
    else a translation one.
    Raises UnknownFieldError, with the closest field name as a suggestion, when there is none.
    """
    wanted = _normalize(name)
    order = [dialect] if dialect else [DEFAULT_DIALECT, "beta", "transcription", "translation"]
    for each in order:
        for field in fields(each):
            if field.name == wanted:
                return field
    known = {f.name: f for each in reversed(order) for f in fields(each)}
    close = difflib.get_close_matches(wanted, list(known), n=1, cutoff=0.6)
    if not close:
        leaf = wanted.rsplit(".", 1)[-1]
        close = [key for key in known if key.rsplit(".", 1)[-1] == leaf][:1]
    raise UnknownFieldError(name, known[close[0]].path if close else None)


def type_words(node: Schema, *, short: bool = False) -> str:
    """The TOML kinds of value a field accepts: ``table, or false to switch off``.

    ``short`` gives the compact form of a table column (``table/false``).
    """
    shapes = [b for b in _alternatives(node) if b.get("const") is not False]
    switch_off = len(shapes) < len(_alternatives(node))
    words: list[str] = []
    for branch in shapes:
        if "const" in branch and len(shapes) > 1:
            words.append(toml_inline(branch["const"]))
        else:
            words.append(_kind(branch, short=short, bare_array=short and len(shapes) > 1))
    words = list(dict.fromkeys(words))
    if short:
        return "/".join([*words, "false"] if switch_off else words)
    if switch_off:
        return ", ".join(words) + ", or false to switch off"
    return join_alternatives(words)


def _kind(branch: Schema, *, short: bool = False, bare_array: bool = False) -> str:
    json_type = branch.get("type")
    if json_type == "array":
        items = resolve(branch.get("items", {}))
        item_type = items.get("type")
        if item_type == "object":
            return "array of tables"
        if isinstance(item_type, str) and not bare_array:
            return f"array of {_TYPE_WORDS.get(item_type, item_type)}s"
        return "array"
    if json_type == "number" and not short:
        return "number (integer or float)"
    if isinstance(json_type, str):
        return _TYPE_WORDS.get(json_type, json_type)
    return "any value"


def allowed_values(node: Schema) -> str:
    """The values a field allows, in words: a range, a list of values, known values..."""
    if node.get("x-open-enum"):
        known = [toml_inline(v) for b in _alternatives(node) for v in b.get("enum", ())]
        noun = node.get("x-known-as", "value")
        return f"any string; known {noun}s: {', '.join(dict.fromkeys(known))}"
    shapes = [b for b in _alternatives(node) if b.get("const") is not False]
    if len(shapes) == 1 and "const" in shapes[0]:
        return f"only {toml_inline(shapes[0]['const'])}"
    shapes = [b for b in shapes if "const" not in b]
    described = [(b, _constraints(b)) for b in shapes]
    described = [(b, words) for b, words in described if words]
    if len(described) == 1 and len(shapes) == 1:
        return ", ".join(described[0][1])
    return "; ".join(f"{_kind(b)}: {', '.join(words)}" for b, words in described)


def _constraints(branch: Schema) -> list[str]:
    words: list[str] = []
    if "enum" in branch:
        values = [toml_inline(v) for v in branch["enum"]]
        words.append(f"only {values[0]}" if len(values) == 1 else join_alternatives(values))
    low, high = branch.get("minimum"), branch.get("maximum")
    if low is not None and high is not None:
        words.append(f"{json.dumps(low)} to {json.dumps(high)}")
    elif low is not None:
        words.append(f"at least {json.dumps(low)}")
    elif high is not None:
        words.append(f"at most {json.dumps(high)}")
    if branch.get("minLength") == 1:
        words.append("not empty")
    elif "minLength" in branch:
        words.append(f"at least {branch['minLength']} characters")
    if "minItems" in branch:
        count = branch["minItems"]
        words.append(f"at least {count} item" + ("s" if count != 1 else ""))
    if branch.get("uniqueItems"):
        words.append("no duplicates")
    items = resolve(branch.get("items", {})) if branch.get("type") == "array" else {}
    if items.get("type") != "object":
        each = _constraints(items) if items else []
        if each:
            words.append("each " + ", ".join(each))
    return words


def emission_rule(field: Field) -> str:
    """How the compiler sends the field, in plain words, from its ``x-*`` annotations."""
    node = field.schema
    rule = node.get("x-emit", "present")
    if field.path == "type" and rule == "never":
        return "never sent: it picks the dialect; the request has no type"
    if rule == "never" or field.inside_never:
        return "never sent: a setting of the preset itself, not of the session"
    if rule == "always":
        where = f" inside {field.parent}" if field.parent else ""
        text = f"always sent{where}; {toml_inline(node.get('x-when-absent'))} when not set"
    elif rule == "non-default":
        text = f"omitted when absent or equal to the default {toml_inline(node.get('default'))}"
    elif rule == "non-empty":
        text = "sent only when a key inside it is set"
    else:
        text = "sent when set, omitted when absent"
    if node.get("x-null-when-false") and node.get("x-false-on-create") == "omit":
        text += (
            "; false switches it off: left out when a session is created, sent as null in "
            "session.update"
        )
    elif node.get("x-null-when-false"):
        text += "; false is sent as null"
    if node.get("x-verbatim"):
        text += "; copied exactly as written, key order kept"
    if node.get("x-create-only"):
        text += "; only when a session is created, never in an update event"
    if node.get("x-update-emit", rule) != rule:
        text += "; an update sends it as written"
    return text


def _ga_rule(node: Schema) -> str | None:
    """Where target ``client_secrets`` (the GA body) puts the field, from its ``x-ga*`` keys."""
    if "x-ga" not in node:
        return None
    place = node["x-ga"]
    if place is None:
        return (
            "none: target client_secrets has no such field (an error; --drop-unsupported "
            "leaves it out with a warning)"
        )
    text = f"{place} (target client_secrets)"
    if "x-ga-pick" in node:
        choices = ", ".join(toml_inline(v) for v in node["x-ga-pick"])
        text += f", as a one-item array: the first of {choices} found in it"
    mapping = node.get("x-ga-map", {})
    if mapping:
        pairs = (f"{toml_inline(k)} as {_unbroken(toml_inline(v))}" for k, v in mapping.items())
        text += "; " + ", ".join(pairs)
    if node.get("x-ga-omit-false"):
        text += "; false is left out"
    return text


def _beta_name(field: Field) -> str | None:
    """A GA field's name in a beta preset, from the beta fields' ``x-ga`` mapping."""
    if field.dialect == "beta" or field.inside_never or field.schema.get("x-emit") == "never":
        return None
    if field.dialect == "translation":
        return "none: a translation session has no beta form"
    from realtime_config.compiling._translate import beta_field_of

    found = beta_field_of(tuple(field.name.split(".")))
    if found is not None:
        name = ".".join(str(p) for p in found)
        return next((f.path for f in fields("beta") if f.name == name), name)
    if field.path == "type":
        return "none: a beta preset has no type"
    return (
        "none: the beta API has no such field (targets sessions and beta.session.update refuse it)"
    )


def _sessions_of(field: Field) -> str:
    parts = field.path.replace("[]", ".[]").split(".")
    path = tuple(0 if part == "[]" else part for part in parts)
    kinds = [d for d in DIALECTS if d != "beta" and field_schema(path, d) is not None]
    listed = ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]
    return f"{listed} sessions (GA presets)"


def _unbroken(text: str) -> str:
    """``text`` with no-break spaces, so that wrapping keeps it on one line (undone after)."""
    return text.replace(" ", _NO_BREAK)


def _table_keys(node: Schema) -> str:
    """The keys of a table (or of each table of an array of tables), in the order sent."""
    for branch in _alternatives(node):
        table, each = branch, ""
        if branch.get("type") == "array":
            table, each = resolve(branch.get("items", {})), ", in each table"
        if table.get("type") == "object" and "x-order" in table:
            keys = ", ".join(format_key(k) for k in table["x-order"])
            return f"{keys} (in the order sent{each})"
    return ""


@dataclass(frozen=True)
class FieldFacts:
    """What the schema says about one field of the preset format.

    ``path`` is the field as a preset writes it (``tools[].name``), ``dialect`` the dialect
    it was found in; ``facts`` are ``(label, words)`` pairs in the order ``explain`` shows
    them (``type``, ``allowed``, ``default``, ``emission``, ``GA body``, ``beta name``...);
    ``description`` is the schema's. ``str()`` gives the text of ``explain``.
    """

    path: str
    dialect: str
    required: bool
    rows: tuple[tuple[str, str], ...] = dataclasses.field(repr=False)
    """The facts as the text lays them out: a mapped value's spaces are no-break ones, so
    that wrapping keeps it on one line (``facts`` gives them as plain text)."""
    description: str = ""

    @property
    def facts(self) -> tuple[tuple[str, str], ...]:
        """Each fact as ``(label, words)``."""
        return tuple((label, text.replace(_NO_BREAK, " ")) for label, text in self.rows)

    def text(self, width: int = DEFAULT_WIDTH) -> str:
        """The facts as ``explain`` prints them, for a terminal ``width`` wide."""
        lines = [self.path]
        for label, text in self.rows:
            lines.append(
                textwrap.fill(
                    text,
                    width=width,
                    initial_indent=f"  {label + ':':<{_LABEL_WIDTH - 2}}",
                    subsequent_indent=" " * _LABEL_WIDTH,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
        if self.description:
            lines.append("")
            lines.append(textwrap.fill(self.description, width=width, break_on_hyphens=False))
        return "\n".join(lines).replace(_NO_BREAK, " ") + "\n"

    def __str__(self) -> str:
        return self.text()


def explain_field(name: str, *, dialect: str | None = None) -> FieldFacts:
    """Everything the schema says about the field ``name`` (``turn_detection.threshold``,
    ``tools[].name`` or ``tools.name``), as a record; its ``text(width)`` is ``explain``'s.

    Without a ``dialect``, a GA realtime field, else a beta one, else a transcription one,
    else a translation one. Raises UnknownFieldError, with the closest name, when none has it.
    """
    found = find_field(name, dialect)
    return FieldFacts(
        found.path,
        found.dialect,
        found.required,
        tuple(_facts(found)),
        found.schema.get("description", ""),
    )


def _facts(field: Field) -> Iterator[tuple[str, str]]:
    node = field.schema
    if field.dialect != "beta":
        yield "in", _sessions_of(field)
    yield "type", type_words(node)
    if field.required:
        yield "required", "yes"
    allowed = allowed_values(node)
    if allowed:
        yield "allowed", allowed
    if "default" in node:
        yield "default", toml_inline(node["default"])
    retired = node.get("x-deprecated", {})
    if retired:
        yield (
            "deprecated",
            "; ".join(
                f"{toml_inline(model)} shuts down on {when['shutdown']}, use "
                f"{toml_inline(when['use'])}"
                for model, when in retired.items()
            ),
        )
    yield "emission", emission_rule(field)
    ga = _ga_rule(node)
    if ga is not None:
        yield "GA body", ga
    beta = _beta_name(field)
    if beta is not None:
        yield "beta name", beta
    yield from _relations(field)


def _relations(field: Field) -> Iterator[tuple[str, str]]:
    """The keys inside a table, and the other fields this one depends on."""
    node = field.schema
    keys = _table_keys(node)
    if keys:
        yield "keys", keys
    if "x-applies-to" in node:
        selector = f"{field.parent}.type" if field.parent else "type"
        yield "applies to", f"{selector} = {toml_inline(node['x-applies-to'])} only"
    if "x-needs-modality" in node:
        modality = toml_inline(node["x-needs-modality"])
        modalities = modalities_key(field.dialect)
        yield "needs", f"{modalities} to include {modality}; no effect otherwise"
    if "x-needs-model" in node:
        yield "needs", f"model {toml_inline(node['x-needs-model'])}"


def summary(description: str) -> str:
    """A description's first sentence."""
    found = re.search(r"(?<=[.!?])\s+(?=[A-Z\"(])", description)
    return description[: found.start()] if found else description


def field_table(*, width: int = DEFAULT_WIDTH, dialect: str = DEFAULT_DIALECT) -> str:
    """Every field as a table: path, type and default on a line, a one-line summary under it."""
    rows = [
        (
            field.path,
            type_words(field.schema, short=True),
            toml_inline(field.schema["default"]) if "default" in field.schema else "",
            summary(field.schema.get("description", "")),
        )
        for field in fields(dialect)
    ]
    header = ("FIELD", "TYPE", "DEFAULT", "")
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(3)]
    lines = [_columns(header, widths)]
    for row in rows:
        lines.append(_columns(row, widths))
        if row[3]:
            lines.append(
                textwrap.shorten(row[3], width=width, placeholder="...", initial_indent="    ")
            )
    return "\n".join(lines) + "\n"


def _columns(row: Sequence[str], widths: Sequence[int]) -> str:
    cells = [f"{row[0]:<{widths[0]}}", f"{row[1]:<{widths[1]}}", row[2]]
    return "  ".join(cells).rstrip()
