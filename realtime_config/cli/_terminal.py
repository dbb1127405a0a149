"""The command line's terminal: standard output and error that fail in one known way.

Every command writes through ``sys.stdout`` and ``sys.stderr``; while a command runs they
are guarded, so a write that fails (a full disk, a closed descriptor, a reader that went
away) raises _OutputStreamError instead of an OSError from anywhere. The command line then
ends the command in one place (``output_failed``):

- EPIPE (``| head`` closed the pipe): quietly, as Unix tools do;
- anything else (ENOSPC, a closed stdout): ``realtime-config: error: cannot write the
  output: ...`` on stderr where it can, naming the files the command wrote before it failed.

A standard stream that was closed before the command started (``>&-``) is not skipped in
silence: writing to it is that failure, and its descriptor is held on ``/dev/null``, so a
file the command opens cannot take the number and receive its output.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

from realtime_config._diagnostics import printable

_STREAM_WORDS = {"stdout": "standard output", "stderr": "standard error"}


class _OutputStreamError(Exception):
    """Raised when standard output or error cannot be written (``stream`` says which)."""

    def __init__(self, stream: str, error: OSError) -> None:
        super().__init__(stream, error)
        self.stream = stream
        self.error = error

    @property
    def reason(self) -> str:
        if self.error.errno == errno.EBADF:
            return f"{_STREAM_WORDS[self.stream]} is closed"
        return self.error.strerror or str(self.error)


class _GuardedStream:
    """A text stream whose failures to write are OutputStreamErrors; all else delegated."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _OutputStreamError(self._name, exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _OutputStreamError(self._name, exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _ClosedStream:
    """What stands for a standard stream that was closed when the process started."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str) -> None:
        self._name = name

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise _OutputStreamError(self._name, OSError(errno.EBADF, os.strerror(errno.EBADF)))

    def flush(self) -> None:
        """Nothing is ever held to flush."""

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))


_written: list[Path] = []


def wrote(path: Path) -> None:
    """Note a file the command has written: a later failure to report it will name it."""
    _written.append(path)


@contextmanager
def guarded_streams() -> Iterator[None]:
    """Guard ``sys.stdout`` and ``sys.stderr`` while a command runs; put them back after."""
    saved = sys.stdout, sys.stderr
    _written.clear()
    sys.stdout = _guard(sys.stdout, "stdout", 1)
    sys.stderr = _guard(sys.stderr, "stderr", 2)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _guard(stream: TextIO | None, name: str, descriptor: int) -> Any:
    if stream is not None:
        return _GuardedStream(stream, name)
    _hold_descriptor(descriptor)
    return _ClosedStream(name)


def _hold_descriptor(descriptor: int) -> None:
    """Put ``/dev/null`` on a closed standard descriptor, so that no file opened later gets
    its number (output meant for the terminal would land in that file)."""
    try:
        os.fstat(descriptor)
    except OSError:
        pass
    else:
        return
    with suppress(OSError):
        null = os.open(os.devnull, os.O_RDWR)
        if null != descriptor:
            os.dup2(null, descriptor)
            os.close(null)


def flush_output() -> None:
    """Flush standard output now, while a failure can still be reported."""
    stream = sys.stdout
    if stream is not None:
        stream.flush()


def output_failed(error: _OutputStreamError) -> None:
    """Report a failed write to the terminal once (quietly for a closed pipe), and make
    sure that Python's own flush at exit cannot fail again and print a traceback."""
    _drop(sys.stdout, 1)
    if error.error.errno == errno.EPIPE:
        _drop(sys.stderr, 2)
        return
    message = f"realtime-config: error: cannot write the output: {error.reason}"
    if _written:
        names = ", ".join(printable(str(p)) for p in dict.fromkeys(_written))
        count = len(dict.fromkeys(_written))
        message += f"; {names} {'was' if count == 1 else 'were'} written"
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except _OutputStreamError:
        _drop(sys.stderr, 2)


def _drop(stream: object, descriptor: int) -> None:
    """Point a failed standard stream at /dev/null, dropping what it still holds."""
    try:
        number = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # not a real file (click's test runner)
        return
    if number != descriptor:
        return
    with suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)
