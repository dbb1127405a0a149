"""Loading presets: read and parse a TOML file, resolve ``extends`` and ``instructions_file``.

Every problem becomes a located Diagnostic; nothing here lets a tomllib, OS or decoding
exception through. Paths that a preset names are confined to the project root, because
presets arrive in pull requests and CI must not be talked into reading other files.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._errors import PresetError
from realtime_config._keys import copy_json
from realtime_config._paths import KeyPath, format_path
from realtime_config._schema import dialect_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

MAX_FILE_BYTES = 1024 * 1024
"""Presets are small; a larger file is refused before it is parsed."""

MAX_DEPTH = 64
"""Deeper nesting than this is refused: no real preset needs it, and it bounds every walk."""

NULLABLE_FIELDS = (
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "turn_detection",
    "tracing",
)

Anchor = Literal["key", "value"]


@dataclass(frozen=True)
class Source:
    """Where a resolved key was written: a document, and the key to point at inside it."""

    document: Document
    key: KeyPath | None = None


@dataclass(frozen=True)
class Preset:
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

    def diagnostic(
        self,
        path: KeyPath,
        rule: str,
        message: str,
        *,
        severity: Severity = "error",
        anchor: Anchor = "key",
    ) -> Diagnostic:
        """A diagnostic about ``path``, located in the file that wrote that key."""
        if self._locate is None:
            file, line, column = str(self.path), 0, 0
        else:
            file, line, column = self._locate(path, anchor)
        return Diagnostic(file, line, column, severity, rule, message, format_path(path))


@dataclass
class Document:
    """One parsed preset file, with the means to locate its keys."""

    path: Path
    display: str
    text: str
    table: dict[str, Any]
    dialect: str = "beta"
    """The dialect the file is checked in: its own ``type``, else its bases'."""
    _locator: Any = field(default=None, repr=False)
    _problems: list[Diagnostic] | None = field(default=None, repr=False)

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

    def diagnostic(
        self,
        path: KeyPath,
        rule: str,
        message: str,
        *,
        severity: Severity = "error",
        anchor: Anchor = "value",
    ) -> Diagnostic:
        """A diagnostic about ``path`` in this file."""
        line, column = self.position(path, anchor)
        return Diagnostic(self.display, line, column, severity, rule, message, format_path(path))


_COMPLETED_BY_BASES = frozenset({"required", "branch-field"})


@dataclass
class ResolvedTable:
    """A preset's merged table, checked as one document: each key located where written."""

    table: dict[str, Any]
    dialect: str
    _locate: Callable[[KeyPath, Anchor], tuple[str, int, int]] = field(repr=False)

    def diagnostic(
        self,
        path: KeyPath,
        rule: str,
        message: str,
        *,
        severity: Severity = "error",
        anchor: Anchor = "value",
    ) -> Diagnostic:
        """A diagnostic about ``path``, in the file that wrote it."""
        file, line, column = self._locate(path, anchor)
        return Diagnostic(file, line, column, severity, rule, message, format_path(path))


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the working directory when inside it."""
    if os.name != "posix":  # drive letters and case: pathlib's rules
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return str(path)
    # The same answer from strings: this runs for every file of a batch.
    text = str(path)
    if not text.startswith("/"):
        return text
    cwd = os.getcwd()  # noqa: PTH109 (a string, not a Path: this is the fast path)
    if text == cwd:
        return "."
    prefix = cwd if cwd.endswith("/") else cwd + "/"
    return text[len(prefix) :] if text.startswith(prefix) else text


def find_root(folder: Path) -> Path:
    """The project root for files in ``folder``: the nearest ancestor holding .git or
    pyproject.toml; without one, the working directory when it contains ``folder``, else
    ``folder`` itself.
    """
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists() or (candidate / "pyproject.toml").is_file():
            return candidate
    cwd = Path.cwd().resolve()
    return cwd if folder.is_relative_to(cwd) else folder


def project_presets(root: str | os.PathLike[str] | None = None) -> tuple[Path, list[Path]]:
    """The project's ``presets/`` folder and every ``.toml`` below it, recursively, sorted.

    ``root`` is the project root (``--root``); by default the working directory's.
    """
    folder = (Path(root) if root is not None else find_root(Path.cwd())) / "presets"
    return folder, sorted(folder.rglob("*.toml")) if folder.is_dir() else []


def read_text(path: Path, display: str) -> str:
    """Read a UTF-8 text file of at most MAX_FILE_BYTES, or raise a located PresetError."""

    def fail(message: str, rule: str = "file", line: int = 1, column: int = 1) -> PresetError:
        return PresetError([Diagnostic(display, line, column, "error", rule, message)])

    try:
        with path.open("rb") as stream:
            # Read at most one byte past the limit, without a 1 MiB buffer for a small file.
            size = os.fstat(stream.fileno()).st_size
            data = stream.read(min(size, MAX_FILE_BYTES) + 1 if size else MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file") from None
    except (IsADirectoryError, PermissionError, OSError) as exc:
        if path.is_dir():
            raise fail("is a directory, not a preset file") from None
        if isinstance(exc, PermissionError):
            raise fail("permission denied: the file cannot be read") from None
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise fail("file is larger than 1 MiB; a preset is a small text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start]
        line = good.count(b"\n") + 1
        column = len(good[good.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise fail(
            f"invalid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded; "
            "a preset must be UTF-8 text",
            "encoding",
            line,
            column,
        ) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")


def parse_toml(text: str, display: str) -> dict[str, Any]:
    """Parse TOML text, translating tomllib's errors into a located diagnostic."""
    deep = _too_deep(text)
    if deep is not None:
        raise PresetError(
            [
                Diagnostic(
                    display,
                    *deep,
                    "error",
                    "nesting",
                    f"arrays and inline tables are nested deeper than {MAX_DEPTH} levels",
                )
            ]
        )
    try:
        return tomllib.loads(text)
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


