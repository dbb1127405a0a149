"""Migrating beta presets to GA presets: the same ``client_secrets`` body, every comment kept.

A beta preset's GA body is what ``compile -t client_secrets`` sends today: the beta emission
rules first, then the schema's mapping annotations (``x-ga``, ``x-ga-map``, ``x-ga-pick``,
``x-ga-omit-false``, ``x-ga-const``). A migrated file is built in three steps:

1. **Move.** Each key the file writes goes to the place its field's ``x-ga`` names, its value
   mapped by ``x-ga-map`` / ``x-ga-pick``; ``[preset]`` and everything below a mapped field
   stay as written. A field whose ``x-ga`` is null (``temperature``) is an error at its key,
   or is dropped with a warning.
2. **Settle.** The resolved GA table of the migrated chain is compared with the GA body the
   beta preset compiles to today, and the file is edited until they agree: what the beta
   rules added is written out (``output_modalities``, ``turn_detection.type``, a tool's
   ``type``), what they left out is removed (``pcm16`` formats). The GA table is read by the
   GA branch's own rules before comparing: a ``false`` that a GA preset leaves out on creation
   (``x-false-on-create``) stays ``false``, meaning the same "off", and what the GA compiler
   sends when absent (``x-emit: always``: ``expires_after.anchor``) is not written out.
   Nothing here lists fields: every difference comes from comparing the two.
3. **Write.** The file is laid out again from its own pieces, parsed by tomlkit: a comment
   above a key moves with that key into its new table, a trailing comment stays on its line,
   blank lines and the comments of removed keys stay where they were. Tables keep their
   order; new ``[audio.input]`` / ``[audio.output]`` tables go where the GA order puts them.

Only the root of an ``extends`` chain gets ``type = "realtime"``: the dialect is read from the
resolved table, so the files that extend it are GA presets without repeating it, and the
chain keeps one place that says which API it is written for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import tomlkit
from tomlkit.items import AoT, Item, Key, Table, Whitespace

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._errors import PresetError
from realtime_config._keys import KeyPath, copy_json, format_path
from realtime_config._project import display_path, find_root, scan_presets
from realtime_config.checking._compose import CheckedLoader as Loader
from realtime_config.preset._model import Document, Preset, PresetSettings
from realtime_config.preset._resolve import merge as _merge

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from realtime_config._schema import (
    Schema,
    branch_of_type,
    branches,
    dialect_schema,
    object_branch,
    resolve,
)
from realtime_config._toml_write import toml_inline, toml_key

_SESSION: Final = "session."
_LAST: Final = 1 << 30


@dataclass(frozen=True)
class Migration:
    """One preset file migrated: its text before and after, and the warnings of doing it."""

    path: Path
    display: str
    original: str
    text: str
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def changed(self) -> bool:
        return self.text != self.original


def migrate_presets(
    paths: Iterable[str | os.PathLike[str]],
    *,
    root: str | os.PathLike[str] | None = None,
    drop_unsupported: bool = False,
) -> list[Migration]:
    """Migrate beta presets to GA presets whose ``client_secrets`` bodies are unchanged.

    Every file of an ``extends`` chain must be given. Nothing is written; a PresetError lists
    every problem of every file (an unsupported field, a chain migrated in part, a body the
    GA preset could not reproduce), so that a caller writes all files or none.
    """
    migrations, results = _translate(paths, root, drop_unsupported)
    _verify(results)
    return migrations


def translate_presets(
    paths: Iterable[str | os.PathLike[str]],
    *,
    root: str | os.PathLike[str] | None = None,
    drop_unsupported: bool = False,
) -> list[Migration]:
    """The GA texts of ``migrate_presets``, without compiling them to check the bodies."""
    return _translate(paths, root, drop_unsupported)[0]


def migration_root(
    paths: Iterable[str | os.PathLike[str]], root: str | os.PathLike[str] | None = None
) -> Path:
    """The project root of a migration: it bounds the files rewritten and holds the journal
    of their writes (``--root``, else the root of the first preset's folder)."""
    if root is not None:
        return Path(root)
    first = next(iter(paths), ".")
    return find_root(Path(os.path.abspath(first)).parent)  # noqa: PTH100


def write_migrations(
    migrations: Sequence[Migration], *, root: str | os.PathLike[str] | None = None
) -> list[Migration]:
    """Write every changed migration over its file, all or none; return those written.

    The files change in one commit (``commit_files``): a failure or a signal puts every
    original back (CommitError). No file is written through a link out of the root.
    """
    from realtime_config._commit import FileChange, commit_files

    written = [m for m in migrations if m.changed]
    project = migration_root([m.path for m in migrations], root)
    changes = [FileChange(Path(display_path(m.path)), m.text) for m in written]
    commit_files(changes, journal=project, bound=project)
    return written


def write_migration(
    migration: Migration,
    output: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Write one migration to ``output``, atomically; never over the preset itself or any
    other preset being migrated (``inputs``)."""
    from realtime_config._files import write_atomic

    protected = [
        (Path(p), "the preset itself") for p in dict.fromkeys([migration.path, *map(Path, inputs)])
    ]
    write_atomic(Path(output), migration.text, protected=protected)


# --- The mapping, read from the schema ------------------------------------------------


def _ga_place(path: KeyPath) -> tuple[int, KeyPath | None] | None:
    """For a beta key path: how many of its parts name the mapped field, and that field's
    GA path (None: GA has no such field). None when no field on the path has ``x-ga``
    (``preset``, or a table such as ``client_secret`` that is spread into its keys).
    """
    node: Schema | None = dialect_schema("beta")
    for depth, part in enumerate(path):
        if node is None or isinstance(part, int):
            return None
        table = branch_of_type(node, "object")
        if table is None or part not in table.get("properties", {}):
            return None
        node = resolve(table["properties"][part])
        if "x-ga" in node:
            target = node["x-ga"]
            if target is None:
                return depth + 1, None
            return depth + 1, tuple(target.removeprefix(_SESSION).split("."))
    return None


def _beta_field(path: KeyPath) -> Schema | None:
    node: Schema | None = dialect_schema("beta")
    for part in path:
        if node is None:
            return None
        if isinstance(part, int):
            array = branch_of_type(node, "array")
            node = resolve(array["items"]) if array and "items" in array else None
            continue
        table = branch_of_type(node, "object")
        if table is None or part not in table.get("properties", {}):
            return None
        node = resolve(table["properties"][part])
    return node


def _ga_fields() -> dict[KeyPath, tuple[KeyPath, Schema]]:
    """Each GA field path, with the beta path and schema of the field that maps to it."""
    found: dict[KeyPath, tuple[KeyPath, Schema]] = {}

    def walk(node: Schema, path: KeyPath) -> None:
        for key in node.get("x-order", ()):
            child = resolve(node["properties"][key])
            if "x-ga" in child:
                if child["x-ga"] is not None:
                    ga = tuple(child["x-ga"].removeprefix(_SESSION).split("."))
                    found[ga] = ((*path, key), child)
                continue
            nested = branch_of_type(child, "object")
            if nested is not None:
                walk(nested, (*path, key))

    walk(dialect_schema("beta"), ())
    return found


def _beta_of(ga_path: KeyPath) -> tuple[KeyPath, Schema] | None:
    """The beta path and field schema of a GA path (of a field, or inside one)."""
    fields = _ga_fields()
    for length in range(len(ga_path), 0, -1):
        found = fields.get(ga_path[:length])
        if found is not None:
            beta, _ = found
            inner = (*beta, *ga_path[length:])
            schema = _beta_field(inner)
            return (inner, schema) if schema is not None else None
    return None


def _translate_value(schema: Schema, value: Any) -> Any:
    """A written value in its GA form, as the field's ``x-ga-map`` / ``x-ga-pick`` say."""
    if "x-ga-pick" in schema and isinstance(value, list):
        picked = next((item for item in schema["x-ga-pick"] if item in value), None)
        return [picked] if picked is not None else value
    for branch in branches(schema):
        mapping = branch.get("x-ga-map")
        if mapping is not None and isinstance(value, str) and value in mapping:
            return copy_json(mapping[value])
    return value


def _rank_in_body(path: KeyPath) -> int | None:
    """The index in ``x-ga-order`` of the GA field at, above or below ``path``."""
    dotted = ".".join(str(p) for p in path if not isinstance(p, int))
    order: list[str] = dialect_schema("beta")["x-ga-order"]
    for index, entry in enumerate(order):
        name = entry.removeprefix(_SESSION)
        if name == dotted or name.startswith(dotted + ".") or dotted.startswith(name + "."):
            return index
    return None


def _ga_order_rank(table: KeyPath, key: str | int) -> int:
    """Where ``key`` goes among the keys of the GA table ``table``: the GA body's order."""
    if isinstance(key, int):
        return key
    found = _rank_in_body((*table, key))
    if found is not None and not (table and found == _rank_in_body(table)):
        return found
    beta = _beta_of(table) if table else None
    if beta is not None:
        nested = branch_of_type(beta[1], "object")
        if nested is not None and key in nested.get("x-order", ()):
            return int(nested["x-order"].index(key))
    return _LAST


def _section_rank(path: KeyPath) -> int:
    """Where a table goes in the file: session tables in the GA order, then the rest."""
    if not path or path[0] == "preset":
        return _LAST
    order: list[str] = dialect_schema("beta")["x-ga-order"]
    if path[0] in order:  # a top-level key of the body beside the session: expires_after
        return len(order) + order.index(path[0])
    found = _rank_in_body(path)
    return _LAST if found is None else found


# --- The file's pieces, as tomlkit parsed them -------------------------------------------


@dataclass
class _Pair:
    """One ``key = value`` statement: where it is, and how it is written."""

    table: KeyPath  # the table its header opened (beta paths, array indexes included)
    key: tuple[str, ...]  # the key as written, dotted parts
    key_text: str
    sep: str
    item: Item
    value: Any = None  # a new value to write instead of ``item``
    replaced: bool = False

    @property
    def path(self) -> KeyPath:
        return (*self.table, *self.key)

    def text(self, key: tuple[str, ...] | None = None) -> str:
        trivia = self.item.trivia
        if key is None or key == self.key:
            key_text = self.key_text
        else:
            key_text = _dotted(key) + self.key_text[len(self.key_text.rstrip()) :]
        value = toml_inline(self.value) if self.replaced else self.item.as_string()
        comment = f"{trivia.comment_ws}{trivia.comment}{trivia.trail}"
        return f"{trivia.indent}{key_text}{self.sep}{value}{comment}"

    def trailing_comment(self) -> str:
        comment = self.item.trivia.comment
        return f"{comment}\n" if comment else ""


@dataclass
class _Header:
    path: KeyPath
    table: Table

    def text(self, path: KeyPath | None = None) -> str:
        trivia = self.table.trivia
        aot = self.table.is_aot_element()
        shown = self.path if path is None else path
        if path is None and self.table.display_name is not None and not aot:
            name = self.table.display_name
        else:
            name = _dotted(tuple(str(p) for p in shown if not isinstance(p, int)))
        opening, closing = ("[[", "]]") if aot else ("[", "]")
        newline = "\n" if "\n" not in trivia.trail and len(self.table.value) > 0 else ""
        comment = f"{trivia.comment_ws}{trivia.comment}{trivia.trail}{newline}"
        return f"{trivia.indent}{opening}{name}{closing}{comment}"


@dataclass
class _Unit:
    """A statement with the comment and blank lines written right above it."""

    leading: list[str]
    pair: _Pair


@dataclass
class _Section:
    header: _Header | None  # None: the document's top, before any header
    leading: list[str] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)


def _dotted(key: Sequence[str]) -> str:
    return ".".join(toml_key(part) for part in key)


def _flatten(
    body: list[tuple[Key | None, Item]],
    table: KeyPath,
    prefix: tuple[str, ...],
    out: list[_Pair | _Header | str],
) -> None:
    """The statements of a tomlkit body in document order: lines, headers and pairs."""
    for key, item in body:
        if key is None:
            out.append(item.as_string())
            continue
        name = key.key
        if isinstance(item, AoT):
            for index, entry in enumerate(item.body):
                path = (*table, *prefix, name, index)
                out.append(_Header(path, entry))
                _flatten(entry.value.body, path, (), out)
        elif isinstance(item, Table) and key.is_dotted():
            if item.trivia.indent == "\n":
                out.append("\n")
            _flatten(item.value.body, table, (*prefix, name), out)
        elif isinstance(item, Table):
            path = (*table, *prefix, name)
            if _emits_header(key, item):
                out.append(_Header(path, item))
            elif item.trivia.indent == "\n":
                out.append("\n")
            _flatten(item.value.body, path, (), out)
        else:
            key_text = ".".join([*(toml_key(p) for p in prefix), key.as_string()])
            out.append(_Pair(table, (*prefix, name), key_text, key.sep, item))


def _emits_header(key: Key, table: Table) -> bool:
    """Whether tomlkit writes ``[header]`` for this table (a super table opens no scope)."""
    if not table.is_super_table():
        return True
    if key.is_dotted():
        return False
    return any(
        not isinstance(v, (Table, AoT, Whitespace)) or (k is not None and k.is_dotted())
        for k, v in table.value.body
    )


def _sections(text: str, display: str) -> list[_Section]:
    """The document as sections, each line attached to the statement or header below it."""
    statements: list[_Pair | _Header | str] = []
    _flatten(tomlkit.parse(text).body, (), (), statements)
    sections = [_Section(None)]
    pending: list[str] = []
    for statement in statements:
        if isinstance(statement, str):
            pending.append(statement)
        elif isinstance(statement, _Header):
            sections.append(_Section(statement, pending))
            pending = []
        else:
            sections[-1].units.append(_Unit(pending, statement))
            pending = []
    if _render(sections) + "".join(pending) != text:
        raise PresetError(
            [
                Diagnostic(
                    display,
                    1,
                    1,
                    "error",
                    "migrate-layout",
                    "this file's layout cannot be rewritten without changing it",
                )
            ]
        )
    sections.append(_Section(None, pending))  # what follows the last statement
    return sections


def _render(sections: Sequence[_Section]) -> str:
    text = ""
    for section in sections:
        text += "".join(section.leading)
        if section.header is not None:
            if text and not text.endswith("\n"):
                text += "\n"
            text += section.header.text()
        for unit in section.units:
            text += "".join(unit.leading) + unit.pair.text()
    return text


# --- Values written anew --------------------------------------------------------------


def _new_pair(table: KeyPath, key: str, value: Any) -> _Pair:
    item = tomlkit.item(0)
    item.trivia.trail = "\n"
    return _Pair(table, (key,), toml_key(key), " = ", item, value, True)


# --- One file -------------------------------------------------------------------------


@dataclass
class _Placed:
    """A unit in the GA layout: the GA table it is written in and its key there."""

    unit: _Unit
    table: KeyPath
    key: tuple[str, ...]

    @property
    def path(self) -> KeyPath:
        return (*self.table, *self.key)


@dataclass
class _Result:
    """What migrating one file gave: its migration, and its resolved GA table."""

    migration: Migration
    resolved: dict[str, Any]
    body: str  # today's client_secrets body of the beta preset, as JSON text


class _FileMigration:
    """Moves, settles and lays out one beta file, given the resolved GA tables of its bases."""

    def __init__(
        self,
        document: Document,
        preset: Preset,
        bases: Sequence[Mapping[str, Any]],
        drop_unsupported: bool,
    ) -> None:
        self.document = document
        self.preset = preset
        self.bases = bases
        self.drop_unsupported = drop_unsupported
        self.problems: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        # Laid out with \n only: tomlkit keeps a \r\n inside a multi-line string, which
        # TOML reads as \n, so the value would look changed and be rewritten.
        self.sections = _sections(document.text.replace("\r\n", "\n"), document.display)
        self.opening = _opening_lines(self.sections)
        # Per original section: the GA table its header becomes (None: spread or top).
        self.placed: list[_Placed] = []
        self.homes: list[tuple[_Section, KeyPath | None]] = []
        self.left_behind: dict[int, list[str]] = {}
        self.removed: set[int] = set()
        self.removed_at: dict[KeyPath, KeyPath] = {}  # GA path -> the beta key it had

    # Step 1: move every key to its GA place.
    def move(self) -> None:
        for section in self.sections:
            header_path = section.header.path if section.header is not None else ()
            home = self._header_home(header_path) if section.header is not None else None
            self.homes.append((section, home))
            origin = home if section.header is not None else ()
            for unit in section.units:
                self._move_unit(origin, unit, home)

    def _header_home(self, path: KeyPath) -> KeyPath | None:
        if path[0] == "preset":
            return path
        place = _ga_place(path)
        if place is None or place[1] is None:
            return None
        depth, ga = place
        return (*ga, *path[depth:]) if ga is not None else None

    def _move_unit(self, origin: KeyPath | None, unit: _Unit, home: KeyPath | None) -> None:
        pair = unit.pair
        path = pair.path
        if home is not None:
            self._keep(unit, home, pair.key, path)
            return
        if path[0] == "preset":
            self._keep(unit, (), pair.key, path)
            return
        place = _ga_place(path)
        if place is None:
            # A spread table written inline (client_secret = { ... }): each key on its own.
            self._spread(unit)
            return
        depth, ga = place
        if ga is None:
            self._unsupported(unit, path[:depth])
            return
        rest = tuple(str(p) for p in path[depth:])
        names = tuple(str(p) for p in ga)
        table: KeyPath = () if len(names) == 1 else names[:-1]
        key = (*names, *rest) if len(names) == 1 else (names[-1], *rest)
        if table != origin:
            self._detach(unit)
        self._keep(unit, table, key, path, field_depth=depth)

    def _keep(
        self,
        unit: _Unit,
        table: KeyPath,
        key: tuple[str, ...],
        path: KeyPath,
        field_depth: int | None = None,
    ) -> None:
        if field_depth is None:
            place = _ga_place(path)
            field_depth = place[0] if place is not None else None
        if field_depth == len(path):
            schema = _beta_field(path)
            value = unit.pair.item.unwrap()
            translated = _translate_value(schema, value) if schema is not None else value
            if translated != value:
                unit.pair.value, unit.pair.replaced = translated, True
        self.placed.append(_Placed(unit, table, key))

    def _detach(self, unit: _Unit) -> None:
        """The unit leaves its table: its blank lines stay behind, its comments go with it."""
        blanks = [line for line in unit.leading if not line.strip()]
        self.left_behind.setdefault(id(unit), []).extend(blanks)
        unit.leading = [line for line in unit.leading if line.strip()]

    def _spread(self, unit: _Unit) -> None:
        pair = unit.pair
        value = pair.item.unwrap()
        if not isinstance(value, dict):
            self._keep(unit, (), pair.key, pair.path)
            return
        first = True
        for key, item in _leaves(value, pair.path):
            place = _ga_place(key)
            if place is None or place[1] is None:
                if place is not None:
                    self._unsupported(unit, key[: place[0]])
                continue
            depth, ga = place
            names = tuple(str(p) for p in ga or ())
            new = _new_pair((), _dotted(names), item)
            new.key = (*names, *(str(p) for p in key[depth:]))
            new.key_text = _dotted(new.key)
            leading = unit.leading if first else []
            first = False
            self._keep(_Unit(leading, new), (), new.key, key, field_depth=depth)
        if first:
            self._remove(unit)

    def _unsupported(self, unit: _Unit, path: KeyPath) -> None:
        name = format_path(path)
        severity: Severity = "warning" if self.drop_unsupported else "error"
        message = (
            f"{name} dropped: the GA API has no {name}"
            if self.drop_unsupported
            else f"{name}: the GA API has no {name}, so it cannot be migrated"
        )
        diagnostic = self.document.diagnostic(
            path, "migrate-unsupported", message, severity=severity, anchor="key"
        )
        (self.warnings if self.drop_unsupported else self.problems).append(diagnostic)
        self._remove(unit)

    def _remove(self, unit: _Unit) -> None:
        """The unit's key goes; its comments and blank lines stay where they were."""
        kept = [*unit.leading]
        trailing = unit.pair.trailing_comment()
        if trailing:
            kept.append(unit.pair.item.trivia.indent + trailing)
        self.left_behind.setdefault(id(unit), []).extend(kept)
        unit.leading = []
        self.placed = [p for p in self.placed if p.unit is not unit]
        self.removed.add(id(unit))

    # Step 2: settle the differences with the body the beta preset compiles to today.
    def own_table(self) -> dict[str, Any]:
        """The file's GA table, keys in the order TOML reads them: a header opens its table
        (even with nothing under it, ``[tracing]`` alone) where it is written."""
        table: dict[str, Any] = {}
        by_unit = {id(p.unit): p for p in self.placed}
        done: set[int] = set()

        def put(placed: _Placed) -> None:
            if placed.path[0] == "preset":
                return
            pair = placed.unit.pair
            value = copy_json(pair.value) if pair.replaced else _plain(pair.item.unwrap())
            _set(table, placed.path, value)

        for section, home in self.homes:
            if section.header is not None and home and home[0] != "preset" and _absent(table, home):
                _set(table, home, {})
            for unit in section.units:
                placed = by_unit.get(id(unit))
                if placed is not None:
                    put(placed)
                    done.add(id(unit))
        for placed in self.placed:
            if id(placed.unit) not in done:
                put(placed)
        return table

    def resolved(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for base in self.bases:
            _merge(merged, base, {}, {})
        own = self.own_table()
        if PresetSettings.of(self.document.table).instructions_file is not None:
            own["instructions"] = self.preset.session["instructions"]
        _merge(merged, own, {}, {})
        return merged

    def settle(self, expected: Mapping[str, Any]) -> None:
        for _ in range(8):
            changes = list(_differences(_normalized(self.resolved()), expected, ()))
            if not changes:
                return
            for kind, path, value in changes:
                self._edit(kind, path, value)
        changes = list(_differences(_normalized(self.resolved()), expected, ()))
        for kind, path, _ in changes:
            self._cannot(kind, path)

    def _owner(self, path: KeyPath) -> _Placed | None:
        for placed in self.placed:
            if placed.path == path[: len(placed.path)]:
                return placed
        return None

    def _edit(self, kind: str, path: KeyPath, value: Any) -> None:
        owner = self._owner(path)
        if kind == "remove":
            below = [p for p in self.placed if p.path[: len(path)] == path]
            if owner is None and below:
                for placed in below:
                    self.removed_at[placed.path] = placed.unit.pair.path
                    self._remove(placed.unit)
            elif owner is None:
                self._cannot(kind, path)
            elif owner.path == path:
                self.removed_at[path] = owner.unit.pair.path
                self._remove(owner.unit)
            else:
                self._edit_inline(owner, path, None, remove=True)
            return
        if owner is not None:
            if owner.path == path:
                owner.unit.pair.value, owner.unit.pair.replaced = copy_json(value), True
            else:
                self._edit_inline(owner, path, value, remove=False)
            return
        if kind == "replace" and any(p.path[: len(path)] == path for p in self.placed):
            self._cannot(kind, path)
            return
        self._add(path, value)

    def _edit_inline(self, owner: _Placed, path: KeyPath, value: Any, *, remove: bool) -> None:
        pair = owner.unit.pair
        current = copy_json(pair.value) if pair.replaced else _plain(pair.item.unwrap())
        node = current
        inner = path[len(owner.path) :]
        for part in inner[:-1]:
            node = node[part]
        if remove:
            del node[inner[-1]]
        elif isinstance(node, dict) and isinstance(inner[-1], str) and inner[-1] not in node:
            # A key the beta rules add goes first, as the GA order puts it.
            items = [(inner[-1], copy_json(value)), *node.items()]
            items.sort(key=lambda kv: _ga_order_rank((*path[:-1],), kv[0]))
            node.clear()
            node.update(items)
        else:
            node[inner[-1]] = copy_json(value)
        pair.value, pair.replaced = current, True

    def _add(self, path: KeyPath, value: Any) -> None:
        table, key = path[:-1], path[-1]
        pair = _new_pair(table, str(key), copy_json(value))
        self.placed.append(_Placed(_Unit([], pair), table, (str(key),)))

    def _cannot(self, kind: str, path: KeyPath) -> None:
        owner = self._owner(path)
        where = owner.unit.pair.path if owner is not None else ()
        if owner is None:
            # The difference is inherited: name the key of this file that let it through.
            for removed, beta in self.removed_at.items():
                if removed[: len(path)] == path:
                    path, where = removed, beta
                    break
        name = format_path(path)
        message = (
            f"{name}: the GA preset cannot reproduce today's client_secrets body here "
            f"(it would {'keep' if kind == 'remove' else 'lack'} {name})"
        )
        diagnostic = self.document.diagnostic(where, "migrate-body", message, anchor="key")
        if diagnostic not in self.problems:
            self.problems.append(diagnostic)

    # Step 3: lay the GA file out.
    def layout(self) -> str:
        by_table: dict[KeyPath, list[_Placed]] = {}
        for placed in self.placed:
            by_table.setdefault(placed.table, []).append(placed)
        origin: dict[int, KeyPath | None] = {}
        out: list[tuple[KeyPath | None, _Section, list[_Placed]]] = []
        for section, home in self.homes:
            if section.header is None:
                table: KeyPath | None = () if not out else None
            else:
                table = home if home is not None else None
            for unit in section.units:
                origin[id(unit)] = table
            out.append((table, section, []))
        # Each placed unit joins its table's section; tables nobody opened get a new one.
        existing = {t for t, _, _ in out if t is not None}
        ordered = sorted(
            (t for t in by_table if t not in existing),
            key=lambda t: (_section_rank(t), t),
        )
        for table in ordered:
            header = _Header(table, _synthetic_table())
            section = _Section(header, ["\n"])
            position = next(
                (
                    i
                    for i, (t, s, _) in enumerate(out)
                    if s.header is not None
                    and t is not None
                    and (t[: len(table)] == table or _section_rank(t) > _section_rank(table))
                ),
                None,
            )
            if position is None:
                position = next(
                    (i for i, (t, s, _) in enumerate(out) if s.header is None and i > 0),
                    len(out),
                )
            out.insert(position, (table, section, []))
        slots = {t: placed for t, _, placed in out if t is not None}
        for table, placed_units in by_table.items():
            slots[table].extend(placed_units)
        return self._render(out, origin)

    def _render(
        self,
        out: list[tuple[KeyPath | None, _Section, list[_Placed]]],
        origin: Mapping[int, KeyPath | None],
    ) -> str:
        text = "".join(self.opening)
        for table, section, placed in out:
            text = _join(text, section.leading)
            if section.header is not None and table is not None:
                if text and not text.endswith("\n"):
                    text += "\n"
                ga_path = table if table is not None else section.header.path
                text += section.header.text(None if ga_path == section.header.path else ga_path)
            units = self._ordered_units(table, section, placed, origin)
            for unit, key in units:
                text = _join(text, unit.leading)
                if unit.pair is not None:
                    text += unit.pair.text(key)
        return text

    def _ordered_units(
        self,
        table: KeyPath | None,
        section: _Section,
        placed: list[_Placed],
        origin: Mapping[int, KeyPath | None],
    ) -> list[tuple[_Unit, tuple[str, ...] | None]]:
        """The section's units in order: its own first, as written, then those moved in."""
        mine = {id(p.unit): p for p in placed}
        rows: list[tuple[_Unit, tuple[str, ...] | None]] = []
        for unit in section.units:
            behind = self.left_behind.get(id(unit), [])
            if behind:
                rows.append((_Unit(behind, None), None))  # type: ignore[arg-type]
            if id(unit) in mine:
                rows.append((unit, mine.pop(id(unit)).key))
        new = [p for p in placed if id(p.unit) in mine]
        for placed_unit in new:
            added = placed_unit.unit.pair.replaced and id(placed_unit.unit) not in origin
            if added and table is not None:
                rank = _ga_order_rank(table, placed_unit.key[0])
                index = next(
                    (
                        i
                        for i, (u, k) in enumerate(rows)
                        if u.pair is not None
                        and k is not None
                        and _ga_order_rank(table, k[0]) > rank
                    ),
                    len(rows),
                )
                if index == 0 and section.header is None and rows and rows[0][0].leading:
                    # The file's opening comments stay above everything.
                    first = rows[0][0]
                    placed_unit.unit.leading, first.leading = first.leading, []
                rows.insert(index, (placed_unit.unit, placed_unit.key))
            else:
                rows.append((placed_unit.unit, placed_unit.key))
        return rows

    def run(self, expected: Mapping[str, Any]) -> str:
        self.move()
        if not self.problems:
            self.settle(expected)
        return self.layout()


def _opening_lines(sections: Sequence[_Section]) -> list[str]:
    """The file's opening lines, taken from above its first statement: they stay first.

    They are the lines up to the last blank one above the first statement, and a
    ``#:schema`` directive on the first line even without a blank line under it (editors
    read it there only). The comment written right above the first key moves with it.
    """
    if sections[0].units:
        leading = sections[0].units[0].leading
    elif len(sections) > 1 and sections[1].header is not None:
        leading = sections[1].leading
    else:
        return []
    cut = max((i + 1 for i, line in enumerate(leading) if not line.strip()), default=0)
    if cut == 0 and leading and leading[0].lstrip().startswith("#:schema"):
        cut = 1
    opening = leading[:cut]
    del leading[:cut]
    return opening


def _synthetic_table() -> Table:
    table = tomlkit.table()
    table.trivia.trail = "\n"
    return table


def _join(text: str, lines: Sequence[str]) -> str:
    """Append lines, never making two blank lines out of one left behind."""
    for line in lines:
        if not line.strip() and (text.endswith("\n\n") or not text):
            continue
        text += line
    return text


def _plain(value: Any) -> Any:
    """tomlkit's unwrapped value as plain JSON-like data."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _set(table: dict[str, Any], path: KeyPath, value: Any) -> None:
    node: Any = table
    for part in path[:-1]:
        if isinstance(part, int):
            while len(node) <= part:
                node.append({})
            node = node[part]
        else:
            if part not in node:
                node[part] = [] if isinstance(path[path.index(part) + 1], int) else {}
            node = node[part]
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append({})
        node[last] = value
    else:
        node[last] = value


def _absent(table: Mapping[str, Any], path: KeyPath) -> bool:
    node: Any = table
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return True
        elif not isinstance(node, Mapping) or part not in node:
            return True
        node = node[part]
    return False


def _leaves(value: Mapping[str, Any], path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """The keys of an inline spread table, down to the first field that has ``x-ga``."""
    for key, item in value.items():
        child = (*path, key)
        if _ga_place(child) is None and isinstance(item, dict):
            yield from _leaves(item, child)
        else:
            yield child, item


def _normalized(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved GA table as its ``client_secrets`` body would carry it, by the GA
    branch's own rules: a ``false`` that creation leaves out (``x-false-on-create``) gone,
    a key sent when absent (``x-emit: always``, ``expires_after.anchor``) filled in."""
    table: dict[str, Any] = copy_json(dict(resolved))
    _as_created(dialect_schema("realtime"), table)
    return table


def _as_created(schema: Schema, table: dict[str, Any]) -> None:
    branch = object_branch(schema, table)
    if branch is None or branch.get("x-verbatim"):
        return
    properties = branch.get("properties", {})
    for key in list(table):
        if key not in properties:
            continue
        field = resolve(properties[key])
        value = table[key]
        if value is False and field.get("x-false-on-create") == "omit":
            del table[key]
        elif isinstance(value, dict) and not field.get("x-verbatim"):
            if not value and field.get("x-emit") == "non-empty":
                del table[key]
                continue
            _as_created(field, value)
        elif isinstance(value, list):
            array = branch_of_type(field, "array")
            items = resolve(array["items"]) if array and "items" in array else None
            for item in value:
                if items is not None and isinstance(item, dict):
                    _as_created(items, item)
    for key in branch.get("x-order", ()):
        field = resolve(properties[key])
        if key not in table and field.get("x-emit") == "always" and "x-when-absent" in field:
            table[key] = copy_json(field["x-when-absent"])


def _expected(body: Mapping[str, Any]) -> dict[str, Any]:
    """The GA table a body stands for: ``session`` lifted to the top, null read as false."""
    table: dict[str, Any] = _nulls_to_false(dict(body.get("session", {})))
    if "expires_after" in body:
        table["expires_after"] = copy_json(body["expires_after"])
    return table


def _nulls_to_false(value: Any) -> Any:
    if value is None:
        return False
    if isinstance(value, dict):
        return {k: _nulls_to_false(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls_to_false(v) for v in value]
    return value


def _same(first: Any, second: Any) -> bool:
    if type(first) is not type(second):
        return False
    if isinstance(first, dict):
        return first.keys() == second.keys() and all(_same(first[k], second[k]) for k in first)
    if isinstance(first, list):
        return len(first) == len(second) and all(map(_same, first, second))
    return bool(first == second)


def _differences(have: Any, want: Any, path: KeyPath) -> Iterator[tuple[str, KeyPath, Any]]:
    """``(kind, path, wanted value)`` for each place where ``have`` is not ``want``."""
    if isinstance(have, dict) and isinstance(want, dict):
        for key, value in want.items():
            if key not in have:
                yield "add", (*path, key), value
            else:
                yield from _differences(have[key], value, (*path, key))
        for key in have:
            if key not in want:
                yield "remove", (*path, key), None
        return
    if (
        isinstance(have, list)
        and isinstance(want, list)
        and len(have) == len(want)
        and all(isinstance(item, dict) for item in (*have, *want))
    ):
        for index, (mine, theirs) in enumerate(zip(have, want, strict=True)):
            yield from _differences(mine, theirs, (*path, index))
        return
    if not _same(have, want):
        yield "replace", path, want


# --- Many files: chains, order, the check --------------------------------------------


def _translate(
    paths: Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str] | None,
    drop_unsupported: bool,
) -> tuple[list[Migration], list[_Result]]:
    from realtime_config.compiling._compile import dumps_payload
    from realtime_config.compiling._targets import compile_preset

    given = [Path(os.path.normpath(Path(p).absolute())) for p in paths]
    loader = Loader(Path(root) if root is not None else None)
    problems: list[Diagnostic] = []
    presets: dict[Path, Preset] = {}
    for path in dict.fromkeys(given):
        try:
            presets[path] = loader.load(path)
        except PresetError as error:
            problems.extend(d for d in error.diagnostics if d not in problems)
    if problems:
        raise PresetError(problems)
    bases = {path: _bases(loader.document(path)) for path in presets}
    chain = list(_chain_problems(loader, bases, root))
    problems.extend(d for d in chain if d.is_error)
    if problems:
        raise PresetError(chain)
    results: dict[Path, _Result] = {}
    failed: set[Path] = set()
    for path in _bases_first(bases):
        document = loader.document(path)
        if any(base in failed for base in bases[path]):
            # Its base could not be migrated: only its own unsupported keys are reported,
            # not the differences that would follow from the base's problems.
            failed.add(path)
            work = _FileMigration(document, presets[path], [], drop_unsupported)
            work.move()
            problems.extend(p for p in work.problems if p.rule == "migrate-unsupported")
            continue
        if "type" in presets[path].session:  # already a GA preset: nothing to do
            migration = Migration(path, document.display, document.text, document.text)
            results[path] = _Result(migration, dict(presets[path].session), "")
            continue
        body = compile_preset(presets[path], "client_secrets", drop_unsupported=True)
        expected = _expected(body)
        work = _FileMigration(
            document, presets[path], [results[b].resolved for b in bases[path]], drop_unsupported
        )
        text = _line_endings_of(document.text, work.run(expected))
        found = list(work.problems)
        if not found:
            found = _reparsed(document, text, work.own_table())
        if found:
            failed.add(path)
            problems.extend(found)
        migration = Migration(path, document.display, document.text, text, tuple(work.warnings))
        results[path] = _Result(migration, work.resolved(), dumps_payload(body))
    if problems:
        raise PresetError(problems)
    ordered = [results[path] for path in dict.fromkeys(given)]
    unknown = tuple(d for d in chain if not d.is_error)  # carried by the first file
    if unknown:
        first = ordered[0].migration
        ordered[0].migration = replace(first, warnings=(*unknown, *first.warnings))
    return [r.migration for r in ordered], ordered


def _line_endings_of(original: str, text: str) -> str:
    """``text`` (laid out with ``\n``) with the line endings most of ``original`` has."""
    crlf = original.count("\r\n")
    return text.replace("\n", "\r\n") if crlf and crlf * 2 >= original.count("\n") else text


def _reparsed(document: Document, text: str, own: Mapping[str, Any]) -> list[Diagnostic]:
    """A guard on the layout: the new text must parse to exactly the table it was built from."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
    else:
        table.pop("preset", None)
        # A table header kept with nothing under it ([client_secret.expires_after] written
        # empty) says nothing, in the beta file as in the GA one.
        if _same(_without_empty_tables(table), _without_empty_tables(dict(own))):
            return []
        reason = "its keys came out differently"
    return [
        Diagnostic(
            document.display,
            1,
            1,
            "error",
            "migrate-layout",
            f"the GA form of this file could not be written: {reason}",
        )
    ]


def _without_empty_tables(value: Any) -> Any:
    """``value`` without the tables that hold nothing (once their own empty tables go)."""
    if not isinstance(value, dict):
        return value
    kept = {key: _without_empty_tables(item) for key, item in value.items()}
    return {key: item for key, item in kept.items() if item != {} or not isinstance(item, dict)}


def _bases(document: Document) -> list[Path]:
    return [
        Path(os.path.normpath(document.path.parent / name))
        for _, name in PresetSettings.of(document.table).extends
    ]


def _chain_problems(
    loader: Loader, bases: Mapping[Path, list[Path]], root: str | os.PathLike[str] | None
) -> Iterator[Diagnostic]:
    """A base not given, or a project preset that extends a given file and is not given."""
    for path, names in bases.items():
        document = loader.document(path)
        keys = [key for key, _ in PresetSettings.of(document.table).extends]
        for key, base in zip(keys, names, strict=True):
            if base not in bases:
                yield document.diagnostic(
                    key,
                    "migrate-chain",
                    f"preset.extends: {display_path(base)} is left behind: a chain is "
                    "migrated whole, and a GA preset cannot extend a beta one",
                )
    first = next(iter(bases))
    scan = scan_presets(root if root is not None else find_root(first.parent))
    for problem in scan.problems:
        yield _cannot_tell(problem)
    for found in scan.files:
        candidate = Path(os.path.normpath(found.absolute()))
        if candidate in bases:
            continue
        try:  # through the loader: its guards (FIFOs, devices, size, permissions) hold here
            other = loader.found_document(candidate)
        except PresetError as error:
            yield _cannot_tell(error.diagnostics[0])
            continue
        for key, name in PresetSettings.of(other.table).extends:
            base = Path(os.path.normpath(candidate.parent / name))
            if base in bases:
                yield other.diagnostic(
                    key,
                    "migrate-chain",
                    f"preset.extends: {display_path(base)} is migrated to GA, but this "
                    "preset, which extends it, is left behind",
                )


def _cannot_tell(problem: Diagnostic) -> Diagnostic:
    """A project preset (or folder) that cannot be read: whether it extends a migrated file
    is unknown, which is worth a warning, not a failure of the files that were given."""
    subject = "a preset in it extends" if problem.rule == "folder" else "it extends"
    return replace(
        problem,
        severity="warning",
        rule="migrate-chain",
        message=f"{problem.message}; whether {subject} a migrated preset is unknown",
    )


def _bases_first(bases: Mapping[Path, list[Path]]) -> list[Path]:
    order: list[Path] = []
    seen: set[Path] = set()

    def visit(path: Path) -> None:
        if path in seen:
            return
        seen.add(path)
        for base in bases[path]:
            visit(base)
        order.append(path)

    for path in bases:
        visit(path)
    return order


def _verify(results: Sequence[_Result]) -> None:
    """Compile each migrated chain and compare with today's body, byte for byte."""
    from realtime_config.compiling._compile import dumps_payload
    from realtime_config.compiling._targets import compile_preset

    problems: list[Diagnostic] = []
    for result in results:
        if not result.migration.changed and not result.body:
            continue
        session = copy_json(result.resolved)
        try:
            compiled = compile_preset(session, "client_secrets")
        except PresetError as error:
            problems.extend(
                Diagnostic(result.migration.display, 1, 1, "error", "migrate-body", d.message)
                for d in error.diagnostics
            )
            continue
        if dumps_payload(compiled) != result.body:
            problems.append(
                Diagnostic(
                    result.migration.display,
                    1,
                    1,
                    "error",
                    "migrate-body",
                    "the GA preset would not compile to today's client_secrets body",
                )
            )
    if problems:
        raise PresetError(problems)
