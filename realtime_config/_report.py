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


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HOME_PAGE = "https://github.com/realtime-config/realtime-config"


def _sarif(diagnostics: Sequence[Diagnostic], checked: int, *, quiet: bool, color: bool) -> Report:
    """A SARIF 2.1.0 log of one run, for code-scanning upload (GitHub, GitLab, Azure DevOps).

    Each rule id becomes a reporting descriptor; a result points at its file (a relative URI
    reference, or a file URI for an absolute path) and its 1-based line and column, which
    count characters (``columnKind`` says so).
    """
    import json

    from realtime_config._version import __version__

    rules = {rule: index for index, rule in enumerate(sorted({d.rule for d in diagnostics}))}
    results = [
        {
            "ruleId": diagnostic.rule,
            "ruleIndex": rules[diagnostic.rule],
            "level": "error" if diagnostic.is_error else "warning",
            "message": {"text": diagnostic.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _file_uri(diagnostic.file)},
                        "region": {"startLine": diagnostic.line, "startColumn": diagnostic.column},
                    }
                }
            ],
        }
        for diagnostic in diagnostics
    ]
    driver = {
        "name": "realtime-config",
        "version": __version__,
        "informationUri": HOME_PAGE,
        "rules": [{"id": rule} for rule in rules],
    }
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
        ],
    }
    return Report([json.dumps(log, indent=2, ensure_ascii=False)], [])


def _file_uri(name: str) -> str:
    """A diagnostic's file as a URI: relative names stay relative (to the run's folder)."""
    from pathlib import PurePath
    from urllib.parse import quote

    path = PurePath(name)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


Reporter = Callable[..., Report]

REPORTERS: dict[str, Reporter] = {
    "text": _text,
    "json": _json,
    "github": _github,
    "sarif": _sarif,
}
"""The output formats of ``validate``, by name."""


def failed(diagnostics: Sequence[Diagnostic], *, strict: bool) -> bool:
    """Whether a run with these diagnostics fails: any error, or any problem when strict."""
    return any(d.is_error or strict for d in diagnostics)


def snapshot_summary(states: Sequence[str], *, check: bool) -> str:
    """The last line of a snapshot run, from the state of each snapshot: how many compiled,
    and (when writing) how many of those were written and how many left as they were."""
    compiled = sum(state in ("written", "unchanged") for state in states)
    written = sum(state == "written" for state in states)
    count = f"{compiled} snapshot" + ("s" if compiled != 1 else "")
    if check:
        return f"{count} up to date"
    return f"{count}: {written} written, {compiled - written} unchanged"
