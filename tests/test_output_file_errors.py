"""Output files that cannot be written: each refusal and each system error, as the user sees it.

Companion of test_output_files.py, in-process this time (click's runner), so that every way
a write can fail is driven through the command line: a folder in the way, a path through a
regular file, a symlink loop, a block device, an open descriptor, a FIFO that is stdout,
a file system without hard links or without space, a temporary name taken, a file owned by
someone else, a hangup in the middle of the write.

Where the situation needs a file system this machine does not have (no hard links, a full
disk) the one os function that would fail there is replaced, and the test says which.
"""

from __future__ import annotations

import errno
import os
import secrets
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config._schema_copy import write_schema_copy
from realtime_config.cli import main
from tests.conftest import run_cli as run
from tests.conftest import write


def with_schema_copy(project: Path) -> None:
    """The schema copy that ``new`` writes first in a project without one."""
    (project / "schema").mkdir()
    write_schema_copy(project / "schema" / "realtime-session.schema.json")


COMPILED = '{\n  "modalities": [\n    "audio",\n    "text"\n  ],\n  "voice": "ash"\n}\n'


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def preset(project: Path) -> Path:
    return write(project / "p.toml", 'voice = "ash"\n')


# --- what is in the way ---------------------------------------------------------------------


def test_a_folder_where_the_new_preset_goes_is_refused_even_with_force(project: Path) -> None:
    (project / "presets" / "demo.toml").mkdir(parents=True)
    assert run("new", "--force", "demo") == (
        1,
        "",
        "realtime-config: error: presets/demo.toml: is a directory\n",
    )
    assert listing(project / "presets" / "demo.toml") == []


def test_an_output_below_a_regular_file_is_a_system_error(preset: Path) -> None:
    assert run("compile", "p.toml", "-o", "p.toml/out.json") == (
        1,
        "",
        "realtime-config: error: p.toml/out.json: cannot write: Not a directory\n",
    )
    assert preset.read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_a_symlink_loop_is_refused(project: Path, preset: Path) -> None:
    (project / "one").symlink_to("two")
    (project / "two").symlink_to("one")
    assert run("compile", "p.toml", "-o", "one") == (
        1,
        "",
        "realtime-config: error: one: cannot write: too many levels of symbolic links\n",
    )
    assert [str((project / n).readlink()) for n in ("one", "two")] == ["two", "one"]


def block_device(folder: Path) -> Path:
    """A block device node in ``folder`` (root may make one), else one of /dev's."""
    node = folder / "disk"
    try:
        os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    except PermissionError:
        found = [p for p in Path("/dev").iterdir() if p.is_block_device()]
        if not found:
            pytest.skip("no block device to point at, and no right to make one")
        return found[0]
    return node


def test_a_symlink_to_a_block_device_is_refused(project: Path, preset: Path) -> None:
    device = block_device(project)
    (project / "out.json").symlink_to(device)
    assert run("compile", "p.toml", "-o", "out.json") == (
        1,
        "",
        "realtime-config: error: out.json: is a block device, not a regular file; "
        "refusing to write to it\n",
    )
    assert device.is_block_device()
    assert (project / "out.json").is_symlink()


@pytest.mark.parametrize("options", [[], ["--force"], ["--from", "presets/base.toml"]])
def test_a_new_preset_whose_name_is_too_long_for_the_file_system(
    project: Path, options: list[str]
) -> None:
    """One line, not a traceback, however far the name gets (it used to escape as OSError)."""
    write(project / "presets" / "base.toml", 'type = "realtime"\n')
    name = "a" * 300
    assert run("new", *options, name) == (
        1,
        "",
        f"realtime-config: error: presets/{name}.toml: cannot write: File name too long\n",
    )
    assert listing(project / "presets") == ["base.toml"]


# --- open descriptors and standard streams --------------------------------------------------


