"""validate --jobs: worker processes give the same diagnostics, in the same order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from realtime_config._checks import PARALLEL_MIN_FILES, default_jobs
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


def test_default_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    assert default_jobs(PARALLEL_MIN_FILES - 1) == 1
    assert default_jobs(PARALLEL_MIN_FILES) == (os.cpu_count() or 1)
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert default_jobs(10 * PARALLEL_MIN_FILES) == 1


def test_jobs_must_not_be_negative(project: Path) -> None:
    done = validate(project, "--jobs", "-1", "x.toml")
    assert done.returncode == 2
    assert "-1 is not in the range x>=0" in done.stderr
