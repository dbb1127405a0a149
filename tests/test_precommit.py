"""The real pre-commit runs this repository's hook, installed from a committed copy of the tree.

pre-commit clones the hook repository at a rev and pip-installs it into a virtualenv of its
own, exactly as it does for a user whose ``.pre-commit-config.yaml`` names this project.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT, write

pytestmark = pytest.mark.slow

HOOK_ID = "realtime-config-validate"
BAD_LINE = "presets/bad.toml:2:1: error: unknown key `temprature`; did you mean `temperature`?"
_SKIPPED_DIRS = {".git", ".venv", "venv", "build", "dist", "__pycache__", ".hypothesis"}
_SUMMARY = re.compile(r"^(\d+) presets? (?:valid|checked: \d+ error\(s\), \d+ warning\(s\))$")


def pre_commit_executable() -> Path:
    """pre-commit from the project's ``test`` extra, installed beside this Python."""
    name = "pre-commit.exe" if os.name == "nt" else "pre-commit"
    found = Path(sys.executable).parent / name
    if not found.is_file():
        pytest.fail(f"{found} is missing: install the project with its `test` extra")
    return found


def usable_cpus() -> int:
    """The CPUs this process may run on, as pre-commit counts them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def git_environment() -> dict[str, str]:
    """Git that ignores the user's configuration and can commit without one."""
    environment = dict(os.environ)
    environment.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="realtime-config tests",
        GIT_AUTHOR_EMAIL="tests@example.invalid",
        GIT_COMMITTER_NAME="realtime-config tests",
        GIT_COMMITTER_EMAIL="tests@example.invalid",
    )
    return environment


