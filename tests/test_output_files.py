"""Output files (`-o`, `--out-dir`, `new`) are written in place only when they are regular files.

Devices, FIFOs and sockets are refused, symlinks are written through, standard streams are
written to, the files a preset is made from are never overwritten, "no overwrite" holds
against a racing writer, temporary files go away on signals, and the umask is left alone.

None of these tests names a real device as an output: an old build that renamed over
/dev/null or /dev/stdout would damage the machine running the tests. Devices are reached
through symlinks in the test's own folder instead, which such a build would only replace.

Every way a write can fail is driven through the command line too (click's runner, in
process): a folder in the way, a path through a regular file, a symlink loop, a block
device, an open descriptor, a FIFO that is stdout, a file system without hard links or
without space, a temporary name taken, a file owned by someone else, a hangup in the middle
of the write. Where the situation needs a file system this machine does not have (no hard
links, a full disk) the one os function that would fail there is replaced, and the test
says which.
"""

from __future__ import annotations

import errno
import os
import secrets
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config import OutputFileError

# The public API writes no file: the atomic writer's races, the library's own wording and
# which descriptor a name reaches are the writer's, and the command line only calls it.
from realtime_config._files import _follow_symlinks, write_atomic
from realtime_config.cli import main
from tests.conftest import PROJECT, write
from tests.conftest import run_cli as run

ENTRY_POINT = Path(sys.executable).with_name("realtime-config")
COMPILED = '{\n  "modalities": [\n    "audio",\n    "text"\n  ],\n  "voice": "ash"\n}\n'


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def preset(project: Path) -> Path:
    return write(project / "p.toml", 'voice = "ash"\n')


# --- devices, FIFOs and sockets are refused ------------------------------------------------


def test_compile_refuses_a_fifo_and_leaves_it_a_fifo(project: Path, preset: Path) -> None:
    os.mkfifo(project / "pipe")
    assert run("compile", "p.toml", "-o", "pipe") == (
        1,
        "",
        "realtime-config: error: pipe: is a FIFO (named pipe), not a regular file; "
        "refusing to write to it\n",
    )
    assert (project / "pipe").is_fifo()
    assert listing(project) == ["p.toml", "pipe", "pyproject.toml"]


def test_a_symlink_to_a_device_is_refused_and_kept(project: Path, preset: Path) -> None:
    (project / "null").symlink_to("/dev/null")
    assert run("compile", "p.toml", "-o", "null") == (
        1,
        "",
        "realtime-config: error: null: is a character device, not a regular file; "
        "refusing to write to it\n",
    )
    assert (project / "null").is_symlink()
    assert (project / "null").readlink() == Path("/dev/null")


def test_import_and_new_refuse_a_fifo_even_with_force(project: Path) -> None:
    write(project / "body.json", '{"voice": "ash"}')
    os.mkfifo(project / "out.toml")
    assert run("import", "body.json", "-o", "out.toml", "--force") == (
        1,
        "",
        "realtime-config: error: out.toml: is a FIFO (named pipe), not a regular file; "
        "refusing to write to it\n",
    )
    (project / "presets").mkdir()
    os.mkfifo(project / "presets" / "agent.toml")
    assert run("new", "agent", "--force") == (
        1,
        "",
        "realtime-config: error: presets/agent.toml: is a FIFO (named pipe), not a regular "
        "file; refusing to write to it\n",
    )
    assert (project / "out.toml").is_fifo()
    assert (project / "presets" / "agent.toml").is_fifo()
    assert listing(project / "presets") == ["agent.toml"]


def test_a_snapshot_that_is_a_socket_is_refused(project: Path) -> None:
    import socket

    write(project / "presets" / "a.toml", 'voice = "ash"\n')
    (project / "snapshots").mkdir()
    # A socket path is short-lived and relative here: AF_UNIX paths are limited to ~100 bytes.
    os.chdir(project / "snapshots")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("a.json")
        os.chdir(project)
        code, out, err = run("compile", "--out-dir", "snapshots")
    finally:
        server.close()
        os.chdir(project)
    assert (code, out) == (1, "")
    assert err == (
        "realtime-config: error: snapshots/a.json: is a socket, not a regular file; "
        "refusing to write to it; nothing was changed\n"
    )
    assert (project / "snapshots" / "a.json").is_socket()


