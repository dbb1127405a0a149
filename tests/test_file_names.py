"""A diagnostic is one line whatever its file is called: control characters are escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from realtime_config import Diagnostic, check_files

# The coloured form is printed only to a terminal: no public call returns it.
from realtime_config._diagnostics import format_text
from realtime_config.cli import main
from tests.conftest import write

SCRIPT = Path(sys.executable).with_name("realtime-config")


def diagnostic(file: str) -> Diagnostic:
    return Diagnostic(file, 2, 5, "error", "type", "voice: expected a string", "voice")


def test_a_newline_in_the_file_name_is_escaped() -> None:
    assert str(diagnostic("a\nb.toml")) == "a\\nb.toml:2:5: error: voice: expected a string"


def test_every_control_character_is_escaped() -> None:
    name = "x\r\t\x1b[31m\x00\x7f\x85\u2028\u2029.toml"
    assert str(diagnostic(name)).split(":")[0] == (
        "x\\r\\t\\x1b[31m\\x00\\x7f\\x85\\u2028\\u2029.toml"
    )


def test_printable_names_are_left_alone() -> None:
    for name in ["presets/phone-support.toml", "présets/näme é.toml", "C:\\presets\\a.toml"]:
        assert str(diagnostic(name)).startswith(f"{name}:2:5: ")


def test_the_coloured_form_escapes_the_name_too() -> None:
    assert format_text(diagnostic("a\nb.toml"), color=True) == (
        "\x1b[1ma\\nb.toml:2:5:\x1b[0m \x1b[1;31merror:\x1b[0m voice: expected a string"
    )


def test_json_keeps_the_real_name(project: Path) -> None:
    write(project / "a\nb.toml", "voice = 1\n")
    result = CliRunner().invoke(main, ["validate", "--format", "json", "a\nb.toml"])
    assert result.exit_code == 1
    [record] = json.loads(result.stdout)
    assert record["file"] == "a\nb.toml"


def test_validate_prints_one_line_for_a_file_named_with_a_newline(project: Path) -> None:
    write(project / "bad\nname.toml", "voice = 1\n")
    [found] = check_files(["bad\nname.toml"])
    assert found.file == "bad\nname.toml"
    done = subprocess.run(
        [str(SCRIPT), "validate", "bad\nname.toml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert (done.returncode, done.stdout) == (
        1,
        "bad\\nname.toml:1:9: error: voice: expected a string, found an integer\n",
    )
