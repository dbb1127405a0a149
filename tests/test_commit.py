"""The all-or-nothing commit of several files, and the repair of one that ``kill -9`` cut.

The command-line cases (signals, a read-only folder, the next run's report) are in
tests/test_hostile_inputs.py. Here the commit is driven directly, because some states can
only be made so: a run killed at each step (a forked child that ends itself with
``os._exit``, which runs no clean-up, as ``kill -9``), a journal another process holds, a
file system without hard links, a roll-back that itself fails.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from realtime_config import CommitError, OutputFileError

# Private: the all-or-nothing commit and its kill -9 seam have no public name; the commands
# that use it (migrate --in-place, compile --out-dir) are tested through the CLI elsewhere.
from realtime_config import _commit as files
from realtime_config._commit import (
    JOURNAL_NAME,
    FileChange,
    Recovery,
    commit_files,
    recover_commit,
    signals_held,
)
from tests.conftest import write


def tree(folder: Path) -> dict[str, bytes | None]:
    return {
        path.relative_to(folder).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def two(project: Path) -> tuple[list[FileChange], dict[str, bytes | None]]:
    """An existing file and a new one in a folder that does not exist yet."""
    write(project / "a.txt", "old a\n")
    changes = [FileChange(Path("a.txt"), "new a\n"), FileChange(Path("sub/deep/b.txt"), "new b\n")]
    return changes, tree(project)


@pytest.fixture
def hook(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Callable[[str, Path], None]], None]]:
    def install(function: Callable[[str, Path], None]) -> None:
        monkeypatch.setattr(files, "COMMIT_HOOK", function)

    yield install


def killed_at(project: Path, changes: list[FileChange], step: str, nth: int = 1) -> None:
    """Run the commit in a forked child that dies at the ``nth`` ``step``, as under kill -9."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's coverage is not collected
        seen = 0

        def die(name: str, path: Path) -> None:
            nonlocal seen
            if name == step:
                seen += 1
                if seen == nth:
                    os._exit(0)

        files.COMMIT_HOOK = die
        try:
            commit_files(changes, journal=project, bound=project)
        finally:
            os._exit(3)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child did not reach the step"


def actions(done: list[Recovery], project: Path) -> list[str]:
    return [f"{r.action} {r.path.relative_to(project).as_posix()}" for r in done]


# --- A commit that succeeds ---------------------------------------------------------------


def test_a_commit_writes_every_file_and_leaves_nothing_else(project: Path, two: tuple) -> None:
    changes, _ = two
    assert commit_files(changes, journal=project, bound=project) == [c.path for c in changes]
    assert tree(project) == {
        "a.txt": b"new a\n",
        "pyproject.toml": b"[project]\nname = 'demo'\n",
        "sub": None,
        "sub/deep": None,
        "sub/deep/b.txt": b"new b\n",
    }


def test_an_empty_commit_touches_nothing(project: Path) -> None:
    before = tree(project)
    assert commit_files([], journal=project) == []
    assert tree(project) == before


def test_a_replaced_file_keeps_its_mode(project: Path) -> None:
    target = write(project / "a.txt", "old\n")
    target.chmod(0o640)
    commit_files([FileChange(Path("a.txt"), "new\n")], journal=project)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_without_hard_links_the_backup_is_a_copy(
    project: Path, two: tuple, monkeypatch: pytest.MonkeyPatch, hook: Callable
) -> None:
    changes, before = two

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    copies: list[bytes] = []

    def look(name: str, path: Path) -> None:
        if name == "replaced" and path == Path("a.txt"):
            copies.extend(p.read_bytes() for p in project.glob(".a.txt.*.orig"))
            (project / "sub" / "deep").chmod(0o755)
            for staged in (project / "sub" / "deep").glob(".b.txt.*.tmp"):
                staged.unlink()  # the second replacement fails: the copy is put back

    hook(look)
    with pytest.raises(CommitError):
        commit_files(changes, journal=project, bound=project)
    assert copies == [b"old a\n"]
    assert tree(project) == before