def test_an_open_descriptor_is_written_through_and_left_open(project: Path, preset: Path) -> None:
    log = write(project / "log.txt", "before\n")
    descriptor = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        assert run("compile", "p.toml", "-o", f"/dev/fd/{descriptor}") == (0, "", "")
        os.write(descriptor, b"after\n")  # still open: the command did not close it
    finally:
        os.close(descriptor)
    assert log.read_text(encoding="utf-8") == "before\n" + COMPILED + "after\n"


def test_a_descriptor_open_on_the_preset_is_refused(preset: Path) -> None:
    descriptor = os.open(preset, os.O_WRONLY | os.O_APPEND)
    try:
        assert run("compile", "p.toml", "-o", f"/proc/self/fd/{descriptor}") == (
            1,
            "",
            f"realtime-config: error: /proc/self/fd/{descriptor}: is the preset itself; "
            "refusing to overwrite it\n",
        )
    finally:
        os.close(descriptor)
    assert preset.read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_a_descriptor_that_fails_to_take_the_bytes_is_a_system_error(preset: Path) -> None:
    # /dev/full takes no byte: every write fails with ENOSPC, as on a full disk.
    descriptor = os.open("/dev/full", os.O_WRONLY)
    try:
        assert run("compile", "p.toml", "-o", f"/dev/fd/{descriptor}") == (
            1,
            "",
            f"realtime-config: error: /dev/fd/{descriptor}: cannot write: "
            "No space left on device\n",
        )
    finally:
        os.close(descriptor)


