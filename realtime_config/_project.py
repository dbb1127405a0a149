"""The project a preset belongs to: its root, its presets/ folder, and how files are named.

The root bounds every path a preset may name (``extends``, ``instructions_file``) and every
preset discovery finds; a file is named in diagnostics relative to the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


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
        if (candidate / ".git").exists() or (candidate / "pyproject.toml").is_file():
            return candidate
    cwd = Path.cwd().resolve()
    return cwd if folder.is_relative_to(cwd) else folder


def project_presets(root: str | os.PathLike[str] | None = None) -> tuple[Path, list[Path]]:
    """The project's ``presets/`` folder and every ``.toml`` below it, recursively, sorted.

    ``root`` is the project root (``--root``); by default the working directory's.
    """
    folder = (Path(root) if root is not None else find_root(Path.cwd())) / "presets"
    return folder, sorted(folder.rglob("*.toml")) if folder.is_dir() else []


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
