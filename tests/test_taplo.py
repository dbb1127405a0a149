"""Editor support, proven: the real taplo CLI (Even Better TOML's engine) lints with our schema.

taplo is in the project's ``test`` extra; a missing binary fails these tests. It runs with
``--no-auto-config`` and without ``--default-schema-catalogs``, so it reads no configuration
file and no online catalog: the only schema is ours, named by the ``#:schema`` header or by
``--schema``. The proxy variables point at a closed port, so a network request could not
succeed silently either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from realtime_config.cli import main
from tests.conftest import PROJECT, shipped_presets, write

SCHEMA = PROJECT / "schema" / "realtime-session.schema.json"
HEADER = "#:schema ../schema/realtime-session.schema.json"


def taplo_binary() -> str:
    found = shutil.which("taplo") or str(Path(sys.executable).with_name("taplo"))
    assert Path(found).is_file(), (
        "taplo is missing: install the test extra (pip install -e '.[test]')"
    )
    return found


def lint(*args: str, cwd: Path = PROJECT) -> tuple[int, str]:
    """Run ``taplo lint`` offline; its exit status and its whole output."""
    closed = "http://127.0.0.1:9"
    environment = {
        **os.environ,
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "ALL_PROXY": closed,
        "NO_PROXY": "",
        "RUST_LOG": "warn",
    }
    environment.pop("TAPLO_CONFIG", None)
    done = subprocess.run(
        [taplo_binary(), "lint", "--no-auto-config", "--colors", "never", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def project_with_schema(root: Path) -> Path:
    """A folder laid out like the repository: ``schema/`` (a copy) beside ``presets/``."""
    (root / "schema").mkdir(parents=True)
    shutil.copyfile(SCHEMA, root / "schema" / SCHEMA.name)
    (root / "presets").mkdir()
    return root / "presets"


def header_of(preset: Path) -> str:
    """The ``#:schema`` line a preset at this place names the repository's schema with."""
    depth = len(preset.relative_to(PROJECT / "presets").parts) - 1
    return f"#:schema {'../' * depth}{HEADER.removeprefix('#:schema ')}"


def test_shipped_presets_name_the_schema_in_their_header() -> None:
    for preset in shipped_presets():
        first = preset.read_text("utf-8").splitlines()[0]
        assert first == header_of(preset), preset
        named = first.removeprefix("#:schema ").strip()
        assert (preset.parent / named).resolve() == SCHEMA.resolve(), preset


def test_shipped_presets_pass_taplo_through_their_header() -> None:
    code, output = lint(*(str(p.relative_to(PROJECT)) for p in shipped_presets()))
    assert code == 0, output
    assert "error" not in output.lower(), output


def test_shipped_presets_pass_taplo_with_the_schema_flag() -> None:
    code, output = lint("--schema", SCHEMA.resolve().as_uri(), *(str(p) for p in shipped_presets()))
    assert code == 0, output
    assert "error" not in output.lower(), output


@pytest.mark.parametrize("preset", shipped_presets(), ids=lambda p: p.name)
def test_the_header_makes_taplo_check_each_shipped_preset(preset: Path, tmp_path: Path) -> None:
    """A shipped preset plus an unknown key fails: the header really applies the schema."""
    folder = project_with_schema(tmp_path)
    header, rest = preset.read_text("utf-8").split("\n", 1)
    place = preset.relative_to(PROJECT / "presets")
    copy = write(folder / place, f"{header}\nnot_a_field = 1\n{rest}")
    code, output = lint(str(copy), cwd=tmp_path)
    assert code == 1, output
    assert "Additional properties are not allowed ('not_a_field' was unexpected)" in output


