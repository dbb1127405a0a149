"""Writing several files all or nothing, with a journal that survives ``kill -9``.

Several files (``commit_files``) are written all or nothing: every new text is staged in a
temporary file beside its target, then the targets are replaced one by one, each original
kept as a backup (a hard link) until all are in place. A failure, or SIGINT, SIGTERM or
SIGHUP, puts every original back. A journal in a folder the command names lists the files
while they change, so that after a ``kill -9`` the next run puts back or removes what is
left (``recover_commit``). A file the command found by itself (``bound`` given) is never
written through a symlink leading out of ``bound``, nor when it has another hard link.
Each file is checked as ``_files`` checks a single write (no device, no protected input, no
read-only file) before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Literal

from realtime_config._errors import CommitError, OutputFileError
from realtime_config._files import (
    _CLEANUP_SIGNALS,
    _NO_LINKS,
    _follow_symlinks,
    _Interrupted,
    _keep_owner,
    _kind,
    _lstat,
    _refuse_protected,
    _refuse_read_only,
    _write_all,
)
from realtime_config._project import display_path

JOURNAL_NAME = ".realtime-config-journal"
"""The journal of a commit in progress, in the folder its command names (``journal``)."""

COMMIT_HOOK: Callable[[str, Path], None] | None = None
"""Called at each step of a commit (``"staged"``, ``"replaced"``) with the file concerned,
and once every file is in place (``"committed"``, with the journal): a seam for tests that
interrupt a commit at a known point; None in normal use."""


@dataclass(frozen=True)
class FileChange:
    """One file of a commit: its path as the command names it, its new text, and the files it
    must never replace (``protected``, as for ``write_atomic``)."""

    path: Path
    text: str
    protected: tuple[tuple[Path, str], ...] = ()


@dataclass(frozen=True)
class Recovery:
    """What ``recover_commit`` did with a file an interrupted commit left: ``restored`` (the
    original put back) or ``removed`` (a temporary file, a half-made new file or a backup)."""

    path: Path
    action: Literal["restored", "removed"]


@dataclass
class _Entry:
    path: Path  # as the command names it, for messages
    target: Path  # the file replaced (the end of a symlink inside the bound)
    temporary: Path
    backup: Path
    data: bytes
    existing: os.stat_result | None
    staged: bool = False
    backed_up: bool = False
    placed: bool = False


@dataclass
class _Signals:
    """The signals caught while a commit runs: handled at its next step, never mid-step."""

    pending: int | None = None
    installed: dict[int, Callable[[int, FrameType | None], object] | int | None] = field(
        default_factory=dict
    )


def commit_files(
    changes: Sequence[FileChange],
    *,
    journal: Path,
    bound: Path | None = None,
) -> list[Path]:
    """Write every change, or none: the rules are those of this module's docstring.

    ``journal`` is the folder that holds the journal while the files change (the project
    root, the snapshot folder); ``bound`` the folder no file may be written outside of
    through a link. Returns the paths written. Raises CommitError, every file as it was.
    """
    if not changes:
        return []
    entries: list[_Entry] = []
    missing: list[Path] = []
    try:
        for change in changes:
            entries.append(_plan(change, bound, missing))
    except OutputFileError as error:
        raise CommitError(error) from None
    with signals_held() as signals:
        _commit(entries, journal / JOURNAL_NAME, missing, signals)
    return [entry.path for entry in entries]


def _commit(entries: list[_Entry], journal: Path, missing: list[Path], signals: _Signals) -> None:
    made: list[Path] = []
    lock: int | None = None
    try:
        lock = _open_journal(journal, entries, missing)
        _make_folders(entries, missing, made)
        for entry in entries:
            _stage(entry)
            _step("staged", entry.path, signals)
        for entry in entries:
            _place(entry)
            _step("replaced", entry.path, signals)
        _sync_folders(entries)
        _write_line(lock, "committed")
    except BaseException as problem:
        left = _roll_back(entries, made)
        if lock is not None:
            if left:
                os.close(lock)  # the journal stays, for the next run to finish the repair
            else:
                _close_journal(journal, lock)
        if isinstance(problem, _Interrupted):
            signum: int | None = problem.signum
        elif isinstance(problem, (OSError, OutputFileError)):
            signum = None
        else:
            raise
        cause = None if signum is not None else _as_output_error(problem, entries)
        raise CommitError(cause, signum=signum, repaired=not left, detail="; ".join(left)) from None
    if COMMIT_HOOK is not None:
        COMMIT_HOOK("committed", journal)
    for entry in entries:  # committed: only clean-up is left, whatever signal came
        if entry.backed_up:
            with suppress(OSError):
                entry.backup.unlink()
    _close_journal(journal, lock)


_HELD: list[_Signals] = []
"""The signals held by the outermost ``signals_held`` block, if one is open."""


@contextmanager
def signals_held() -> Iterator[_Signals]:
    """Hold SIGINT, SIGTERM and SIGHUP (where their action is the default) for a block.

    A commit inside it is rolled back when one arrives before its last file is in place
    (CommitError, ``signum`` set: the caller ends the process by it once it has said so);
    one that arrives later is acted on when the block ends, so that a caller holding the
    block around the commit and its report has named every file it wrote first.
    """
    if _HELD:  # held by a caller already: its block decides
        yield _HELD[0]
        return
    held = _defer_signals()
    _HELD.append(held)
    try:
        yield held
    except CommitError as error:  # rolled back: the caller acts on the signal once it said so
        _HELD.clear()
        _restore_signals(held, deliver=error.signum is None)
        raise
    except BaseException:
        _HELD.clear()
        _restore_signals(held, deliver=True)
        raise
    _HELD.clear()
    _restore_signals(held, deliver=True)


def recover_commit(journal: Path) -> list[Recovery]:
    """Finish what a commit killed at ``journal`` (``kill -9``, a power cut) left undone.

    A commit that reached its end has its backups removed; any other is rolled back: each
    original is put back from its backup, a new file it made is removed, and its temporary
    files go. Returns what was done (nothing when no journal is there). Raises an
    OutputFileError when the journal cannot be used or another run holds it.
    """
    journal_path = journal / JOURNAL_NAME
    flags = os.O_RDWR | os.O_NONBLOCK | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(journal_path, flags)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _journal_error(journal_path, exc.strerror or str(exc)) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _journal_error(journal_path, "it is not a regular file")
        if not _try_lock(descriptor):
            raise OutputFileError(Path(display_path(journal_path)), "unwritable", _BUSY)
        records = os.read(descriptor, 1 << 22).decode("utf-8", "replace").splitlines()
        done: list[Recovery] = []
        files, folders = _journal_header(journal_path, records[0] if records else "")
        committed = records[1:2] == ["committed"]
        for item in files:
            target, temporary, backup, new, digest = _journal_entry(journal_path, journal, item)
            if _exists(backup):
                if committed or _same_file(backup, target):  # a backup of the unchanged file
                    backup.unlink()
                    done.append(Recovery(backup, "removed"))
                else:
                    backup.replace(target)
                    done.append(Recovery(target, "restored"))
            elif new and not committed and _digest(target) == digest:
                target.unlink()
                done.append(Recovery(target, "removed"))
            if _exists(temporary):
                temporary.unlink()
                done.append(Recovery(temporary, "removed"))
        if not committed:
            for name in reversed(folders):
                folder = _journal_path(journal_path, journal, name)
                with suppress(OSError):
                    folder.rmdir()
                    done.append(Recovery(folder, "removed"))
        journal_path.unlink()
        _sync_folder(journal)
    except OSError as exc:
        raise _journal_error(journal_path, exc.strerror or str(exc)) from None
    finally:
        os.close(descriptor)
    return done


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BUSY = "another realtime-config run is writing these files now"


def _plan(change: FileChange, bound: Path | None, missing: list[Path]) -> _Entry:
    """Check one file before anything is written; note the folders it needs made."""
    path = Path(change.path)
    target = _follow_symlinks(path)
    if isinstance(target, int):
        raise OutputFileError(path, "not-regular", "standard stream")
    if bound is not None:
        _confine(path, target, bound)
    existing = _lstat(path, target)
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise OutputFileError(path, "directory")
        if not stat.S_ISREG(existing.st_mode):
            raise OutputFileError(path, "not-regular", _kind(existing.st_mode))
        if bound is not None and existing.st_nlink > 1:
            raise OutputFileError(path, "hard-link", str(existing.st_nlink))
        _refuse_protected(path, existing, list(change.protected))
        _refuse_read_only(path, target)
    else:
        for folder in (target.parent, *target.parent.parents):
            if folder in missing or _exists(folder):
                break
            missing.append(folder)
    stem = target.name[:200]
    token = secrets.token_hex(4)
    return _Entry(
        path,
        target,
        target.parent / f".{stem}.{token}.tmp",
        target.parent / f".{stem}.{token}.orig",
        change.text.encode("utf-8"),
        existing,
    )


def _confine(path: Path, target: Path, bound: Path) -> None:
    """Refuse a file written inside ``bound`` whose path, once its symlinks are followed,
    leaves it. A path written outside ``bound`` is the user's own choice, as ``-o`` is."""
    absolute = Path(os.path.abspath(path))  # noqa: PTH100 (symlinks must stay as written)
    if not absolute.is_relative_to(os.path.abspath(bound)):  # noqa: PTH100
        return
    limit = Path(os.path.realpath(bound))
    real = Path(os.path.realpath(target.parent)) / target.name
    if real.is_relative_to(limit):
        return
    for link in (absolute, *absolute.parents):
        if link.is_symlink() and not Path(os.path.realpath(link)).is_relative_to(limit):
            break
    else:
        raise OutputFileError(path, "outside", "a symlink")
    shown = display_path(link)
    raise OutputFileError(path, "outside", f"the symlink {shown} (to {link.readlink()})")


