"""Source positions (line, column) of the keys and values of a TOML document."""

from __future__ import annotations

import contextlib
import re
from bisect import bisect_left
from dataclasses import dataclass

from realtime_config._keys import BARE_KEY, KeyPath

# Paths deeper than this are scanned but not recorded, which bounds memory on pathological
# input such as a million nested ``[``; ``locate`` then answers with the deepest recorded prefix.
_MAX_DEPTH = 1000

# Spaces and tabs on one line.
_WS = re.compile(r"[ \t]*")
# Whitespace, newlines and comments.
_BLANK = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")
# The same plus commas: what separates the items of an inline array or table.
_SEPARATORS = re.compile(r"(?:[ \t\r\n,]+|#[^\n]*)*")
# A one-line basic string; group 1 is the raw content, group 2 the closing quote, if any.
_BASIC = re.compile(r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)(")?')
_LITERAL = re.compile(r"'([^'\n]*)(')?")
# What ends the body of a multi-line basic string: an escape (skipped) or the closing quotes.
_ML_BASIC_STOP = re.compile(r'\\|"""')
# Numbers, booleans, dates and times, including a date-time with a space in it.
_SCALAR = re.compile(r"[^,\[\]{}#\n\"']+")
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|(.))", re.S)
_SIMPLE_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    '"': '"',
    "\\": "\\",
}


@dataclass(frozen=True)
class Position:
    """A place in the text: 1-based line, and 1-based column counted in characters."""

    line: int
    column: int


@dataclass(frozen=True)
class Located:
    """Where a key is written and where its value starts."""

    key: Position
    value: Position


class _Node:
    """One key path seen in the document, with the offsets of its key and value."""

    __slots__ = ("aot", "children", "depth", "explicit", "key", "value")

    def __init__(self, depth: int, key: int, value: int, explicit: bool) -> None:
        self.depth = depth
        self.key = key
        self.value = value
        # Set once the key itself is defined (a ``[header]``, ``key = value`` or an array
        # element), as opposed to a table only implied by a dotted key or a longer header.
        self.explicit = explicit
        # How many ``[[header]]`` entries of this array of tables have been seen.
        self.aot = 0
        self.children: dict[str | int, _Node] | None = None


class _Frame:
    """An open inline array or inline table while scanning a value."""

    __slots__ = ("closing", "count", "is_array", "node")

    def __init__(self, node: _Node, is_array: bool) -> None:
        self.node = node
        self.is_array = is_array
        self.closing = "]" if is_array else "}"
        self.count = 0


