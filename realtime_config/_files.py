"""Writing output files safely: atomically, and never over a file the user did not offer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from realtime_config._errors import RealtimeConfigError


class OutputFileError(RealtimeConfigError):
    """Raised when an output file cannot be written, or would overwrite a file it must not."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def write_atomic(path: Path, text: str, *, overwrite: bool = True) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    A reader never sees half a file, and a failure leaves any previous file untouched.
    With ``overwrite=False`` an existing file is an error.
    """
    if path.is_dir():
        raise OutputFileError(path, "is a directory")
    if not overwrite and path.exists():
        raise OutputFileError(path, "already exists; use --force to overwrite it")
    folder = path.parent
    if not folder.is_dir():
        raise OutputFileError(path, f"cannot write: folder {folder} does not exist")
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputFileError(path, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            Path(temporary).chmod(path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            Path(temporary).chmod(0o666 & ~umask)
        if not overwrite and path.exists():
            raise OutputFileError(path, "already exists; use --force to overwrite it")
        Path(temporary).replace(path)
    except OutputFileError:
        Path(temporary).unlink(missing_ok=True)
        raise
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputFileError(path, f"cannot write: {exc.strerror or exc}") from None


def same_file(first: Path, second: Path) -> bool:
    """Whether two paths name the same existing file."""
    try:
        return first.exists() and second.exists() and first.samefile(second)
    except OSError:
        return False
