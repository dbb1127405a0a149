"""Importing: a JSON request body, response or session event back into a TOML preset.

Each shape imports into a preset of its own dialect: a GA ``client_secrets`` body or
response, a GA session object (``calls.accept``) or a GA ``session.*`` event (its session
has a ``type``) gives a GA preset; a translation body, response or event (its session has
``type = "translation"``, or only translation keys: in an event, one of them a translation
model or a key beta lacks) a translation preset; a beta sessions body, session object or
event a beta one. The keys a server sets (``x-read-only`` on the dialect's root and its
tables, ``x-read-only-outside-session`` beside the session) are dropped and named. In a GA shape a
null where the preset can say ``false`` (``_schema.switchable_paths``) becomes ``false``,
and any other null a server fills in on a known field is read as "not set"; a beta shape
may be null only on its switchable fields, as before.

The preset is checked like any other (schema, then cross-field checks) before its text is
returned, with problems located in the JSON file, and written as TOML by ``_toml_write``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._json_source import JSONLocator, loads_json
from realtime_config._keys import KeyPath, copy_json, format_path
from realtime_config._project import display_path, find_root
from realtime_config._schema import (
    SCHEMA_FILENAME,
    Schema,
    child,
    dialect_of,
    dialect_schema,
    field_schema,
    known_values,
    load_schema,
    object_branch,
    resolve,
)
from realtime_config._source import Position
from realtime_config._toml_write import render_preset
from realtime_config.authoring._import_values import (
    bad_nulls,
    drop_read_only,
    drop_unknown_keys,
    nullable_fields,
    nulls_to_false,
    read_ga_nulls,
    too_deep,
)
from realtime_config.checking._compose import with_cross_field_checks
from realtime_config.preset._model import Document, Preset
from realtime_config.preset._parse import MAX_DEPTH, json_form_diagnostics
from realtime_config.preset._read import TextKind, read_text

SESSION_EVENTS: Final = ("session.created", "session.updated", "session.update")
"""Events whose ``session`` is imported: the two server events and the client event."""

JSON_TEXT: Final = TextKind("JSON file", "a payload is small", "JSON must be UTF-8")
"""How reading names a JSON file in its messages."""


@dataclass(frozen=True)
class ImportedPreset:
    """An imported preset: its TOML text and what was left out on the way.

    ``table`` is the table the text holds (the session fields, and ``expires_after`` of a
    ``client_secrets`` body); ``dialect`` is its dialect (``realtime``, ``transcription``,
    ``translation`` or ``beta``); ``dropped`` names the read-only keys that were left out,
    as paths in the JSON; ``warnings`` are the checks' warnings and, with ``drop_unknown``,
    one for each unknown key left out.
    """

    text: str
    table: Mapping[str, Any]
    dropped: tuple[str, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    dialect: str = "beta"


def import_file(
    path: str | os.PathLike[str],
    *,
    destination: str | os.PathLike[str] | None = None,
    drop_unknown: bool = False,
) -> ImportedPreset:
    """Import the JSON file at ``path``; ``destination`` is where the preset will be written.

    The destination decides the ``#:schema`` header (see schema_reference). A key the
    schema does not know (a field newer than it) is an error, or with ``drop_unknown`` is
    left out with a warning. Raises PresetError, located in the JSON file, when the file
    cannot be read or imported.
    """
    source = Path(path)
    display = display_path(source)
    text = read_text(source, display, JSON_TEXT)
    return import_json(text, display=display, destination=destination, drop_unknown=drop_unknown)


def import_json(
    text: str,
    *,
    display: str = "<payload>",
    destination: str | os.PathLike[str] | None = None,
    drop_unknown: bool = False,
) -> ImportedPreset:
    """Import JSON text (see import_file); ``display`` names it in diagnostics."""
    locator = JSONLocator(text, max_depth=MAX_DEPTH)
    data = _parse_json(text, display, locator)
    return _import(data, display, text, locator, destination, drop_unknown=drop_unknown)


def import_payload(
    data: Mapping[str, Any],
    *,
    drop_unknown: bool = False,
    destination: str | os.PathLike[str] | None = None,
) -> ImportedPreset:
    """A parsed JSON payload as a TOML preset of its own dialect.

    ``data`` is a request body (``client_secrets``, ``calls.accept``, the beta sessions
    body), a ``client_secrets`` response, a session object or a ``session.*`` event; its
    read-only keys are dropped and named. A key the schema does not know is an error, or
    with ``drop_unknown`` is left out with a warning. ``destination``, where the preset will
    be written, decides its ``#:schema`` header. Raises PresetError naming ``<payload>``.
    """
    return _import(
        data,
        "<payload>",
        "",
        JSONLocator("", max_depth=MAX_DEPTH),
        destination,
        drop_unknown=drop_unknown,
    )


def schema_reference(destination: str | os.PathLike[str] | None) -> str:
    """What the ``#:schema`` header of a preset written to ``destination`` points at.

    A relative path to the project's ``schema/realtime-session.schema.json`` when the
    destination's project root has one (a committed file must not hold a machine's absolute
    path); otherwise, and for standard output (``None``), the schema's ``$id`` URL.
    """
    if destination is not None:
        folder = Path(destination).absolute().parent.resolve()
        schema = find_root(folder) / "schema" / SCHEMA_FILENAME
        if schema.is_file():
            return Path(os.path.relpath(schema, folder)).as_posix()
    return str(load_schema()["$id"])


def schema_header(destination: str | os.PathLike[str] | None) -> str:
    """The ``#:schema`` first line (Taplo / Even Better TOML) for a preset at ``destination``."""
    return f"#:schema {schema_reference(destination)}"


