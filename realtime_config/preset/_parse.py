"""Parsing a preset's text: TOML into a table, with nesting bounded before the parser runs,
and the values refused that have no JSON form.

Every problem becomes a located Diagnostic; no tomllib exception gets through.
"""

from __future__ import annotations

import datetime
import math
import re
import sys
from collections.abc import Iterable
from typing import Any

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._keys import KeyPath, format_path
from realtime_config.preset._model import Document

MAX_DEPTH = 64
"""Deeper nesting than this is refused: no real preset needs it, and it bounds every walk."""

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")


def parse_toml(text: str, display: str) -> dict[str, Any]:
    """Parse TOML text, translating tomllib's errors into a located diagnostic.

    Nesting deeper than MAX_DEPTH is refused before parsing (tomllib recurses once per level
    of arrays and inline tables, and takes quadratic time and memory for long dotted keys);
    an integer too long to convert is refused where it is written.
    """
    deep = _nesting(text)
    if deep is not None:
        raise PresetError([Diagnostic(display, deep[0], deep[1], "error", "nesting", deep[2])])
    from realtime_config.preset._fastparse import loads

    try:
        return loads(text)
    except ValueError as error:  # a TOMLDecodeError, or int() past its conversion limit
        raise PresetError([_toml_diagnostic(text, display, error)]) from None


def _toml_diagnostic(text: str, display: str, exc: ValueError) -> Diagnostic:
    """What tomllib refused, located: the parser's own words, or an integer too long."""
    if sys.version_info >= (3, 11):
        import tomllib  # here only: a valid preset is parsed without it
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib

    if not isinstance(exc, tomllib.TOMLDecodeError):  # int() refused a literal's length
        return _long_integer(text, display)
    message = str(getattr(exc, "msg", exc.args[0] if exc.args else exc))
    line: int | None = getattr(exc, "lineno", None)
    column: int | None = getattr(exc, "colno", None)
    found = _TOML_POSITION.search(message)
    if found:
        message = message[: found.start()]
        if found.group(1):
            line, column = int(found.group(1)), int(found.group(2))
    if line is None or column is None:
        line = text.count("\n") + 1
        column = len(text) - (text.rfind("\n") + 1) + 1
    message = message[:1].lower() + message[1:]
    return Diagnostic(display, line, column, "error", "toml-syntax", f"invalid TOML: {message}")


_LONG_INTEGER = re.compile(r"[+-]?[0-9][0-9_]{256,}(?![0-9_.eE])")


def _long_integer(text: str, display: str) -> Diagnostic:
    from realtime_config._source import KeyLocator

    found = KeyLocator(text).first_value_matching(_LONG_INTEGER)
    path: KeyPath = () if found is None else found[0]
    line, column = (1, 1) if found is None else (found[1].line, found[1].column)
    return Diagnostic(
        display, line, column, "error", "range", _integer_range(path), format_path(path)
    )


INTEGER_RANGE = (-(2**63), 2**63 - 1)
"""TOML integers are 64-bit: the spec lets a parser refuse any other, and JSON readers agree."""


def _integer_range(path: KeyPath) -> str:
    where = f"{format_path(path)}: " if path else ""
    return (
        f"{where}the integer is out of range; TOML integers are 64-bit, from "
        f"{INTEGER_RANGE[0]} to {INTEGER_RANGE[1]}"
    )


def _nesting(text: str) -> tuple[int, int, str] | None:
    """Where and how nesting first exceeds MAX_DEPTH, if it does.

    Brackets are counted first (a quick, string-aware scan); then key paths, which dotted
    keys and headers lengthen without brackets. Each level past a key's first part needs a
    ``.``, ``[`` or ``{`` outside strings and comments, so their count bounds the nesting,
    and the full scan runs only when that bound can pass MAX_DEPTH: the periods of prose,
    URLs and file names in strings do not count.
    """
    brackets = _brackets_too_deep(text)
    if brackets is not None:
        return (
            *brackets,
            f"arrays and inline tables are nested deeper than {MAX_DEPTH} levels",
        )
    if _structural(text) < MAX_DEPTH:
        return None
    bare = _STRINGS_AND_COMMENTS.sub("", text)  # what keys and brackets are made of
    if _structural(bare) < MAX_DEPTH:
        return None
    from realtime_config._source import nesting_overflow

    found = nesting_overflow(text, MAX_DEPTH)
    if found is None:
        return None
    return found.line, found.column, _TOO_DEEP


