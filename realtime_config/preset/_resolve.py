"""Resolving presets: ``extends`` bases merged in order, ``instructions_file`` read in, and
every path a preset names confined to the project root.

The ``extends`` graph of a preset is walked once (``Resolution``): each file is resolved
after its bases, a cycle is reported at its own ``preset.extends`` entry, and each key of
the merged table keeps the file that wrote it, so that a diagnostic points there. The checks
that interleave with resolving are given by the caller (``Checks``): checking/ sits above
this stage.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._keys import KeyPath, copy_json, dedupe, format_path
from realtime_config._project import display_path
from realtime_config._schema import dialect_of, field_schema
from realtime_config.preset._model import Anchor, Document, Preset, ResolvedTable, Source
from realtime_config.preset._paths import Folders, within
from realtime_config.preset._read import NUL_NAME, not_a_preset_file, read_text

Outcome = Preset | PresetError
"""What resolving a file gives: the preset, or every problem that stops it."""


if TYPE_CHECKING:  # what resolving needs, for the type checker only (no start-up cost)

    class Checks(Protocol):
        """The checks that loading interleaves with resolving, in the order it runs them."""

        def document(self, document: Document, dialect: str, *, partial: bool) -> None:
            """Check one file in ``dialect``; ``partial``: leave what a base can complete.
            Raise a PresetError with its errors."""

        def resolved(self, table: ResolvedTable) -> None:
            """Check a merged table (a preset with bases); raise a PresetError with its errors."""

        def preset(self, preset: Preset) -> Preset:
            """The resolved preset with its warnings, or a PresetError listing every problem."""

    class Files(Protocol):
        """What resolving needs of the loader: its checks, its files and its caches."""

        @property
        def checks(self) -> Checks:
            """The checks to run as files are resolved."""

        @property
        def folders(self) -> Folders:
            """The real paths and roots of folders, found once."""

        @property
        def presets(self) -> MutableMapping[Path, Outcome]:
            """Every file resolved, failures too."""

        @property
        def cyclic(self) -> MutableMapping[Path, Outcome]:
            """The files of a cycle, kept apart."""

        def document(self, path: Path, key: Path | None = None) -> Document:
            """The parsed document at ``path`` (normalised: ``key``), or a PresetError."""

        def root_for(self, path: Path) -> Path:
            """The project root of the file at ``path``."""

        def resolve_graph(self, top: Path, root: Path, given: Path | None) -> Outcome:
            """Resolve ``top`` and every base it reaches."""


class Base:
    """One entry of ``preset.extends``: where it is written and the file it names, or why
    that file cannot be a base (outside the root, missing, not a regular file...)."""

    __slots__ = ("key", "target")

    def __init__(self, key: KeyPath, target: Path | PresetError) -> None:
        self.key = key
        self.target = target


class Resolution:
    """Resolving one preset and every base it reaches, each file once, without recursion.

    The ``extends`` graph is walked depth-first with an explicit stack, and its strongly
    connected components (Tarjan's algorithm) are resolved bases first: a component of more
    than one file, or a file that extends itself, is a cycle, reported by each of its files
    at its own ``preset.extends`` entry. Every outcome is kept, failures too, so a base
    shared by many files (a diamond) is read and resolved once.
    """

    def __init__(self, loader: Files, top: Path, root: Path, given: Path | None) -> None:
        self.loader = loader
        self.top = top
        self.root = root
        self.given = given
        """How ``top`` was named by the caller (relative names are displayed as given)."""
        self.results: dict[Path, Outcome] = {}
        self.bases: dict[Path, list[Base]] = {}

    def known(self, path: Path) -> Outcome | None:
        """The outcome of ``path`` if it is resolved already, here or in the loader's cache."""
        found = self.results.get(path)
        if found is None and self.loader.root_for(path) == self.root:
            found = self.loader.presets.get(path)
        return found

    def run(self) -> Outcome:
        """The outcome of ``top``, every base it reaches resolved first."""
        index: dict[Path, int] = {}
        low: dict[Path, int] = {}
        stack: list[Path] = []
        on_stack: set[Path] = set()
        work: list[tuple[Path, Iterator[Path]]] = []

        def visit(path: Path) -> None:
            index[path] = low[path] = len(index)
            stack.append(path)
            on_stack.add(path)
            work.append((path, self._successors(path)))

        visit(self.top)
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
                    self._resolve_component(component)
        return self.results[self.top]

    def _successors(self, path: Path) -> Iterator[Path]:
        found = self.bases[path] = self._read_bases(path)
        for base in found:
            if isinstance(base.target, Path):
                outcome = self.known(base.target)
                if outcome is None:
                    yield base.target
                else:  # kept here: the cache may let it go before it is merged
                    self.results[base.target] = outcome

    def _document(self, path: Path) -> Document:
        given = self.given if path == self.top else None
        return self.loader.document(given if given is not None else path, path)

    def _read_bases(self, path: Path) -> list[Base]:
        """The entries of ``preset.extends`` in the file at ``path``: each base's confined
        path, or why it cannot be read. A file that cannot be parsed has none (its own
        error is its outcome); entries that are not strings are left to the schema check.
        """
        try:
            document = self._document(path)
        except PresetError:
            return []
        found: list[Base] = []
        for key_path, name in document.settings.extends:
            target: Path | PresetError
            try:
                target = self.confined(document, key_path, name)
                reason = not_a_preset_file(target)
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
            found.append(Base(key_path, target))
        return found

    def _resolve_component(self, component: list[Path]) -> None:
        bases = self.bases
        cycle = {member: bases[member] for member in component}
        if len(component) == 1 and not any(b.target == component[0] for b in bases[component[0]]):
            cycle = {}
        for path in component:
            if cycle and path != self.top:
                # Each file of a cycle names the whole chain, so n files would take n * n
                # words: only the file asked for is reported; another is resolved on demand.
                continue
            try:
                outcome: Outcome = self._resolve_file(path, cycle)
            except PresetError as error:
                outcome = PresetError(dedupe(error.diagnostics))
            self.results[path] = outcome
            if self.loader.root_for(path) == self.root:
                # A file of a cycle is kept apart: a file that extends it must still walk
                # through it, to find that it is in the cycle too.
                (self.loader.cyclic if cycle else self.loader.presets)[path] = outcome

    def _resolve_file(self, path: Path, cycle: Mapping[Path, list[Base]]) -> Preset:
        """The preset at ``path``, its bases merged; its own file checked before and after
        its bases are known, and the merged table after, as ``Checks`` says."""
        checks = self.loader.checks
        document = self._document(path)
        settings = document.settings
        own = {k: v for k, v in document.table.items() if k != "preset"}
        has_bases = settings.has_bases
        if "type" in own or not has_bases:
            checks.document(document, dialect_of(own), partial=has_bases)
        found = self._merge_bases(document, path, cycle, dialect_of(own) if "type" in own else None)
        merged, sources, problems, dialect = (
            found.table,
            found.sources,
            found.problems,
            found.dialect,
        )
        checks.document(document, dialect or "beta", partial=has_bases)

        here = Source(document)
        own_sources: dict[KeyPath, Source] = {}
        if settings.instructions_file is not None and not _has_instructions(dialect):
            problems.append(
                document.diagnostic(
                    _INSTRUCTIONS_FILE,
                    "instructions-file",
                    "preset.instructions_file: `instructions` is not part of a "
                    f"{_DIALECT_WORDS[dialect or 'beta']} session; remove the setting",
                    anchor="key",
                )
            )
        elif settings.instructions_file is not None:
            try:
                own["instructions"] = self._instructions(document, own, settings.instructions_file)
                own_sources[("instructions",)] = Source(document, _INSTRUCTIONS_FILE)
            except PresetError as error:
                problems.extend(error.diagnostics)
        if problems:
            raise PresetError(problems)
        if merged:  # the file's own tables are taken as they are, never copied
            merge(merged, own, sources, own_sources, here, copy=False)
        else:
            merged, sources = own, own_sources

        def locate(key: KeyPath, anchor: Anchor) -> tuple[str, int, int]:
            source = _owner(sources, key) or here
            line, column = source.document.position(source.key or key, anchor)
            return source.document.display, line, column

        if has_bases:
            checks.resolved(
                ResolvedTable({**merged, "preset": settings.table}, dialect or "beta", locate)
            )
        return Preset(
            path=path,
            session=merged,
            target=settings.target,
            description=settings.description,
            _locate=locate,
            _sources=sources,
            _documents=tuple({id(d): d for d in [document, *found.documents]}.values()),
        )

    def _instructions(self, document: Document, own: Mapping[str, Any], name: str) -> str:
        """The text of the instructions file ``name``, or a PresetError at the key."""
        if "instructions" in own:
            raise PresetError(
                [
                    document.diagnostic(
                        ("instructions",),
                        "instructions-conflict",
                        "instructions and preset.instructions_file are both set; keep one",
                        anchor="key",
                    )
                ]
            )
        path = self.confined(document, _INSTRUCTIONS_FILE, name)
        try:
            return read_text(path, display_path(path))
        except PresetError as error:
            reason = error.diagnostics[0].message
            raise PresetError(
                [
                    document.diagnostic(
                        _INSTRUCTIONS_FILE,
                        "instructions-file",
                        f"preset.instructions_file: {_cut(display_path(path))}: {reason}",
                    )
                ]
            ) from None

    def _merge_bases(
        self, document: Document, path: Path, cycle: Mapping[Path, list[Base]], dialect: str | None
    ) -> _Merged:
        """The resolved bases of ``path`` merged in order, and the dialect they are written in.

        A base that failed, is outside the root, is in a cycle with ``path`` or is written in
        another dialect adds its diagnostics to the problems instead.
        """
        found = _Merged(dialect)
        first_base: Path | None = None
        for base in self.bases[path]:
            try:
                base_preset = self._base(document, path, base, cycle)
                if found.dialect is None:
                    found.dialect, first_base = base_preset.dialect, base_preset.path
                elif base_preset.dialect != found.dialect:
                    raise _dialect_clash(document, base, base_preset, found.dialect, first_base)
            except PresetError as error:
                found.problems.extend(error.diagnostics)
                continue
            owner = Source(base_preset._documents[0])
            merge(found.table, base_preset.session, found.sources, base_preset._sources, owner)
            found.documents.extend(base_preset._documents)
        return found

    def _base(
        self, document: Document, path: Path, base: Base, cycle: Mapping[Path, list[Base]]
    ) -> Preset:
        """The resolved preset of one ``extends`` entry, or the PresetError it stands for."""
        if isinstance(base.target, PresetError):
            raise base.target
        base_path = base.target
        if base_path in cycle:
            names = " -> ".join(display_path(p) for p in _cycle(path, base_path, cycle))
            raise PresetError(
                [
                    document.diagnostic(
                        base.key, "extends-cycle", f"preset.extends forms a cycle: {names}"
                    )
                ]
            )
        outcome = self.known(base_path)
        if outcome is None:  # a file of a cycle below this one, reported on demand
            outcome = self.loader.cyclic.get(base_path) or self.loader.resolve_graph(
                base_path, self.root, None
            )
        if isinstance(outcome, PresetError):
            raise outcome
        return outcome

    def _inside_without_symlinks(self, document: Document, name: str) -> tuple[str, bool] | None:
        """The normalised path that ``name`` names and whether it is inside the root, when no
        symlink is on its way (its folder's real path is known, and it is no symlink itself:
        one ``lstat``); None when pathlib's exact way must tell."""
        # Strings, not Paths: this runs for every extends entry and instructions file.
        target = os.path.normpath(os.path.join(os.path.dirname(document.path), name))  # noqa: PTH118, PTH120
        real_folder = self.loader.folders.real(os.path.dirname(target))  # noqa: PTH120
        if real_folder is None:
            return None
        try:
            if stat.S_ISLNK(os.lstat(target).st_mode):
                return None
        except FileNotFoundError:
            pass  # not there: the base's own check says so
        except OSError:
            return None
        real = os.path.join(real_folder, os.path.basename(target))  # noqa: PTH118, PTH119
        return target, within(real, str(self.root))

    def confined(self, document: Document, key: KeyPath, name: str) -> Path:
        """``name`` (relative to ``document``) as a path inside the root, or a PresetError."""
        label = format_path(key[:2])

        def fail(message: str) -> PresetError:
            return PresetError([document.diagnostic(key, "path", f"{label}: {message}")])

        if "\0" in name:
            raise fail(f"{_shown(name)}: {NUL_NAME}")
        if (
            Path(name).is_absolute()
            or name.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", name)
        ):
            raise fail(f"{_shown(name)} is an absolute path; paths are relative to the preset")
        proved = self._inside_without_symlinks(document, name)
        if proved is not None:
            if proved[1]:
                return Path(proved[0])
            raise fail(f"{_shown(name)} leads outside the project root")
        target = document.path.parent / name
        try:
            resolved = target.resolve()
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise fail(f"{_shown(name)}: the file name is too long") from None
            raise fail(f"{_shown(name)} cannot be resolved (a symlink loop?)") from None
        except (RuntimeError, ValueError):
            raise fail(f"{_shown(name)} cannot be resolved (a symlink loop?)") from None
        root = self.root
        if not resolved.is_relative_to(root):
            via = (
                " through a symlink" if Path(os.path.normpath(target)).is_relative_to(root) else ""
            )
            raise fail(f"{_shown(name)} leads outside the project root{via}")
        return Path(os.path.normpath(target))


class _Merged:
    """A file's bases merged: the table, where each key was written, the problems found,
    the documents merged and the dialect of the bases (None: no base said)."""

    __slots__ = ("dialect", "documents", "problems", "sources", "table")

    def __init__(self, dialect: str | None) -> None:
        self.dialect = dialect
        self.table: dict[str, Any] = {}
        self.sources: dict[KeyPath, Source] = {}
        self.problems: list[Diagnostic] = []
        self.documents: list[Document] = []


_INSTRUCTIONS_FILE: KeyPath = ("preset", "instructions_file")

_DIALECT_WORDS = {
    "beta": "beta",
    "realtime": "GA realtime",
    "transcription": "GA transcription",
    "translation": "GA translation",
}


def _has_instructions(dialect: str | None) -> bool:
    """Whether a session of ``dialect`` has ``instructions`` (a transcription or a
    translation session has none), as its schema says."""
    return field_schema(("instructions",), dialect or "beta") is not None


def _dialect_clash(
    document: Document, base: Base, base_preset: Preset, dialect: str, first_base: Path | None
) -> PresetError:
    """The error of a base written in another dialect than the file or its first base."""
    this = f"{_DIALECT_WORDS[base_preset.dialect]} preset"
    base_path = base_preset.path
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
    return PresetError(
        [
            document.diagnostic(
                base.key,
                "extends-dialect",
                f"preset.extends: {clash}; a preset and its bases are written in one dialect",
            )
        ]
    )


def _cut(text: str) -> str:
    """A file name as a diagnostic prints it: cut short when it is very long."""
    return text if len(text) <= 100 else f"{text[:60]}... ({len(text)} characters)"


def _shown(name: str) -> str:
    """A file name as a diagnostic quotes it: repr(), cut short when it is very long."""
    if len(name) <= 100:
        return repr(name)
    return f"{name[:60]!r}... ({len(name)} characters)"


def _cycle(path: Path, base: Path, cycle: Mapping[Path, list[Base]]) -> list[Path]:
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


def _owner(sources: Mapping[KeyPath, Source], key: KeyPath) -> Source | None:
    for length in range(len(key), 0, -1):
        found = sources.get(key[:length])
        if found is not None:
            return found
    return None


def merge(
    into: dict[str, Any],
    overlay: Mapping[str, Any],
    sources: dict[KeyPath, Source],
    overlay_sources: Mapping[KeyPath, Source],
    owner: Source | None = None,
    *,
    prefix: KeyPath = (),
    copy: bool = True,
) -> None:
    """Merge ``overlay`` into ``into`` in place: tables key by key, any other value whole.

    Where each key was written is kept sparsely: ``sources`` maps a key path to the source of
    it and of everything below it that has no entry of its own (``_owner`` finds it), so a
    file's keys need no entry each. ``overlay_sources`` is the overlay's own map, and
    ``owner`` the source of what it leaves out (None: no sources are kept). A base's values
    are copied (``copy``), since later files merge into them; the top file's own values are
    taken as they are.
    """
    for key, value in overlay.items():
        path = (*prefix, key)
        here = overlay_sources.get(path, owner) if overlay_sources else owner
        current = into.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merge(current, value, sources, overlay_sources, here, prefix=path, copy=copy)
            continue
        if here is None:
            into[key] = copy_json(value) if copy else value
            continue
        if current is not None or key in into:  # what it replaces was written elsewhere
            for stale in [p for p in sources if p[: len(path)] == path]:
                del sources[stale]
        into[key] = copy_json(value) if copy else value
        sources[path] = here
        if overlay_sources and isinstance(value, (dict, list)):
            depth = len(path)
            sources.update(
                (p, d) for p, d in overlay_sources.items() if len(p) > depth and p[:depth] == path
            )


def merge_tables(tables: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The tables merged in order, as ``extends`` merges a chain (later keys win, tables key
    by key), without keeping where each key was written; the inputs are not changed."""
    merged: dict[str, Any] = {}
    for table in tables:
        merge(merged, table, {}, {})
    return merged