# --- Reading the JSON ----------------------------------------------------------------------


def _fail(display: str, position: Position, rule: str, message: str, key: str = "") -> PresetError:
    return PresetError(
        [Diagnostic(display, position.line, position.column, "error", rule, message, key)]
    )


class _DuplicateKeyError(Exception):
    """Raised while parsing when an object repeats a key."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    table = dict(pairs)
    if len(table) != len(pairs):
        raise _DuplicateKeyError
    return table


def _parse_json(text: str, display: str, locator: JSONLocator) -> Any:
    if not text.strip():
        raise _fail(
            display, Position(1, 1), "json-syntax", "the file is empty; expected a JSON object"
        )
    try:
        return loads_json(text, object_pairs_hook=_no_duplicates)  # integers kept to 64 bits
    except json.JSONDecodeError as exc:
        message = exc.msg[:1].lower() + exc.msg[1:]
        raise _fail(
            display, Position(exc.lineno, exc.colno), "json-syntax", f"invalid JSON: {message}"
        ) from None
    except _DuplicateKeyError:
        path = locator.duplicate or ()
        raise _fail(
            display,
            locator.key_position(path),
            "duplicate-key",
            f"{format_path(path)}: the key is repeated in the same object",
            format_path(path),
        ) from None
    except RecursionError:
        path = locator.too_deep or ()
        raise _fail(
            display,
            locator.value_position(path),
            "nesting",
            f"arrays and objects are nested deeper than {MAX_DEPTH} levels",
        ) from None
    except ValueError as exc:
        raise _fail(display, Position(1, 1), "json-syntax", f"invalid JSON: {exc}") from None


# --- From JSON data to a checked session table ---------------------------------------------


@dataclass
class _Shape:
    """What a JSON document holds: the session, where it is, and what lies beside it."""

    session: Mapping[str, Any]
    dialect: str
    prefix: KeyPath = ()
    beside: dict[str, Any] = field(default_factory=dict)
    """Tables of the preset written beside the session (``expires_after``)."""
    dropped_before: list[str] = field(default_factory=list)
    dropped_after: list[str] = field(default_factory=list)
    """Read-only keys beside the session, written before and after it."""
    unknown: list[str] = field(default_factory=list)
    """Keys beside the session that no shape has."""
    kind: str = ""
    """How the wrapper is named in messages: an event's type, or a client_secrets body."""