def test_text_buffered_on_the_same_stream_is_written_first(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing public prints without flushing (click flushes each echo), so the writer is
    # called directly, as a program that printed to its stdout before would call it.
    from realtime_config._files import write_atomic

    log = project / "log.txt"
    with log.open("w", encoding="utf-8") as stream:
        monkeypatch.setattr(sys, "stdout", stream)
        print("printed before", file=stream)  # still in the stream's buffer
        write_atomic(Path(f"/dev/fd/{stream.fileno()}"), "written after\n")
        monkeypatch.undo()
    assert log.read_text(encoding="utf-8") == "printed before\nwritten after\n"


@contextmanager
def descriptor_1_as(replacement: int | None) -> Iterator[None]:
    """This process's descriptor 1 pointed at ``replacement`` (None: closed), then restored.

    Click's runner captures stdout in a buffer of its own, so descriptor 1 is what a shell
    redirection would have made it, and nothing else writes to it meanwhile.
    """
    saved = os.dup(1)
    try:
        if replacement is None:
            os.close(1)
        else:
            os.dup2(replacement, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def test_a_fifo_that_is_stdout_is_written_to(project: Path, preset: Path) -> None:
    """``compile p.toml -o pipe > pipe``: the FIFO is this process's stdout, so it is written
    to, as the redirection itself would be, instead of being refused."""
    os.mkfifo(project / "pipe")
    reader = os.open(project / "pipe", os.O_RDWR | os.O_NONBLOCK)  # RDWR: open needs no peer
    try:
        with descriptor_1_as(reader):
            outcome = run("compile", "p.toml", "-o", "pipe")
        assert outcome == (0, "", "")
        assert os.read(reader, 4096).decode("utf-8") == COMPILED
    finally:
        os.close(reader)
    assert stat.S_ISFIFO((project / "pipe").lstat().st_mode)


def test_with_stdout_closed_a_fifo_is_still_refused(project: Path, preset: Path) -> None:
    os.mkfifo(project / "pipe")
    with descriptor_1_as(None):
        outcome = run("compile", "p.toml", "-o", "pipe")
    assert outcome == (
        1,
        "",
        "realtime-config: error: pipe: is a FIFO (named pipe), not a regular file; "
        "refusing to write to it\n",
    )


# --- file systems that say no ----------------------------------------------------------------


def test_without_hard_links_a_new_file_is_created_exclusively(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system without hard links (FAT, some network ones) os.link fails with EPERM;
    ``new`` still creates the file, never over one that exists."""
    with_schema_copy(project)
    assert run("new", "linked") == (0, "created presets/linked.toml\n", "")
    expected = (project / "presets" / "linked.toml").read_text(encoding="utf-8")

    def no_links(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    assert run("new", "demo") == (0, "created presets/demo.toml\n", "")
    assert (project / "presets" / "demo.toml").read_text(encoding="utf-8") == expected
    assert listing(project / "presets") == ["demo.toml", "linked.toml"]


def test_without_hard_links_a_file_that_appears_meanwhile_is_kept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_schema_copy(project)
    target = project / "presets" / "demo.toml"

    def no_links_and_a_rival(*args: Any, **kwargs: Any) -> None:
        target.write_text("theirs\n", encoding="utf-8")  # another writer, just now
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "link", no_links_and_a_rival)
    assert run("new", "demo") == (
        1,
        "",
        "realtime-config: error: presets/demo.toml: already exists; use --force to overwrite it\n",
    )
    assert target.read_text(encoding="utf-8") == "theirs\n"
    assert listing(project / "presets") == ["demo.toml"]


def test_a_full_disk_is_reported_and_leaves_nothing_behind(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up as the new file is put in place: os.link fails with ENOSPC, which
    is no missing feature of the file system but a failure to report."""
    with_schema_copy(project)

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", disk_full)
    assert run("new", "demo") == (
        1,
        "",
        "realtime-config: error: presets/demo.toml: cannot write: No space left on device\n",
    )
    assert listing(project / "presets") == []


def test_a_temporary_name_already_taken_is_left_alone(
    preset: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = write(project / ".out.json.00000000.tmp", "someone else's\n")
    names = iter(["00000000", "11111111"])
    # The random part of the temporary name, made to collide once with a file already there.
    monkeypatch.setattr(secrets, "token_hex", lambda size: next(names))
    assert run("compile", "p.toml", "-o", "out.json") == (0, "", "")
    assert (project / "out.json").read_text(encoding="utf-8") == COMPILED
    assert taken.read_text(encoding="utf-8") == "someone else's\n"
    assert listing(project) == [".out.json.00000000.tmp", "out.json", "p.toml", "pyproject.toml"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_an_overwritten_file_keeps_its_owner_and_mode(preset: Path, project: Path) -> None:
    out = write(project / "out.json", "old\n")
    os.chown(out, 12345, 54321)
    out.chmod(0o640)
    assert run("compile", "p.toml", "-o", "out.json") == (0, "", "")
    status = out.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (12345, 54321, 0o640)
    assert out.read_text(encoding="utf-8") == COMPILED


# --- a hangup in the middle of the write ----------------------------------------------------


def test_a_hangup_while_writing_removes_the_temporary_file_then_ends_the_process(
    preset: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGHUP arrives while the file is being synced. The temporary file goes, the old
    output stays, and the process ends as the hangup would have ended it (status 129).

    Here the main thread blocks SIGHUP and another thread receives it, so the signal raised
    again once the file is gone stays pending instead of killing the test run: that is the
    writer's "still alive" path, which must end the process all the same.
    """
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
    out = write(project / "out.json", "old\n")
    real_fsync = os.fsync

    def hangup_during_fsync(descriptor: int) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})

        def hang_up() -> None:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
            os.kill(os.getpid(), signal.SIGHUP)

        sender = threading.Thread(target=hang_up)
        sender.start()
        sender.join()
        real_fsync(descriptor)

    # The sync is where a slow disk keeps a writer longest: the hangup comes then.
    monkeypatch.setattr(os, "fsync", hangup_during_fsync)
    try:
        result = CliRunner().invoke(main, ["compile", "p.toml", "-o", "out.json"])
    finally:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # discards the pending hangup
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert (result.exit_code, result.stdout, result.stderr) == (128 + signal.SIGHUP, "", "")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert listing(project) == ["out.json", "p.toml", "pyproject.toml"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
