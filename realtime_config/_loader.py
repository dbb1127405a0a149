"""Loading presets: read and parse a TOML file, resolve ``extends`` and ``instructions_file``.

Every problem becomes a located Diagnostic; nothing here lets a tomllib, OS or decoding
exception through. Paths that a preset names are confined to the project root, because
presets arrive in pull requests and CI must not be talked into reading other files.
"""

from __future__ import annotations

import datetime
import errno
import math
import os
import re
import stat
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._errors import PresetError
from realtime_config._keys import KeyPath, copy_json, dedupe, format_path
from realtime_config._project import display_path, find_root
from realtime_config._schema import dialect_of, field_schema

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

MAX_FILE_BYTES = 1024 * 1024
"""Presets are small; a larger file is refused before it is parsed."""

MAX_DEPTH = 64
"""Deeper nesting than this is refused: no real preset needs it, and it bounds every walk."""

Anchor = Literal["key", "value"]


class _Locating:
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


@dataclass(frozen=True)
class Source:
    """Where a resolved key was written: a document, and the key to point at inside it."""

    document: Document
    key: KeyPath | None = None


@dataclass(frozen=True)
class Preset(_Locating):
    """A loaded preset: its resolved session table and the preset's own settings.

    ``session`` holds the session fields after ``extends`` and ``instructions_file`` are
    resolved; ``warnings`` the problems that do not stop it from compiling.
    """

    path: Path
    session: Mapping[str, Any]
    target: str | None = None
    description: str | None = None
    warnings: tuple[Diagnostic, ...] = ()
    _locate: Callable[[KeyPath, Anchor], tuple[str, int, int]] | None = field(
        default=None, repr=False, compare=False
    )
    _sources: Mapping[KeyPath, Source] = field(default_factory=dict, repr=False, compare=False)

    @property
    def dialect(self) -> str:
        """``beta``, or the GA session type (``realtime``, ``transcription``)."""
        return dialect_of(self.session)

    @property
    def source_files(self) -> tuple[Path, ...]:
        """The files this preset is made from: itself, its bases and instructions files.

        Read from the files that wrote its keys and the ``extends`` and ``instructions_file``
        they name; output files are checked against it so that none is ever overwritten.
        """
        files = dict.fromkeys([self.path])
        for document in {id(s.document): s.document for s in self._sources.values()}.values():
            files[document.path] = None
            settings = document.table.get("preset")
            settings = settings if isinstance(settings, dict) else {}
            named = settings.get("extends", [])
            names = [named] if isinstance(named, str) else named if isinstance(named, list) else []
            for name in [*names, settings.get("instructions_file")]:
                if isinstance(name, str) and "\0" not in name:
                    files[Path(os.path.normpath(document.path.parent / name))] = None
        return tuple(files)

    def where(self, path: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
        return (str(self.path), 0, 0) if self._locate is None else self._locate(path, anchor)


@dataclass
class Document(_Locating):
    """One parsed preset file, with the means to locate its keys."""

    path: Path
    display: str
    text: str
    table: dict[str, Any]
    dialect: str = "beta"
    """The dialect the file is checked in: its own ``type``, else its bases'."""
    _locator: Any = field(default=None, repr=False)
    _problems: list[Diagnostic] | None = field(default=None, repr=False)
    json_form_checked: bool = field(default=False, repr=False)
    """Whether its values were found to have a JSON form already (as the Loader reads it)."""

    def check(self, dialect: str, *, partial: bool = False) -> None:
        """Check the file against the schema of ``dialect`` (once); raise its errors.

        ``partial``: the file extends bases, so a table may be completed by a base (a
        required key, the ``type`` that selects an alternative): those problems wait for
        the check of the merged table.
        """
        if self._problems is None:
            self.dialect = dialect
            self._problems = document_diagnostics(self)
        problems = [p for p in self._problems if not (partial and p.rule in _COMPLETED_BY_BASES)]
        if any(p.is_error for p in problems):
            raise PresetError(problems)

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


_COMPLETED_BY_BASES = frozenset({"required", "branch-field"})


@dataclass
class ResolvedTable(_Locating):
    """A preset's merged table, checked as one document: each key located where written."""

    table: dict[str, Any]
    dialect: str
    _locate: Callable[[KeyPath, Anchor], tuple[str, int, int]] = field(repr=False)

    def where(self, path: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
        return self._locate(path, anchor)


@dataclass(frozen=True)
class TextKind:
    """How ``read_text`` names what it reads: the file, and why it must be small and UTF-8."""

    file: str
    size: str
    encoding: str


PRESET_TEXT = TextKind(
    "preset file", "a preset is a small text file", "a preset must be UTF-8 text"
)


def read_text(path: Path, display: str, kind: TextKind = PRESET_TEXT) -> str:
    """Read a UTF-8 text file of at most MAX_FILE_BYTES, or raise a located PresetError.

    Only a regular file is read: the file is opened without blocking and checked with fstat
    on the open descriptor, so a FIFO (which would wait forever for a writer), a device or a
    socket is refused, even one swapped in after a check. A UTF-8 byte order mark is dropped.
    """

    def fail(message: str, rule: str = "file", line: int = 1, column: int = 1) -> PresetError:
        return PresetError([Diagnostic(display, line, column, "error", rule, message)])

    try:
        descriptor = os.open(path, _READ_FLAGS)
    except ValueError:  # a NUL character: no file can have that name
        raise fail("the file name contains a NUL character") from None
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("permission denied: the file cannot be read") from None
    except OSError as exc:
        raise fail(_os_reason(exc)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise fail(f"is a directory, not a {kind.file}")
        if not stat.S_ISREG(mode):
            raise fail(f"is {_file_kind(mode)}, not a {kind.file}; only regular files are read")
        data = _read_at_most(descriptor, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(_os_reason(exc)) from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        raise fail(f"file is larger than 1 MiB; {kind.size}")
    if data.startswith(_BOM):  # editors on Windows write one; it is not part of the text
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start]
        line = good.count(b"\n") + 1
        column = len(good[good.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise fail(
            f"invalid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded; {kind.encoding}",
            "encoding",
            line,
            column,
        ) from None


_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_BOM = b"\xef\xbb\xbf"


def _read_at_most(descriptor: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of a regular file, without a buffer of ``limit`` for a small one."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, min(limit - size, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    """Why a file cannot be read, in words: the OS's, lower-cased, a long name said so."""
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    if exc.errno == errno.ELOOP:
        return "cannot be read: too many levels of symbolic links"
    reason = exc.strerror or str(exc)
    return f"cannot be read: {reason[:1].lower()}{reason[1:]}"


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
    try:
        from realtime_config._fastparse import loads

        return loads(text)
    except tomllib.TOMLDecodeError as exc:
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
        raise PresetError(
            [Diagnostic(display, line, column, "error", "toml-syntax", f"invalid TOML: {message}")]
        ) from None
    except ValueError:  # int() refused a literal past the int/str conversion limit
        raise PresetError([_long_integer(text, display)]) from None


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


def _too_deep(text: str) -> tuple[int, int] | None:
    """Where nesting first exceeds MAX_DEPTH, if it does: parsing ``text`` must not be tried."""
    deep = _nesting(text)
    return None if deep is None else (deep[0], deep[1])


def _nesting(text: str) -> tuple[int, int, str] | None:
    """Where and how nesting first exceeds MAX_DEPTH, if it does.

    Brackets are counted first (a quick, string-aware scan); then key paths, which dotted
    keys and headers lengthen without brackets. Each level needs a ``.``, ``[`` or ``{``
    somewhere in the text, so a text with fewer is not scanned again.
    """
    brackets = _brackets_too_deep(text)
    if brackets is not None:
        return (
            *brackets,
            f"arrays and inline tables are nested deeper than {MAX_DEPTH} levels",
        )
    if text.count(".") + text.count("[") + text.count("{") < MAX_DEPTH:
        return None
    from realtime_config._source import nesting_overflow

    found = nesting_overflow(text, MAX_DEPTH)
    if found is None:
        return None
    return found.line, found.column, _TOO_DEEP


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


def _walk(table: Mapping[str, Any]) -> Iterator[tuple[KeyPath, Any]]:
    """Every (path, value) below ``table``, depth-first, without recursion."""
    stack: list[tuple[KeyPath, Any]] = [((k,), v) for k, v in table.items()]
    stack.reverse()
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))


def json_form_diagnostics(document: Document) -> list[Diagnostic]:
    """Values with no JSON form that every reader accepts: dates, times, non-finite floats,
    integers past 64 bits; and nesting past MAX_DEPTH, which any later walk would pay for.
    """
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


def document_diagnostics(document: Document) -> list[Diagnostic]:
    """A parsed file's own problems: values with no JSON form, else schema errors."""
    from realtime_config._validate import schema_diagnostics

    if not document.json_form_checked:
        problems = json_form_diagnostics(document)
        if problems:
            return problems
    return schema_diagnostics(document)


def with_cross_field_checks(preset: Preset) -> Preset:
    """The preset with its cross-field warnings, or a PresetError listing every problem."""
    from realtime_config._checks import cross_field_diagnostics

    found = sorted(cross_field_diagnostics(preset), key=lambda d: (d.file, d.line, d.column))
    if any(d.is_error for d in found):
        raise PresetError(found)
    return replace(preset, warnings=tuple(found)) if found else preset


_Cached = TypeVar("_Cached")


class _Recent(OrderedDict[Path, _Cached]):
    """The Loader's cache of files: at most ``limit`` entries, the least recently used out."""

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
        keep: int = 512,
    ) -> None:
        """``keep`` bounds how many files stay cached: the least recently used go first (a
        base in use stays), so a batch of any length holds a constant amount of memory, and
        an evicted file is read again if needed.
        """
        self.root = root.resolve() if root is not None else None
        self._documents: _Recent[Document | PresetError] = _Recent(keep)
        self._presets: _Recent[Preset | PresetError] = _Recent(keep)
        self._cyclic: _Recent[Preset | PresetError] = _Recent(keep)
        self._roots: dict[Path, Path] = {}
        # The root as written, and whether each folder of a preset resolves inside the root.
        self._lexical_root = _normalized(root) if root is not None else None
        self._inside: dict[Path, bool] = {}

    def document(self, path: Path) -> Document:
        """The parsed document at ``path`` (cached), or a PresetError.

        Values with no JSON form are refused here; the schema check waits for the dialect,
        which a file without ``type`` takes from its bases.
        """
        key = _normalized(path)
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
        key = _normalized(path)
        refused = self._escapes_root(key, self._root_for(key), path)
        if refused is not None:
            raise refused
        return self.document(path)

    def _read_document(self, path: Path, display: str) -> Document:
        text = read_text(path, display)
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
            raise PresetError([Diagnostic(display_path(path), 1, 1, "error", "file", _NUL_NAME)])
        return with_cross_field_checks(self._resolve(_normalized(path), path))

    def _root_for(self, path: Path) -> Path:
        if self.root is not None:
            return self.root
        # One lookup per folder: find_root stats every ancestor, and presets share folders.
        root = self._roots.get(path.parent)
        if root is None:
            root = self._roots[path.parent] = find_root(path.parent)
        return root

    def _resolve(self, path: Path, given: Path | None = None) -> Preset:
        """The resolved preset at ``path``: from the cache, failures included, or resolved."""
        cached: Preset | PresetError | None = self._presets.get(path) or self._cyclic.get(path)
        if cached is None:
            cached = self._resolve_graph(path, self._root_for(path), given)
        if isinstance(cached, PresetError):
            raise cached
        return cached

    def _resolve_graph(self, top: Path, root: Path, given: Path | None) -> Preset | PresetError:
        """Resolve ``top`` and every base it reaches, each file once, without recursion.

        The ``extends`` graph is walked depth-first with an explicit stack, and its strongly
        connected components (Tarjan's algorithm) are resolved bases first: a component of
        more than one file, or a file that extends itself, is a cycle, reported by each of
        its files at its own ``preset.extends`` entry. Every outcome is kept, failures too,
        so a base shared by many files (a diamond) is read and resolved once.
        """
        refused = self._escapes_root(top, root, given)
        if refused is not None:
            self._presets[top] = refused
            return refused
        results: dict[Path, Preset | PresetError] = {}
        bases: dict[Path, list[_Base]] = {}

        def known(path: Path) -> Preset | PresetError | None:
            found = results.get(path)
            if found is None and self._root_for(path) == root:
                found = self._presets.get(path)
            return found

        def successors(path: Path) -> Iterator[Path]:
            found = bases[path] = self._bases(path, root, given if path == top else None)
            for base in found:
                if isinstance(base.target, Path):
                    outcome = known(base.target)
                    if outcome is None:
                        yield base.target
                    else:  # kept here: the cache may let it go before it is merged
                        results[base.target] = outcome

        index: dict[Path, int] = {}
        low: dict[Path, int] = {}
        stack: list[Path] = []
        on_stack: set[Path] = set()
        work: list[tuple[Path, Iterator[Path]]] = []

        def visit(path: Path) -> None:
            index[path] = low[path] = len(index)
            stack.append(path)
            on_stack.add(path)
            work.append((path, successors(path)))

        visit(top)
        while work:
            path, pending = work[-1]
            for base_path in pending:
                if base_path not in index:
                    visit(base_path)
                    break
                if base_path in on_stack:
                    low[path] = min(low[path], index[base_path])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[path])
                if low[path] == index[path]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == path:
                            break
                    self._resolve_component(
                        component,
                        root,
                        bases=bases,
                        results=results,
                        known=known,
                        top=top,
                        given=given,
                    )
        return results[top]

    def _resolve_component(
        self,
        component: list[Path],
        root: Path,
        *,
        bases: Mapping[Path, list[_Base]],
        results: dict[Path, Preset | PresetError],
        known: Callable[[Path], Preset | PresetError | None],
        top: Path,
        given: Path | None,
    ) -> None:
        cycle = {member: bases[member] for member in component}
        if len(component) == 1 and not any(b.target == component[0] for b in bases[component[0]]):
            cycle = {}
        for path in component:
            if cycle and path != top:
                # Each file of a cycle names the whole chain, so n files would take n * n
                # words: only the file asked for is reported; another is resolved on demand.
                continue
            outcome = self._resolve_one(
                path,
                root,
                bases[path],
                cycle=cycle,
                known=known,
                given=given if path == top else None,
            )
            results[path] = outcome
            if self._root_for(path) == root:
                # A file of a cycle is kept apart: a file that extends it must still walk
                # through it, to find that it is in the cycle too.
                (self._cyclic if cycle else self._presets)[path] = outcome

    def _bases(self, path: Path, root: Path, given: Path | None) -> list[_Base]:
        """The entries of ``preset.extends`` in the file at ``path``: each base's confined
        path, or why it cannot be read. A file that cannot be parsed has none (its own
        error is its outcome); entries that are not strings are left to the schema check.
        """
        try:
            document = self.document(given if given is not None else path)
        except PresetError:
            return []
        found: list[_Base] = []
        for key_path, name in extends_entries(document.table):
            target: Path | PresetError
            try:
                target = self._confined(document, key_path, name, root)
                reason = _not_a_preset_file(target)
                if reason is not None:
                    raise PresetError(
                        [
                            document.diagnostic(
                                key_path, "extends", f"preset.extends: {_shown(name)} {reason}"
                            )
                        ]
                    )
            except PresetError as error:
                target = error
            found.append(_Base(key_path, target))
        return found

    def _escapes_root(self, path: Path, root: Path, given: Path | None) -> PresetError | None:
        """A PresetError when the preset at ``path`` lies in the project but is a symlink
        leading out of it: a listed or discovered file is confined like a base, so that a
        committed symlink cannot bring another file's content into CI logs.
        """
        folder = path.parent
        inside = self._inside.get(folder)
        if inside is None:
            try:
                inside = self._inside[folder] = folder.resolve().is_relative_to(root)
            except (OSError, RuntimeError, ValueError):
                inside = True  # reading it will say what is wrong
        if inside:
            try:
                escapes = path.is_symlink() and not path.resolve().is_relative_to(root)
            except (OSError, RuntimeError, ValueError):
                escapes = False
        else:  # a folder outside the root: refused only when written as a folder inside it
            escapes = self._lexical_root is not None and (
                path.is_relative_to(self._lexical_root) or path.is_relative_to(root)
            )
        if not escapes:
            return None
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

    def _resolve_one(
        self,
        path: Path,
        root: Path,
        bases: list[_Base],
        *,
        cycle: Mapping[Path, list[_Base]],
        known: Callable[[Path], Preset | PresetError | None],
        given: Path | None,
    ) -> Preset | PresetError:
        try:
            return self._resolve_document(path, root, bases, cycle=cycle, known=known, given=given)
        except PresetError as error:
            return PresetError(dedupe(error.diagnostics))

    def _resolve_document(
        self,
        path: Path,
        root: Path,
        bases: list[_Base],
        *,
        cycle: Mapping[Path, list[_Base]],
        known: Callable[[Path], Preset | PresetError | None],
        given: Path | None,
    ) -> Preset:
        document = self.document(given if given is not None else path)
        raw_settings = document.table.get("preset", {})
        settings: dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
        own = {k: v for k, v in document.table.items() if k != "preset"}
        sources: dict[KeyPath, Source] = {}
        merged: dict[str, Any] = {}
        problems: list[Diagnostic] = []

        extends = settings.get("extends", [])
        has_bases = isinstance(extends, str) or (isinstance(extends, list) and bool(extends))
        if "type" in own or not has_bases:
            document.check(dialect_of(own), partial=has_bases)
        dialect = dialect_of(own) if "type" in own else None
        dialect = self._merge_bases(
            document,
            path,
            bases,
            root=root,
            cycle=cycle,
            known=known,
            dialect=dialect,
            into=merged,
            sources=sources,
            problems=problems,
        )
        document.check(dialect or "beta", partial=has_bases)

        here = Source(document)
        own_sources = {p: here for p, _ in _walk(own)}
        instructions_file = settings.get("instructions_file")
        if isinstance(instructions_file, str):
            key_path = ("preset", "instructions_file")
            if field_schema(("instructions",), dialect or "beta") is None:
                problems.append(
                    document.diagnostic(
                        key_path,
                        "instructions-file",
                        f"preset.instructions_file: `instructions` is not part of a "
                        f"{_DIALECT_WORDS[dialect or 'beta']} session; remove the setting",
                        anchor="key",
                    )
                )
            elif "instructions" in own:
                problems.append(
                    document.diagnostic(
                        ("instructions",),
                        "instructions-conflict",
                        "instructions and preset.instructions_file are both set; keep one",
                        anchor="key",
                    )
                )
            else:
                try:
                    text_path = self._confined(document, key_path, instructions_file, root)
                    own["instructions"] = self._instructions(document, key_path, text_path)
                    own_sources[("instructions",)] = Source(document, key_path)
                except PresetError as error:
                    problems.extend(error.diagnostics)
        if problems:
            raise PresetError(problems)
        _merge(merged, own, sources, own_sources)

        def locate(key: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
            source = _owner(sources, key) or here
            line, column = source.document.position(source.key or key, anchor)
            return source.document.display, line, column

        if has_bases:
            from realtime_config._validate import schema_diagnostics

            resolved = ResolvedTable({**merged, "preset": settings}, dialect or "beta", locate)
            errors = [p for p in schema_diagnostics(resolved) if p.is_error]
            if errors:
                raise PresetError(errors)

        return Preset(
            path=path,
            session=merged,
            target=settings.get("target"),
            description=settings.get("description"),
            _locate=locate,
            _sources=sources,
        )

    def _merge_bases(
        self,
        document: Document,
        path: Path,
        bases: list[_Base],
        *,
        root: Path,
        cycle: Mapping[Path, list[_Base]],
        known: Callable[[Path], Preset | PresetError | None],
        dialect: str | None,
        into: dict[str, Any],
        sources: dict[KeyPath, Source],
        problems: list[Diagnostic],
    ) -> str | None:
        """Merge the resolved bases into ``into``, in order; the dialect they are written in.

        A base that failed, is outside the root, is in a cycle with ``path`` or is written in
        another dialect adds its diagnostics to ``problems`` instead.
        """
        first_base: Path | None = None
        for base in bases:
            key_path = base.key
            try:
                if isinstance(base.target, PresetError):
                    raise base.target
                base_path = base.target
                if base_path in cycle:
                    names = " -> ".join(display_path(p) for p in _cycle(path, base_path, cycle))
                    raise PresetError(
                        [
                            document.diagnostic(
                                key_path, "extends-cycle", f"preset.extends forms a cycle: {names}"
                            )
                        ]
                    )
                outcome = known(base_path)
                if outcome is None:  # a file of a cycle below this one, reported on demand
                    outcome = self._cyclic.get(base_path) or self._resolve_graph(
                        base_path, root, None
                    )
                if isinstance(outcome, PresetError):
                    raise outcome
                base_preset = outcome
                if dialect is None:
                    dialect, first_base = base_preset.dialect, base_path
                elif base_preset.dialect != dialect:
                    this = f"{_DIALECT_WORDS[base_preset.dialect]} preset"
                    if first_base is None:
                        clash = (
                            f"{document.display} is a {_DIALECT_WORDS[dialect]} preset, but its "
                            f"base {display_path(base_path)} is a {this}"
                        )
                    else:
                        clash = (
                            f"its base {display_path(first_base)} is a "
                            f"{_DIALECT_WORDS[dialect]} preset, but {display_path(base_path)} is "
                            f"a {this}"
                        )
                    raise PresetError(
                        [
                            document.diagnostic(
                                key_path,
                                "extends-dialect",
                                f"preset.extends: {clash}; a preset and its bases are written "
                                "in one dialect",
                            )
                        ]
                    )
            except PresetError as error:
                problems.extend(error.diagnostics)
                continue
            _merge(into, base_preset.session, sources, base_preset._sources)
        return dialect

    def _confined(self, document: Document, key: KeyPath, name: str, root: Path) -> Path:
        """``name`` (relative to ``document``) as a path inside ``root``, or a PresetError."""
        label = format_path(key[:2])

        def fail(message: str) -> PresetError:
            return PresetError([document.diagnostic(key, "path", f"{label}: {message}")])

        if "\0" in name:
            raise fail(f"{_shown(name)}: {_NUL_NAME}")
        if (
            Path(name).is_absolute()
            or name.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", name)
        ):
            raise fail(f"{_shown(name)} is an absolute path; paths are relative to the preset")
        target = document.path.parent / name
        try:
            resolved = target.resolve()
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise fail(f"{_shown(name)}: the file name is too long") from None
            raise fail(f"{_shown(name)} cannot be resolved (a symlink loop?)") from None
        except (RuntimeError, ValueError):
            raise fail(f"{_shown(name)} cannot be resolved (a symlink loop?)") from None
        if not resolved.is_relative_to(root):
            via = (
                " through a symlink" if Path(os.path.normpath(target)).is_relative_to(root) else ""
            )
            raise fail(f"{_shown(name)} leads outside the project root{via}")
        return Path(os.path.normpath(target))

    def _instructions(self, document: Document, key: KeyPath, path: Path) -> str:
        try:
            return read_text(path, display_path(path))
        except PresetError as error:
            reason = error.diagnostics[0].message
            raise PresetError(
                [
                    document.diagnostic(
                        key,
                        "instructions-file",
                        f"preset.instructions_file: {_cut(display_path(path))}: {reason}",
                    )
                ]
            ) from None


def extends_entries(table: Mapping[str, Any]) -> list[tuple[KeyPath, str]]:
    """The file names a parsed preset's ``preset.extends`` lists, each with its key path.

    Read from a table that may not be checked yet: a ``preset`` that is not a table, or an
    ``extends`` that is neither a string nor an array, lists nothing; an entry that is not
    a string is skipped (the schema check reports both).
    """
    settings = table.get("preset")
    extends = settings.get("extends") if isinstance(settings, dict) else None
    if isinstance(extends, str):
        return [(("preset", "extends"), extends)]
    if not isinstance(extends, list):
        return []
    return [
        (("preset", "extends", index), name)
        for index, name in enumerate(extends)
        if isinstance(name, str)
    ]


_DIALECT_WORDS = {"beta": "beta", "realtime": "GA realtime", "transcription": "GA transcription"}

_NUL_NAME = "the file name contains a NUL character"


@dataclass(frozen=True)
class _Base:
    """One entry of ``preset.extends``: where it is written and the file it names, or why
    that file cannot be a base (outside the root, missing, not a regular file...)."""

    key: KeyPath
    target: Path | PresetError


def _cut(text: str) -> str:
    """A file name as a diagnostic prints it: cut short when it is very long."""
    return text if len(text) <= 100 else f"{text[:60]}... ({len(text)} characters)"


def _shown(name: str) -> str:
    """A file name as a diagnostic quotes it: repr(), cut short when it is very long."""
    if len(name) <= 100:
        return repr(name)
    return f"{name[:60]!r}... ({len(name)} characters)"


def _not_a_preset_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a preset (stat never blocks, unlike open), or None."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "does not exist"
    except OSError as exc:
        return _os_reason(exc)
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    return f"is {_file_kind(mode)}, not a preset file"


def _cycle(path: Path, base: Path, cycle: Mapping[Path, list[_Base]]) -> list[Path]:
    """The shortest chain ``path -> base -> ... -> path`` through the files of ``cycle``."""
    came_from: dict[Path, Path | None] = {base: None}
    queue = [base]
    for current in queue:  # breadth-first: the queue grows while it is read
        if current == path:
            break
        for entry in cycle.get(current, []):
            target = entry.target
            if isinstance(target, Path) and target in cycle and target not in came_from:
                came_from[target] = current
                queue.append(target)
    chain: list[Path] = []
    step: Path | None = path if path in came_from else None
    while step is not None:
        chain.append(step)
        step = came_from[step]
    return [path, *reversed(chain)] if chain else [path, base, path]


def _normalized(path: Path) -> Path:
    """An absolute path with ``.`` and ``..`` folded, symlinks kept (they are checked apart)."""
    # The working directory joined, then normpath: .absolute() and a second Path cost more.
    return Path(os.path.abspath(path))  # noqa: PTH100 (resolve() would follow symlinks)


def _owner(sources: Mapping[KeyPath, Source], key: KeyPath) -> Source | None:
    for length in range(len(key), 0, -1):
        found = sources.get(key[:length])
        if found is not None:
            return found
    return None


def _merge(
    base: dict[str, Any],
    overlay: Mapping[str, Any],
    sources: dict[KeyPath, Source],
    overlay_sources: Mapping[KeyPath, Source],
    prefix: KeyPath = (),
) -> None:
    """Merge ``overlay`` into ``base`` in place: tables key by key, any other value whole."""
    for key, value in overlay.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            if path in overlay_sources:
                sources.setdefault(path, overlay_sources[path])
            _merge(base[key], value, sources, overlay_sources, path)
            continue
        if key in base:  # only a key already merged can have sources to replace
            for stale in [p for p in sources if p[: len(path)] == path]:
                del sources[stale]
        base[key] = copy_json(value)
        if isinstance(value, (dict, list)):
            sources.update((p, d) for p, d in overlay_sources.items() if p[: len(path)] == path)
        elif path in overlay_sources:  # a scalar's only source is its own key
            sources[path] = overlay_sources[path]


def load_preset(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> Preset:
    """Load, resolve and check the preset at ``path``; raise PresetError on any problem."""
    return Loader(Path(root) if root is not None else None).load(Path(path))
