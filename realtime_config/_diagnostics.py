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
        where = f"{printable(self.file)}:{self.line}:{self.column}"
        return f"{where}: {self.severity}: {printable(self.message)}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


_BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
"""The marks, embeddings, overrides and isolates that reorder text as a terminal shows it."""

_UNPRINTABLE = {
    **{code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]},
    ord("\t"): "\\t",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
    **{code: f"\\u{code:04x}" for code in _BIDI_CONTROLS},
}
"""Control characters, Unicode line separators and bidi controls, as Python's escapes."""


def printable(text: str) -> str:
    """Text from user input (a key, a value, a file name) fit for a one-line message.

    A newline or any other control character, and every bidi control (U+202E RIGHT-TO-LEFT
    OVERRIDE...), is written as its escape (``\\n``, ``\\x1b``, ``\\u202e``): it can neither
    break the line, drive the terminal, nor make the line read otherwise than it is. The
    one place every message of the command line passes through.
    """
    # Every character translated is one str.isprintable() refuses (bidi controls are Cf).
    return text if text.isprintable() else text.translate(_UNPRINTABLE)


def format_text(diagnostic: Diagnostic, *, color: bool = False) -> str:
    """``path:line:col: severity: message``, with the severity coloured on a terminal."""
    if not color:
        return str(diagnostic)
    shade = "\x1b[1;31m" if diagnostic.is_error else "\x1b[1;33m"
    return (
        f"\x1b[1m{printable(diagnostic.file)}:{diagnostic.line}:{diagnostic.column}:\x1b[0m "
        f"{shade}{diagnostic.severity}:\x1b[0m {printable(diagnostic.message)}"
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
            f"file={_escape_property(printable(diagnostic.file))}",
            f"line={diagnostic.line}",
            f"col={diagnostic.column}",
            f"title={_escape_property('realtime-config ' + diagnostic.rule)}",
        ]
    )
    return f"::{command} {properties}::{_escape_data(printable(diagnostic.message))}"