def _make_folders(entries: list[_Entry], missing: list[Path], made: list[Path]) -> None:
    """Make the folders new files need, outermost first (after the journal lists them)."""
    for folder in sorted(missing, key=lambda f: len(f.parts)):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            path = next((e.path for e in entries if e.target.is_relative_to(folder)), folder)
            raise OutputFileError(path, "folder", exc.strerror or str(exc)) from None
        made.append(folder)


def _remove_folders(made: list[Path]) -> None:
    for folder in reversed(made):
        with suppress(OSError):
            folder.rmdir()


def _open_journal(path: Path, entries: list[_Entry], missing: list[Path]) -> int:
    """Create the journal, locked for as long as this process holds it, listing every file."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise OutputFileError(Path(display_path(path)), "unwritable", _BUSY) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputFileError(Path(display_path(path)), "unwritable", reason) from None
    _try_lock(descriptor)
    folder = path.parent
    header = {
        "files": [
            {
                "target": _relative(entry.target, folder),
                "temporary": entry.temporary.name,
                "backup": entry.backup.name,
                "new": entry.existing is None,
                "sha256": hashlib.sha256(entry.data).hexdigest(),
            }
            for entry in entries
        ],
        "folders": [_relative(f, folder) for f in sorted(missing, key=lambda f: len(f.parts))],
    }
    try:
        _write_line(descriptor, json.dumps(header, ensure_ascii=True))
        _sync_folder(folder)
    except OSError:
        os.close(descriptor)
        path.unlink(missing_ok=True)
        raise
    return descriptor


def _close_journal(path: Path, descriptor: int) -> None:
    path.unlink(missing_ok=True)
    os.close(descriptor)
    with suppress(OSError):
        _sync_folder(path.parent)


def _write_line(descriptor: int, line: str) -> None:
    _write_all(descriptor, (line + "\n").encode("utf-8"))
    os.fsync(descriptor)


def _try_lock(descriptor: int) -> bool:
    """An exclusive lock on the journal: it ends with the process, however the process ends."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, the journal alone
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _stage(entry: _Entry) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(entry.temporary, flags, 0o600 if entry.existing else 0o666)
    entry.staged = True
    try:
        _write_all(descriptor, entry.data)
        if entry.existing is not None:
            os.fchmod(descriptor, stat.S_IMODE(entry.existing.st_mode) & 0o777)
            _keep_owner(descriptor, entry.existing)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _place(entry: _Entry) -> None:
    """Keep the original as a backup (a second name for it), then move the new text in."""
    if entry.existing is not None:
        try:
            os.link(entry.target, entry.backup, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            _copy_backup(entry)
        entry.backed_up = True
    entry.temporary.replace(entry.target)
    entry.staged = False
    entry.placed = True


def _copy_backup(entry: _Entry) -> None:
    """Where hard links are not supported: the backup is a copy, fsynced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    original = entry.target.read_bytes()
    descriptor = os.open(entry.backup, flags, 0o600)
    try:
        _write_all(descriptor, original)
        assert entry.existing is not None
        os.fchmod(descriptor, stat.S_IMODE(entry.existing.st_mode) & 0o777)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _roll_back(entries: list[_Entry], made: list[Path]) -> list[str]:
    """Put every original back and remove what the commit made; what could not be undone."""
    left: list[str] = []
    for entry in reversed(entries):
        try:
            if entry.placed and entry.backed_up:
                entry.backup.replace(entry.target)
            elif entry.placed:
                entry.target.unlink(missing_ok=True)
            elif entry.backed_up:
                entry.backup.unlink(missing_ok=True)
            if entry.staged:
                entry.temporary.unlink(missing_ok=True)
        except OSError as exc:
            left.append(f"{entry.path}: {exc.strerror or exc}")
    _remove_folders(made)
    return left


def _as_output_error(problem: BaseException, entries: list[_Entry]) -> OutputFileError:
    if isinstance(problem, OutputFileError):
        return problem
    assert isinstance(problem, OSError)
    failed = next((e.path for e in entries if not e.placed), entries[-1].path)
    named = Path(problem.filename) if isinstance(problem.filename, str) else None
    for entry in entries:
        if named in (entry.target, entry.temporary, entry.backup):
            failed = entry.path
    return OutputFileError(failed, "unwritable", problem.strerror or str(problem))


def _step(name: str, path: Path, signals: _Signals) -> None:
    """Between two steps: the test seam, then any signal that arrived during the last one."""
    if COMMIT_HOOK is not None:
        COMMIT_HOOK(name, path)
    if signals.pending is not None:
        raise _Interrupted(signals.pending)


def _sync_folders(entries: list[_Entry]) -> None:
    for folder in dict.fromkeys(entry.target.parent for entry in entries):
        _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where folders can be opened and synced)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _defer_signals() -> _Signals:
    """Catch SIGINT, SIGTERM and SIGHUP until the commit ends, where their action is the
    default one (Python's KeyboardInterrupt for SIGINT): a handler the program installed
    itself is left alone. A signal is acted on between two steps, never in the middle."""
    signals = _Signals()

    def handler(signum: int, frame: FrameType | None) -> None:
        signals.pending = signals.pending or signum

    for signum in _CLEANUP_SIGNALS:
        try:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_DFL or previous is signal.default_int_handler:
                signal.signal(signum, handler)
                signals.installed[signum] = previous
        except (ValueError, OSError):  # not the main thread of the main interpreter
            break
    return signals


def _restore_signals(signals: _Signals, *, deliver: bool) -> None:
    """Put the actions back; with ``deliver``, a signal that came after the commit point
    (every file written) is acted on now, as it would have been."""
    for signum, previous in signals.installed.items():
        signal.signal(signum, previous)
    pending = signals.pending
    if not deliver or pending is None:
        return
    if signals.installed.get(pending) is signal.default_int_handler:
        raise KeyboardInterrupt
    signal.raise_signal(pending)
    raise SystemExit(128 + pending)  # still alive: the signal is blocked in this thread


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _journal_error(path: Path, reason: str) -> OutputFileError:
    return OutputFileError(Path(display_path(path)), "journal", reason)


def _journal_header(path: Path, line: str) -> tuple[list[object], list[object]]:
    """The files and folders a journal lists (none when killed before it listed any)."""
    if not line:
        return [], []
    try:
        header = json.loads(line)
    except ValueError:
        raise _journal_error(path, "it is not JSON") from None
    files = header.get("files") if isinstance(header, dict) else None
    folders = header.get("folders", []) if isinstance(header, dict) else None
    if not isinstance(files, list) or not isinstance(folders, list):
        raise _journal_error(path, "it is not a realtime-config journal")
    return files, folders


def _journal_path(path: Path, folder: Path, name: object) -> Path:
    """A file the journal names: inside the journal's folder once links are followed, so that
    a journal planted in a pull request cannot restore or remove anything outside it."""
    if not isinstance(name, str) or not name or "\0" in name:
        raise _journal_error(path, f"a file name in it is not valid: {name!r}")
    found = Path(os.path.normpath(folder / name))
    real = Path(os.path.realpath(found.parent)) / found.name
    if Path(name).is_absolute() or not real.is_relative_to(os.path.realpath(folder)):
        raise _journal_error(path, f"{name!r} leads outside its folder")
    return found


def _journal_entry(path: Path, folder: Path, item: object) -> tuple[Path, Path, Path, bool, str]:
    """One file of the journal: the names of its backup and temporary are checked to be the
    commit's own, beside the target, so that a planted journal can only name such files."""
    if not isinstance(item, dict):
        raise _journal_error(path, "an entry is not an object")
    target = _journal_path(path, folder.absolute(), item.get("target"))
    names = []
    for key, suffix in (("temporary", ".tmp"), ("backup", ".orig")):
        name = item.get(key)
        pattern = re.escape(f".{target.name[:200]}.") + r"[0-9a-f]{8}" + re.escape(suffix)
        if not isinstance(name, str) or not re.fullmatch(pattern, name):
            raise _journal_error(path, f"{key} {name!r} is not one of its own files")
        names.append(target.parent / name)
    return target, names[0], names[1], item.get("new") is True, str(item.get("sha256", ""))


def _exists(path: Path) -> bool:
    try:
        path.lstat()
    except OSError:
        return False
    return True


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samestat(first.lstat(), second.lstat())
    except OSError:
        return False


def _digest(path: Path) -> str | None:
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