# --- A commit that fails: every file as it was ------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (p / "t").mkdir(), "t: is a directory; nothing was changed"),
        (
            lambda p: (p / "t").symlink_to("/dev/null"),
            "t: leads outside the project root through the symlink t (to /dev/null); refusing "
            "to write through it; nothing was changed",
        ),
        (
            lambda p: os.link(write(p / "u", "another name"), p / "t"),
            "t: has 2 names (hard links), and another may lie outside the project root; "
            "refusing to write it; nothing was changed",
        ),
        (
            lambda p: write(p / "t", "made from"),
            "t: is the source; refusing to overwrite it; nothing was changed",
        ),
        (lambda p: None, None),
    ],
    ids=["directory", "symlink-out", "hard-link", "protected", "plain"],
)
def test_a_target_that_must_not_be_written_changes_nothing(
    project: Path, make: Callable[[Path], object], message: str | None
) -> None:
    make(project)
    write(project / "first.txt", "first\n")
    before = tree(project)
    changes = [
        FileChange(Path("first.txt"), "changed\n"),
        FileChange(Path("t"), "new\n", ((project / "t", "the source"),)),
    ]
    if message is None:  # nothing wrong with it: the commit goes through
        commit_files(changes, journal=project, bound=project)
        assert (project / "t").read_text(encoding="utf-8") == "new\n"
        return
    with pytest.raises(CommitError) as caught:
        commit_files(changes, journal=project, bound=project)
    assert str(caught.value) == message
    assert isinstance(caught.value.cause, OutputFileError)
    assert tree(project) == before


def test_a_socket_and_a_standard_stream_are_refused(project: Path) -> None:
    os.chdir(project)
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("s")
        with pytest.raises(CommitError, match=r"^s: is a socket, not a regular file"):
            commit_files([FileChange(Path("s"), "x")], journal=project)
    finally:
        server.close()
    with pytest.raises(CommitError, match=r"^/dev/stdout: is a standard stream, not a regular"):
        commit_files([FileChange(Path("/dev/stdout"), "x")], journal=project)


def test_a_folder_that_cannot_be_made_changes_nothing(project: Path) -> None:
    write(project / "sub", "a file where a folder should be")
    write(project / "a.txt", "old\n")
    before = tree(project)
    changes = [FileChange(Path("a.txt"), "new\n"), FileChange(Path("sub/b/c.txt"), "c\n")]
    with pytest.raises(CommitError) as caught:
        commit_files(changes, journal=project)
    assert str(caught.value) == ("sub/b/c.txt: cannot write: Not a directory; nothing was changed")
    assert tree(project) == before


def test_a_journal_already_there_means_another_run(project: Path, two: tuple) -> None:
    changes, _ = two
    write(project / JOURNAL_NAME, "")
    with pytest.raises(CommitError) as caught:
        commit_files(changes, journal=project)
    assert str(caught.value) == (
        ".realtime-config-journal: cannot write: another realtime-config run is writing these "
        "files now; nothing was changed"
    )
    assert (project / "a.txt").read_text(encoding="utf-8") == "old a\n"
    assert not (project / "sub").exists()


def test_a_journal_folder_that_is_missing_is_a_write_error(project: Path, two: tuple) -> None:
    changes, before = two
    with pytest.raises(CommitError, match="cannot write: No such file or directory; nothing"):
        commit_files(changes, journal=project / "missing")
    assert tree(project) == before


def test_a_roll_back_that_fails_leaves_the_journal_for_the_next_run(
    project: Path, two: tuple, hook: Callable
) -> None:
    changes, before = two

    def break_both(name: str, path: Path) -> None:
        if name == "replaced" and path == Path("a.txt"):
            for leftover in [*project.glob(".a.txt.*.orig"), *project.rglob(".b.txt.*.tmp")]:
                leftover.unlink()

    hook(break_both)
    with pytest.raises(CommitError) as caught:
        commit_files(changes, journal=project)
    assert not caught.value.repaired
    assert str(caught.value).startswith("sub/deep/b.txt: cannot write: No such file or directory;")
    assert str(caught.value).endswith("; the next run restores them")
    assert (project / JOURNAL_NAME).is_file()
    assert actions(recover_commit(project), project) == []  # nothing it can still undo
    assert not (project / JOURNAL_NAME).exists()
    # The backup was lost, which the error said; the folders the commit made are gone.
    assert tree(project) == {**before, "a.txt": b"new a\n"}


# --- Signals -------------------------------------------------------------------------------


def test_a_signal_mid_commit_rolls_back_and_is_reported(
    project: Path, two: tuple, hook: Callable
) -> None:
    changes, before = two
    hook(lambda name, path: os.kill(os.getpid(), signal.SIGTERM) if name == "staged" else None)
    with pytest.raises(CommitError) as caught:
        commit_files(changes, journal=project)
    assert (caught.value.signum, str(caught.value)) == (
        signal.SIGTERM,
        "interrupted by SIGTERM; nothing was changed",
    )
    assert tree(project) == before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_ctrl_c_after_the_last_file_ends_the_held_block(
    project: Path, two: tuple, hook: Callable
) -> None:
    changes, _ = two
    hook(lambda name, path: os.kill(os.getpid(), signal.SIGINT) if name == "committed" else None)
    written: list[Path] = []
    with pytest.raises(KeyboardInterrupt), signals_held():
        written = commit_files(changes, journal=project)
    assert written == [c.path for c in changes]
    assert (project / "sub" / "deep" / "b.txt").read_text(encoding="utf-8") == "new b\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- The repair after kill -9 ------------------------------------------------------------


