"""Writing output files safely: atomically, and never over a file the user did not offer.

The rules, for every file realtime-config writes (``-o``, ``--out-dir``, ``new``,
``migrate --in-place``):

- Only regular files are written, through a temporary file in the same folder and a rename,
  so a reader never sees half a file and a failure leaves the old one untouched. A device,
  FIFO or socket is refused: renaming over ``/dev/null`` as root would replace the device.
- A symlink is written through: its target is replaced, in the target's folder, and the
  link stays (a file the command found itself: only when it stays inside the root).
- A standard stream named as a file (``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``,
  ``/proc/self/fd/N``), or a terminal or pipe that is this process's stdout or stderr, is
  written to through the open descriptor, as a shell redirection would be.
- Without ``overwrite``, the file appears with a hard link of the temporary file (or an
  exclusive create where links are not supported): two writers racing cannot both win.
- Files the output is made from (a preset, the bases it extends, its instructions file)
  are refused as outputs.
- The temporary file is removed when the write fails, and on SIGINT, SIGTERM and SIGHUP.
- New files get the mode ``open()`` would give them (0o666 less the umask, applied by the
  kernel); the process umask is never changed, since that is not thread-safe.
- A read-only file (one this process may not write) is refused, as a shell's ``>`` would.

Several files written all or nothing, with a journal for ``kill -9``, are ``_commit``'s job,
built on the checks here.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import signal
import stat
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

from realtime_config._errors import OutputFileError

_DESCRIPTOR_NAMES = re.compile(
    r"/dev/(?:(?P<std>stdout|stderr)|fd/(?P<fd>\d+))|/proc/self/fd/(?P<proc>\d+)"
)
_MAX_SYMLINKS = 40  # as Linux's own limit on a path lookup
_CLEANUP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# Hard links are not supported on this file system: fall back to an exclusive create.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}


def write_atomic(
    path: Path,
    text: str,
    *,
    overwrite: bool = True,
    protected: Iterable[tuple[Path, str]] = (),
) -> None:
    """Write ``text`` (UTF-8) to ``path`` by the rules of this module's docstring.

    With ``overwrite=False`` an existing file is an error. ``protected`` pairs a file that
    must not be overwritten with how to name it (``"the preset itself"``).
    """
    shields = list(protected)
    target = _follow_symlinks(path)
    if isinstance(target, int):
        _write_descriptor(path, target, text, shields)
        return
    existing = _lstat(path, target)
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise OutputFileError(path, "directory")
        if not stat.S_ISREG(existing.st_mode):
            stream = _standard_stream(existing)
            if stream is None:
                raise OutputFileError(path, "not-regular", _kind(existing.st_mode))
            _write_descriptor(path, stream, text, shields)
            return
        _refuse_protected(path, existing, shields)
        if not overwrite:
            raise OutputFileError(path, "exists")
        _refuse_read_only(path, target)
    folder = target.parent
    if not folder.is_dir():
        raise OutputFileError(path, "no-folder", str(folder))
    try:
        with _signals_clean_up():
            _replace(path, target, text.encode("utf-8"), existing, overwrite)
    except OSError as exc:
        raise OutputFileError(path, "unwritable", exc.strerror or str(exc)) from None


def same_file(first: Path, second: Path) -> bool:
    """Whether two paths name the same existing file."""
    try:
        return first.exists() and second.exists() and first.samefile(second)
    except OSError:
        return False


# --- where the bytes go -----------------------------------------------------------------


def _named_descriptor(path: Path) -> int | None:
    """The descriptor a path such as ``/dev/stdout`` or ``/dev/fd/3`` names, if it is one."""
    if os.name != "posix":
        return None
    found = _DESCRIPTOR_NAMES.fullmatch(os.path.normpath(Path(path).absolute()))
    if found is None:
        return None
    if found["std"]:
        return 1 if found["std"] == "stdout" else 2
    return int(found["fd"] or found["proc"])


def _standard_stream(status: os.stat_result) -> int | None:
    """1 or 2 when ``status`` is this process's stdout or stderr (a terminal, a pipe)."""
    for descriptor in (1, 2):
        try:
            stream = os.fstat(descriptor)
        except OSError:
            continue
        if (stream.st_dev, stream.st_ino) == (status.st_dev, status.st_ino):
            return descriptor
    return None


def _follow_symlinks(path: Path) -> Path | int:
    """The file a chain of symlinks at ``path`` ends at (``path`` itself if it is none).

    A descriptor number instead where the chain reaches a name such as ``/dev/stdout``:
    those are links the kernel makes up, to a pipe or terminal that has no file name.
    """
    current = path
    for _ in range(_MAX_SYMLINKS):
        descriptor = _named_descriptor(current)
        if descriptor is not None:
            return descriptor
        try:
            link = current.readlink()
        except OSError:  # not a symlink, or nothing there
            return current
        current = current.parent / link
    raise OutputFileError(path, "unwritable", "too many levels of symbolic links")