def _structural(text: str) -> int:
    """How many ``.``, ``[`` and ``{`` are in ``text``: each can add a level to a key path."""
    return text.count(".") + text.count("[") + text.count("{")


_STRINGS_AND_COMMENTS = re.compile(
    r'"""(?:\\[\s\S]|[^\\])*?""""{0,2}'  # a multi-line basic string (2 more quotes may end it)
    r"|'''[\s\S]*?''''{0,2}"  # a multi-line literal string
    r'|"(?:\\.|[^"\\\n])*"'  # a basic string, on one line
    r"|'[^'\n]*'"  # a literal string
    r"|#[^\n]*"  # a comment
)
"""Strings and comments, read as TOML reads them from the start of a text; where a text is
not valid TOML, what follows is counted as structure, which only raises the bound."""


_TOO_DEEP = (
    f"keys and values are nested deeper than {MAX_DEPTH} levels (dotted keys, [headers], "
    "arrays and inline tables all count)"
)


def _brackets_too_deep(text: str) -> tuple[int, int] | None:
    """Where bracket nesting first exceeds MAX_DEPTH, if it does (a quick, string-aware scan).

    tomllib recurses once per level, so pathological nesting must be refused before parsing.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    line, line_start = 1, 0
    quote = ""  # the opening delimiter of the string being read: ', ", ''' or """
    index, end = 0, len(text)
    while index < end:
        char = text[index]
        if char == "\n":
            line, line_start = line + 1, index + 1
            if quote in ('"', "'"):  # a one-line string cannot go on: tomllib says why
                quote = ""
        elif quote:
            if char == "\\" and quote[0] == '"':
                index += 1  # the escaped character (a newline is counted at its own step)
                if index < end and text[index] == "\n":
                    line, line_start = line + 1, index + 1
            elif text.startswith(quote, index):
                index += len(quote) - 1
                quote = ""
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, index) else char
            index += len(quote) - 1
        elif char == "#":
            newline = text.find("\n", index)
            index = end if newline < 0 else newline
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, index - line_start + 1
        elif char in "]}":
            depth = max(0, depth - 1)
        index += 1
    return None


def _has_json_form(values: Iterable[Any], depth: int) -> bool:
    """Whether every value (at key paths of ``depth`` parts) and all below it has a JSON
    form, no deeper than MAX_DEPTH. Recursion is bounded: nesting was bounded before parsing."""
    if depth > MAX_DEPTH:
        return False
    for value in values:
        kind = type(value)
        if kind is str or kind is bool:
            continue
        if kind is dict:
            if not _has_json_form(value.values(), depth + 1):
                return False
        elif kind is list:
            if not _has_json_form(value, depth + 1):
                return False
        elif kind is int:
            if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
                return False
        elif kind is not float or not math.isfinite(value):
            return False  # a date or time, or a non-finite float: located by the full walk
    return True


def json_form_diagnostics(document: Document) -> list[Diagnostic]:
    """Values with no JSON form that every reader accepts: dates, times, non-finite floats,
    integers past 64 bits; and nesting past MAX_DEPTH, which any later walk would pay for.

    A table that has a JSON form (nearly every one) is proved so by one walk that builds no
    key path; only a table with a problem is walked again to locate each.
    """
    if _has_json_form(document.table.values(), 1):
        return []
    problems = []
    stack: list[tuple[KeyPath, Any]] = [((k,), v) for k, v in reversed(document.table.items())]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            problems.append(document.diagnostic(path, "nesting", _TOO_DEEP))
            continue
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, (datetime.date, datetime.time)):
            kind = (
                "a date-time"
                if isinstance(value, datetime.datetime)
                else "a date"
                if isinstance(value, datetime.date)
                else "a time"
            )
            problems.append(
                document.diagnostic(
                    path,
                    "type",
                    f"{format_path(path)}: {kind} is not allowed here; TOML dates and times "
                    "have no JSON form (write it as a string)",
                )
            )
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(
                document.diagnostic(
                    path,
                    "type",
                    f"{format_path(path)}: {value} is not allowed; JSON has no infinite "
                    "or NaN numbers",
                )
            )
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]
        ):
            problems.append(document.diagnostic(path, "range", _integer_range(path)))
    return problems
