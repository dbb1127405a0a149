"""Migrating beta presets to GA presets: the same ``client_secrets`` body, every comment kept.

A beta preset's GA body is what ``compile -t client_secrets`` sends today: the beta emission
rules first, then the schema's mapping annotations (``x-ga``, ``x-ga-map``, ``x-ga-pick``,
``x-ga-omit-false``, ``x-ga-const``). A migrated file is built in three steps:

1. **Move.** Each key the file writes goes to the place its field's ``x-ga`` names, its value
   mapped by ``x-ga-map`` / ``x-ga-pick``; ``[preset]`` and everything below a mapped field
   stay as written. A field whose ``x-ga`` is null (``temperature``) is an error at its key,
   or is dropped with a warning.
2. **Settle.** The resolved GA table of the migrated chain is compared with the GA body the
   beta preset compiles to today, and the file is edited until they agree: what the beta
   rules added is written out (``output_modalities``, ``turn_detection.type``, a tool's
   ``type``), what they left out is removed (``pcm16`` formats). The GA table is read by
   the GA branch's own emission (``compiling/_compile``) before comparing: a ``false`` that
   a GA preset leaves out on creation (``x-false-on-create``) stays ``false``, meaning the
   same "off", and what the GA compiler sends when absent (``x-emit: always``:
   ``expires_after.anchor``) is not written out.
   Nothing here lists fields: every difference comes from comparing the two.
3. **Write.** The file is laid out again from its own pieces, parsed by tomlkit: a comment
   above a key moves with that key into its new table, a trailing comment stays on its line,
   blank lines and the comments of removed keys stay where they were. Tables keep their
   order; new ``[audio.input]`` / ``[audio.output]`` tables go where the GA order puts them.

Only the root of an ``extends`` chain gets ``type = "realtime"``: the dialect is read from the
resolved table, so the files that extend it are GA presets without repeating it, and the
chain keeps one place that says which API it is written for.

The rooms: ``_toml_layout`` reads a file into its statements and writes them back;
``_migrate_file`` migrates one file (the three steps); this module takes the files given,
orders each ``extends`` chain bases first, checks that a chain is migrated whole (the project
scanned through the loader), and compiles each result to compare it with today's body.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._keys import copy_json
from realtime_config._project import display_path, find_root, scan_presets
from realtime_config.checking._compose import CheckedLoader as Loader
from realtime_config.preset._model import Document, Preset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from realtime_config.authoring._migrate_file import FileMigration, differences, table_of_body


@dataclass(frozen=True)
class Migration:
    """One preset file migrated: its text before and after, and the warnings of doing it.

    ``path`` is the file's absolute path, ``display`` its name in diagnostics; ``text`` is
    the GA preset to write over ``original`` (the same text for a file that is GA already).
    """

    path: Path
    display: str
    original: str
    text: str
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the GA text differs from the file as it is."""
        return self.text != self.original


def migrate_presets(
    paths: Iterable[str | os.PathLike[str]],
    *,
    root: str | os.PathLike[str] | None = None,
    drop_unsupported: bool = False,
) -> list[Migration]:
    """Migrate beta presets to GA presets whose ``client_secrets`` bodies are unchanged.

    Every file of an ``extends`` chain must be given. Nothing is written; a PresetError lists
    every problem of every file (an unsupported field, a chain migrated in part, a body the
    GA preset could not reproduce), so that a caller writes all files or none.
    """
    migrations, results = _migrate_files(paths, root, drop_unsupported)
    _verify(results)
    return migrations


def migrate_text(
    text: str,
    *,
    path: str | os.PathLike[str] = "<text>",
    root: str | os.PathLike[str] | None = None,
    drop_unsupported: bool = False,
) -> Migration:
    """Migrate the beta preset ``text``, standing for the file at ``path`` (which need not
    exist), as ``migrate_presets`` does a file: its bases are read from disk relative to it,
    and must be GA already. Raises PresetError, naming ``path``, with every problem."""
    loader = Loader(Path(root) if root is not None else None)
    given = Path(path)
    if "\0" not in str(given):  # loading names the problem
        loader.put_text(given, text)
    migrations, results = _migrate_files([given], root, drop_unsupported, loader)
    _verify(results)
    return migrations[0]


