"""The project a preset belongs to: its root, its presets/ folder, and how files are named.

The root bounds every path a preset may name (``extends``, ``instructions_file``) and every
preset discovery finds; a file is named in diagnostics relative to the working directory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from realtime_config._diagnostics import Diagnostic


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the working directory when inside it."""
    if os.name != "posix":  # drive letters and case: pathlib's rules
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return str(path)
    # The same answer from strings: this runs for every file of a batch.
    text = str(path)
    if not text.startswith("/"):
        return text
    cwd = os.getcwd()  # noqa: PTH109 (a string, not a Path: this is the fast path)
    if text == cwd:
        return "."
    prefix = cwd if cwd.endswith("/") else cwd + "/"
    return text[len(prefix) :] if text.startswith(prefix) else text


def find_root(folder: Path) -> Path:
    """The project root for files in ``folder``: the nearest ancestor holding .git or
    pyproject.toml; without one, the working directory when it contains ``folder``, else
    ``folder`` itself.
    """
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if _status(candidate / ".git") is not None or _is_file(candidate / "pyproject.toml"):
            return candidate
    cwd = Path.cwd().resolve()
    return cwd if folder.is_relative_to(cwd) else folder


def _status(path: Path) -> os.stat_result | None:
    """``stat`` of ``path``, or None when it is not there or cannot be looked at (a folder
    the user may not search): a project root is then looked for further up."""
    try:
        return path.stat()
    except (OSError, ValueError):
        return None


def _is_file(path: Path) -> bool:
    status = _status(path)
    return status is not None and stat.S_ISREG(status.st_mode)


@dataclass(frozen=True)
class PresetScan:
    """What discovery found under ``presets/``: the files, and the folders it could not
    read, each a located diagnostic (the presets in them are not checked)."""

    folder: Path
    files: list[Path]
    problems: list[Diagnostic] = field(default_factory=list)


def scan_presets(root: str | os.PathLike[str] | None = None) -> PresetScan:
    """The project's ``presets/`` folder and every ``.toml`` below it, recursively, sorted.

    ``root`` is the project root (``--root``); by default the working directory's. Symlinked
    folders are not entered (as ``Path.rglob``); a folder that cannot be listed is a problem,
    not a silent gap in the list.
    """
    folder = (Path(root) if root is not None else find_root(Path.cwd())) / "presets"
    status = _status(folder)
    if status is None or not stat.S_ISDIR(status.st_mode):
        return PresetScan(folder, [])
    files: list[Path] = []
    problems: list[Diagnostic] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                listed = list(entries)
        except OSError as exc:
            reason = "permission denied" if isinstance(exc, PermissionError) else exc.strerror
            problems.append(
                Diagnostic(
                    display_path(current),
                    1,
                    1,
                    "error",
                    "folder",
                    f"{reason}: the folder cannot be read, so the presets in it are not found",
                )
            )
            continue
        for entry in listed:
            path = current / entry.name
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            if entry.name.endswith(".toml"):
                files.append(path)
            if is_folder:
                pending.append(path)
    problems.sort(key=lambda d: d.file)
    return PresetScan(folder, sorted(files), problems)


def project_presets(root: str | os.PathLike[str] | None = None) -> tuple[Path, list[Path]]:
    """The project's ``presets/`` folder and every ``.toml`` below it (``scan_presets``
    without the folders it could not read)."""
    scan = scan_presets(root)
    return scan.folder, scan.files


def presets_under(paths: Iterable[Path]) -> list[Path]:
    """The presets that command-line paths name: a file itself, a folder every ``.toml``
    below it (recursively, sorted). A folder that holds none stays as it is, so that checking
    it says so in its place among the other files."""
    found: list[Path] = []
    for path in paths:
        try:
            inside = sorted(path.rglob("*.toml")) if path.is_dir() else []
        except (OSError, ValueError):  # a NUL, a name too long: reading it will say so
            inside = []
        found.extend(inside or [path])
    return found