def git(folder: Path, *args: str) -> str:
    """Run git in ``folder`` and return its output; a failure fails the test."""
    done = subprocess.run(
        ["git", *args],
        cwd=folder,
        env=git_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def project_files() -> list[Path]:
    """The working tree's files, tracked or not, minus what git ignores (venvs, caches)."""
    if (PROJECT / ".git").exists():
        listed = git(PROJECT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        names = [Path(name) for name in listed.split("\0") if name]
    else:
        names = [
            path.relative_to(PROJECT)
            for path in PROJECT.rglob("*")
            if not _SKIPPED_DIRS.intersection(path.relative_to(PROJECT).parts)
            and not any(part.endswith(("_cache", ".egg-info")) for part in path.parts)
        ]
    files = [name for name in names if (PROJECT / name).is_file()]
    assert Path(".pre-commit-hooks.yaml") in files
    return files


@dataclass(frozen=True)
class HookRepository:
    """A committed copy of the working tree: what a ``repo:`` entry points at."""

    path: Path
    rev: str


@pytest.fixture(scope="session")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> HookRepository:
    """The current working tree, uncommitted changes included, committed in a fresh repo."""
    copy = tmp_path_factory.mktemp("hook-repository")
    for name in project_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "--no-gpg-sign", "-m", "the working tree under test")
    return HookRepository(copy, git(copy, "rev-parse", "HEAD").strip())


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for the session, so the hook's virtualenv is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@dataclass(frozen=True)
class UserRepository:
    """A user's repository whose pre-commit configuration uses the hook."""

    path: Path
    home: Path

    def add(self, name: str, text: str) -> Path:
        """Write a file and stage it."""
        written = write(self.path / name, text)
        git(self.path, "add", name)
        return written

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``pre-commit run <hook> ARGS`` with the session's cache, output merged."""
        environment = git_environment()
        environment["PRE_COMMIT_HOME"] = str(self.home)
        environment.pop("PRE_COMMIT_NO_CONCURRENCY", None)
        environment.pop("NO_COLOR", None)
        if usable_cpus() < 2:
            # pre-commit runs one batch per CPU; on a single CPU, its TRAVIS setting asks for
            # two, so that the parallel batches are still exercised.
            environment["TRAVIS"] = "true"
        return subprocess.run(
            [str(pre_commit_executable()), "run", HOOK_ID, "--color=never", *args],
            cwd=self.path,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )


@pytest.fixture
def user_repository(
    tmp_path: Path, hook_repository: HookRepository, pre_commit_home: Path
) -> Iterator[UserRepository]:
    """A fresh git repository configured to run the hook from ``hook_repository``."""
    folder = tmp_path / "user"
    folder.mkdir()
    git(folder, "init", "-q")
    repository = UserRepository(folder, pre_commit_home)
    repository.add(
        ".pre-commit-config.yaml",
        "repos:\n"
        f"  - repo: {hook_repository.path.as_posix()}\n"
        f"    rev: {hook_repository.rev}\n"
        "    hooks:\n"
        f"      - id: {HOOK_ID}\n",
    )
    yield repository


def status_line(output: str) -> str:
    """pre-commit's ``name....Passed`` line for the hook."""
    (line,) = [line for line in output.splitlines() if line.startswith("validate realtime-config")]
    return line


def summaries(output: str) -> list[int]:
    """The preset count of each ``realtime-config validate`` run (one per batch)."""
    return [int(found.group(1)) for line in output.splitlines() if (found := _SUMMARY.match(line))]


def test_a_bad_preset_fails_with_its_diagnostic_and_the_fix_passes(
    user_repository: UserRepository,
) -> None:
    user_repository.add("presets/bad.toml", 'model = "gpt-realtime-1.5"\ntemprature = 0.7\n')

    failed = user_repository.pre_commit("--files", "presets/bad.toml")
    assert failed.returncode == 1, failed.stdout
    assert status_line(failed.stdout).endswith("Failed")
    assert BAD_LINE in failed.stdout.splitlines()
    assert "Traceback" not in failed.stdout

    user_repository.add("presets/bad.toml", 'model = "gpt-realtime-1.5"\ntemperature = 0.7\n')
    fixed = user_repository.pre_commit("--files", "presets/bad.toml", "--verbose")
    assert fixed.returncode == 0, fixed.stdout
    assert status_line(fixed.stdout).endswith("Passed")
    assert "1 preset valid" in fixed.stdout.splitlines()


def test_parallel_batches_each_check_their_own_files_and_load_bases_from_disk(
    user_repository: UserRepository,
) -> None:
    user_repository.add(
        "presets/base.toml",
        'model = "gpt-realtime-1.5"\nvoice = "marin"\n\n[turn_detection]\nthreshold = 0.5\n',
    )
    for number in range(1, 40):
        key = "temprature" if number == 17 else "temperature"
        user_repository.add(
            f"presets/agent-{number:02d}.toml",
            f'preset.extends = "base.toml"\n{key} = 0.7\n\n'
            f"[turn_detection]\nsilence_duration_ms = {200 + 10 * number}\n",
        )

    result = user_repository.pre_commit("--all-files", "--verbose")

    assert result.returncode == 1, result.stdout
    assert status_line(result.stdout).endswith("Failed")
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [
        "presets/agent-17.toml:2:1: error: unknown key `temprature`; did you mean `temperature`?"
    ]
    counts = summaries(result.stdout)
    assert len(counts) >= 2, result.stdout
    assert sum(counts) == 40


def test_a_preset_checked_alone_still_resolves_its_base(user_repository: UserRepository) -> None:
    base = 'model = "gpt-realtime-1.5"\nvoice = "marin"\n'
    user_repository.add("presets/base.toml", base)
    user_repository.add("presets/child.toml", 'preset.extends = "base.toml"\ntemperature = 0.7\n')

    alone = user_repository.pre_commit("--files", "presets/child.toml", "--verbose")
    assert alone.returncode == 0, alone.stdout
    assert "1 preset valid" in alone.stdout.splitlines()

    user_repository.add("presets/base.toml", base + "speed = 9.0\n")
    broken_base = user_repository.pre_commit("--files", "presets/child.toml")
    assert broken_base.returncode == 1, broken_base.stdout
    assert (
        "presets/base.toml:3:9: error: speed: 9.0 is greater than the maximum of 1.5 "
        "(allowed: 0.25 to 1.5)"
    ) in broken_base.stdout.splitlines()


def test_only_toml_files_under_presets_are_checked(user_repository: UserRepository) -> None:
    user_repository.add("presets/good.toml", 'model = "gpt-realtime-1.5"\n')
    user_repository.add("tests/cases/beta/instructions/notes.md", "# not a preset = [\n")
    user_repository.add("config/other.toml", "this is [not valid\n")
    user_repository.add("nested/presets/also.toml", 'modalities = ["text"]\n')

    result = user_repository.pre_commit("--all-files", "--verbose")

    assert result.returncode == 0, result.stdout
    assert sum(summaries(result.stdout)) == 2