# --- symlinks are written through ----------------------------------------------------------


def test_a_symlinked_output_is_written_through_in_the_targets_folder(
    project: Path, preset: Path
) -> None:
    elsewhere = write(project / "elsewhere" / "real.json", "old\n")
    (project / "link.json").symlink_to("elsewhere/real.json")
    assert run("compile", "p.toml", "-o", "link.json") == (0, "", "")
    assert (project / "link.json").is_symlink()
    assert elsewhere.read_text(encoding="utf-8") == COMPILED
    assert listing(project / "elsewhere") == ["real.json"]
    assert listing(project) == ["elsewhere", "link.json", "p.toml", "pyproject.toml"]


def test_a_dangling_symlink_creates_its_target(project: Path) -> None:
    write(project / "body.json", '{"voice": "ash"}')
    (project / "out").mkdir()
    (project / "link.toml").symlink_to("out/new.toml")
    assert run("import", "body.json", "-o", "link.toml") == (0, "", "")
    assert (project / "link.toml").is_symlink()
    assert (project / "out" / "new.toml").read_text(encoding="utf-8").endswith('voice = "ash"\n')
    # Without --force the target now exists, and the link does not get around that.
    assert run("import", "body.json", "-o", "link.toml") == (
        1,
        "",
        "realtime-config: error: link.toml: already exists; use --force to overwrite it\n",
    )


def test_a_snapshot_symlinked_to_its_preset_is_refused(project: Path) -> None:
    preset = write(project / "presets" / "a.toml", 'voice = "ash"\n')
    (project / "snapshots").mkdir()
    (project / "snapshots" / "a.json").symlink_to("../presets/a.toml")
    code, out, err = run("compile", "--out-dir", "snapshots")
    assert (code, out) == (1, "")
    assert err == (
        "realtime-config: error: snapshots/a.json: is a file that presets/a.toml is made "
        "from; refusing to overwrite it; nothing was changed\n"
    )
    assert preset.read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_a_symlinked_snapshot_is_written_through(project: Path) -> None:
    write(project / "presets" / "a.toml", 'voice = "ash"\n')
    real = write(project / "kept" / "a.json", "{}\n")
    (project / "snapshots").mkdir()
    (project / "snapshots" / "a.json").symlink_to("../kept/a.json")
    assert run("compile", "--out-dir", "snapshots") == (
        0,
        "wrote snapshots/a.json\n1 snapshot: 1 written, 0 unchanged\n",
        "",
    )
    assert (project / "snapshots" / "a.json").is_symlink()
    assert real.read_text(encoding="utf-8") == COMPILED


# --- standard streams are written to, not replaced -----------------------------------------


def entry_point(*args: str, cwd: Path, **streams: Any) -> subprocess.CompletedProcess[bytes]:
    assert ENTRY_POINT.is_file(), f"the installed entry point is missing: {ENTRY_POINT}"
    for name in {"/dev/stdout", "/dev/stderr"} & set(args):
        # Only a build that writes to these names through the open descriptor may be
        # pointed at them: an old one, run as root, renamed a file over /dev/stdout.
        assert _follow_symlinks(Path(name)) in (1, 2)
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **streams}
    return subprocess.run([str(ENTRY_POINT), *args], cwd=cwd, timeout=60, check=False, **streams)


@pytest.mark.parametrize("name", ["/proc/self/fd/1", "/dev/fd/1", "stdout-link"])
def test_a_name_for_stdout_prints_the_payload(project: Path, preset: Path, name: str) -> None:
    (project / "stdout-link").symlink_to("/dev/stdout")
    done = entry_point("compile", "p.toml", "-o", name, cwd=project)
    assert (done.returncode, done.stdout, done.stderr) == (0, COMPILED.encode(), b"")
    assert (project / "stdout-link").is_symlink()
    assert listing(project) == ["p.toml", "pyproject.toml", "stdout-link"]


def test_dev_stdout_and_dev_stderr_are_written_to(project: Path, preset: Path) -> None:
    assert _follow_symlinks(Path("/dev/stdout")) == 1
    assert _follow_symlinks(Path("/dev/stderr")) == 2
    done = entry_point("compile", "p.toml", "-o", "/dev/stdout", cwd=project)
    assert (done.returncode, done.stdout, done.stderr) == (0, COMPILED.encode(), b"")
    done = entry_point("compile", "p.toml", "-o", "/dev/stderr", "--compact", cwd=project)
    assert (done.returncode, done.stdout) == (0, b"")
    assert done.stderr == b'{"modalities":["audio","text"],"voice":"ash"}'
    assert Path("/dev/stdout").is_symlink()


