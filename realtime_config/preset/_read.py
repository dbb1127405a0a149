"""Reading a preset's files: the guarded read of a small UTF-8 text file.

Every problem becomes a located Diagnostic; nothing here lets an OS or decoding exception
through. Only regular files are read, so that a preset in a pull request cannot make CI
wait on a FIFO or read a device.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError

MAX_FILE_BYTES = 1024 * 1024
"""Presets are small; a larger file is refused before it is parsed."""

NUL_NAME = "the file name contains a NUL character"
"""Why a name with a NUL in it is refused: no file can have it, and the OS refuses to look."""


@dataclass(frozen=True)
class TextKind:
    """How ``read_text`` names what it reads: the file, and why it must be small and UTF-8."""

    file: str
    size: str
    encoding: str


PRESET_TEXT = TextKind(
    "preset file", "a preset is a small text file", "a preset must be UTF-8 text"
)


class _SymlinkSignal(Exception):
    """The file is a symlink, and ``read_text`` was asked not to follow one: the caller
    checks where it leads, then reads it again. Never reaches a user."""


def read_text(
    path: str | Path, display: str, kind: TextKind = PRESET_TEXT, *, follow_symlinks: bool = True
) -> str:
    """Read a UTF-8 text file of at most MAX_FILE_BYTES, or raise a located PresetError.

    Only a regular file is read: the file is opened without blocking and checked with fstat
    on the open descriptor, so a FIFO (which would wait forever for a writer), a device or a
    socket is refused, even one swapped in after a check. A UTF-8 byte order mark is dropped.
    With ``follow_symlinks`` false, a symlink raises ``_SymlinkSignal`` instead: the open
    itself proves that the file is no symlink, at no cost.
    """

    def fail(message: str, rule: str = "file", line: int = 1, column: int = 1) -> PresetError:
        return PresetError([Diagnostic(display, line, column, "error", rule, message)])

    try:
        descriptor = os.open(path, _READ_FLAGS if follow_symlinks else _NOFOLLOW_FLAGS)
    except ValueError:  # a NUL character: no file can have that name
        raise fail("the file name contains a NUL character") from None
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("permission denied: the file cannot be read") from None
    except OSError as exc:
        if not follow_symlinks and exc.errno == errno.ELOOP:
            raise _SymlinkSignal from None
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
    return decode_text(data, display, kind)


def read_stream(stream: BinaryIO) -> bytes:
    """A preset's bytes from a stream (standard input): at most MAX_FILE_BYTES + 1, enough
    for ``decode_text`` to tell a file that is too large without holding all of it."""
    return stream.read(MAX_FILE_BYTES + 1)


def decode_text(data: bytes, display: str, kind: TextKind = PRESET_TEXT) -> str:
    """The text of a file's bytes (read by ``read_text``, or standard input read at most
    MAX_FILE_BYTES + 1 bytes), or a located PresetError: too large, or not UTF-8."""

    def fail(message: str, rule: str = "file", line: int = 1, column: int = 1) -> PresetError:
        return PresetError([Diagnostic(display, line, column, "error", rule, message)])

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
_NOFOLLOW_FLAGS = _READ_FLAGS | getattr(os, "O_NOFOLLOW", 0)
CAN_REFUSE_SYMLINKS = hasattr(os, "O_NOFOLLOW")
"""Whether ``read_text(..., follow_symlinks=False)`` can tell a symlink (not on Windows)."""
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


def not_a_preset_file(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a preset (stat never blocks, unlike open), or None."""
    try:
        mode = os.stat(path).st_mode  # noqa: PTH116 (a string on the per-file path)
    except (FileNotFoundError, NotADirectoryError):
        return "does not exist"
    except OSError as exc:
        return _os_reason(exc)
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    return f"is {_file_kind(mode)}, not a preset file"