def _unescape_match(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits:
        code = int(digits, 16)
        return chr(code) if code <= 0x10FFFF else match.group()
    return _SIMPLE_ESCAPES.get(match.group(4), match.group())


def _unescape(raw: str) -> str:
    return _ESCAPE.sub(_unescape_match, raw) if "\\" in raw else raw


class _Scanner:
    """One pass over TOML text that records the offsets of every key path into a tree."""

    def __init__(self, text: str, root: _Node, limit: int = _MAX_DEPTH) -> None:
        self.text = text
        self.n = len(text)
        self.root = root
        self.limit = limit
        # The offset of the first key or value that would be nested deeper than ``limit``.
        self.overflow: int | None = None
        # Receives everything below ``limit`` or under a malformed header; never reachable.
        self.sink = _Node(limit, 0, 0, True)

    def child(self, node: _Node, name: str | int, key: int, value: int, explicit: bool) -> _Node:
        """The child ``name`` of ``node``, created or upgraded to explicit at these offsets."""
        if node.depth >= self.limit:
            if self.overflow is None and node is not self.sink:
                self.overflow = key
            return self.sink
        children = node.children
        if children is None:
            children = node.children = {}
        found = children.get(name)
        if found is None:
            found = children[name] = _Node(node.depth + 1, key, value, explicit)
        elif explicit and not found.explicit:
            found.key, found.value, found.explicit = key, value, True
        return found

    def run(self) -> None:
        """Scan the whole text: headers and ``key = value`` lines, skipping anything else."""
        text, n = self.text, self.n
        table = self.root
        pos = 0
        while pos < n and self.overflow is None:
            pos = self.blank(pos)
            if pos >= n:
                break
            if text[pos] == "[":
                table, pos = self.header(pos)
            else:
                pos = self.pair(pos, table)
            # Only blanks and a comment may follow on the line; skip whatever is there.
            end = text.find("\n", pos)
            pos = n if end < 0 else end + 1

    def blank(self, pos: int) -> int:
        match = _BLANK.match(self.text, pos)
        return match.end() if match else pos

    def space(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def key(self, pos: int) -> tuple[list[tuple[str, int]], int] | None:
        """Parse a dotted key at ``pos``: its parts with their offsets, and where it ends."""
        text, n = self.text, self.n
        parts: list[tuple[str, int]] = []
        while True:
            pos = self.space(pos)
            if pos >= n:
                return None
            char = text[pos]
            if char in "\"'":
                match = (_BASIC if char == '"' else _LITERAL).match(text, pos)
                if match is None or match.group(2) is None:
                    return None
                raw = match.group(1)
                name = _unescape(raw) if char == '"' else raw
            else:
                match = BARE_KEY.match(text, pos)
                if match is None:
                    return None
                name = match.group()
            parts.append((name, pos))
            pos = self.space(match.end())
            if pos < n and text[pos] == ".":
                pos += 1
                continue
            return parts, pos

    def header(self, pos: int) -> tuple[_Node, int]:
        """Parse ``[a.b]`` or ``[[a.b]]`` at ``pos``: the table it opens, and where it ends."""
        is_array = self.text.startswith("[[", pos)
        parsed = self.key(pos + (2 if is_array else 1))
        if parsed is None:
            return self.sink, pos + 1
        parts, end = parsed
        node = self.root
        for name, offset in parts[:-1]:
            node = self.child(node, name, offset, offset, False)
            if node.aot and node.children:
                # A header below an array of tables belongs to its latest entry.
                node = node.children.get(node.aot - 1, node)
        name, offset = parts[-1]
        node = self.child(node, name, offset, offset, True)
        if is_array:
            index = node.aot
            node.aot += 1
            node = self.child(node, index, offset, offset, True)
        return node, end

    def assign(self, pos: int, table: _Node) -> tuple[_Node | None, int]:
        """Parse ``key =`` at ``pos`` into ``table``: the key's node, and where its value starts.

        The node is None when there is no key, no ``=`` or no value on the line.
        """
        text, n = self.text, self.n
        parsed = self.key(pos)
        if parsed is None:
            return None, pos
        parts, pos = parsed
        if pos >= n or text[pos] != "=":
            return None, pos
        pos = self.space(pos + 1)
        if pos >= n or text[pos] in "\r\n#":
            return None, pos
        node = table
        for name, offset in parts[:-1]:
            node = self.child(node, name, offset, offset, False)
        name, offset = parts[-1]
        return self.child(node, name, offset, pos, True), pos

    def pair(self, pos: int, table: _Node) -> int:
        """Parse a ``key = value`` line at ``pos`` into ``table``; return where it ends."""
        node, pos = self.assign(pos, table)
        return pos if node is None else self.value(pos, node)

    def string_end(self, pos: int) -> int:
        """Where the string starting at ``pos`` (any of the four kinds) ends."""
        text, n = self.text, self.n
        if text.startswith('"""', pos):
            start = pos + 3
            while True:
                stop = _ML_BASIC_STOP.search(text, start)
                if stop is None:
                    return n
                if text[stop.start()] == "\\":
                    start = stop.start() + 2
                    continue
                return self.extra_quotes(stop.end(), '"')
        if text.startswith("'''", pos):
            stop_at = text.find("'''", pos + 3)
            return n if stop_at < 0 else self.extra_quotes(stop_at + 3, "'")
        match = (_BASIC if text[pos] == '"' else _LITERAL).match(text, pos)
        return match.end() if match else pos + 1

    def extra_quotes(self, pos: int, quote: str) -> int:
        """Up to two quotes right before the closing ones belong to a multi-line string."""
        for _ in range(2):
            if self.text.startswith(quote, pos):
                pos += 1
        return pos

    def value(self, pos: int, node: _Node) -> int:
        """Scan the value starting at ``pos`` (``pos < n``) for ``node``; return its end.

        Nested arrays and inline tables are tracked on an explicit stack, not by recursion.
        """
        text, n = self.text, self.n
        # Bound once: this loop runs for every element of every inline array and table.
        separators, scalar, child = _SEPARATORS.match, _SCALAR.match, self.child
        stack: list[_Frame] = []
        while True:
            char = text[pos]
            if char in "[{":
                stack.append(_Frame(node, char == "["))
                pos += 1
            elif char in "\"'":
                pos = self.string_end(pos)
            else:
                match = scalar(text, pos)
                pos = match.end() if match else pos + 1
            # Close finished containers until the next value to scan is found.
            while True:
                if not stack:
                    return pos
                frame = stack[-1]
                match = separators(text, pos)
                pos = match.end() if match else pos
                if pos >= n:
                    return pos
                char = text[pos]
                if char == frame.closing:
                    stack.pop()
                    pos += 1
                elif frame.is_array:
                    node = child(frame.node, frame.count, pos, pos, True)
                    frame.count += 1
                    break
                else:
                    found, after = self.assign(pos, frame.node)
                    if found is not None:
                        node, pos = found, after
                        break
                    pos = max(after, pos + 1)


class KeyLocator:
    """Maps key paths of a TOML document to where they are written.

    Paths are those of ``tomllib.loads(text)``: string keys for tables, int indices for
    arrays, both inline arrays and ``[[arrays.of.tables]]``. Positions:

    * ``key = value`` (also inside inline tables): the key is the last part of the dotted
      key, the value its first character (a quote, ``[``, ``{``, digit, sign, ``t``...);
    * tables implied by a dotted key or a longer header: key and value are where their
      name is first written, unless the table is later defined explicitly by its own
      header or ``key = value``, which then wins;
    * ``[table]`` headers: key and value are the last key part inside the brackets;
    * entry ``i`` of ``[[array]]``: key and value are the last key part inside its
      ``[[...]]`` header (the ``t`` of ``[[tools]]``); the array itself is located by its
      first header;
    * elements of inline arrays: key and value are the element's first character;
    * the empty path (the document): line 1, column 1.

    Scanning is one pass, never recursive and never raises: malformed text gives best-effort
    positions for what could be recognised. Paths deeper than 1000 parts are not recorded.
    """

    def __init__(self, text: str) -> None:
        self._root = _Node(0, 0, 0, True)
        # A safety net: the scanner is not meant to raise; keep what it recorded if it does.
        with contextlib.suppress(Exception):
            _Scanner(text, self._root).run()
        self._newlines = [match.start() for match in re.finditer("\n", text)]
        self._text = text

    def first_value_matching(self, pattern: re.Pattern[str]) -> tuple[KeyPath, Position] | None:
        """The first value (in the text) that ``pattern`` matches where it starts, if any."""
        found: tuple[int, KeyPath] | None = None
        stack: list[tuple[KeyPath, _Node]] = [((), self._root)]
        while stack:
            path, node = stack.pop()
            # A header's node starts at its key: only values of ``key =`` and of arrays count.
            is_value = bool(path) and (node.value != node.key or isinstance(path[-1], int))
            earlier = found is None or node.value < found[0]
            if is_value and earlier and pattern.match(self._text, node.value):
                found = (node.value, path)
            if node.children:
                stack.extend(((*path, name), child) for name, child in node.children.items())
        return None if found is None else (found[1], self._position(found[0]))

    def _position(self, offset: int) -> Position:
        line = bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return Position(line + 1, offset - start + 1)

    def _located(self, node: _Node) -> Located:
        return Located(self._position(node.key), self._position(node.value))

    def _walk(self, path: KeyPath) -> tuple[int, _Node]:
        node = self._root
        depth = 0
        for part in path:
            found = node.children.get(part) if node.children else None
            if found is None:
                break
            node = found
            depth += 1
        return depth, node

    def find(self, path: KeyPath) -> Located | None:
        """Where exactly ``path`` is written, or None if it is not in the document."""
        depth, node = self._walk(path)
        return self._located(node) if depth == len(path) else None

    def locate(self, path: KeyPath) -> tuple[KeyPath, Located]:
        """The longest prefix of ``path`` in the document (maybe ``()``) and where it is."""
        depth, node = self._walk(path)
        return tuple(path[:depth]), self._located(node)

    def key_position(self, path: KeyPath) -> Position:
        """Where the key of ``path``, or of its longest prefix in the document, is written."""
        return self.locate(path)[1].key

    def value_position(self, path: KeyPath) -> Position:
        """Where the value of ``path``, or of its longest prefix in the document, starts."""
        return self.locate(path)[1].value


def nesting_overflow(text: str, limit: int) -> Position | None:
    """Where a key or value of ``text`` is first nested deeper than ``limit`` levels, if one is.

    A level is what adds a part to a key path of ``tomllib.loads(text)``: a part of a dotted
    key or of a ``[header]``, an entry of an ``[[array]]``, an element of an inline array, a
    key of an inline table. The scan is the locator's (one pass, no recursion), so it can run
    before a parser that recurses, or slows down, on such nesting.
    """
    scanner = _Scanner(text, _Node(0, 0, 0, True), limit)
    # The scanner is not meant to raise; what it found before an error still stands.
    with contextlib.suppress(Exception):
        scanner.run()
    offset = scanner.overflow
    if offset is None:
        return None
    start = text.rfind("\n", 0, offset) + 1
    return Position(text.count("\n", 0, offset) + 1, offset - start + 1)
