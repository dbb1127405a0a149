"""The built wheel works on its own: installed non-editable, outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import BETA_CASES, GOLDEN, PRESETS, PROJECT


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_wheel_installs_and_runs_from_another_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(PROJECT)],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("realtime_config-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "realtime_config/_data/realtime-session.schema.json" in names
    assert "realtime_config/py.typed" in names
    # serve --demo's page ships in the wheel, as the repository has it.
    for name in ("index.html", "demo.js"):
        with zipfile.ZipFile(wheel) as archive:
            shipped = archive.read(f"realtime_config/serve/_demo/{name}")
        assert shipped == (PROJECT / "realtime_config" / "serve" / "_demo" / name).read_bytes()

    environment = tmp_path / "env"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    installed = run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = environment / "bin" / "realtime-config"
    compiled = run([str(script), "compile", str(BETA_CASES / "voice-low-latency.toml")], elsewhere)
    assert compiled.returncode == 0, compiled.stderr
    assert compiled.stdout == (GOLDEN / "sessions" / "voice-low-latency.json").read_text("utf-8")

    validated = run([str(script), "validate", *map(str, sorted(PRESETS.glob("*.toml")))], elsewhere)
    assert (validated.returncode, validated.stderr) == (0, ""), validated.stdout
    assert validated.stdout.endswith("presets valid\n")

    schema = run([str(script), "schema", "--path"], elsewhere)
    location = Path(schema.stdout.strip())
    assert location.is_relative_to(environment)
    assert (
        location.read_bytes() == (PROJECT / "schema" / "realtime-session.schema.json").read_bytes()
    )


def tracked_files(*folders: str) -> set[str]:
    """The files git tracks under ``folders``; empty outside a git checkout (an sdist)."""
    listed = run(["git", "ls-files", "-z", "--", *folders], cwd=PROJECT)
    return set(filter(None, listed.stdout.split("\0"))) if listed.returncode == 0 else set()


@pytest.mark.slow
def test_sdist_and_wheel_carry_the_license_and_the_sdist_what_its_tests_need(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    built = run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "-o", str(dist), str(PROJECT)],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("realtime_config-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        licenses = [
            name for name in archive.namelist() if name.endswith(".dist-info/licenses/LICENSE")
        ]
        assert len(licenses) == 1
        assert archive.read(licenses[0]) == (PROJECT / "LICENSE").read_bytes()
        metadata = archive.read(licenses[0].replace("licenses/LICENSE", "METADATA")).decode()
    assert "License-Expression: MIT" in metadata
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Classifier: Programming Language :: Python :: {version}\n" in metadata

    (sdist,) = dist.glob("realtime_config-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    held = {path.relative_to(unpacked).as_posix() for path in unpacked.rglob("*") if path.is_file()}
    needed = {"LICENSE", ".pre-commit-hooks.yaml", "CHANGELOG.md", "CONTRIBUTING.md", "action.yml"}
    needed |= tracked_files("tests", "schema", "presets", "examples", "docs")
    assert needed <= held, sorted(needed - held)
    assert not any(name.startswith("tests/node_modules/") for name in held)

    # The tests that read the hooks file and the corpus pass from the unpacked sdist.
    tested = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-x",
            "tests/test_snapshots.py",
            "tests/test_invalid_cases.py",
        ],
        cwd=unpacked,
    )
    assert tested.returncode == 0, tested.stdout[-3000:]
