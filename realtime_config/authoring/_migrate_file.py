"""Migrating one beta file: its keys moved to their GA places, the differences with today's
body settled, and the file laid out again in the GA order (see ``_migrate`` for the steps).

The mapping is read by ``compiling/_translate`` (``x-ga``, ``x-ga-map``, ``x-ga-pick``), the
GA table is read by the emission of ``compiling/_compile`` (through the ``client_secrets``
body), and the differences come from ``authoring/_diff``: nothing here lists fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._keys import KeyPath, copy_json, format_path
from realtime_config._schema import branch_of_type, dialect_schema, field_schema
from realtime_config.authoring._diff import diff_payloads
from realtime_config.authoring._toml_layout import (
    Header,
    Section,
    Unit,
    dotted,
    join_lines,
    new_pair,
    opening_lines,
    sections_of,
    synthetic_table,
)
from realtime_config.compiling._translate import beta_counterpart, ga_place, ga_value
from realtime_config.preset._model import Document, Preset
from realtime_config.preset._resolve import merge_tables

_SESSION: Final = "session."
_LAST: Final = 1 << 30


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
    beta = beta_counterpart(table) if table else None
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


@dataclass
class _Placed:
    """A unit in the GA layout: the GA table it is written in and its key there."""

    unit: Unit
    table: KeyPath
    key: tuple[str, ...]

    @property
    def path(self) -> KeyPath:
        return (*self.table, *self.key)


class FileMigration:
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
        self.sections = sections_of(document.text.replace("\r\n", "\n"), document.display)
        self.opening = opening_lines(self.sections)
        # Per original section: the GA table its header becomes (None: spread or top).
        self.placed: list[_Placed] = []
        self.homes: list[tuple[Section, KeyPath | None]] = []
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
        place = ga_place(path)
        if place is None or place[1] is None:
            return None
        depth, ga = place
        return (*ga, *path[depth:]) if ga is not None else None

    def _move_unit(self, origin: KeyPath | None, unit: Unit, home: KeyPath | None) -> None:
        pair = unit.pair
        path = pair.path
        if home is not None:
            self._keep(unit, home, pair.key, path)
            return
        if path[0] == "preset":
            self._keep(unit, (), pair.key, path)
            return
        place = ga_place(path)
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
        unit: Unit,
        table: KeyPath,
        key: tuple[str, ...],
        path: KeyPath,
        field_depth: int | None = None,
    ) -> None:
        if field_depth is None:
            place = ga_place(path)
            field_depth = place[0] if place is not None else None
        if field_depth == len(path):
            schema = field_schema(path, "beta")
            value = unit.pair.item.unwrap()
            translated = ga_value(schema, value) if schema is not None else value
            if translated != value:
                unit.pair.value, unit.pair.replaced = translated, True
        self.placed.append(_Placed(unit, table, key))

    def _detach(self, unit: Unit) -> None:
        """The unit leaves its table: its blank lines stay behind, its comments go with it."""
        blanks = [line for line in unit.leading if not line.strip()]
        self.left_behind.setdefault(id(unit), []).extend(blanks)
        unit.leading = [line for line in unit.leading if line.strip()]

    def _spread(self, unit: Unit) -> None:
        pair = unit.pair
        value = pair.item.unwrap()
        if not isinstance(value, dict):
            self._keep(unit, (), pair.key, pair.path)
            return
        first = True
        for key, item in _leaves(value, pair.path):
            place = ga_place(key)
            if place is None or place[1] is None:
                if place is not None:
                    self._unsupported(unit, key[: place[0]])
                continue
            depth, ga = place
            names = tuple(str(p) for p in ga or ())
            new = new_pair((), dotted(names), item)
            new.key = (*names, *(str(p) for p in key[depth:]))
            new.key_text = dotted(new.key)
            leading = unit.leading if first else []
            first = False
            self._keep(Unit(leading, new), (), new.key, key, field_depth=depth)
        if first:
            self._remove(unit)

    def _unsupported(self, unit: Unit, path: KeyPath) -> None:
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

    def _remove(self, unit: Unit) -> None:
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
        """The resolved GA table of the file as it stands: its bases' tables, then its own."""
        own = self.own_table()
        if self.document.settings.instructions_file is not None:
            own["instructions"] = self.preset.session["instructions"]
        return merge_tables([*self.bases, own])

    def settle(self, expected: Mapping[str, Any]) -> None:
        """Edit the file until its GA table reads as ``expected``: a fixed point, or a pass
        that leaves the file in a state it was in before, from which no pass can do better.

        This ends: an edit writes the body's value at a path, removes a key or leaves the
        file as it is, so every key is one of the file's or the body's and every value the
        file's or the body's; there are finitely many such states, and none is seen twice.
        """
        seen: set[str] = set()
        changes = self._changes(expected)
        while changes:
            state = self._state()
            if state in seen:
                break
            seen.add(state)
            for kind, path, value in changes:
                self._edit(kind, path, value)
            changes = self._changes(expected)
        for kind, path, _ in changes:
            self._cannot(kind, path)

    def _changes(self, expected: Mapping[str, Any]) -> list[tuple[str, KeyPath, Any]]:
        """What separates the file's GA table, as its body would carry it, from ``expected``."""
        return differences(table_of_body(ga_body(self.resolved())), expected)

    def _state(self) -> str:
        """What the file says now: each placed key and its value."""
        rows = [
            (p.path, p.unit.pair.value if p.unit.pair.replaced else p.unit.pair.item.as_string())
            for p in self.placed
        ]
        return repr(rows)

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
        pair = new_pair(table, str(key), copy_json(value))
        self.placed.append(_Placed(Unit([], pair), table, (str(key),)))

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
        out: list[tuple[KeyPath | None, Section, list[_Placed]]] = []
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
            header = Header(table, synthetic_table())
            section = Section(header, ["\n"])
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
        out: list[tuple[KeyPath | None, Section, list[_Placed]]],
        origin: Mapping[int, KeyPath | None],
    ) -> str:
        text = "".join(self.opening)
        for table, section, placed in out:
            text = join_lines(text, section.leading)
            if section.header is not None and table is not None:
                if text and not text.endswith("\n"):
                    text += "\n"
                ga_path = table if table is not None else section.header.path
                text += section.header.text(None if ga_path == section.header.path else ga_path)
            units = self._ordered_units(table, section, placed, origin)
            for unit, key in units:
                text = join_lines(text, unit.leading)
                if unit.pair is not None:
                    text += unit.pair.text(key)
        return text

    def _ordered_units(
        self,
        table: KeyPath | None,
        section: Section,
        placed: list[_Placed],
        origin: Mapping[int, KeyPath | None],
    ) -> list[tuple[Unit, tuple[str, ...] | None]]:
        """The section's units in order: its own first, as written, then those moved in."""
        mine = {id(p.unit): p for p in placed}
        rows: list[tuple[Unit, tuple[str, ...] | None]] = []
        for unit in section.units:
            behind = self.left_behind.get(id(unit), [])
            if behind:
                rows.append((Unit(behind, None), None))  # type: ignore[arg-type]
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
        if ga_place(child) is None and isinstance(item, dict):
            yield from _leaves(item, child)
        else:
            yield child, item


