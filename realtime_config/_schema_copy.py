"""A project's copy of the installed schema, kept for editors: writing it, telling a stale one.

A project commits ``schema/realtime-session.schema.json`` so that a preset's ``#:schema``
header names a real file. After an upgrade that copy is old: editors then complete and check
against fields this version no longer has, or lack new ones. A copy is told from any other
schema by its ``$id``, which every version of this schema shares.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from pathlib import Path
from typing import Final

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import OutputFileError
from realtime_config._project import display_path
from realtime_config._schema import SCHEMA_FILENAME, load_schema, schema_text

HEADER: Final = "#:schema "
"""How a preset's first line names its schema (Taplo / Even Better TOML)."""

MAX_SCHEMA_BYTES: Final = 16 * 1024 * 1024
"""A header naming a larger file names no copy of this schema: it is not read."""

PROJECT_COPY: Final = Path("schema") / SCHEMA_FILENAME
"""Where a project keeps its copy, below its root: the headers ``new`` and ``import`` write
point there."""


def write_schema_copy(path: str | os.PathLike[str], *, overwrite: bool = False) -> bool:
    """Write the installed schema to ``path``, atomically; whether the file changed.

    A file that already holds it is left alone, and an older copy of this schema is replaced:
    refreshing it is what writing a copy is for. Any other existing file is kept unless
    ``overwrite`` (OutputFileError ``exists``).
    """
    from realtime_config._files import write_atomic  # writing only: validate never pays

    target = Path(path)
    text = schema_text()
    if target.is_file() and not target.is_symlink():
        if _read_bytes(target) == text.encode():
            return False
        if not overwrite and not _is_copy(target):
            raise OutputFileError(target, "exists")
        overwrite = True
    write_atomic(target, text, overwrite=overwrite)
    return True


def ensure_project_copy(root: Path) -> bool:
    """Write the project's schema copy when it has none; whether it was written.

    An existing copy, stale or not, is kept: ``validate`` says when it is stale.
    """
    from realtime_config._files import write_atomic  # writing only: validate never pays

    copy = root / PROJECT_COPY
    if copy.exists() or copy.is_symlink():
        return False
    shown = Path(display_path(copy.absolute()))
    try:
        copy.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputFileError(shown, "folder", exc.strerror or str(exc)) from None
    write_atomic(shown, schema_text(), overwrite=False)
    return True


def stale_copy_warning(preset: Path, display: str, text: str) -> Diagnostic | None:
    """A warning at the ``#:schema`` header when it names a local copy of this schema that
    differs from the installed one; None when it names anything else."""
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.startswith(HEADER):
        return None
    reference = first[len(HEADER) :].strip()
    copy = _local_file(preset, reference)
    if copy is None:
        return None
    try:
        status = copy.stat()
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_SCHEMA_BYTES:
        return None
    if not _is_stale_copy(copy, status.st_mtime_ns, status.st_size):
        return None
    shown = display_path(copy)
    return Diagnostic(
        display,
        1,
        len(HEADER) + 1,
        "warning",
        "stale-schema-copy",
        f"stale schema copy {shown}: it differs from the schema of this version; "
        f"run `realtime-config schema --write {shown}`",
    )


def _local_file(preset: Path, reference: str) -> Path | None:
    """The file a header's reference names, if it names one on this machine."""
    if reference.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return Path(unquote(urlsplit(reference).path))
    if "://" in reference or not reference:
        return None
    return Path(os.path.normpath(preset.parent / reference))


@functools.lru_cache(maxsize=64)
def _is_stale_copy(copy: Path, _mtime_ns: int, size: int) -> bool:
    """Whether ``copy`` is a copy of this schema other than the installed one (cached per
    version of the file: a batch of presets names the same copy)."""
    installed = schema_text().encode()
    if size == len(installed) and _read_bytes(copy) == installed:
        return False
    return _is_copy(copy)


def _is_copy(path: Path) -> bool:
    """Whether ``path`` holds some version of this schema (its ``$id`` is this schema's)."""
    try:
        found = json.loads(_read_bytes(path))
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and found.get("$id") == load_schema()["$id"]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
