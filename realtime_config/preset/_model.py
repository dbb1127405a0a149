"""The preset's data model: a file as read (``Document``), a loaded preset (``Preset``), where
each key was written (``Source``) and the ``[preset]`` table (``PresetSettings``).

A leaf: it imports no stage, so every stage (checking, compiling, authoring) can name these
types without an import that points back up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._keys import KeyPath, format_path
from realtime_config._schema import dialect_of

Anchor = Literal["key", "value"]
"""Where a diagnostic about a key path points: at its key, or at its value."""

Locate = Callable[[KeyPath, Anchor], tuple[str, int, int]]
"""The file, line and column where a key path's key or value is written."""


class Locating:
    """What places a diagnostic about a key path where the key is written: a preset, a file
    or a merged table, each with its own ``where``."""

    def where(self, path: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
        """The file, line and column of ``path``'s key or value."""
        raise NotImplementedError

    def diagnostic(
        self,
        path: KeyPath,
        rule: str,
        message: str,
        *,
        severity: Severity = "error",
        anchor: Anchor = "value",
    ) -> Diagnostic:
        """A diagnostic about ``path``, at its value (what is wrong) or with ``anchor="key"``
        at its key, in the file that wrote it."""
        file, line, column = self.where(path, anchor)
        return Diagnostic(file, line, column, severity, rule, message, format_path(path))


class PresetSettings:
    """A file's ``[preset]`` table, read once: its bases, instructions file, target and
    description. A value of the wrong type is left out here; the schema check names it.

    (A plain class, as the other small records here: a dataclass costs start-up.)
    """

    __slots__ = ("description", "extends", "has_bases", "instructions_file", "table", "target")

    def __init__(
        self,
        table: Mapping[str, Any],
        *,
        extends: tuple[tuple[KeyPath, str], ...] = (),
        has_bases: bool = False,
        instructions_file: str | None = None,
        target: str | None = None,
        description: str | None = None,
    ) -> None:
        self.table = table
        """The table as written (``{}`` when absent or not a table)."""
        self.extends = extends
        """Each base named by ``extends`` that is a string, with the key path it is at."""
        self.has_bases = has_bases
        """Whether ``extends`` names anything (a string, or a list that is not empty)."""
        self.instructions_file = instructions_file
        self.target = target
        self.description = description

    @classmethod
    def of(cls, table: Mapping[str, Any]) -> PresetSettings:
        """The settings of a file's top-level ``table``."""
        settings = table.get("preset")
        if not isinstance(settings, dict):
            return _NO_SETTINGS
        extends = settings.get("extends")
        entries: tuple[tuple[KeyPath, str], ...] = ()
        if isinstance(extends, str):
            entries = ((("preset", "extends"), extends),)
        elif isinstance(extends, list):
            entries = tuple(
                (("preset", "extends", index), name)
                for index, name in enumerate(extends)
                if isinstance(name, str)
            )
        instructions_file = settings.get("instructions_file")
        target = settings.get("target")
        description = settings.get("description")
        return cls(
            settings,
            extends=entries,
            has_bases=isinstance(extends, str) or (isinstance(extends, list) and bool(extends)),
            instructions_file=instructions_file if isinstance(instructions_file, str) else None,
            target=target if isinstance(target, str) else None,
            description=description if isinstance(description, str) else None,
        )

    def named_files(self, folder: str) -> list[str]:
        """The files these settings name (bases, then the instructions file), each joined to
        ``folder`` and normalised; a name no file can have (a NUL in it) is left out."""
        names = [name for _, name in self.extends]
        if self.instructions_file is not None:
            names.append(self.instructions_file)
        return [
            os.path.normpath(os.path.join(folder, name))  # noqa: PTH118 (strings: per file)
            for name in names
            if "\0" not in name
        ]


_NO_SETTINGS = PresetSettings({})


class Source:
    """Where a resolved key was written: a document, and the key to point at inside it."""

    __slots__ = ("document", "key")

    def __init__(self, document: Document, key: KeyPath | None = None) -> None:
        self.document = document
        self.key = key


@dataclass(frozen=True)
class Preset(Locating):
    """A loaded preset: its resolved session table and the preset's own settings.

    ``session`` holds the session fields after ``extends`` and ``instructions_file`` are
    resolved; ``warnings`` the problems that do not stop it from compiling.
    """

    path: Path
    session: Mapping[str, Any]
    target: str | None = None
    description: str | None = None
    warnings: tuple[Diagnostic, ...] = ()
    _locate: Locate | None = field(default=None, repr=False, compare=False)
    _sources: Mapping[KeyPath, Source] = field(default_factory=dict, repr=False, compare=False)
    _documents: tuple[Document, ...] = field(default=(), repr=False, compare=False)

    @property
    def dialect(self) -> str:
        """``beta``, or the GA session type (``realtime``, ``transcription``)."""
        return dialect_of(self.session)

    @property
    def source_files(self) -> tuple[Path, ...]:
        """The files this preset is made from: itself, its bases and instructions files.

        Read from the files it was resolved from and the ``extends`` and ``instructions_file``
        they name; output files are checked against it so that none is ever overwritten.
        """
        files = dict.fromkeys([self.path])
        for document in self._documents:
            files[document.path] = None
            folder = str(document.path.parent)
            files.update(dict.fromkeys(map(Path, document.settings.named_files(folder))))
        return tuple(files)

    def where(self, path: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
        return (str(self.path), 0, 0) if self._locate is None else self._locate(path, anchor)


@dataclass
class Document(Locating):
    """One parsed preset file, with the means to locate its keys."""

    path: Path
    display: str
    text: str
    table: dict[str, Any]
    dialect: str = "beta"
    """The dialect the file is checked in: its own ``type``, else its bases'."""
    _locator: Any = field(default=None, repr=False)
    problems: list[Diagnostic] | None = field(default=None, repr=False)
    """The file's own problems once it is checked (checking/ fills it in, once)."""
    json_form_checked: bool = field(default=False, repr=False)
    """Whether its values were found to have a JSON form already (as the loader reads it)."""
    _settings: PresetSettings | None = field(default=None, repr=False)

    @property
    def settings(self) -> PresetSettings:
        """The file's ``[preset]`` table, read once."""
        if self._settings is None:
            self._settings = PresetSettings.of(self.table)
        return self._settings

    def position(self, path: KeyPath, anchor: Anchor = "value") -> tuple[int, int]:
        """Line and column of ``path`` (or its nearest written ancestor) in this file."""
        if self._locator is None:
            from realtime_config._source import KeyLocator

            self._locator = KeyLocator(self.text)
        position = (
            self._locator.key_position(path)
            if anchor == "key"
            else self._locator.value_position(path)
        )
        return position.line, position.column

    def where(self, path: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
        return (self.display, *self.position(path, anchor))


class ResolvedTable(Locating):
    """A preset's merged table, checked as one document: each key located where written."""

    __slots__ = ("_locate", "dialect", "table")

    def __init__(self, table: dict[str, Any], dialect: str, locate: Locate) -> None:
        self.table = table
        self.dialect = dialect
        self._locate = locate

    def where(self, path: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
        return self._locate(path, anchor)
