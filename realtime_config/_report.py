"""Reporting the diagnostics of a run: one reporter per output format, summary included.

The command line picks a reporter by name and prints what it returns; the plurals, the
summary line and which stream it goes to are decided here, once, for every command that
reports a list of diagnostics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from realtime_config._diagnostics import Diagnostic, format_github, format_text, to_json


class Report(NamedTuple):
    """What a reporter prints: the lines for standard output and for standard error."""

    out: list[str]
    err: list[str]


def _text(diagnostics: Sequence[Diagnostic], checked: int, *, quiet: bool, color: bool) -> Report:
    """One line per problem, then a summary (on stderr when there were problems)."""
    lines = [format_text(diagnostic, color=color) for diagnostic in diagnostics]
    if quiet and not diagnostics:
        return Report(lines, [])
    count = f"{checked} preset" + ("s" if checked != 1 else "")
    if not diagnostics:
        return Report([*lines, f"{count} valid"], [])
    errors = sum(d.is_error for d in diagnostics)
    summary = f"{count} checked: {errors} error(s), {len(diagnostics) - errors} warning(s)"
    return Report(lines, [summary])


def _json(diagnostics: Sequence[Diagnostic], checked: int, *, quiet: bool, color: bool) -> Report:
    """Every diagnostic as one JSON document, for tools."""
    return Report([to_json(list(diagnostics))], [])


def _github(diagnostics: Sequence[Diagnostic], checked: int, *, quiet: bool, color: bool) -> Report:
    """GitHub Actions workflow commands: an annotation per problem."""
    return Report([format_github(diagnostic) for diagnostic in diagnostics], [])


Reporter = Callable[..., Report]

REPORTERS: dict[str, Reporter] = {"text": _text, "json": _json, "github": _github}
"""The output formats of ``validate``, by name."""


def failed(diagnostics: Sequence[Diagnostic], *, strict: bool) -> bool:
    """Whether a run with these diagnostics fails: any error, or any problem when strict."""
    return any(d.is_error or strict for d in diagnostics)
