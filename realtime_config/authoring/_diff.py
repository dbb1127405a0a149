"""Differences between two compiled payloads, as dotted keys with their old and new values.

Tables are compared key by key; arrays holding tables or arrays element by element, by
index (``tools[1]`` of one payload against ``tools[1]`` of the other, so inserting a tool
shows every later one as changed); arrays of plain values (``modalities``) as one value;
and values by their JSON text: ``1`` and ``1.0`` differ, as do ``true`` and ``1``. Two
payloads without differences have identical bytes. ``diff_presets`` loads and compiles two
presets and compares their payloads; migrate's settle step uses the same comparison.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from realtime_config._keys import KeyPath, format_path

if TYPE_CHECKING:
    from realtime_config._diagnostics import Diagnostic

ChangeKind = Literal["added", "removed", "changed", "reordered"]

_MARKS: dict[ChangeKind, str] = {"added": "+", "removed": "-", "changed": "~", "reordered": "~"}


@dataclass(frozen=True)
class Change:
    """One difference at ``path``: a key or element added, removed, changed, or keys reordered.

    ``old`` is absent (None) for an addition and ``new`` for a removal; for ``reordered``
    both are the table's keys, in the old and in the new order.
    """

    kind: ChangeKind
    path: KeyPath
    old: Any = None
    new: Any = None

    @property
    def key(self) -> str:
        """The dotted key the change is at (``tools[1].name``)."""
        return format_path(self.path) or "(payload)"

    def __str__(self) -> str:
        mark = _MARKS[self.kind]
        if self.kind == "added":
            return f"{mark} {self.key}: {_json(self.new)}"
        if self.kind == "removed":
            return f"{mark} {self.key}: {_json(self.old)}"
        if self.kind == "reordered":
            return f"{mark} {self.key}: key order {_json(self.old)} -> {_json(self.new)}"
        return f"{mark} {self.key}: {_json(self.old)} -> {_json(self.new)}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def diff_payloads(old: Any, new: Any) -> list[Change]:
    """Every difference from payload ``old`` to payload ``new``, in payload order."""
    return list(_diff(old, new, ()))


def _diff(old: Any, new: Any, path: KeyPath) -> Iterator[Change]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        yield from _diff_tables(old, new, path)
    elif isinstance(old, list) and isinstance(new, list) and not _scalars(old, new):
        for index in range(max(len(old), len(new))):
            if index >= len(new):
                yield Change("removed", (*path, index), old=old[index])
            elif index >= len(old):
                yield Change("added", (*path, index), new=new[index])
            else:
                yield from _diff(old[index], new[index], (*path, index))
    elif _json(old) != _json(new):
        yield Change("changed", path, old, new)


def _scalars(old: list[Any], new: list[Any]) -> bool:
    """Whether both arrays hold only plain values: such an array is compared as one value."""
    return not any(isinstance(item, (Mapping, list)) for item in (*old, *new))


def _diff_tables(old: Mapping[str, Any], new: Mapping[str, Any], path: KeyPath) -> Iterator[Change]:
    for key in _merged_keys(list(old), list(new)):
        if key not in new:
            yield Change("removed", (*path, key), old=old[key])
        elif key not in old:
            yield Change("added", (*path, key), new=new[key])
        else:
            yield from _diff(old[key], new[key], (*path, key))
    shared_old = [k for k in old if k in new]
    shared_new = [k for k in new if k in old]
    if shared_old != shared_new:
        yield Change("reordered", path, shared_old, shared_new)


def _merged_keys(old: list[str], new: list[str]) -> list[str]:
    """The keys of both tables: the new order, each removed key after its old predecessor."""
    merged = list(new)
    for index, key in enumerate(old):
        if key in new:
            continue
        before = next((k for k in reversed(old[:index]) if k in merged), None)
        merged.insert(merged.index(before) + 1 if before is not None else 0, key)
    return merged


def format_changes(changes: list[Change]) -> str:
    """The changes one per line: ``~ key: old -> new``, ``+ key: new``, ``- key: old``.

    A bidi control or other unprintable character in a key or value is written as its
    escape, so that a line reads as it is (``printable``).
    """
    from realtime_config._diagnostics import printable

    return "".join(f"{printable(str(change))}\n" for change in changes)


def changes_to_json(changes: list[Change]) -> str:
    """The changes as a JSON list of ``{"op", "path", "old", "new"}`` objects, for tools."""
    records: list[dict[str, Any]] = []
    for change in changes:
        record: dict[str, Any] = {"op": change.kind, "path": change.key}
        if change.kind != "added":
            record["old"] = change.old
        if change.kind != "removed":
            record["new"] = change.new
        records.append(record)
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class PresetDiff:
    """How the compiled payloads of two presets differ: every change, in payload order, and
    the warnings of loading and compiling both (a field dropped by ``drop_unsupported``...).

    ``str()`` gives one line per change (``format_changes``); ``to_json()`` the list for
    tools. No changes: the two payloads have identical bytes.
    """

    changes: tuple[Change, ...]
    warnings: tuple[Diagnostic, ...] = ()

    def to_json(self) -> str:
        """The changes as a JSON list of ``{"op", "path", "old", "new"}`` objects."""
        return changes_to_json(list(self.changes))

    def __str__(self) -> str:
        return format_changes(list(self.changes))


def diff_presets(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    *,
    target: str | None = None,
    root: str | os.PathLike[str] | None = None,
    drop_unsupported: bool = False,
) -> PresetDiff:
    """How preset ``new``'s payload differs from preset ``old``'s, both compiled for
    ``target`` (by default each preset's own: ``preset.target``, else its dialect's).

    Raises PresetError with the problems of both presets (and the warnings found before
    them) when either cannot be loaded or compiled.
    """
    from realtime_config._errors import PresetError
    from realtime_config.checking._compose import CheckedLoader
    from realtime_config.compiling._targets import compile_preset_with_warnings

    loader = CheckedLoader(Path(root) if root is not None else None)
    payloads: list[dict[str, Any]] = []
    found: list[Diagnostic] = []
    failed = False
    for path in (old, new):
        try:
            preset = loader.load(Path(path))
            found.extend(preset.warnings)
            payload, dropped = compile_preset_with_warnings(
                preset, target, drop_unsupported=drop_unsupported
            )
        except PresetError as error:
            found.extend(error.diagnostics)
            failed = True
            continue
        found.extend(dropped)
        payloads.append(payload)
    if failed:
        raise PresetError(found)
    return PresetDiff(tuple(diff_payloads(*payloads)), tuple(found))
