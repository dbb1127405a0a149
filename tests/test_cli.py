"""The command line through click's CliRunner, and through the installed entry point."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from realtime_config import __version__
from realtime_config.cli import main
from tests.conftest import GOLDEN, PRESETS, PROJECT, write

SCRIPT = Path(sys.executable).with_name("realtime-config")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def test_compile_prints_the_golden_payload() -> None:
    code, out, err = run("compile", str(PRESETS / "phone-support.toml"))
    assert (code, err) == (0, "")
    assert out == (GOLDEN / "sessions" / "phone-support.json").read_text(encoding="utf-8")


def test_compile_compact_is_the_wire_form(project: Path) -> None:
    path = write(project / "p.toml", 'voice = "ash"\n')
    assert run("compile", "--compact", str(path)) == (
        0,
        '{"modalities":["audio","text"],"voice":"ash"}',
        "",
    )


def test_compile_output_file_is_written_atomically(project: Path) -> None:
    path = write(project / "p.toml", 'voice = "ash"\n')
    out = project / "out.json"
    out.write_text("old", encoding="utf-8")
    assert run("compile", str(path), "-o", str(out)) == (0, "", "")
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "modalities": ["audio", "text"],
        "voice": "ash",
    }
    assert sorted(p.name for p in project.iterdir()) == ["out.json", "p.toml", "pyproject.toml"]


def test_compile_refuses_to_overwrite_the_preset(project: Path) -> None:
    path = write(project / "p.toml", 'voice = "ash"\n')
    code, out, err = run("compile", str(path), "-o", str(path))
    assert (code, out) == (1, "")
    assert (
        err == f"realtime-config: error: {path}: is the preset itself; refusing to overwrite it\n"
    )
    assert path.read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_compile_into_a_missing_folder_is_a_clear_error(project: Path) -> None:
    path = write(project / "p.toml", "")
    code, _, err = run("compile", str(path), "-o", str(project / "no" / "x.json"))
    assert code == 1
    assert err == (
        f"realtime-config: error: {project / 'no' / 'x.json'}: cannot write: folder "
        f"{project / 'no'} does not exist\n"
    )


def test_compile_reports_diagnostics_and_exits_1(project: Path) -> None:
    write(project / "p.toml", "speed = 9\n")
    assert run("compile", "p.toml") == (
        1,
        "",
        "p.toml:1:9: error: speed: 9 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)\n",
    )


def test_compile_prints_warnings_on_stderr_and_still_compiles(project: Path) -> None:
    write(project / "p.toml", 'voice = "marine"\n')
    code, out, err = run("compile", "p.toml")
    assert code == 0
    assert json.loads(out)["voice"] == "marine"
    assert (
        err == "p.toml:1:9: warning: voice `marine` is not a known voice; did you mean `marin`?\n"
    )


def test_compile_missing_file_exits_1_without_traceback(project: Path) -> None:
    assert run("compile", "nope.toml") == (1, "", "nope.toml:1:1: error: no such file\n")


def test_compile_needs_exactly_one_preset(project: Path) -> None:
    code, _, err = run("compile")
    assert code == 2
    assert "compile takes exactly one PRESET" in err


def test_compile_unknown_target_is_a_usage_error(project: Path) -> None:
    write(project / "p.toml", "")
    code, _, err = run("compile", "--target", "nope", "p.toml")
    assert code == 2
    assert (
        "'nope' is not one of 'client_secrets', 'session.update', 'calls.accept', 'calls', 'sessions', 'beta.session.update'"
        in err
    )


def test_validate_without_files_checks_the_project_presets(project: Path) -> None:
    write(project / "presets" / "a.toml", 'voice = "ash"\n')
    write(project / "presets" / "team" / "b.toml", "temperature = 5.0\n")
    code, out, err = run("validate")
    assert code == 1
    assert out == (
        "presets/team/b.toml:1:15: error: temperature: 5.0 is greater than the maximum of 1.2 "
        "(allowed: 0.6 to 1.2)\n"
    )
    assert err == "2 presets checked: 1 error(s), 0 warning(s)\n"


def test_validate_all_valid(project: Path) -> None:
    write(project / "presets" / "a.toml", 'voice = "ash"\n')
    assert run("validate") == (0, "1 preset valid\n", "")
    assert run("validate", "-q") == (0, "", "")


def test_validate_no_presets_is_an_error(project: Path) -> None:
    code, out, err = run("validate")
    assert (code, out) == (1, "")
    assert (
        err
        == f"realtime-config: error: no presets found: {project / 'presets'} holds no .toml files\n"
    )


def test_validate_shipped_presets_from_the_repository() -> None:
    code, out, _ = run(
        "validate", "--root", str(PROJECT), *map(str, sorted(PRESETS.glob("*.toml")))
    )
    assert code == 0
    assert out.endswith("presets valid\n")


def test_schema_command_prints_the_schema_and_its_path() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert out == (PROJECT / "schema" / "realtime-session.schema.json").read_text(encoding="utf-8")
    code, out, _ = run("schema", "--path")
    assert code == 0
    assert Path(out.strip()).read_text(encoding="utf-8") == (
        PROJECT / "schema" / "realtime-session.schema.json"
    ).read_text(encoding="utf-8")


def test_version_option() -> None:
    assert run("--version") == (0, f"realtime-config, version {__version__}\n", "")


@pytest.mark.parametrize("command", [[str(SCRIPT)], [sys.executable, "-m", "realtime_config"]])
def test_installed_entry_point_and_module(command: list[str], project: Path) -> None:
    write(project / "p.toml", 'voice = "ash"\n')
    done = subprocess.run(
        [*command, "compile", "--compact", "p.toml"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        '{"modalities":["audio","text"],"voice":"ash"}',
        "",
    )
    write(project / "bad.toml", "voice = 1\n")
    done = subprocess.run(
        [*command, "validate", "bad.toml"], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout) == (
        1,
        "bad.toml:1:9: error: voice: expected a string, found an integer\n",
    )
    assert "Traceback" not in done.stderr


def test_validate_formats_are_the_reporter_table() -> None:
    """The --format choices are read from the reporter table (when the option is used, so
    that --version does not import reporting: test_startup holds that)."""
    # Private: the reporter table has no public name; it is what the choices must equal.
    from realtime_config._report import REPORTERS

    done = CliRunner().invoke(main, ["validate", "--format", "nope"])
    choices = ", ".join(repr(name) for name in REPORTERS)
    assert done.exit_code == 2
    assert f"'nope' is not one of {choices}." in done.stderr
    assert list(REPORTERS) == ["text", "json", "github", "sarif"]


# The command line's entry points: ``python -m realtime_config`` is ``realtime-config``.


def test_python_dash_m_runs_the_same_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m realtime_config", "--version"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("realtime_config", run_name="__main__")
    assert done.value.code == 0
    assert capsys.readouterr() == (f"realtime-config, version {__version__}\n", "")


def test_python_dash_m_reports_a_usage_error_with_the_commands_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m realtime_config", "no-such-command"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("realtime_config", run_name="__main__")
    assert done.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0] == "Usage: realtime-config [OPTIONS] COMMAND [ARGS]..."
    assert err.splitlines()[-1] == "Error: No such command 'no-such-command'."


def test_the_group_runs_embedded_without_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    """``standalone_mode=False`` (a program that calls the command line itself): the
    command's result comes back, no SystemExit, and nothing guards the caller's streams."""
    from realtime_config import schema_path

    assert main.main(["schema", "--path"], standalone_mode=False) is None
    assert capsys.readouterr().out == f"{schema_path()}\n"