def test_stdout_appended_to_a_file_is_appended_to(project: Path, preset: Path) -> None:
    log = write(project / "log.txt", "before\n")
    with log.open("ab") as stream:
        done = entry_point("compile", "p.toml", "-o", "/dev/stdout", cwd=project, stdout=stream)
    assert done.returncode == 0
    assert log.read_text(encoding="utf-8") == "before\n" + COMPILED


def test_stdout_that_is_the_preset_is_refused(project: Path, preset: Path) -> None:
    with preset.open("ab") as stream:
        done = entry_point("compile", "p.toml", "-o", "/dev/stdout", cwd=project, stdout=stream)
    assert (done.returncode, done.stderr) == (
        1,
        b"realtime-config: error: /dev/stdout: is the preset itself; refusing to overwrite it\n",
    )
    assert preset.read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_a_descriptor_that_is_not_open_is_an_error(preset: Path) -> None:
    assert run("compile", "p.toml", "-o", "/dev/fd/987654") == (
        1,
        "",
        "realtime-config: error: /dev/fd/987654: cannot write: file descriptor 987654 is not open\n",
    )


# --- the files a preset is made from are never overwritten ---------------------------------


def test_compile_refuses_to_overwrite_a_base_or_the_instructions(project: Path) -> None:
    base = write(project / "base.toml", 'voice = "ash"\n')
    notes = write(project / "notes.md", "Be brief.\n")
    write(
        project / "p.toml",
        'voice = "sage"\n[preset]\nextends = "base.toml"\ninstructions_file = "notes.md"\n',
    )
    made_from = "a file the preset is made from (a base it extends or its instructions file)"
    for output in ("base.toml", "notes.md"):
        assert run("compile", "p.toml", "-o", output) == (
            1,
            "",
            f"realtime-config: error: {output}: is {made_from}; refusing to overwrite it\n",
        )
    assert base.read_text(encoding="utf-8") == 'voice = "ash"\n'
    assert notes.read_text(encoding="utf-8") == "Be brief.\n"


def test_a_base_reached_through_a_symlink_is_refused_too(project: Path) -> None:
    base = write(project / "base.toml", 'voice = "ash"\n')
    write(project / "p.toml", 'preset.extends = "base.toml"\nspeed = 1.1\n')
    (project / "out.json").symlink_to("base.toml")
    code, _, err = run("compile", "p.toml", "-o", "out.json")
    assert code == 1
    assert err.startswith("realtime-config: error: out.json: is a file the preset is made from")
    assert base.read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_new_refuses_to_overwrite_a_base_of_its_base(project: Path) -> None:
    root = write(project / "presets" / "root.toml", 'voice = "ash"\n')
    write(project / "presets" / "mid.toml", 'preset.extends = "root.toml"\nspeed = 1.1\n')
    assert run("new", "root", "--from", "presets/mid.toml", "--force") == (
        1,
        "",
        "realtime-config: error: presets/root.toml: is a file that presets/mid.toml is made "
        "from; refusing to overwrite it\n",
    )
    assert root.read_text(encoding="utf-8") == 'voice = "ash"\n'


# --- "no overwrite without --force" holds against a racing writer ---------------------------