def ga_body(table: Mapping[str, Any]) -> dict[str, Any]:
    """A GA realtime table as its ``client_secrets`` body, by the GA branch's own emission: a
    ``false`` that creation leaves out (``x-false-on-create``) gone, a key sent when absent
    (``x-emit: always``, ``expires_after.anchor``) filled in. Read as realtime even before
    the chain's root says ``type = "realtime"``."""
    from realtime_config.compiling._targets import client_secrets_body

    return client_secrets_body(table, "realtime")


def table_of_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The GA table a ``client_secrets`` body stands for: ``session`` lifted to the top with
    null read as false, and the tables the body sends beside it (``x-outside-session``)."""
    table: dict[str, Any] = _nulls_to_false(dict(body.get("session", {})))
    for key in dialect_schema("realtime").get("x-outside-session", ()):
        if key in body:
            table[key] = copy_json(body[key])
    return table


def _nulls_to_false(value: Any) -> Any:
    if value is None:
        return False
    if isinstance(value, dict):
        return {k: _nulls_to_false(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls_to_false(v) for v in value]
    return value


_EDITS: Final = {"added": "add", "removed": "remove", "changed": "replace"}


def differences(have: Any, want: Any) -> list[tuple[str, KeyPath, Any]]:
    """``(edit, path, wanted value)`` for each place where ``have`` is not ``want``, from the
    payload differ: key order is no difference, and an array of tables whose length differs
    is replaced whole (an index added or removed is no key of the file to edit)."""
    found: list[tuple[str, KeyPath, Any]] = []
    for change in diff_payloads(have, want):
        if change.kind == "reordered":
            continue
        path = change.path
        if change.kind != "changed" and path and isinstance(path[-1], int):
            whole = ("replace", path[:-1], copy_json(_value_at(want, path[:-1])))
            if whole not in found:
                found.append(whole)
            continue
        found.append((_EDITS[change.kind], path, change.new))
    return found


def _value_at(table: Any, path: KeyPath) -> Any:
    node = table
    for part in path:
        node = node[part]
    return node
