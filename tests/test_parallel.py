"""validate --jobs: worker processes give the same diagnostics, in the same order."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from realtime_config import Diagnostic, check_files

# Private: when to fork, how many workers and the worker's own step are the batch's
# internals; a public check_files gives the same diagnostics either way.
from realtime_config.compiling import _batch
from realtime_config.compiling._batch import PARALLEL_MIN_FILES, default_jobs
from tests.conftest import write

SCRIPT = Path(sys.executable).with_name("realtime-config")


def make_presets(project: Path) -> list[str]:
    write(project / "presets" / "base.toml", 'voice = "ash"\n[turn_detection]\nthreshold = 0.4\n')
    names = []
    for index in range(40):
        lines = ['preset.extends = "base.toml"\n']
        if index % 7 == 3:
            lines.append(f"speed = {2 + index}.0\n")
        if index % 11 == 5:
            lines.append('voice = "marine"\n')
        if index % 13 == 0:
            lines.append("[turn_detection\n")
        name = f"presets/p{index:02d}.toml"
        write(project / name, "".join(lines))
        names.append(name)
    return [*names, "presets/missing.toml", "presets/base.toml"]


def validate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "validate", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize("jobs", ["2", "3", "64"])
def test_workers_give_exactly_the_serial_output(project: Path, jobs: str) -> None:
    files = make_presets(project)
    serial = validate(project, "--jobs", "1", *files)
    parallel = validate(project, "--jobs", jobs, *files)
    assert serial.returncode == 1
    assert len(serial.stdout.splitlines()) == 14
    assert (parallel.returncode, parallel.stdout, parallel.stderr) == (
        serial.returncode,
        serial.stdout,
        serial.stderr,
    )


@pytest.mark.parametrize(
    ("cpus", "busy", "jobs"),
    [(2, 0, 2), (2, 0.4, 2), (2, 1, 1), (2, 3.5, 1), (8, 0, 8), (8, 3, 5), (1, 0, 1)],
)
def test_default_jobs_use_the_idle_cores(
    monkeypatch: pytest.MonkeyPatch, cpus: int, busy: float, jobs: int
) -> None:
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(_batch, "_busy_cpus", lambda: busy)
    assert default_jobs(PARALLEL_MIN_FILES - 1) == 1
    assert default_jobs(PARALLEL_MIN_FILES) == jobs
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert default_jobs(10 * PARALLEL_MIN_FILES) == 1


def test_busy_cpus_counts_the_other_running_processes() -> None:
    assert Path("/proc/loadavg").exists() == sys.platform.startswith("linux")
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 5
        seen = 0.0
        while time.monotonic() < deadline and seen < 1:  # the spinner runs, or waits to
            seen = max(seen, _batch._busy_cpus())
        assert seen >= 1
    finally:
        spinner.kill()
        spinner.wait()


def test_busy_cpus_falls_back_to_the_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_proc(*args: object, **kwargs: object) -> object:
        raise OSError("no /proc")

    monkeypatch.setattr("builtins.open", no_proc)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 0.0, 0.0))
    assert _batch._busy_cpus() == 1.5

    def missing() -> tuple[float, float, float]:
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", missing)
    assert _batch._busy_cpus() == 0.0


def test_jobs_must_not_be_negative(project: Path) -> None:
    done = validate(project, "--jobs", "-1", "x.toml")
    assert done.returncode == 2
    assert "-1 is not in the range x>=0" in done.stderr


def in_process(project: Path) -> list[Path]:
    return [project / name for name in make_presets(project)]


def test_workers_in_process_give_the_serial_diagnostics(project: Path) -> None:
    files = in_process(project)
    serial = check_files(files, jobs=1)
    assert len(serial) == 14
    assert check_files(files, jobs=2) == serial
    assert check_files(files, jobs=5) == serial


def test_a_fork_that_fails_leaves_the_slice_to_the_parent(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = in_process(project)
    serial = check_files(files, jobs=1)

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert check_files(files, jobs=3) == serial


def test_a_child_that_fails_has_its_chunks_checked_by_the_parent(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = in_process(project)
    serial = check_files(files, jobs=1)
    parent = os.getpid()
    check_one = _batch._check_one

    def failing_in_children(*args: Any) -> list[Diagnostic]:
        if os.getpid() != parent:
            raise RuntimeError("a bug in a worker")
        return check_one(*args)

    monkeypatch.setattr(_batch, "_check_one", failing_in_children)
    assert check_files(files, jobs=3) == serial


def test_a_child_that_hangs_is_ended_and_its_chunk_checked_by_the_parent(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = in_process(project)
    serial = check_files(files, jobs=1)
    parent = os.getpid()
    check_one = _batch._check_one

    def hanging_in_children(*args: Any) -> list[Diagnostic]:
        if os.getpid() != parent:
            time.sleep(120)  # a starved worker: the parent must not wait for it
        return check_one(*args)

    monkeypatch.setattr(_batch, "_check_one", hanging_in_children)
    started = time.monotonic()
    assert check_files(files, jobs=2) == serial
    assert time.monotonic() - started < 60


def test_chunks_go_to_whichever_process_takes_them(project: Path) -> None:
    """The queue hands out each chunk once: the parent alone, a child alone, or both."""
    files = in_process(project)
    queue, feed = os.pipe()
    chunks = [files[:20], files[20:30], files[30:]]
    os.write(feed, b"".join(index.to_bytes(4, "little") for index in (2, 0, 1)))
    os.close(feed)
    taken: list[int] = []
    _batch._take_chunks(queue, chunks, None, None, lambda index, _found: taken.append(index))
    os.close(queue)
    assert taken == [2, 0, 1]


def test_workers_are_forked_without_a_process_pool(project: Path) -> None:
    files = make_presets(project)
    probe = (
        "import sys; from realtime_config import check_files\n"
        f"found = check_files({files!r}, jobs=2)\n"
        "print(len(found), 'multiprocessing' in sys.modules, 'concurrent.futures' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=project, capture_output=True, text=True, check=True
    )
    assert done.stdout == "14 False False\n"


def test_fork_is_not_used_while_another_thread_runs(project: Path) -> None:
    files = in_process(project)
    serial = check_files(files, jobs=1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not _batch._can_fork()
        assert check_files(files, jobs=2) == serial
    finally:
        stop.set()
        other.join()
    assert _batch._can_fork() == (sys.platform == "linux")