def _import(
    data: Any,
    display: str,
    text: str,
    locator: JSONLocator,
    destination: str | os.PathLike[str] | None,
    *,
    drop_unknown: bool = False,
) -> ImportedPreset:
    if not isinstance(data, Mapping):
        raise _fail(
            display,
            locator.value_position(()),
            "type",
            f"expected a JSON object (a session request body, session object, response or "
            f"session event), found {_json_kind(data)}",
        )
    shape = _shape(data, display, locator)
    unknown = _unknown_beside(shape, display, locator, drop_unknown)
    warnings = unknown if drop_unknown else []
    beside = [] if drop_unknown else unknown
    dialect = shape.dialect
    root = dialect_schema(dialect)
    located = _Prefixed(locator, shape.prefix, frozenset(shape.beside))
    document = Document(Path(display), display, text, {}, dialect, _locator=located)
    deep = too_deep(shape.session)
    if deep is not None:
        raise PresetError(
            [
                document.diagnostic(
                    deep, "nesting", f"arrays and objects are nested deeper than {MAX_DEPTH} levels"
                )
            ]
        )
    table, dropped = drop_read_only(root, shape.session, shape.prefix)
    if dialect not in ("beta", table.get("type")):
        # A translation request or update carries no type: the preset's type says the dialect.
        table = {"type": dialect, **table}
    dropped = [*shape.dropped_before, *dropped, *shape.dropped_after]
    if dialect == "beta":
        bad = list(bad_nulls(root, table, ()))
        table = nulls_to_false(root, table)
    else:
        table, bad = read_ga_nulls(dialect, table)
    problems = [
        document.diagnostic(
            path,
            "null",
            f"{format_path(path)}: null has no TOML form; only {nullable_fields(dialect)} "
            "may be null (written as false)",
        )
        for path in bad
    ]
    outside = _not_session_fields(document, root, table)
    table.update(copy_json(shape.beside))
    document.table = table
    if drop_unknown:
        warnings.extend(drop_unknown_keys(document, root, table, ()))
    problems.extend(_surrogate_diagnostics(document))
    if not problems:
        problems = json_form_diagnostics(document)
    if not problems:
        problems = _schema_problems(document, outside)
    _raise_errors(sorted([*beside, *problems], key=lambda d: (d.line, d.column)))
    warnings.extend(_cross_field(document))
    return ImportedPreset(
        text=render_preset(table, header=schema_header(destination), dialect=dialect),
        table=table,
        dropped=tuple(dropped),
        warnings=tuple(sorted(warnings, key=lambda d: (d.line, d.column))),
        dialect=dialect,
    )


def _unknown_beside(
    shape: _Shape, display: str, locator: JSONLocator, drop_unknown: bool
) -> list[Diagnostic]:
    """A diagnostic for each key beside the session that no shape has: an error, or with
    ``drop_unknown`` a warning that it is left out."""
    found: list[Diagnostic] = []
    for key in shape.unknown:
        where = locator.key_position((key,))
        if drop_unknown:
            message = (
                f"{format_path((key,))}: unknown key dropped; the {shape.kind} has no such key "
                "in this version's schema"
            )
        else:
            message = f"unknown key `{format_path((key,))}` in the {shape.kind}"
        found.append(
            Diagnostic(
                display,
                where.line,
                where.column,
                "warning" if drop_unknown else "error",
                "unknown-key",
                message,
                format_path((key,)),
            )
        )
    return found


def _shape(data: Mapping[str, Any], display: str, locator: JSONLocator) -> _Shape:
    """Tell the shapes apart: an event, a client_secrets body or response, a session object.

    An event has a ``type`` and a ``session``; a ``client_secrets`` body or response has a
    ``session`` and no ``type``; anything else is a session object (or beta sessions body).
    The dialect is the session's: GA when it has a ``type``.
    """
    if "session" not in data:
        return _Shape(data, _dialect(data))
    if "type" in data:
        kind = data["type"]
        if kind not in SESSION_EVENTS:
            raise _fail(
                display,
                locator.value_position(("type",)),
                "event",
                f"type: {json.dumps(kind, ensure_ascii=False)} is not a session event; expected "
                + ", ".join(SESSION_EVENTS[:-1])
                + f" or {SESSION_EVENTS[-1]}",
                "type",
            )
        name = f"{kind} event"
    else:
        name = "client_secrets body"
    session = data["session"]
    if not isinstance(session, Mapping):
        raise _fail(
            display,
            locator.value_position(("session",)),
            "type",
            f"session: expected a JSON object, found {_json_kind(session)}",
            "session",
        )
    # A client_secrets body has no beta form: without a type, only a translation session fits.
    dialect = _dialect(session, typeless_request="type" not in data)
    if "type" not in data and dialect == "beta":
        raise _fail(
            display,
            locator.key_position(("session",)),
            "type",
            'session: a client_secrets session needs its type ("realtime" or "transcription"); '
            "without one it is read as a translation session, and this one has keys a "
            "translation session has not",
            "session",
        )
    root = dialect_schema(dialect)
    read_only = root.get("x-read-only-outside-session", ())
    beside_tables = () if "type" in data else root.get("x-outside-session", ())
    shape = _Shape(session, dialect, ("session",), kind=name)
    seen_session = False
    for key, value in data.items():
        if key == "session":
            seen_session = True
        elif key == "type" and name.endswith(" event"):
            continue
        elif key in beside_tables:
            shape.beside[key] = value
        elif key in read_only:
            (shape.dropped_after if seen_session else shape.dropped_before).append(
                format_path((key,))
            )
        else:
            shape.unknown.append(key)
    return shape


