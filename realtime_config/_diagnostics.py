"""Diagnostics: one located problem in a preset, printed like a compiler message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in a preset, pointing at the key or value it concerns.

    ``line`` and ``column`` are 1-based; ``key`` is the dotted key path (``tools[0].name``),
    empty for problems with the file as a whole. ``rule`` is a stable id for tooling.
    """

    file: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    key: str = ""

    def __str__(self) -> str:
        where = f"{printable_file(self.file)}:{self.line}:{self.column}"
        return f"{where}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


_LINE_BREAKING = {
    **{code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]},
    ord("\t"): "\\t",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
"""Control characters and Unicode line separators, as the escapes Python would write."""


def printable_file(name: str) -> str:
    """A file name fit for a one-line diagnostic: a newline or any other control character
    in it is written as an escape (``\\n``, ``\\x1b``), so that it can neither break the line
    nor drive the terminal."""
    return name.translate(_LINE_BREAKING) if not name.isprintable() else name


def format_text(diagnostic: Diagnostic, *, color: bool = False) -> str:
    """``path:line:col: severity: message``, with the severity coloured on a terminal."""
    if not color:
        return str(diagnostic)
    shade = "\x1b[1;31m" if diagnostic.is_error else "\x1b[1;33m"
    return (
        f"\x1b[1m{printable_file(diagnostic.file)}:{diagnostic.line}:{diagnostic.column}:\x1b[0m "
        f"{shade}{diagnostic.severity}:\x1b[0m {diagnostic.message}"
    )


def to_json(diagnostics: list[Diagnostic]) -> str:
    """The diagnostics as a JSON list of objects, one per problem."""
    import json

    records = [
        {
            "file": d.file,
            "line": d.line,
            "column": d.column,
            "severity": d.severity,
            "rule": d.rule,
            "message": d.message,
            "key": d.key,
        }
        for d in diagnostics
    ]
    return json.dumps(records, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the line in the pull request."""
    command = "error" if diagnostic.is_error else "warning"
    properties = ",".join(
        [
            f"file={_escape_property(diagnostic.file)}",
            f"line={diagnostic.line}",
            f"col={diagnostic.column}",
            f"title={_escape_property('realtime-config ' + diagnostic.rule)}",
        ]
    )
    return f"::{command} {properties}::{_escape_data(diagnostic.message)}"