def _too_deep(text: str) -> tuple[int, int] | None:
    """Where bracket nesting first exceeds MAX_DEPTH, if it does (a quick, string-aware scan).

    tomllib recurses once per level, so pathological nesting must be refused before parsing.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    line, column = 1, 0
    quote = ""
    escaped = False
    in_comment = False
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
            in_comment = False
            if quote in ('"', "'"):
                quote = ""
            continue
        if in_comment:
            continue
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char == "#":
            in_comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, column
        elif char in "]}":
            depth = max(0, depth - 1)
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
    """TOML values that have no JSON form: dates, times and non-finite floats."""
    problems = []
    for path, value in _walk(document.table):
        if isinstance(value, (datetime.date, datetime.time)):
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
    return problems


def document_diagnostics(document: Document) -> list[Diagnostic]:
    """A parsed file's own problems: values with no JSON form, else schema errors."""
    from realtime_config._validate import schema_diagnostics

    return json_form_diagnostics(document) or schema_diagnostics(document)


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
        read: Callable[[Path, str], Document] | None = None,
        keep: int = 512,
    ) -> None:
        """``read`` parses a file into a Document (by default with tomllib's answers, from
        the compiled tomli when it is installed); ``keep`` bounds how many files stay cached:
        the least recently used go first (a base in use stays), so a batch of any length
        holds a constant amount of memory, and an evicted file is read again if needed.
        """
        self.root = root.resolve() if root is not None else None
        self._documents: _Recent[Document | PresetError] = _Recent(keep)
        self._presets: _Recent[Preset | PresetError] = _Recent(keep)
        self._roots: dict[Path, Path] = {}
        if read is None:  # tomllib's answers, from a compiled parser when installed
            from realtime_config._fastparse import read_document

            read = read_document
        self._read: Callable[[Path, str], Document] = read

    def document(self, path: Path) -> Document:
        """The parsed document at ``path`` (cached), or a PresetError.

        Values with no JSON form are refused here; the schema check waits for the dialect,
        which a file without ``type`` takes from its bases.
        """
        key = _normalized(path)
        cached: Document | PresetError | None = self._documents.get(key)
        if cached is None:
            try:
                cached = self._read(key, display_path(path if not path.is_absolute() else key))
            except PresetError as error:
                cached = error
            self._documents[key] = cached
        if isinstance(cached, PresetError):
            raise cached
        return cached

    def _read_document(self, path: Path, display: str) -> Document:
        text = read_text(path, display)
        document = Document(path, display, text, parse_toml(text, display))
        problems = json_form_diagnostics(document)
        if problems:
            raise PresetError(problems)
        return document

    def load(self, path: Path) -> Preset:
        """Load, resolve and check the preset at ``path``.

        Raises PresetError with every problem (warnings included) when any is an error;
        otherwise the preset carries its warnings.
        """
        return with_cross_field_checks(self._resolve(_normalized(path), (), path))

    def _root_for(self, path: Path) -> Path:
        if self.root is not None:
            return self.root
        # One lookup per folder: find_root stats every ancestor, and presets share folders.
        root = self._roots.get(path.parent)
        if root is None:
            root = self._roots[path.parent] = find_root(path.parent)
        return root

    def _resolve(self, path: Path, chain: tuple[Path, ...], given: Path | None = None) -> Preset:
        cached = self._presets.get(path)
        if isinstance(cached, Preset):
            return cached
        if cached is not None and not chain:
            raise cached
        try:
            preset = self._resolve_uncached(path, chain, given)
        except PresetError as error:
            if not chain:
                self._presets[path] = error
            raise
        self._presets[path] = preset
        return preset

    def _resolve_uncached(self, path: Path, chain: tuple[Path, ...], given: Path | None) -> Preset:
        document = self.document(given if given is not None else path)
        root = self._root_for(path if not chain else chain[0])
        raw_settings = document.table.get("preset", {})
        settings: dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
        own = {k: v for k, v in document.table.items() if k != "preset"}
        sources: dict[KeyPath, Source] = {}
        merged: dict[str, Any] = {}
        problems: list[Diagnostic] = []

        extends = settings.get("extends", [])
        bases = [extends] if isinstance(extends, str) else extends
        has_bases = isinstance(bases, list) and bool(bases)
        if "type" in own or not has_bases:
            document.check(dialect_of(own), partial=has_bases)
        dialect = dialect_of(own) if "type" in own else None
        for index, base in enumerate(bases):
            key_path: KeyPath = ("preset", "extends") + (
                (index,) if not isinstance(extends, str) else ()
            )
            try:
                base_path = self._confined(document, key_path, base, root)
                if base_path in chain or base_path == path:
                    names = " -> ".join(display_path(p) for p in (*chain, path, base_path))
                    raise PresetError(
                        [
                            document.diagnostic(
                                key_path, "extends-cycle", f"preset.extends forms a cycle: {names}"
                            )
                        ]
                    )
                if not base_path.is_file():
                    reason = "is a directory" if base_path.is_dir() else "does not exist"
                    raise PresetError(
                        [
                            document.diagnostic(
                                key_path, "extends", f"preset.extends: {base!r} {reason}"
                            )
                        ]
                    )
                base_preset = self._resolve(base_path, (*chain, path))
                if dialect is None:
                    dialect = base_preset.dialect
                elif base_preset.dialect != dialect:
                    raise PresetError(
                        [
                            document.diagnostic(
                                key_path,
                                "extends-dialect",
                                f"preset.extends: {document.display} is a "
                                f"{_DIALECT_WORDS[dialect]} preset, but its base "
                                f"{display_path(base_path)} is a "
                                f"{_DIALECT_WORDS[base_preset.dialect]} preset; a preset and "
                                "its bases are written in one dialect",
                            )
                        ]
                    )
            except PresetError as error:
                problems.extend(error.diagnostics)
                continue
            _merge(merged, base_preset.session, sources, base_preset._sources)
        document.check(dialect or "beta", partial=has_bases)

        here = Source(document)
        own_sources = {p: here for p, _ in _walk(own)}
        instructions_file = settings.get("instructions_file")
        if instructions_file is not None:
            key_path = ("preset", "instructions_file")
            if "instructions" in own:
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

    def _confined(self, document: Document, key: KeyPath, name: str, root: Path) -> Path:
        """``name`` (relative to ``document``) as a path inside ``root``, or a PresetError."""
        label = format_path(key[:2])

        def fail(message: str) -> PresetError:
            return PresetError([document.diagnostic(key, "path", f"{label}: {message}")])

        if (
            Path(name).is_absolute()
            or name.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", name)
        ):
            raise fail(f"{name!r} is an absolute path; paths are relative to the preset")
        target = document.path.parent / name
        try:
            resolved = target.resolve()
        except (OSError, RuntimeError):
            raise fail(f"{name!r} cannot be resolved (a symlink loop?)") from None
        if not resolved.is_relative_to(root):
            via = (
                " through a symlink" if Path(os.path.normpath(target)).is_relative_to(root) else ""
            )
            raise fail(f"{name!r} leads outside the project root{via}")
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
                        f"preset.instructions_file: {display_path(path)}: {reason}",
                    )
                ]
            ) from None


_DIALECT_WORDS = {"beta": "beta", "realtime": "GA realtime", "transcription": "GA transcription"}


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


def dedupe(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics in order, each once (a shared base reports its problems once)."""
    return list(dict.fromkeys(diagnostics))
