"""Checking a batch of preset files: validate's entry point, in worker processes for long lists.

Each file is loaded (read, parsed, resolved and checked, _loader and _checks) and checked for
its target (_targets); the diagnostics of every file come back in order, and nothing raises
for bad input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._keys import dedupe
from realtime_config._loader import Loader

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
) -> list[Diagnostic]:
    """Check every preset in ``paths``: all diagnostics, errors and warnings, in order.

    Never raises for bad input: unreadable or malformed files become diagnostics. With
    ``jobs`` above one (and fork available, as on Linux), contiguous slices of the list are
    checked in that many processes; the result is the same, in the same order.
    """
    files = [Path(path) for path in paths]
    workers = min(jobs, len(files))
    if workers <= 1 or not _can_fork():
        return dedupe(_check_slice(files, root, target))
    size = -(-len(files) // workers)
    slices = [files[start : start + size] for start in range(0, len(files), size)]
    return dedupe([d for part in _forked(slices, root, target) for d in part])


def _can_fork() -> bool:
    """Fork is safe: Linux, and no other thread running (a child would inherit its locks)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _forked(
    slices: list[list[Path]], root: str | os.PathLike[str] | None, target: str | None
) -> list[list[Diagnostic]]:
    """Each slice's diagnostics: the first checked here, every other in a forked child that
    sends its result back through a pipe.

    Plain os.fork: the child has the schema, the quick check and every import already, and
    no pool, no queue threads and no pickled call cross over. A child that fails in any
    way (it cannot fork, it dies, its answer is cut short) has its slice checked here.
    """
    import gc
    import pickle

    gc.freeze()  # the children's copies of the loaded schema stay shared pages
    children: list[tuple[int, int] | None] = []
    for part in slices[1:]:
        try:
            reader, writer = os.pipe()
            pid = os.fork()
        except OSError:
            children.append(None)
            continue
        if pid == 0:  # the child: check, send, and leave without any of the parent's exits
            status = 1
            try:
                os.close(reader)
                data = pickle.dumps(_check_slice(part, root, target), pickle.HIGHEST_PROTOCOL)
                with os.fdopen(writer, "wb") as stream:
                    stream.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(writer)
        children.append((pid, reader))
    parts = [_check_slice(slices[0], root, target)]
    for part, child in zip(slices[1:], children, strict=True):
        found = _answer(child)
        parts.append(found if found is not None else _check_slice(part, root, target))
    gc.unfreeze()
    return parts


def _answer(child: tuple[int, int] | None) -> list[Diagnostic] | None:
    """What a child sent, once it has exited with status 0; None if anything went wrong."""
    import pickle

    if child is None:
        return None
    pid, reader = child
    with os.fdopen(reader, "rb") as stream:
        data = stream.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:  # our own child's bytes
        found: list[Diagnostic] = pickle.loads(data)
    except Exception:  # a cut answer: the slice is checked here instead
        return None
    return found


def _check_slice(
    files: Sequence[Path], root: str | os.PathLike[str] | None, target: str | None
) -> list[Diagnostic]:
    loader = Loader(Path(root) if root is not None else None)
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
        from realtime_config._targets import chosen_target, target_diagnostics

        found.extend(target_diagnostics(preset, chosen_target(preset, target)))
    return sorted(found, key=lambda d: (d.file, d.line, d.column))
