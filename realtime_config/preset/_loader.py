"""Loading presets under one project root: each file read, parsed and resolved once, with the
checks the caller gives, and every preset confined to the root.

Paths that a preset names are confined to the project root, because presets arrive in pull
requests and CI must not be talked into reading other files. The checks come from above
(checking/ composes them): this stage only says when they run.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._project import display_path
from realtime_config.preset._model import Document, Preset
from realtime_config.preset._parse import json_form_diagnostics, parse_toml
from realtime_config.preset._paths import Folders, within
from realtime_config.preset._read import (
    CAN_REFUSE_SYMLINKS,
    MAX_FILE_BYTES,
    NUL_NAME,
    _SymlinkSignal,
    decode_text,
    read_text,
)
from realtime_config.preset._resolve import Outcome, Resolution

if TYPE_CHECKING:
    from realtime_config.preset._resolve import Checks

_Cached = TypeVar("_Cached")


class Recent(OrderedDict[Path, _Cached]):
    """A cache of files: at most ``limit`` entries, the least recently used out."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def get(self, key: Path, default: Any = None) -> Any:
        found = super().get(key, default)
        if found is not default:
            self.move_to_end(key)
        return found

    def __setitem__(self, key: Path, value: _Cached) -> None:
        super().__setitem__(key, value)
        if len(self) > self.limit:
            self.popitem(last=False)


