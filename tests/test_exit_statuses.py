"""Exit statuses that scripts rely on: `diff` fails with 2, never 1 ("they differ"), and an
unreadable preset is the loader's located diagnostic (exit 1 for `validate`, the other files
still checked), not click's usage error (exit 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config.cli import main
from tests.conftest import write

ENTRY_POINT = Path(sys.executable).with_name("realtime-config")
UNREADABLE = "permission denied: the file cannot be read"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def command(*args: str, cwd: Path, **options: Any) -> subprocess.CompletedProcess[bytes]:
    """The installed ``realtime-config``, as a user without root's power to read anything."""
    assert ENTRY_POINT.is_file(), f"the installed entry point is missing: {ENTRY_POINT}"
    env = {**os.environ, "NO_COLOR": "1"}
    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads a mode-000 file: run as nobody instead
        setpriv = shutil.which("setpriv")
        if setpriv:
            prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        else:
            options.update(user=65534, group=65534, extra_groups=[])
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [*prefix, str(ENTRY_POINT), *args],
        cwd=cwd,
        env=env,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
        **options,
    )


@pytest.fixture
def shared() -> Iterator[Path]:
    """A project folder that an unprivileged user can enter (tmp_path's parents are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="realtime-config-"))
    folder.chmod(0o755)
    write(folder / "pyproject.toml", "[project]\nname = 'demo'\n").chmod(0o644)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def readable(path: Path, text: str) -> Path:
    write(path, text).chmod(0o644)
    return path


def unreadable(path: Path, text: str) -> Path:
    write(path, text).chmod(0o000)
    return path


# --- diff: 2 on any failure ----------------------------------------------------------------


@pytest.fixture
def two(project: Path) -> tuple[Path, Path]:
    return write(project / "a.toml", 'voice = "ash"\n'), write(
        project / "b.toml", 'voice = "sage"\n'
    )


def test_diff_into_a_full_disk_is_2_with_one_line(project: Path, two: tuple[Path, Path]) -> None:
    with Path("/dev/full").open("wb") as full:
        done = subprocess.run(
            [str(ENTRY_POINT), "diff", "a.toml", "b.toml"],
            cwd=project,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    assert (done.returncode, done.stderr) == (
        2,
        b"realtime-config: error: cannot write the output: No space left on device\n",
    )


def test_diff_into_a_closed_pipe_is_2_in_silence(project: Path, two: tuple[Path, Path]) -> None:
    """The reader went away (``| head``): nothing to tell it, as Unix tools do."""
    reading, writing = os.pipe()
    os.close(reading)
    try:
        done = subprocess.run(
            [str(ENTRY_POINT), "diff", "--format", "json", "a.toml", "b.toml"],
            cwd=project,
            stdout=writing,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writing)
    assert (done.returncode, done.stderr) == (2, b"")


@pytest.mark.parametrize(
    ("raised", "stderr"),
    [(KeyboardInterrupt, "Aborted!\n"), (RuntimeError, "RuntimeError: a bug\n")],
    ids=["interrupted", "a bug"],
)
def test_diff_interrupted_or_crashing_is_2(
    two: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    raised: type[BaseException],
    stderr: str,
) -> None:
    def broken(*args: Any) -> Any:
        raise raised("a bug")

    monkeypatch.setattr("realtime_config.authoring._diff.diff_payloads", broken)
    code, out, err = run("diff", "a.toml", "b.toml")
    assert (code, out) == (2, "")
    assert err.endswith(stderr)


def test_diff_of_an_unreadable_preset_is_2_with_the_loaders_diagnostic(shared: Path) -> None:
    readable(shared / "a.toml", 'voice = "ash"\n')
    unreadable(shared / "b.toml", 'voice = "sage"\n')
    done = command("diff", "a.toml", "b.toml", cwd=shared)
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.decode() == f"b.toml:1:1: error: {UNREADABLE}\n"


# --- validate: an unreadable preset is a diagnostic, and the others are still checked --------


def test_validate_reports_an_unreadable_preset_and_checks_the_others(shared: Path) -> None:
    unreadable(shared / "locked.toml", 'voice = "ash"\n')
    readable(shared / "bad.toml", "speed = 9\n")
    readable(shared / "good.toml", 'voice = "ash"\n')
    done = command("validate", "locked.toml", "bad.toml", "good.toml", cwd=shared)
    assert (done.returncode, done.stdout.decode()) == (
        1,
        f"locked.toml:1:1: error: {UNREADABLE}\n"
        "bad.toml:1:9: error: speed: 9 is greater than the maximum of 1.5 "
        "(allowed: 0.25 to 1.5)\n",
    )
    assert done.stderr == b"3 presets checked: 2 error(s), 0 warning(s)\n"


def test_compile_and_import_of_an_unreadable_file_are_1_with_the_diagnostic(shared: Path) -> None:
    unreadable(shared / "locked.toml", 'voice = "ash"\n')
    done = command("compile", "locked.toml", cwd=shared)
    assert (done.returncode, done.stderr.decode()) == (1, f"locked.toml:1:1: error: {UNREADABLE}\n")
    unreadable(shared / "locked.json", '{"voice": "ash"}')
    done = command("import", "locked.json", cwd=shared)
    assert done.returncode == 1
    assert done.stderr.decode().startswith("locked.json:1:1: error: ")
    assert b"Usage:" not in done.stderr
