"""The terminal's one way to fail, in-process: streams that fail, or were closed at start.

The installed entry point under /dev/full, a closed stdout and a closed pipe is tested in
tests/test_hostile_inputs.py; the fuzz suite fails stdout after any number of bytes.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from realtime_config.cli import main
from tests.conftest import write


class Failing(io.RawIOBase):
    """A stream that takes nothing: every write fails with ``error``."""

    def __init__(self, error: int) -> None:
        self.error = error

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(self.error, os.strerror(self.error))


def invoke(args: list[str], stdout: Any, stderr: Any) -> int:
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main.main(args, prog_name="realtime-config")
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else 1
    raise AssertionError("standalone mode always exits")  # pragma: no cover


def failing(error: int) -> io.TextIOWrapper:
    return io.TextIOWrapper(Failing(error), encoding="utf-8", write_through=True)


def test_a_stdout_closed_at_start_is_reported_when_written(project: Path) -> None:
    err = io.StringIO()
    assert invoke(["schema", "--path"], None, err) == 1
    assert err.getvalue() == (
        "realtime-config: error: cannot write the output: standard output is closed\n"
    )


def test_a_command_that_prints_nothing_does_not_mind_a_closed_stdout(project: Path) -> None:
    write(project / "p.toml", 'voice = "ash"\n')
    err = io.StringIO()
    assert invoke(["validate", "--quiet", "p.toml"], None, err) == 0
    assert err.getvalue() == ""


def test_a_file_written_before_stdout_failed_is_named(project: Path) -> None:
    err = io.StringIO()
    assert invoke(["new", "fresh"], failing(errno.EIO), err) == 1
    assert err.getvalue() == (
        "realtime-config: error: cannot write the output: Input/output error; "
        "schema/realtime-session.schema.json, presets/fresh.toml were written\n"
    )
    assert (project / "presets" / "fresh.toml").is_file()
    assert (project / "schema" / "realtime-session.schema.json").is_file()


def test_stdout_and_stderr_both_failing_is_still_status_1(project: Path) -> None:
    assert invoke(["schema"], failing(errno.ENOSPC), failing(errno.ENOSPC)) == 1


def test_stderr_closed_at_start_keeps_the_status(project: Path) -> None:
    write(project / "p.toml", "voice = 1\n")
    out = io.StringIO()
    assert invoke(["compile", "p.toml"], out, None) == 1
    assert out.getvalue() == ""


def test_a_closed_pipe_is_quiet_on_both_streams(project: Path) -> None:
    err = io.StringIO()
    assert invoke(["explain"], failing(errno.EPIPE), err) == 1
    assert err.getvalue() == ""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["explain", "voice"]])
def test_a_full_disk_is_status_1_with_one_line(project: Path, args: list[str]) -> None:
    err = io.StringIO()
    assert invoke(args, failing(errno.ENOSPC), err) == 1
    assert err.getvalue().endswith("cannot write the output: No space left on device\n")


def test_the_streams_are_given_back_after_the_command(project: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with contextlib.suppress(SystemExit):
            main.main(["--version"], prog_name="realtime-config")
        assert (sys.stdout, sys.stderr) == (out, err)
    assert out.getvalue().startswith("realtime-config, version ")