def test_killed_while_staging_removes_what_it_made(project: Path, two: tuple) -> None:
    changes, before = two
    killed_at(project, changes, "staged")
    done = actions(recover_commit(project), project)
    assert [re.sub(r"\.[0-9a-f]{8}\.", ".X.", a) for a in done] == [
        "removed .a.txt.X.tmp",
        "removed sub/deep",
        "removed sub",
    ]
    assert tree(project) == before


def test_killed_midway_restores_the_first_and_removes_the_rest(project: Path, two: tuple) -> None:
    changes, before = two
    killed_at(project, changes, "replaced", nth=2)  # both placed, not yet committed
    assert (project / "a.txt").read_text(encoding="utf-8") == "new a\n"
    assert actions(recover_commit(project), project) == [
        "restored a.txt",
        "removed sub/deep/b.txt",
        "removed sub/deep",
        "removed sub",
    ]
    assert tree(project) == before


def test_killed_after_the_commit_point_keeps_the_new_files(project: Path, two: tuple) -> None:
    changes, _ = two
    killed_at(project, changes, "committed")
    done = actions(recover_commit(project), project)
    assert len(done) == 1 and done[0].startswith("removed .a.txt.")
    assert (project / "a.txt").read_text(encoding="utf-8") == "new a\n"
    assert (project / "sub" / "deep" / "b.txt").read_text(encoding="utf-8") == "new b\n"
    assert not (project / JOURNAL_NAME).exists()


def test_killed_between_the_backup_and_the_replacement(project: Path) -> None:
    """The backup is a second name of the unchanged file: it only has to go."""
    target = write(project / "a.txt", "old\n")
    os.link(target, project / ".a.txt.0123abcd.orig")
    entry = {
        "target": "a.txt",
        "temporary": ".a.txt.0123abcd.tmp",
        "backup": ".a.txt.0123abcd.orig",
        "new": False,
        "sha256": "",
    }
    write(project / JOURNAL_NAME, json.dumps({"files": [entry], "folders": []}) + "\n")
    assert actions(recover_commit(project), project) == ["removed .a.txt.0123abcd.orig"]
    assert target.read_text(encoding="utf-8") == "old\n"
    assert not (project / JOURNAL_NAME).exists()


def test_a_journal_killed_before_it_listed_anything_is_just_removed(project: Path) -> None:
    write(project / JOURNAL_NAME, "")
    assert recover_commit(project) == []
    assert not (project / JOURNAL_NAME).exists()


def test_no_journal_no_repair(project: Path) -> None:
    assert recover_commit(project) == []


def test_a_journal_another_process_holds_is_left_alone(project: Path) -> None:
    import fcntl

    write(project / JOURNAL_NAME, "{}\n")
    with (project / JOURNAL_NAME).open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(OutputFileError) as caught:
            recover_commit(project)
    assert str(caught.value) == (
        ".realtime-config-journal: cannot write: another realtime-config run is writing these "
        "files now"
    )
    assert (project / JOURNAL_NAME).exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json\n", "it is not JSON"),
        ("[]\n", "it is not a realtime-config journal"),
        ('{"files": [1]}\n', "an entry is not an object"),
        ('{"files": [{"target": ""}]}\n', "a file name in it is not valid: ''"),
        ('{"files": [{"target": "../x"}]}\n', "'../x' leads outside its folder"),
        (
            '{"files": [{"target": "a", "temporary": ".a.12345678.tmp", "backup": "b"}]}\n',
            "backup 'b' is not one of its own files",
        ),
    ],
)
def test_a_journal_that_cannot_be_used_is_refused(project: Path, text: str, reason: str) -> None:
    write(project / JOURNAL_NAME, text)
    with pytest.raises(OutputFileError) as caught:
        recover_commit(project)
    assert str(caught.value) == (
        f".realtime-config-journal: is the journal of an interrupted write, but {reason}; "
        "check the files it names, then remove it"
    )


def test_a_journal_that_is_not_a_regular_file_is_refused(project: Path) -> None:
    os.mkfifo(project / JOURNAL_NAME)
    with pytest.raises(OutputFileError, match="but it is not a regular file;"):
        recover_commit(project)