def _dialect(session: Mapping[str, Any], *, typeless_request: bool = False) -> str:
    """The dialect of a session: its ``type``'s; without one, a translation session (whose
    requests and update events carry no type) when every key of it is a translation key and,
    unless it is the session of a client_secrets body (which has no beta form), one of them
    says translation; else beta."""
    dialect = dialect_of(session)
    if dialect == "beta" and _says_translation(session, typeless_request):
        return "translation"
    return dialect


def _says_translation(session: Mapping[str, Any], fitting_is_enough: bool) -> bool:
    """Whether a session without ``type`` is a translation session: all its keys fit, and
    (unless ``fitting_is_enough``) its model is a known translation model or one of its keys
    is not a beta key."""
    root = dialect_schema("translation")
    if not _keys_fit(root, session):
        return False
    if fitting_is_enough:
        return True
    model = child(root, "model")
    if model is not None and session.get("model") in known_values(model):
        return True
    # A realtime or transcription session always says its type: a key beta lacks is enough.
    return any(field_schema(path, "beta") is None for path in _leaf_paths(session, ()))


def _leaf_paths(value: Any, path: KeyPath) -> Iterator[KeyPath]:
    """The key path of every value of a JSON object that is not an object itself."""
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaf_paths(item, (*path, key))
    elif path:
        yield path


def _keys_fit(node: Schema | None, value: Any) -> bool:
    """Whether every key of a JSON object is a key of the schema node, at every level."""
    if not isinstance(value, Mapping):
        return node is not None
    table = object_branch(node, value) if node is not None else None
    if table is None or table.get("x-verbatim"):
        return table is not None
    properties = table.get("properties", {})
    return all(
        key in properties and _keys_fit(resolve(properties[key]), item)
        for key, item in value.items()
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_diagnostics(document: Document) -> list[Diagnostic]:
    """Strings (keys too) holding a lone UTF-16 surrogate: no UTF-8 file can hold them."""
    found = []
    stack: list[tuple[KeyPath, Any]] = [((), document.table)]
    while stack:
        path, item = stack.pop()
        texts: list[tuple[KeyPath, str]] = []
        if isinstance(item, Mapping):
            texts.extend(((*path, k), k) for k in item)
            stack.extend(((*path, k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in enumerate(item))
        elif isinstance(item, str):
            texts.append((path, item))
        for where, text in texts:
            bad = _SURROGATE.search(text)
            if bad:
                found.append(
                    document.diagnostic(
                        where,
                        "encoding",
                        f"{format_path(where)}: the text holds a lone surrogate "
                        f"(\\u{ord(bad.group()):04x}), which UTF-8 cannot encode",
                    )
                )
    return sorted(found, key=lambda d: (d.line, d.column))


def _not_session_fields(
    document: Document, root: Schema, session: Mapping[str, Any]
) -> list[Diagnostic]:
    """Keys of the preset that a session object cannot hold (``preset``, ``expires_after``)."""
    from realtime_config._wording import suggest

    session_fields = root["x-order"]
    return [
        document.diagnostic(
            (key,),
            "session-field",
            f"unknown key `{format_path((key,))}`; not a session field"
            f"{suggest(key, session_fields)}",
            anchor="key",
        )
        for key in session
        if key not in session_fields and key in root["properties"]
    ]


def _schema_problems(document: Document, found: list[Diagnostic]) -> list[Diagnostic]:
    from realtime_config.checking._validate import schema_diagnostics

    problems = [*found, *schema_diagnostics(document)]
    return sorted(problems, key=lambda d: (d.line, d.column))


def _cross_field(document: Document) -> tuple[Diagnostic, ...]:
    """The cross-field checks' warnings, located in the JSON; their errors are raised."""
    preset = Preset(path=document.path, session=document.table, _locate=document.where)
    return with_cross_field_checks(preset).warnings


def _raise_errors(problems: list[Diagnostic]) -> None:
    if any(p.is_error for p in problems):
        raise PresetError(problems)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --- The session inside a wrapper ---------------------------------------------------------


class _Prefixed:
    """A locator for the ``session`` inside a wrapper: paths are looked up under a prefix,
    except those of the tables written beside the session (``expires_after``)."""

    def __init__(
        self, locator: JSONLocator, prefix: KeyPath, beside: frozenset[str] = frozenset()
    ) -> None:
        self._locator = locator
        self._prefix = prefix
        self._beside = beside

    def _full(self, path: KeyPath) -> KeyPath:
        if path and path[0] in self._beside:
            return path
        return (*self._prefix, *path)

    def key_position(self, path: KeyPath) -> Position:
        return self._locator.key_position(self._full(path))

    def value_position(self, path: KeyPath) -> Position:
        return self._locator.value_position(self._full(path))
