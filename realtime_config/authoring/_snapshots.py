"""Compiled snapshots: one JSON file per preset, kept in the repository beside the presets.

Reviewers then see in a pull request's diff exactly how a change to a preset (or to a base
it extends, or to its instructions file) changes the request body. ``sync_snapshots``
writes them (only the files whose bytes change, all or none of them) or checks them without
writing anything.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from realtime_config._commit import FileChange, commit_files
from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError, SnapshotError
from realtime_config._project import display_path, find_root, scan_presets
from realtime_config.checking._compose import CheckedLoader
from realtime_config.compiling._compile import dumps_payload
from realtime_config.compiling._targets import compile_preset_with_warnings

SnapshotState = Literal["unchanged", "written", "missing", "stale", "orphaned", "failed"]

PROBLEM_STATES: tuple[SnapshotState, ...] = ("missing", "stale", "orphaned", "failed")
"""States that fail ``--check``; in write mode only ``failed`` does (an orphan is a warning)."""


@dataclass(frozen=True)
class SnapshotResult:
    """What happened to one snapshot file (or, under ``check``, what is wrong with it).

    ``preset`` is None for an orphan; ``diagnostics`` holds a failed preset's errors, or a
    compiled preset's warnings; ``reason`` says what is wrong (the command line adds how to
    repair it, in its own options).
    """

    snapshot: Path
    state: SnapshotState
    preset: Path | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    reason: str = ""

    @property
    def is_problem(self) -> bool:
        """Whether this result fails ``compile --out-dir --check``."""
        return self.state in PROBLEM_STATES

    def __str__(self) -> str:
        text = f"{display_path(self.snapshot)}: {self.state}"
        return f"{text}: {self.reason}" if self.reason else text


@dataclass(frozen=True)
class SnapshotPlan:
    """The presets to snapshot and the file each one compiles to."""

    out_dir: Path
    snapshots: tuple[tuple[Path, Path], ...]
    presets_folder: Path
    complete: bool
    unread: tuple[Diagnostic, ...] = ()
    """The folders of ``presets/`` that could not be read: orphans cannot be told then."""


def plan_snapshots(
    out_dir: str | os.PathLike[str],
    presets: Sequence[str | os.PathLike[str]] = (),
    *,
    root: str | os.PathLike[str] | None = None,
) -> SnapshotPlan:
    """Which snapshot file each preset compiles to.

    Without ``presets``: every ``.toml`` under the project root's ``presets/``, recursively
    (``complete`` is then true, and other ``.json`` files in ``out_dir`` are orphans). A
    preset under ``presets/`` is named by its path there without ``.toml``
    (``presets/team/a.toml`` -> ``out_dir/team/a.json``); any other by its file stem.
    """
    scan = scan_presets(root)
    folder = scan.folder
    out = Path(out_dir)
    paths = [Path(p) for p in presets]
    if not paths:
        paths = scan.files
        if not paths and not scan.problems:
            raise SnapshotError(f"no presets found: {display_path(folder)} holds no .toml files")
    seen: dict[Path, Path] = {}
    snapshots: list[tuple[Path, Path]] = []
    for path in dict.fromkeys(paths):
        snapshot = out / f"{_snapshot_name(path, folder)}.json"
        other = seen.setdefault(snapshot, path)
        if other != path:
            raise SnapshotError(
                f"{display_path(other)} and {display_path(path)} would both write "
                f"{display_path(snapshot)}; give them different file names"
            )
        snapshots.append((path, snapshot))
    unread = () if presets else tuple(scan.problems)
    return SnapshotPlan(out, tuple(snapshots), folder, complete=not presets, unread=unread)


def _snapshot_name(path: Path, folder: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).with_suffix("").as_posix()
    except ValueError:
        return path.stem


def sync_snapshots(
    out_dir: str | os.PathLike[str],
    presets: Sequence[str | os.PathLike[str]] = (),
    *,
    target: str | None = None,
    root: str | os.PathLike[str] | None = None,
    drop_unsupported: bool = False,
    check: bool = False,
) -> list[SnapshotResult]:
    """Write (or, with ``check``, only compare) the compiled snapshot of every preset.

    The snapshots that change are written in one commit (``commit_files``): all of them or,
    raising CommitError, none; a file whose bytes would not change is left untouched, so its
    mtime stays. No snapshot is written through a symlink or hard link leading out of the
    project root (or out of ``out_dir``, when that is outside the root). ``target``
    overrides each preset's own target; ``drop_unsupported`` leaves out the fields it lacks
    (a warning each) instead of failing. Orphans (``.json`` files no preset compiles to) are
    looked for only when ``presets`` is empty: a partial list cannot tell an orphan from the
    snapshot of a preset that was not named. Never raises for a broken preset: it is a
    ``failed`` result carrying its diagnostics. A diagnostic shared by several presets (one
    in a common base) is carried by the first.
    """
    plan = plan_snapshots(out_dir, presets, root=root)
    loader = CheckedLoader(Path(root) if root is not None else None)
    results: list[SnapshotResult] = []
    reported: set[Diagnostic] = set()
    changes: list[FileChange] = []
    for preset_path, snapshot in plan.snapshots:
        shown = display_path(preset_path)
        try:
            preset = loader.load(preset_path)
            payload, dropped = compile_preset_with_warnings(
                preset, target, drop_unsupported=drop_unsupported
            )
        except PresetError as error:
            problems = tuple(d for d in error.diagnostics if d not in reported)
            reported.update(problems)
            failed = SnapshotResult(
                snapshot, "failed", preset_path, problems, f"{shown} has errors"
            )
            results.append(failed)
            continue
        text = dumps_payload(payload)
        current = _read_bytes(snapshot)
        reason = ""
        if current == text.encode("utf-8"):
            state: SnapshotState = "unchanged"
        elif not check:
            made_from = f"a file that {shown} is made from"
            protected = tuple((p, made_from) for p in preset.source_files)
            changes.append(FileChange(snapshot, text, protected))
            state = "written"
        elif current is None:
            state, reason = "missing", f"{shown} has no snapshot"
        else:
            state, reason = "stale", f"differs from the compiled {shown}"
        warnings = tuple(w for w in (*preset.warnings, *dropped) if w not in reported)
        reported.update(warnings)
        results.append(SnapshotResult(snapshot, state, preset_path, warnings, reason))
    journal = snapshot_journal(out_dir, root)
    if changes:
        journal.mkdir(parents=True, exist_ok=True)  # a folder outside the root: the user's
    commit_files(changes, journal=journal, bound=journal)
    for problem in plan.unread:
        folder = Path(problem.file)
        results.append(
            SnapshotResult(folder, "failed", None, (problem,), "the presets in it are not compiled")
        )
    if plan.complete and not plan.unread:
        results.extend(_orphans(plan))
    return sorted(results, key=lambda r: r.snapshot.as_posix())


def snapshot_journal(
    out_dir: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> Path:
    """Where ``compile --out-dir`` keeps the journal of its writes, and what no snapshot may
    leave through a link: the project root, or the snapshot folder when the user named one
    outside the root."""
    project = Path(root) if root is not None else find_root(Path.cwd())
    return _bound(Path(out_dir), project)


def _bound(out_dir: Path, root: Path) -> Path:
    """What a snapshot may not leave through a link: the project root, or the snapshot
    folder itself when the user named one outside the root."""
    lexical = Path(os.path.abspath(out_dir))  # noqa: PTH100 (symlinks stay as written)
    return root if lexical.is_relative_to(Path(os.path.abspath(root))) else lexical  # noqa: PTH100


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _orphans(plan: SnapshotPlan) -> list[SnapshotResult]:
    if not plan.out_dir.is_dir():
        return []
    expected = {snapshot for _, snapshot in plan.snapshots}
    folder = display_path(plan.presets_folder)
    return [
        SnapshotResult(
            path,
            "orphaned",
            reason=f"no preset in {folder}/ compiles to it; delete it",
        )
        for path in sorted(plan.out_dir.rglob("*.json"))
        if path.is_file() and path not in expected
    ]
