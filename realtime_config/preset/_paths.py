"""Folders as the loader sees them: each one's real path and project root, found once.

A batch checks thousands of files in a few hundred folders, and a backend loads the same
presets on every request: a folder's real path (symlinks followed) and its project root are
found once and shared by its files, its subfolders and its siblings, which find their own by
one step from the parent's. Paths are strings here, absolute and normalised (``os.path``):
this runs for every file. A folder reached through a symlink has no real path here (None):
its callers take pathlib's slower, exact way for it.
"""

# Paths are strings on this path, not pathlib objects: it runs for every file.
# ruff: noqa: PTH109, PTH110, PTH113, PTH118, PTH119, PTH120

from __future__ import annotations

import os
import stat
from pathlib import Path

from realtime_config._project import find_root

FOLDERS_KEPT = 4096
"""Folders remembered at most (then forgotten all at once): a bound on memory for any batch."""


class Folders:
    """The real path and project root of folders, each found once (at most ``limit`` kept).

    Safe to share between threads: a race can only find a folder twice.
    """

    def __init__(
        self, limit: int = FOLDERS_KEPT, *, marked: dict[str, str | None] | None = None
    ) -> None:
        """``marked``: where the roots found are kept, to share them with other loaders (a
        folder's real path is never shared: a symlink swapped in later must be seen)."""
        self.limit = limit
        self._real: dict[str, str | None] = {}
        self._marked: dict[str, str | None] = marked if marked is not None else {}

    def real(self, folder: str) -> str | None:
        """``folder`` with symlinks followed, when none of its parts is one (else None)."""
        found = self._real.get(folder, _UNKNOWN)
        if found is _UNKNOWN:
            parent = os.path.dirname(folder)
            if parent == folder:  # the file system's root
                found = folder
            else:
                above = self.real(parent)
                found = None if above is None or _is_symlink(folder) else _join(above, folder)
            self._keep(self._real, folder, found)
        return found

    def root(self, folder: str) -> Path:
        """The project root for files in ``folder``, as ``find_root`` gives it."""
        real = self.real(folder)
        if real is None:
            return find_root(Path(folder))
        marked = self._marked_ancestor(real)
        if marked is not None:
            return Path(marked)
        cwd = os.path.realpath(os.getcwd())  # read each time: it may change
        return Path(cwd if _within(real, cwd) else real)

    def _marked_ancestor(self, folder: str) -> str | None:
        """The nearest ancestor of the real ``folder`` (itself included) that holds ``.git``
        or ``pyproject.toml``, or None; what is found for a folder serves its subfolders."""
        found = self._marked.get(folder, _UNKNOWN)
        if found is _UNKNOWN:
            parent = os.path.dirname(folder)
            if os.path.exists(os.path.join(folder, ".git")) or os.path.isfile(
                os.path.join(folder, "pyproject.toml")
            ):
                found = folder
            else:
                found = None if parent == folder else self._marked_ancestor(parent)
            self._keep(self._marked, folder, found)
        return found

    def _keep(self, cache: dict[str, str | None], folder: str, found: str | None) -> None:
        if len(cache) >= self.limit:
            cache.clear()
        cache[folder] = found


_UNKNOWN = "\0"
"""Not looked up yet (no path holds a NUL character)."""


def within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it (both absolute and normalised)."""
    return _within(path, folder)


def _within(path: str, folder: str) -> bool:
    if path == folder:
        return True
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    return path.startswith(prefix)


def _join(real_parent: str, folder: str) -> str:
    return os.path.join(real_parent, os.path.basename(folder))


def _is_symlink(path: str) -> bool:
    """Whether ``path`` is a symlink; a folder that cannot be looked at counts as one (the
    exact, slower way then says what is wrong)."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False  # not there: what is below it is not there either, lexically
    except OSError:
        return True


SHARED_ROOTS: dict[str, str | None] = {}
"""The roots found by every ``load_preset`` call of this process (bounded as Folders').
A project root is where ``.git`` or ``pyproject.toml`` is: it does not move while a process
serves its presets."""