class Loader:
    """Loads presets under one project root, reading and checking each file once."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        checks: Checks,
        keep: int = 512,
        folders: Folders | None = None,
    ) -> None:
        """``checks``: what runs as files are resolved (checking/ gives them). ``keep``
        bounds how many files stay cached: the least recently used go first (a base in use
        stays), so a batch of any length holds a constant amount of memory, and an evicted
        file is read again if needed. ``folders``: the real paths and roots of folders,
        found once (a cache that may be shared between loaders).
        """
        self.checks = checks
        self.folders = folders if folders is not None else Folders()
        self.root = self._real_root(root) if root is not None else None
        self._root_text = str(self.root) if self.root is not None else ""
        self._cwd = os.getcwd()  # noqa: PTH109 (a string: joined to every relative name)
        self._documents: Recent[Document | PresetError] = Recent(keep)
        self.presets: Recent[Outcome] = Recent(keep)
        """Every file resolved, failures too, by its normalised path."""
        self.cyclic: Recent[Outcome] = Recent(keep)
        """The files of a cycle, kept apart: a file that extends one must walk through it."""
        # The root as written, and whether each folder of a preset resolves inside the root
        # (for a folder reached through a symlink: the others are known from ``folders``).
        self._lexical_root = self._normalized(root) if root is not None else None
        self._inside: dict[Path, bool] = {}
        self._roots: dict[str, Path] = {}  # by folder: the Path of its root, built once
        # Files in the root whose read proves they are no symlink (see _escapes_root).
        self._unproved: dict[Path, tuple[Path, Path | None]] = {}

    def _real_root(self, root: Path) -> Path:
        real = self.folders.real(os.path.abspath(root))  # noqa: PTH100 (a string)
        return Path(real) if real is not None else root.resolve()

    def _normalized(self, path: Path) -> Path:
        """An absolute path with ``.`` and ``..`` folded, symlinks kept (checked apart)."""
        text = str(path)
        if not os.path.isabs(text):  # noqa: PTH117 (a string: per file)
            text = os.path.join(self._cwd, text)  # noqa: PTH118 (as above)
        return Path(os.path.normpath(text))

    def document(self, path: Path, key: Path | None = None) -> Document:
        """The parsed document at ``path`` (cached), or a PresetError; ``key``: ``path``
        normalised, when the caller has it already (``path`` then only names the file).

        Values with no JSON form are refused here; the schema check waits for the dialect,
        which a file without ``type`` takes from its bases.
        """
        if key is None:
            key = path if path in self._documents else self._normalized(path)
        cached: Document | PresetError | None = self._documents.get(key)
        if cached is None:
            try:
                cached = self._read_document(
                    key, display_path(path if not path.is_absolute() else key)
                )
            except PresetError as error:
                cached = error
            self._documents[key] = cached
        if isinstance(cached, PresetError):
            raise cached
        return cached

    def found_document(self, path: Path) -> Document:
        """The parsed document of a file that discovery found, refused as a listed preset is
        when it is a symlink leading out of the project root; or a PresetError."""
        key = self._normalized(path)
        refused = self._escapes_root(key, self.root_for(key), path)
        if refused is not None:
            raise refused
        return self.document(path, key)

    def put_text(self, path: Path, text: str) -> None:
        """Take ``text`` as the content of the file at ``path``, instead of what is on disk:
        a buffer an editor has not saved, a preset a bot proposes. It is held to a file's
        rules (at most MAX_FILE_BYTES, a byte order mark dropped)."""

        def checked(display: str) -> str:
            if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
                message = "text is larger than 1 MiB; a preset is a small text file"
                raise PresetError([Diagnostic(display, 1, 1, "error", "file", message)])
            return text.removeprefix("\ufeff")

        self._put(path, checked)

    def put_bytes(self, path: Path, data: bytes) -> None:
        """Take ``data`` as the bytes of the file at ``path`` (standard input, named as
        ``--stdin-filename`` says), held to a file's rules: size, UTF-8, byte order mark."""
        self._put(path, lambda display: decode_text(data, display))

    def _put(self, path: Path, text_of: Callable[[str], str]) -> None:
        key = self._normalized(path)
        display = display_path(path if not path.is_absolute() else key)
        document: Document | PresetError
        try:
            document = self._parsed(key, display, text_of(display))
        except PresetError as error:
            document = error
        self._documents[key] = document

    def _read_document(self, path: Path, display: str) -> Document:
        unproved = self._unproved.pop(path, None)
        if unproved is None:
            return self._parsed(path, display, read_text(path, display))
        try:  # the open proves the file is no symlink, or says it is one
            return self._parsed(path, display, read_text(path, display, follow_symlinks=False))
        except _SymlinkSignal:
            refused = self._symlink_escapes(path, *unproved)
            if refused is not None:
                raise refused from None
            return self._parsed(path, display, read_text(path, display))

    def _parsed(self, path: Path, display: str, text: str) -> Document:
        document = Document(path, display, text, parse_toml(text, display))
        problems = json_form_diagnostics(document)
        if problems:
            raise PresetError(problems)
        document.json_form_checked = True
        return document

    def load(self, path: Path) -> Preset:
        """Load, resolve and check the preset at ``path``.

        Raises PresetError with every problem (warnings included) when any is an error;
        otherwise the preset carries its warnings.
        """
        if "\0" in str(path):  # no file has such a name, and the OS refuses to look
            raise PresetError([Diagnostic(display_path(path), 1, 1, "error", "file", NUL_NAME)])
        return self.checks.preset(self._resolve(self._normalized(path), path))

    def root_for(self, path: Path) -> Path:
        """The project root of the file at ``path``: the loader's, or the one found for it."""
        if self.root is not None:
            return self.root
        folder = os.path.dirname(path)  # noqa: PTH120 (a string: per file)
        root = self._roots.get(folder)
        if root is None:
            if len(self._roots) >= self.folders.limit:
                self._roots.clear()
            root = self._roots[folder] = self.folders.root(folder)
        return root

    def _resolve(self, path: Path, given: Path | None = None) -> Preset:
        """The resolved preset at ``path``: from the cache, failures included, or resolved."""
        cached: Outcome | None = self.presets.get(path) or self.cyclic.get(path)
        if cached is None:
            cached = self.resolve_graph(path, self.root_for(path), given)
        if isinstance(cached, PresetError):
            raise cached
        return cached

    def resolve_graph(self, top: Path, root: Path, given: Path | None) -> Outcome:
        """Resolve ``top`` and every base it reaches, unless ``top`` leaves the root."""
        refused = self._escapes_root(top, root, given)
        if refused is not None:
            self.presets[top] = refused
            return refused
        try:
            return Resolution(self, top, root, given).run()
        finally:
            self._unproved.pop(top, None)

    def _escapes_root(self, path: Path, root: Path, given: Path | None) -> PresetError | None:
        """A PresetError when the preset at ``path`` lies in the project but is a symlink
        leading out of it: a listed or discovered file is confined like a base, so that a
        committed symlink cannot bring another file's content into CI logs.
        """
        real = self.folders.real(os.path.dirname(path))  # noqa: PTH120 (a string: per file)
        if real is not None:
            inside = within(real, self._root_text or str(root))
        else:
            folder = path.parent
            found = self._inside.get(folder)
            if found is None:
                if len(self._inside) >= self.folders.limit:  # bounded, as every cache here
                    self._inside.clear()
                try:
                    found = self._inside[folder] = folder.resolve().is_relative_to(root)
                except (OSError, RuntimeError, ValueError):
                    found = True  # reading it will say what is wrong
            inside = found
        if inside:
            if CAN_REFUSE_SYMLINKS and path not in self._documents:
                # Proved by the read itself, which then refuses a symlink (see _read_document).
                self._unproved[path] = (root, given)
                return None
            return self._symlink_escapes(path, root, given)
        # A folder outside the root: refused only when written as a folder inside it.
        if self._lexical_root is not None and (
            path.is_relative_to(self._lexical_root) or path.is_relative_to(root)
        ):
            return self._escape_error(path, given)
        return None

    def _symlink_escapes(self, path: Path, root: Path, given: Path | None) -> PresetError | None:
        """The error of a file in the root that is a symlink leading out of it, if it is."""
        try:
            escapes = path.is_symlink() and not path.resolve().is_relative_to(root)
        except (OSError, RuntimeError, ValueError):
            escapes = False
        return self._escape_error(path, given) if escapes else None

    @staticmethod
    def _escape_error(path: Path, given: Path | None) -> PresetError:
        display = display_path(given if given is not None and not given.is_absolute() else path)
        return PresetError(
            [
                Diagnostic(
                    display,
                    1,
                    1,
                    "error",
                    "path",
                    "leads outside the project root through a symlink; only files inside "
                    "the root are read",
                )
            ]
        )
