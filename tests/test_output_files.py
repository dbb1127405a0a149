"""Output files (`-o`, `--out-dir`, `new`) are written in place only when they are regular files.

Devices, FIFOs and sockets are refused, symlinks are written through, standard streams are
written to, the files a preset is made from are never overwritten, "no overwrite" holds
against a racing writer, temporary files go away on signals, and the umask is left alone.

None of these tests names a real device as an output: an old build that renamed over
/dev/null or /dev/stdout would damage the machine running the tests. Devices are reached
through symlinks in the test's own folder instead, which such a build would only replace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from realtime_config import OutputFileError

# The public API writes no file: the atomic writer's races, the library's own wording and
# which descriptor a name reaches are the writer's, and the command line only calls it.
from realtime_config._files import _follow_symlinks, write_atomic
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
