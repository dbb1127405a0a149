"""The built wheel works on its own: installed non-editable, outside the checkout."""

from __future__ import annotations

import subprocess
import sys
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
            shipped = archive.read(f"realtime_config/_demo/{name}")
        assert shipped == (PROJECT / "realtime_config" / "_demo" / name).read_bytes()

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
