"""JSON text read with the preset's limits, and located: where each key and value is written.

``json.loads`` converts every integer literal with ``int()``, which refuses more than 4300
digits (Python's int/str conversion limit) with a ValueError that names no position. Here a
literal longer than any 64-bit integer becomes a stand-in just past the range, so that the
range check that presets get (``json_form_diagnostics``) reports it, located at its key.
"""

from __future__ import annotations

import contextlib
import json
import re
from bisect import bisect_left
from typing import Any, Final

from realtime_config._keys import KeyPath
from realtime_config._source import Position

_LONGEST = len(str(-(2**63)))
"""No 64-bit integer is written with more characters than this (sign included)."""


def _parse_int(literal: str) -> int:
    if len(literal) <= _LONGEST:
        return int(literal)
    return -(2**63) - 1 if literal.startswith("-") else 2**63


def loads_json(text: str, **options: Any) -> Any:
    """``json.loads(text, **options)``, with integers too long for 64 bits kept out of range."""
    return json.loads(text, parse_int=_parse_int, **options)


_STRINGS: Final = json.JSONDecoder()
"""Reads one JSON string at a time while locating keys."""


class JSONLocator:
    """Where the keys and values of a JSON document are written (line, column).

    Paths are those of ``json.loads(text)``. A key's position is its opening quote, a
    value's its first character; array items have both at the item. One pass, no recursion,
    never raises: malformed text gives what was recognised. Also records the first repeated
    key (``duplicate``) and the first value nested deeper than ``max_depth`` (``too_deep``).
    """

    _SPACE = re.compile(r"[ \t\r\n]*")
    _SCALAR = re.compile(r"[^,\]\}\s]+")

    def __init__(self, text: str, *, max_depth: int) -> None:
        self._text = text
        self._max_depth = max_depth
        self._keys: dict[KeyPath, int] = {}
        self._values: dict[KeyPath, int] = {}
        self.duplicate: KeyPath | None = None
        self.too_deep: KeyPath | None = None
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        with contextlib.suppress(IndexError, ValueError):
            self._scan()

    def _skip(self, pos: int) -> int:
        found = self._SPACE.match(self._text, pos)
        return found.end() if found else pos

    def _key(self, pos: int, parent: KeyPath) -> tuple[KeyPath, int]:
        """Read the key at ``pos`` (a string, then a colon); the path and where its value is."""
        name, end = _STRINGS.raw_decode(self._text, pos)
        if not isinstance(name, str):  # not JSON (an object as a key): json.loads says where
            raise ValueError("a key that is not a string")  # noqa: TRY004 - stops the scan
        path = (*parent, name)
        if path in self._keys and self.duplicate is None:
            self.duplicate = path
        self._keys[path] = pos
        return path, self._skip(self._skip(end) + 1)

    def _scan(self) -> None:
        text = self._text
        stack: list[tuple[KeyPath, bool, int]] = []
        path: KeyPath = ()
        pos = self._skip(0)
        while pos < len(text):
            self._values[path] = pos
            if len(path) > self._max_depth:
                self.too_deep = path
                return
            char = text[pos]
            if char in "{[":
                is_array = char == "["
                pos = self._skip(pos + 1)
                if text[pos] not in "]}":
                    stack.append((path, is_array, 0))
                    if is_array:
                        path = (*path, 0)
                        self._keys[path] = pos
                    else:
                        path, pos = self._key(pos, path)
                    continue
                pos += 1
            elif char == '"':
                pos = _STRINGS.raw_decode(text, pos)[1]
            else:
                found = self._SCALAR.match(text, pos)
                pos = found.end() if found else pos + 1
            # After a value: a comma starts the next item, a bracket closes the container.
            while True:
                pos = self._skip(pos)
                if not stack or pos >= len(text):
                    return
                parent, is_array, index = stack[-1]
                if text[pos] == ",":
                    pos = self._skip(pos + 1)
                    if is_array:
                        stack[-1] = (parent, True, index + 1)
                        path = (*parent, index + 1)
                        self._keys[path] = pos
                    else:
                        path, pos = self._key(pos, parent)
                    break
                stack.pop()
                pos += 1

    def _position(self, offset: int) -> Position:
        line = bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return Position(line + 1, offset - start + 1)

    def _longest(self, path: KeyPath) -> KeyPath:
        for length in range(len(path), 0, -1):
            if path[:length] in self._values or path[:length] in self._keys:
                return path[:length]
        return ()

    def key_position(self, path: KeyPath) -> Position:
        """Where the key of ``path`` (or of its longest prefix in the text) is written."""
        found = self._longest(path)
        return self._position(self._keys.get(found, self._values.get(found, 0)))

    def value_position(self, path: KeyPath) -> Position:
        """Where the value of ``path`` (or of its longest prefix in the text) starts."""
        found = self._longest(path)
        return self._position(self._values.get(found, self._keys.get(found, 0)))