def _lstat(path: Path, target: Path) -> os.stat_result | None:
    try:
        return target.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputFileError(path, "unwritable", exc.strerror or str(exc)) from None


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _refuse_protected(path: Path, status: os.stat_result, shields: list[tuple[Path, str]]) -> None:
    for other, name in shields:
        try:
            theirs = Path(other).stat()
        except (OSError, ValueError):
            continue
        if (theirs.st_dev, theirs.st_ino) == (status.st_dev, status.st_ino):
            raise OutputFileError(path, "input", name)


def _refuse_read_only(path: Path, target: Path) -> None:
    """A file this process may not write is left alone, as a shell's ``>`` leaves it."""
    if not os.access(target, os.W_OK, follow_symlinks=False):
        raise OutputFileError(path, "read-only")


def _write_descriptor(
    path: Path, descriptor: int, text: str, shields: list[tuple[Path, str]]
) -> None:
    """Write through an open descriptor (not closed afterwards), as ``>`` in a shell would."""
    try:
        status = os.fstat(descriptor)
    except OSError:
        raise OutputFileError(
            path, "unwritable", f"file descriptor {descriptor} is not open"
        ) from None
    if stat.S_ISREG(status.st_mode):
        _refuse_protected(path, status, shields)
    for stream in (sys.stdout, sys.stderr):
        try:  # text already printed to the same stream goes first
            if stream is not None and stream.fileno() == descriptor:
                stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    data = memoryview(text.encode("utf-8"))
    try:
        while data:
            data = data[os.write(descriptor, data) :]
    except OSError as exc:
        raise OutputFileError(path, "unwritable", exc.strerror or str(exc)) from None


def _replace(
    path: Path, target: Path, data: bytes, existing: os.stat_result | None, overwrite: bool
) -> None:
    """Write ``data`` to a temporary file beside ``target``, then move or link it there."""
    temporary, descriptor = _create_temporary(target, existing)
    placed = False
    try:
        try:
            _write_all(descriptor, data)
            if existing is not None:
                os.fchmod(descriptor, stat.S_IMODE(existing.st_mode) & 0o777)
                _keep_owner(descriptor, existing)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if overwrite:
            temporary.replace(target)
            placed = True
        else:
            _link_exclusively(path, temporary, target, data)
    finally:
        if not placed:  # also after the link: the temporary name goes either way
            temporary.unlink(missing_ok=True)


def _create_temporary(target: Path, existing: os.stat_result | None) -> tuple[Path, int]:
    # A new file gets 0o666 less the umask from the kernel, as open() would give it. A
    # file that replaces another starts private and takes the old file's mode.
    mode = 0o600 if existing is not None else 0o666
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    stem = target.name[:200]
    while True:
        temporary = target.parent / f".{stem}.{secrets.token_hex(4)}.tmp"
        try:
            return temporary, os.open(temporary, flags, mode)
        except FileExistsError:
            continue


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _keep_owner(descriptor: int, existing: os.stat_result) -> None:
    """Give the new file the old one's owner and group where allowed (root, or own group)."""
    mine = os.fstat(descriptor)
    if (mine.st_uid, mine.st_gid) == (existing.st_uid, existing.st_gid):
        return
    with suppress(OSError):
        os.fchown(descriptor, existing.st_uid, existing.st_gid)


def _link_exclusively(path: Path, temporary: Path, target: Path, data: bytes) -> None:
    """Make ``target`` appear with ``data`` only if nothing is there yet, whoever races us."""
    try:
        os.link(temporary, target, follow_symlinks=False)
    except FileExistsError:
        raise OutputFileError(path, "exists") from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    else:
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(target, flags, 0o666)
    except FileExistsError:
        raise OutputFileError(path, "exists") from None
    try:
        _write_all(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- signals ------------------------------------------------------------------------------


class _Interrupted(BaseException):
    """A signal whose default action would end the process, caught to clean up first."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _signals_clean_up() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into an exception while writing, then die of them.

    Only signals left at their default action (which ends the process without running any
    ``finally``) are caught, and only in the main thread, where Python runs handlers; a
    handler the program installed itself is left alone. Once the temporary file is gone,
    the signal is raised again with its default action, so the process ends as it would
    have (killed by SIGTERM, status 143 in a shell).
    """
    armed = True
    pending: int | None = None

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal pending
        if armed:
            raise _Interrupted(signum)
        pending = signum  # arrived while handlers are being put back: deliver it after

    installed: list[int] = []
    for signum in _CLEANUP_SIGNALS:
        try:
            if signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, handler)
                installed.append(signum)
        except (ValueError, OSError):  # not the main thread of the main interpreter
            break
    try:
        yield
    except _Interrupted as interrupted:
        pending = interrupted.signum
    finally:
        armed = False
        for signum in installed:
            signal.signal(signum, signal.SIG_DFL)
        if pending is not None:
            signal.raise_signal(pending)
            # Still alive (the signal is blocked in this thread): end as the signal would.
            raise SystemExit(128 + pending)
