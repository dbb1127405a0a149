"""The checks as loading runs them: a file on its own, the merged table of a preset with
bases, then the cross-field rules; and the loader and ``load_preset`` that run them.

Checking is interleaved with resolving, on purpose: a file is checked against the schema of
its dialect, and a file without ``type`` takes its dialect from its bases. preset/ resolves
and calls the checks it is given (``Checks``); this module gives them, so the imports point
one way: checking/ above preset/.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config.preset._loader import Loader
from realtime_config.preset._model import Document, Preset, ResolvedTable
from realtime_config.preset._parse import json_form_diagnostics
from realtime_config.preset._paths import SHARED_ROOTS, Folders

_COMPLETED_BY_BASES = frozenset({"required", "branch-field"})
"""Rules a base can satisfy for a file that extends it (a required key, the ``type`` that
selects an alternative): those problems wait for the check of the merged table."""


def document_diagnostics(document: Document) -> list[Diagnostic]:
    """A parsed file's own problems: values with no JSON form, else schema errors."""
    from realtime_config.checking._validate import schema_diagnostics

    if not document.json_form_checked:
        problems = json_form_diagnostics(document)
        if problems:
            return problems
    return schema_diagnostics(document)


def check_document(document: Document, dialect: str, *, partial: bool = False) -> None:
    """Check the file against the schema of ``dialect`` (once); raise its errors.

    ``partial``: the file extends bases, so a table may be completed by a base (a required
    key, the ``type`` that selects an alternative): those problems wait for the check of the
    merged table.
    """
    if document.problems is None:
        document.dialect = dialect
        document.problems = document_diagnostics(document)
    problems = [p for p in document.problems if not (partial and p.rule in _COMPLETED_BY_BASES)]
    if any(p.is_error for p in problems):
        raise PresetError(problems)


def check_resolved(table: ResolvedTable) -> None:
    """Check a preset's merged table against the schema; raise its errors."""
    from realtime_config.checking._validate import schema_diagnostics

    errors = [p for p in schema_diagnostics(table) if p.is_error]
    if errors:
        raise PresetError(errors)


def with_cross_field_checks(preset: Preset) -> Preset:
    """The preset with its cross-field warnings, or a PresetError listing every problem."""
    from realtime_config.checking._checks import cross_field_diagnostics

    found = sorted(cross_field_diagnostics(preset), key=lambda d: (d.file, d.line, d.column))
    if any(d.is_error for d in found):
        raise PresetError(found)
    return replace(preset, warnings=tuple(found)) if found else preset


class PresetChecks:
    """The checks of a preset file, in the order loading runs them (preset/'s ``Checks``)."""

    def document(self, document: Document, dialect: str, *, partial: bool) -> None:
        check_document(document, dialect, partial=partial)

    def resolved(self, table: ResolvedTable) -> None:
        check_resolved(table)

    def preset(self, preset: Preset) -> Preset:
        return with_cross_field_checks(preset)


PRESET_CHECKS = PresetChecks()


class CheckedLoader(Loader):
    """A loader that runs every check of a preset file: what validate, compile and a
    backend use."""

    def __init__(
        self, root: Path | None = None, *, keep: int = 512, folders: Folders | None = None
    ) -> None:
        super().__init__(root, checks=PRESET_CHECKS, keep=keep, folders=folders)


def load_preset(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> Preset:
    """Load, resolve and check the preset at ``path``; raise PresetError on any problem."""
    return _loader(root).load(Path(path))


def _loader(root: str | os.PathLike[str] | None) -> CheckedLoader:
    """A loader for one call: files are read afresh, and the project roots found by earlier
    calls are reused (a backend loads presets from the same few folders on every request)."""
    return CheckedLoader(
        Path(root) if root is not None else None, folders=Folders(marked=SHARED_ROOTS)
    )


def loads_preset(
    text: str,
    *,
    path: str | os.PathLike[str] = "<text>",
    root: str | os.PathLike[str] | None = None,
) -> Preset:
    """Check TOML ``text`` as the preset file at ``path`` (for editors, bots and tests).

    ``text`` stands for the file at ``path``, which need not exist: diagnostics name it, and
    its ``extends`` bases and instructions file are read from disk relative to it, confined
    to ``root`` (by default the project root of its folder). Raise PresetError on any problem.
    """
    loader = _loader(root)
    given = Path(path)
    if "\0" not in str(given):  # load() names the problem
        loader.put_text(given, text)
    return loader.load(given)