def test_a_file_that_appears_just_before_the_rename_is_not_clobbered(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer creates the file at the last moment: right before the file is put in
    place, whatever call does that. The first writer must lose, not clobber it."""
    out = project / "out.toml"

    def racing(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(source: Any, destination: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(destination) == out and not out.exists():
                out.write_text("theirs\n", encoding="utf-8")
            return real(source, destination, *args, **kwargs)

        return call

    for name in ("replace", "rename", "link"):
        monkeypatch.setattr(os, name, racing(getattr(os, name)))
    with pytest.raises(OutputFileError) as info:
        write_atomic(out, "mine\n", overwrite=False)
    assert (info.value.reason, str(info.value)) == ("exists", f"{out}: already exists")
    assert out.read_text(encoding="utf-8") == "theirs\n"
    assert listing(project) == ["out.toml", "pyproject.toml"]


def test_of_many_racing_writers_exactly_one_wins(project: Path) -> None:
    out = project / "out.toml"
    start = threading.Barrier(8)
    outcomes: dict[int, str] = {}

    def writer(number: int) -> None:
        start.wait()
        try:
            write_atomic(out, f"writer {number}\n", overwrite=False)
        except OutputFileError as error:
            outcomes[number] = error.reason
        else:
            outcomes[number] = "won"

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [winner] = [n for n, outcome in outcomes.items() if outcome == "won"]
    assert sorted(outcomes.values()) == ["exists"] * 7 + ["won"]
    assert out.read_text(encoding="utf-8") == f"writer {winner}\n"
    assert listing(project) == ["out.toml", "pyproject.toml"]


# --- facts in the library, remedies in the command line ------------------------------------


def test_the_library_states_facts_without_command_line_flags(project: Path) -> None:
    out = write(project / "out.toml", "kept\n")
    with pytest.raises(OutputFileError) as info:
        write_atomic(out, "new\n", overwrite=False)
    assert (info.value.path, info.value.reason) == (out, "exists")
    assert str(info.value) == f"{out}: already exists"
    assert "--force" not in str(info.value)


# --- modes and the umask ---------------------------------------------------------------------


def test_the_umask_is_never_changed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mask = os.umask(0o027)
    try:

        def no_umask(mask: int) -> int:
            raise AssertionError("os.umask called: it changes the umask of every thread")

        monkeypatch.setattr(os, "umask", no_umask)
        write(project / "p.toml", 'voice = "ash"\n')
        new = project / "new.json"
        assert run("compile", "p.toml", "-o", "new.json") == (0, "", "")
        assert new.stat().st_mode & 0o777 == 0o640
        existing = write(project / "existing.json", "old\n")
        existing.chmod(0o604)
        assert run("compile", "p.toml", "-o", "existing.json") == (0, "", "")
        assert existing.stat().st_mode & 0o777 == 0o604
        assert existing.read_text(encoding="utf-8") == COMPILED
    finally:
        monkeypatch.undo()
        os.umask(mask)


# --- temporary files go away on SIGINT and SIGTERM --------------------------------------------

# A child process writes with an fsync that never returns, the parent signals it mid-write.
SLOW_WRITER = """
import os, sys, time
from pathlib import Path
from realtime_config._files import write_atomic

def stuck(descriptor):
    print("writing", flush=True)
    time.sleep(60)

os.fsync = stuck
write_atomic(Path(sys.argv[1]), "new\\n")
"""


@pytest.mark.parametrize(
    ("signum", "status"),
    [
        (signal.SIGTERM, -signal.SIGTERM),
        (signal.SIGINT, -signal.SIGINT),
        (signal.SIGHUP, -signal.SIGHUP),
    ],
    ids=["SIGTERM", "SIGINT", "SIGHUP"],
)
def test_a_signal_mid_write_leaves_no_temporary_file(
    project: Path, signum: int, status: int
) -> None:
    out = write(project / "out.json", "old\n")
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    with subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == b"writing\n"
        assert any(name.endswith(".tmp") for name in listing(project))  # mid-write indeed
        child.send_signal(signum)
        _, err = child.communicate(timeout=30)
    assert child.returncode == status, err
    if signum == signal.SIGINT:
        assert err.rstrip().endswith(b"KeyboardInterrupt")
    assert listing(project) == ["out.json", "pyproject.toml"]
    assert out.read_text(encoding="utf-8") == "old\n"


def test_a_handler_the_program_installed_is_left_alone(project: Path) -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        write_atomic(project / "out.json", "{}\n")
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


# === output files that cannot be written, as the user sees each refusal and system error ===


def with_schema_copy(project: Path) -> None:
    """The schema copy that ``new`` writes first in a project without one."""
    (project / "schema").mkdir()
    copy = "schema/realtime-session.schema.json"
    assert run("schema", "--write", copy) == (0, f"wrote {copy}\n", "")


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


def test_a_protected_file_that_is_not_there_protects_nothing(project: Path) -> None:
    """A base named as protected but gone (deleted since the preset loaded) is no reason to
    refuse the output."""
    out = project / "out.json"
    write_atomic(out, "new\n", protected=[(project / "gone.toml", "the preset itself")])
    assert out.read_text(encoding="utf-8") == "new\n"