# --- The command line's part, in-process ----------------------------------------------------


def half_done(project: Path) -> Path:
    """A beta preset whose migration was killed after it was replaced: its backup is there."""
    from realtime_config import load_preset

    original = 'voice = "ash"\n'
    target = write(project / "presets" / "a.toml", 'type = "realtime"\n')
    write(project / "presets" / ".a.toml.0123abcd.orig", original)
    entry = {
        "target": "presets/a.toml",
        "temporary": ".a.toml.0123abcd.tmp",
        "backup": ".a.toml.0123abcd.orig",
        "new": False,
    }
    write(project / JOURNAL_NAME, json.dumps({"files": [entry], "folders": []}) + "\n")
    assert load_preset(target).dialect == "realtime"
    return target


def test_migrate_repairs_then_migrates(project: Path) -> None:
    from tests.conftest import run_cli

    target = half_done(project)
    assert run_cli("migrate", "--in-place", "presets/a.toml") == (
        0,
        "restored presets/a.toml\nrewrote presets/a.toml\n",
        "realtime-config: note: an earlier `migrate --in-place` was interrupted; what it left "
        "is put back as it was\n",
    )
    assert target.read_text(encoding="utf-8").startswith('type = "realtime"\n')
    assert sorted(p.name for p in project.rglob(".*")) == []


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["migrate", "--check", "presets/a.toml"], "migrate --in-place"),
        (["compile", "--out-dir", "snapshots", "--check"], "compile --out-dir"),
    ],
)
def test_a_check_after_a_kill_says_how_to_repair(
    project: Path, args: list[str], command: str
) -> None:
    from tests.conftest import run_cli

    half_done(project)
    assert run_cli(*args) == (
        1,
        "",
        f"realtime-config: error: an interrupted `{command}` left its files half-written "
        f"(.realtime-config-journal); run `{command}` again to repair them\n",
    )
    assert (project / JOURNAL_NAME).exists()


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
        (OSError(errno.EIO, "Input/output error"), "Input/output error"),
    ],
)
def test_a_folder_the_scan_cannot_list_is_a_located_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, raised: OSError, reason: str
) -> None:
    """Root lists any folder: the refusal a user would meet is made here by hand."""
    from tests.conftest import run_cli

    write(project / "presets" / "open.toml", 'voice = "ash"\n')
    write(project / "presets" / "private" / "hidden.toml", 'voice = "ash"\n')
    real = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "private":
            raise raised
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert run_cli("validate") == (
        1,
        f"presets/private:1:1: error: {reason}: the folder cannot be read, so the presets in "
        "it are not found\n",
        "1 preset checked: 1 error(s), 0 warning(s)\n",
    )


def test_a_path_written_outside_the_bound_is_the_callers_choice(project: Path) -> None:
    elsewhere = project.parent / f"{project.name}-elsewhere.txt"
    assert commit_files([FileChange(elsewhere, "x\n")], journal=project, bound=project) == [
        elsewhere
    ]
    assert elsewhere.read_text(encoding="utf-8") == "x\n"


def test_a_planted_journal_cannot_remove_a_file_outside_the_root(project: Path) -> None:
    """A pull request could commit a journal and a symlinked folder: the repair follows
    neither out of the root, even for a file whose content it knows."""
    import hashlib

    victim = write(project.parent / f"{project.name}-victim" / "config", "well known\n")
    (project / "evil").symlink_to(victim.parent)
    entry = {
        "target": "evil/config",
        "temporary": ".config.0123abcd.tmp",
        "backup": ".config.0123abcd.orig",
        "new": True,
        "sha256": hashlib.sha256(b"well known\n").hexdigest(),
    }
    write(project / JOURNAL_NAME, json.dumps({"files": [entry], "folders": []}) + "\n")
    with pytest.raises(OutputFileError, match="'evil/config' leads outside its folder"):
        recover_commit(project)
    assert victim.read_text(encoding="utf-8") == "well known\n"


def test_snapshots_outside_the_root_are_written_with_nothing_left_beside(project: Path) -> None:
    from tests.conftest import run_cli

    write(project / "presets" / "a.toml", 'voice = "ash"\n')
    elsewhere = project.parent / f"{project.name}-snapshots"
    assert run_cli("compile", "--out-dir", str(elsewhere)) == (
        0,
        f"wrote {elsewhere}/a.json\n1 snapshot: 1 written, 0 unchanged\n",
        "",
    )
    assert sorted(p.name for p in elsewhere.iterdir()) == ["a.json"]
