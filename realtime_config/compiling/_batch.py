"""Checking a batch of preset files: validate's entry point, in worker processes for long lists.

Each file is loaded (read, parsed and resolved by preset/, checked as checking/_compose
says) and checked for its target (_targets); the diagnostics of every file come back in
order, and nothing raises for bad input.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._keys import dedupe
from realtime_config._schema_copy import stale_copy_warning
from realtime_config.checking._compose import CheckedLoader as Loader

PARALLEL_MIN_FILES: Final = 200
"""Below this many files, starting worker processes costs more than it saves (measured in
benchmarks/: a forked worker costs about 5-7 ms, a file about 0.2-0.3 ms)."""


def default_jobs(file_count: int) -> int:
    """How many processes ``validate`` uses by default: one per idle CPU for a long list.

    A worker only helps on a core that is free: on a busy machine it competes with the rest
    and its start-up is lost (measured: 8-29% slower at a load of 3.5 on 2 cores, and no gain
    with one core kept busy). So the CPUs that other processes use right now are left out.
    Under pre-commit (which sets PRE_COMMIT=1) it stays at one: pre-commit already runs
    parallel batches, one per CPU.
    """
    if file_count < PARALLEL_MIN_FILES or os.environ.get("PRE_COMMIT"):
        return 1
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, cpus - round(_busy_cpus())))


def _busy_cpus() -> float:
    """How many CPUs other processes keep busy now: on Linux, the processes running or ready
    to run at this instant less this one (/proc/loadavg); elsewhere the one-minute load
    average, which lags (it also holds the runs that came just before this one)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as stream:  # noqa: PTH123 (no Path)
            running = int(stream.read().split()[3].split("/")[0])
        return max(0, running - 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(0.0, os.getloadavg()[0] - 1)
    except (AttributeError, OSError):  # no load average on this platform
        return 0.0


def check_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    root: str | os.PathLike[str] | None = None,
    target: str | None = None,
    jobs: int = 1,
    given: Mapping[Path, bytes] | None = None,
) -> list[Diagnostic]:
    """Check every preset in ``paths``: all diagnostics, errors and warnings, in order.

    Never raises for bad input: unreadable or malformed files become diagnostics. With
    ``jobs`` above one (and fork available, as on Linux), chunks of the list are checked in
    that many processes; the result is the same, in the same order. ``given`` holds the bytes
    of files not read from disk (standard input); those are checked in this process.
    """
    files = [Path(path) for path in paths]
    workers = min(jobs, -(-len(files) // CHUNK_FILES))
    if given or workers <= 1 or not _can_fork():
        return dedupe(_check_slice(files, root, target, given))
    return dedupe(_shared(files, workers, root, target))


CHUNK_FILES: Final = 16
"""Files handed out at a time to a process of a batch: a few milliseconds of work."""

MAX_CHUNKS: Final = 4096
"""Chunks a batch is cut into at most: their 4-byte tokens fit a pipe's buffer (64 KiB)."""


def _can_fork() -> bool:
    """Fork is safe: Linux, and no other thread running (a child would inherit its locks)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _shared(
    files: list[Path], workers: int, root: str | os.PathLike[str] | None, target: str | None
) -> list[Diagnostic]:
    """The diagnostics of ``files`` in order, checked by this process and ``workers - 1``
    forked children that take chunks of files from one queue.

    The queue is a pipe holding one 4-byte token per chunk (as make's jobserver does): a read
    of 4 bytes is atomic, so each chunk goes to exactly one process, and a process on a busy
    core simply takes fewer. Each child sends every chunk's diagnostics back through its own
    pipe as soon as it is done. When the queue is empty this process collects them; a chunk
    that a child still holds after a short wait (it is starved, or it died) is checked here,
    and the children are ended. So a worker can cost its start-up and one chunk, never half of
    the batch. Plain os.fork: the child has the schema and every import already; no pool, no
    queue threads and no pickled call cross over.
    """
    import gc
    import time

    size = max(CHUNK_FILES, -(-len(files) // MAX_CHUNKS))
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    queue, feed = os.pipe()
    os.write(feed, b"".join(index.to_bytes(4, "little") for index in range(len(chunks))))
    os.close(feed)  # the queue ends when it is empty: every reader then sees end of file
    gc.freeze()  # the children's copies of the loaded schema stay shared pages
    children = _fork_children(workers - 1, queue, chunks, root, target)
    done: dict[int, list[Diagnostic]] = {}
    started = time.perf_counter()
    _take_chunks(queue, chunks, root, target, done.__setitem__)
    os.close(queue)
    # Patience for a chunk a child still holds: a few times what a chunk took here.
    patience = 4 * (time.perf_counter() - started) / max(1, len(done)) + 0.01
    _collect(children, done, len(chunks), patience)
    gc.unfreeze()
    loader = Loader(Path(root) if root is not None else None)
    for index, chunk in enumerate(chunks):
        if index not in done:
            done[index] = [d for path in chunk for d in _check_one(loader, path, target)]
    return [d for index in range(len(chunks)) for d in done[index]]


def _fork_children(
    count: int,
    queue: int,
    chunks: list[list[Path]],
    root: str | os.PathLike[str] | None,
    target: str | None,
) -> dict[int, int]:
    """Up to ``count`` children taking chunks from ``queue``: each one's result pipe and pid
    (fewer if the system refuses a pipe or a fork)."""
    children: dict[int, int] = {}
    for _ in range(count):
        try:
            reader, writer = os.pipe()
        except OSError:
            break
        try:
            pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            break
        if pid == 0:  # the child: take chunks, send each result, leave without the parent's exits
            status = 1
            try:
                os.close(reader)
                _take_chunks(queue, chunks, root, target, _sender(writer))
                status = 0
            finally:
                os._exit(status)
        os.close(writer)
        children[reader] = pid
    return children


def _collect(
    children: dict[int, int], done: dict[int, list[Diagnostic]], total: int, patience: float
) -> None:
    """Read the children's results into ``done`` until every chunk is in, or no child has
    sent anything for ``patience`` seconds; then end and reap every child."""
    import select
    import signal

    pending = {reader: bytearray() for reader in children}
    while pending and len(done) < total:
        ready, _, _ = select.select(list(pending), [], [], patience)
        if not ready:
            break
        for reader in ready:
            data = os.read(reader, 1 << 16)
            if not data:
                del pending[reader]
                continue
            pending[reader] += data
            _receive(pending[reader], done)
    for reader, pid in children.items():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # idle by now, or too slow: its chunks are done here
        os.waitpid(pid, 0)
        os.close(reader)


def _take_chunks(
    queue: int,
    chunks: list[list[Path]],
    root: str | os.PathLike[str] | None,
    target: str | None,
    deliver: Callable[[int, list[Diagnostic]], object],
) -> None:
    """Check chunks taken from the queue until it is empty, delivering each one's result."""
    loader = Loader(Path(root) if root is not None else None)
    while True:
        token = os.read(queue, 4)
        if len(token) < 4:
            return
        index = int.from_bytes(token, "little")
        deliver(index, [d for path in chunks[index] for d in _check_one(loader, path, target)])


def _sender(writer: int) -> Callable[[int, list[Diagnostic]], None]:
    """Send one chunk's result through a child's pipe: index, length, pickled diagnostics."""
    import pickle

    def send(index: int, found: list[Diagnostic]) -> None:
        data = pickle.dumps(found, pickle.HIGHEST_PROTOCOL)
        record = index.to_bytes(4, "little") + len(data).to_bytes(4, "little") + data
        view = memoryview(record)
        while view:
            view = view[os.write(writer, view) :]

    return send


def _receive(buffer: bytearray, done: dict[int, list[Diagnostic]]) -> None:
    """Take every complete record out of ``buffer`` into ``done`` (a partial one waits)."""
    import pickle

    while len(buffer) >= 8:
        length = int.from_bytes(buffer[4:8], "little")
        if len(buffer) < 8 + length:
            return
        index = int.from_bytes(buffer[:4], "little")
        done.setdefault(index, pickle.loads(bytes(buffer[8 : 8 + length])))
        del buffer[: 8 + length]


def _check_slice(
    files: Sequence[Path],
    root: str | os.PathLike[str] | None,
    target: str | None,
    given: Mapping[Path, bytes] | None = None,
) -> list[Diagnostic]:
    loader = Loader(Path(root) if root is not None else None)
    for path, data in (given or {}).items():
        loader.put_bytes(path, data)
    return [d for path in files for d in _check_one(loader, path, target)]


def check_preset(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    target: str | None = None,
) -> list[Diagnostic]:
    """Check one preset; the diagnostics it has (empty when it is clean)."""
    return check_files([path], root=root, target=target)


def _check_one(loader: Loader, path: Path, target: str | None) -> list[Diagnostic]:
    try:
        preset = loader.load(path)
    except PresetError as error:
        return list(error.diagnostics)
    found = list(preset.warnings)
    if not any(d.is_error for d in found):
        from realtime_config.compiling._targets import chosen_target, target_diagnostics

        found.extend(target_diagnostics(preset, chosen_target(preset, target)))
    document = loader.document(path)
    stale = stale_copy_warning(document.path, document.display, document.text)
    if stale is not None:
        found.append(stale)
    return sorted(found, key=lambda d: (d.file, d.line, d.column))