def migration_root(
    paths: Iterable[str | os.PathLike[str]], root: str | os.PathLike[str] | None = None
) -> Path:
    """The project root of a migration: it bounds the files rewritten and holds the journal
    of their writes (``--root``, else the root of the first preset's folder)."""
    if root is not None:
        return Path(root)
    first = next(iter(paths), ".")
    return find_root(Path(os.path.abspath(first)).parent)  # noqa: PTH100


def write_migrations(
    migrations: Sequence[Migration], *, root: str | os.PathLike[str] | None = None
) -> list[Migration]:
    """Write every changed migration over its file, all or none; return those written.

    The files change in one commit (``commit_files``): a failure or a signal puts every
    original back (CommitError). No file is written through a link out of the root.
    """
    from realtime_config._commit import FileChange, commit_files

    written = [m for m in migrations if m.changed]
    project = migration_root([m.path for m in migrations], root)
    changes = [FileChange(Path(display_path(m.path)), m.text) for m in written]
    commit_files(changes, journal=project, bound=project)
    return written


def write_migration(
    migration: Migration,
    output: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Write one migration to ``output``, atomically; never over the preset itself or any
    other preset being migrated (``inputs``)."""
    from realtime_config._files import write_atomic

    protected = [
        (Path(p), "the preset itself") for p in dict.fromkeys([migration.path, *map(Path, inputs)])
    ]
    write_atomic(Path(output), migration.text, protected=protected)


@dataclass
class _Result:
    """What migrating one file gave: its migration, and its resolved GA table."""

    migration: Migration
    resolved: dict[str, Any]
    body: str  # today's client_secrets body of the beta preset, as JSON text


# --- Many files: chains, order, the check --------------------------------------------


def _migrate_files(
    paths: Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str] | None,
    drop_unsupported: bool,
    loader: Loader | None = None,
) -> tuple[list[Migration], list[_Result]]:
    from realtime_config.compiling._compile import dumps_payload
    from realtime_config.compiling._targets import compile_preset

    given = [Path(os.path.normpath(Path(p).absolute())) for p in paths]
    if loader is None:
        loader = Loader(Path(root) if root is not None else None)
    problems: list[Diagnostic] = []
    presets: dict[Path, Preset] = {}
    for path in dict.fromkeys(given):
        try:
            presets[path] = loader.load(path)
        except PresetError as error:
            problems.extend(d for d in error.diagnostics if d not in problems)
    if problems:
        raise PresetError(problems)
    bases = {path: _bases(loader.document(path)) for path in presets}
    chain = list(_chain_problems(loader, bases, root))
    problems.extend(d for d in chain if d.is_error)
    if problems:
        raise PresetError(chain)
    results: dict[Path, _Result] = {}
    failed: set[Path] = set()
    for path in _bases_first(bases):
        document = loader.document(path)
        if any(base in failed for base in bases[path]):
            # Its base could not be migrated: only its own unsupported keys are reported,
            # not the differences that would follow from the base's problems.
            failed.add(path)
            work = FileMigration(document, presets[path], [], drop_unsupported)
            work.move()
            problems.extend(p for p in work.problems if p.rule == "migrate-unsupported")
            continue
        if "type" in presets[path].session:  # already a GA preset: nothing to do
            migration = Migration(path, document.display, document.text, document.text)
            results[path] = _Result(migration, dict(presets[path].session), "")
            continue
        body = compile_preset(presets[path], "client_secrets", drop_unsupported=True)
        expected = table_of_body(body)
        work = FileMigration(
            document, presets[path], [results[b].resolved for b in bases[path]], drop_unsupported
        )
        text = _line_endings_of(document.text, work.run(expected))
        found = list(work.problems)
        if not found:
            found = _reparsed(document, text, work.own_table())
        if found:
            failed.add(path)
            problems.extend(found)
        migration = Migration(path, document.display, document.text, text, tuple(work.warnings))
        results[path] = _Result(migration, work.resolved(), dumps_payload(body))
    if problems:
        raise PresetError(problems)
    ordered = [results[path] for path in dict.fromkeys(given)]
    unknown = tuple(d for d in chain if not d.is_error)  # carried by the first file
    if unknown:
        first = ordered[0].migration
        ordered[0].migration = replace(first, warnings=(*unknown, *first.warnings))
    return [r.migration for r in ordered], ordered


def _line_endings_of(original: str, text: str) -> str:
    """``text`` (laid out with ``\n``) with the line endings most of ``original`` has."""
    crlf = original.count("\r\n")
    return text.replace("\n", "\r\n") if crlf and crlf * 2 >= original.count("\n") else text


def _reparsed(document: Document, text: str, own: Mapping[str, Any]) -> list[Diagnostic]:
    """A guard on the layout: the new text must parse to exactly the table it was built from."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
    else:
        table.pop("preset", None)
        # A table header kept with nothing under it ([client_secret.expires_after] written
        # empty) says nothing, in the beta file as in the GA one.
        if not differences(_without_empty_tables(table), _without_empty_tables(dict(own))):
            return []
        reason = "its keys came out differently"
    return [
        Diagnostic(
            document.display,
            1,
            1,
            "error",
            "migrate-layout",
            f"the GA form of this file could not be written: {reason}",
        )
    ]


def _without_empty_tables(value: Any) -> Any:
    """``value`` without the tables that hold nothing (once their own empty tables go)."""
    if not isinstance(value, dict):
        return value
    kept = {key: _without_empty_tables(item) for key, item in value.items()}
    return {key: item for key, item in kept.items() if item != {} or not isinstance(item, dict)}


def _bases(document: Document) -> list[Path]:
    return [
        Path(os.path.normpath(document.path.parent / name)) for _, name in document.settings.extends
    ]


def _chain_problems(
    loader: Loader, bases: Mapping[Path, list[Path]], root: str | os.PathLike[str] | None
) -> Iterator[Diagnostic]:
    """A base not given, or a project preset that extends a given file and is not given."""
    for path, names in bases.items():
        document = loader.document(path)
        keys = [key for key, _ in document.settings.extends]
        for key, base in zip(keys, names, strict=True):
            if base not in bases:
                yield document.diagnostic(
                    key,
                    "migrate-chain",
                    f"preset.extends: {display_path(base)} is left behind: a chain is "
                    "migrated whole, and a GA preset cannot extend a beta one",
                )
    first = next(iter(bases))
    scan = scan_presets(root if root is not None else find_root(first.parent))
    for problem in scan.problems:
        yield _cannot_tell(problem)
    for found in scan.files:
        candidate = Path(os.path.normpath(found.absolute()))
        if candidate in bases:
            continue
        try:  # through the loader: its guards (FIFOs, devices, size, permissions) hold here
            other = loader.found_document(candidate)
        except PresetError as error:
            yield _cannot_tell(error.diagnostics[0])
            continue
        for key, name in other.settings.extends:
            base = Path(os.path.normpath(candidate.parent / name))
            if base in bases:
                yield other.diagnostic(
                    key,
                    "migrate-chain",
                    f"preset.extends: {display_path(base)} is migrated to GA, but this "
                    "preset, which extends it, is left behind",
                )


def _cannot_tell(problem: Diagnostic) -> Diagnostic:
    """A project preset (or folder) that cannot be read: whether it extends a migrated file
    is unknown, which is worth a warning, not a failure of the files that were given."""
    subject = "a preset in it extends" if problem.rule == "folder" else "it extends"
    return replace(
        problem,
        severity="warning",
        rule="migrate-chain",
        message=f"{problem.message}; whether {subject} a migrated preset is unknown",
    )


def _bases_first(bases: Mapping[Path, list[Path]]) -> list[Path]:
    order: list[Path] = []
    seen: set[Path] = set()

    def visit(path: Path) -> None:
        if path in seen:
            return
        seen.add(path)
        for base in bases[path]:
            visit(base)
        order.append(path)

    for path in bases:
        visit(path)
    return order


def _verify(results: Sequence[_Result]) -> None:
    """Compile each migrated chain and compare with today's body, byte for byte."""
    from realtime_config.compiling._compile import dumps_payload
    from realtime_config.compiling._targets import compile_preset

    problems: list[Diagnostic] = []
    for result in results:
        if not result.migration.changed and not result.body:
            continue
        session = copy_json(result.resolved)
        try:
            compiled = compile_preset(session, "client_secrets")
        except PresetError as error:
            problems.extend(
                Diagnostic(result.migration.display, 1, 1, "error", "migrate-body", d.message)
                for d in error.diagnostics
            )
            continue
        if dumps_payload(compiled) != result.body:
            problems.append(
                Diagnostic(
                    result.migration.display,
                    1,
                    1,
                    "error",
                    "migrate-body",
                    "the GA preset would not compile to today's client_secrets body",
                )
            )
    if problems:
        raise PresetError(problems)
