"""A cache of loaded and compiled presets for backends, checked against the files each time.

A backend that mints client secrets loads a preset per request. :class:`PresetCache` keeps
each preset, its compiled bodies and their JSON text while none of the files it is made from
has changed: the preset itself, every ``extends`` base and every instructions file, each
known by its identity (device and inode), size, modification and change times. A repeat call
costs one ``stat`` per file. Any change, a file replaced by a rename included, is a miss: the
preset is loaded again, exactly as :func:`load_preset` would.

A file written in the last :data:`RACY_SECONDS` before it was read is not trusted: a second
write within the file system's clock tick would leave its times unchanged. Such a preset is
loaded again on every call until its files are older (as git does with its index).
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from realtime_config.checking._compose import CheckedLoader
from realtime_config.compiling._compile import dumps_payload
from realtime_config.compiling._targets import compile_preset
from realtime_config.preset._model import Document, Preset

RACY_SECONDS: Final = 2.0
"""How recent a change must be for a file's times to be no proof that it is unchanged."""

Stamp = tuple[int, int, int, int, int] | None
"""A file's device, inode, size, modification and change times (ns); None: it is missing."""


def _stamp(path: str) -> Stamp:
    try:
        found = os.stat(path)  # noqa: PTH116 (a string: no Path built per call)
    except OSError:
        return None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


@dataclass
class _Entry:
    """One loaded preset and what was compiled from it, with the stamps of its files."""

    preset: Preset
    stamps: tuple[tuple[str, Stamp], ...]
    bodies: dict[str | None, dict[str, Any]] = field(default_factory=dict)
    texts: dict[tuple[str | None, bool], str] = field(default_factory=dict)
    pickled: dict[str | None, bytes] = field(default_factory=dict)

    def is_current(self) -> bool:
        return all(_stamp(name) == stamp for name, stamp in self.stamps)


class PresetCache:
    """Loaded presets and their compiled request bodies, kept while their files are unchanged.

    ``load``, ``compile`` and ``dumps`` give exactly what :func:`load_preset`,
    :func:`compile_preset` and :func:`dumps_payload` give, and raise the same PresetError.
    Presets are shared between calls: treat them as read-only. Safe to share between threads.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        """``root``: the project root that ``extends`` and instructions files may not leave
        (as ``load_preset``'s)."""
        self.root = Path(root) if root is not None else None
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def load(self, path: str | os.PathLike[str]) -> Preset:
        """The preset at ``path``, as ``load_preset(path, root=...)`` gives it."""
        return self._entry(path).preset

    def compile(self, path: str | os.PathLike[str], target: str | None = None) -> dict[str, Any]:
        """The request body of ``target`` for the preset at ``path``, as ``compile_preset``
        gives it: a new copy on each call, which the caller may change."""
        entry = self._entry(path)
        blob = entry.pickled.get(target)
        if blob is None:
            blob = entry.pickled[target] = pickle.dumps(
                self._body(entry, target), pickle.HIGHEST_PROTOCOL
            )
        body: dict[str, Any] = pickle.loads(blob)  # a deep copy, faster than copy_json
        return body

    def dumps(
        self, path: str | os.PathLike[str], target: str | None = None, *, compact: bool = True
    ) -> str:
        """The body as JSON text, as ``dumps_payload(compile_preset(...), compact=...)``:
        the bytes a backend sends (compact by default)."""
        entry = self._entry(path)
        text = entry.texts.get((target, compact))
        if text is None:
            body = self._body(entry, target)
            text = entry.texts[(target, compact)] = dumps_payload(body, compact=compact)
        return text

    @staticmethod
    def _body(entry: _Entry, target: str | None) -> dict[str, Any]:
        body = entry.bodies.get(target)
        if body is None:
            body = entry.bodies[target] = compile_preset(entry.preset, target)
        return body

    def clear(self) -> None:
        """Forget every preset."""
        with self._lock:
            self._entries.clear()

    def _entry(self, path: str | os.PathLike[str]) -> _Entry:
        key = os.path.abspath(path)  # noqa: PTH100 (the key of _normalized, as a string)
        entry = self._entries.get(key)
        if entry is not None and entry.is_current():
            return entry
        given = Path(path)
        started = time.time_ns()
        loader = _RecordingLoader(self.root)
        preset = loader.load(given)  # a PresetError is raised, never cached
        read = loader.read
        names = dict.fromkeys([key, *read, *map(str, preset.source_files)])
        stamps = tuple((name, _stamp(name)) for name in names)
        entry = _Entry(preset, stamps)
        recent = started - int(RACY_SECONDS * 1e9)
        if all(stamp is not None and stamp[3] < recent for _, stamp in stamps):
            with self._lock:
                self._entries[key] = entry
        else:
            with self._lock:
                self._entries.pop(key, None)
        return entry


class _RecordingLoader(CheckedLoader):
    """A Loader that notes every file it reads and every file each of them names."""

    def __init__(self, root: Path | None) -> None:
        super().__init__(root)
        self.read: list[str] = []

    def document(self, path: Path, key: Path | None = None) -> Document:
        self.read.append(os.path.abspath(key or path))  # noqa: PTH100 (symlinks kept)
        document = super().document(path, key)
        self.read.extend(document.settings.named_files(str(document.path.parent)))
        return document