def test_an_invalid_preset_fails_with_errors_naming_the_keys(tmp_path: Path) -> None:
    folder = project_with_schema(tmp_path)
    bad = write(
        folder / "bad.toml",
        f'{HEADER}\nmodel = "gpt-realtime-1.5"\ntemprature = 0.8\nspeed = "fast"\n',
    )
    code, output = lint(str(bad), cwd=tmp_path)
    assert code == 1, output
    assert "error: Additional properties are not allowed ('temprature' was unexpected)" in output
    assert f'error: "fast" is not of type "number"\n  ┌─ {bad}:4:9\n' in output
    assert '4 │ speed = "fast"\n' in output


def test_the_header_is_relative_to_the_preset_not_the_working_directory(tmp_path: Path) -> None:
    folder = project_with_schema(tmp_path)
    bad = write(folder / "bad.toml", f"{HEADER}\ntemperature = 2.0\n")
    for cwd in (tmp_path, folder, PROJECT):
        code, output = lint(str(bad), cwd=cwd)
        assert code == 1, output
        assert "error: 2.0 is greater than the maximum of 1.2" in output


def test_the_schema_flag_checks_a_preset_without_header(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", 'voice = 3\n[turn_detection]\nthreshold = "high"\n')
    code, output = lint(str(bad), cwd=tmp_path)
    assert code == 0, output
    code, output = lint("--schema", SCHEMA.resolve().as_uri(), str(bad), cwd=tmp_path)
    assert code == 1, output
    assert f"  ┌─ {bad}:1:9\n" in output
    assert '3 │ threshold = "high"\n' in output


def test_taplo_follows_refs_consts_and_any_of(tmp_path: Path) -> None:
    folder = project_with_schema(tmp_path)
    bad = write(
        folder / "bad.toml",
        f'{HEADER}\ninput_audio_format = "mp3"\n[[tools]]\nname = "x"\ntype = "retrieval"\n'
        "[client_secret.expires_after]\nseconds = 5\n",
    )
    code, output = lint(str(bad), cwd=tmp_path)
    assert code == 1, output
    assert 'error: "mp3" is not one of ["pcm16","g711_ulaw","g711_alaw"]' in output
    assert 'error: "function" was expected' in output
    assert "error: 5 is less than the minimum of 10" in output


def test_taplo_accepts_what_the_format_allows(tmp_path: Path) -> None:
    """false on the nullable fields, "inf", "auto", and open enums with unknown values."""
    folder = project_with_schema(tmp_path)
    fine = write(
        folder / "fine.toml",
        f'{HEADER}\nvoice = "a-new-voice"\nmodel = "gpt-realtime-next"\n'
        'turn_detection = false\ninput_audio_transcription = false\ntracing = "auto"\n'
        'max_response_output_tokens = "inf"\ntool_choice = { type = "function", name = "f" }\n'
        '[[tools]]\nname = "f"\nparameters = { type = "object", properties = {} }\n'
        '[preset]\nextends = ["a.toml", "b.toml"]\ntarget = "client_secrets"\n',
    )
    code, output = lint(str(fine), cwd=tmp_path)
    assert code == 0, output
    assert "error" not in output.lower(), output


def test_what_only_validate_catches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A float for an integer and a TOML date pass taplo; `realtime-config validate` stops them."""
    folder = project_with_schema(tmp_path)
    write(tmp_path / "pyproject.toml", "")
    monkeypatch.chdir(tmp_path)
    cases = {
        "float.toml": (
            "[client_secret.expires_after]\nseconds = 300.0\n",
            "presets/float.toml:3:11: error: client_secret.expires_after.seconds: expected an "
            "integer, found a float\n",
        ),
        "date.toml": (
            "instructions = 2024-01-01\n",
            "presets/date.toml:2:16: error: instructions: a date is not allowed here; TOML dates "
            "and times have no JSON form (write it as a string)\n",
        ),
    }
    for name, (body, diagnostic) in cases.items():
        preset = write(folder / name, f"{HEADER}\n{body}")
        code, output = lint(str(preset), cwd=tmp_path)
        assert code == 0, output
        result = CliRunner().invoke(main, ["validate", f"presets/{name}"])
        assert (result.exit_code, result.stdout) == (1, diagnostic)
