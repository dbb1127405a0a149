"""Invalid presets: each case's exact expected diagnostics, and bad input that must not crash."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config import check_files
from realtime_config.cli import main
from tests.conftest import PROJECT, write

CASES = PROJECT / "tests" / "cases" / "invalid"
EXPECTED = sorted(CASES.glob("*.expected"))


def validate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def test_the_corpus_is_there() -> None:
    assert len(EXPECTED) >= 35
    for expected in EXPECTED:
        toml = expected.with_suffix(".toml")
        assert toml.exists() or expected.stem == "missing", toml


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.stem)
def test_case_gives_exactly_its_diagnostics(
    expected: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CASES)
    want = expected.read_text(encoding="utf-8")
    code, out, err = validate("-q", f"{expected.stem}.toml")
    assert out == want
    assert "Traceback" not in err
    assert code == (1 if " error: " in want else 0)
    strict_code, _, _ = validate("-q", "--strict", f"{expected.stem}.toml")
    assert strict_code == (1 if want else 0)


def test_each_mistake_is_reported_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    lines = check_files(["several-mistakes.toml"])
    assert [(d.line, d.rule) for d in lines] == [(2, "unknown-key"), (3, "range"), (6, "range")]


def test_a_file_over_one_mebibyte(project: Path) -> None:
    write(project / "big.toml", "# " + "x" * (1024 * 1024) + "\n")
    assert validate("big.toml") == (
        1,
        "big.toml:1:1: error: file is larger than 1 MiB; a preset is a small text file\n",
        "1 preset checked: 1 error(s), 0 warning(s)\n",
    )


def test_an_unreadable_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(project / "secret.toml", "")
    original = os.open

    def refuse(name: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(name).endswith("secret.toml"):
            raise PermissionError(13, "Permission denied", os.fspath(name))
        return original(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    assert path.exists()
    code, out, _ = validate("secret.toml")
    assert (code, out) == (
        1,
        "secret.toml:1:1: error: permission denied: the file cannot be read\n",
    )


def test_one_bad_file_does_not_hide_the_others(project: Path) -> None:
    write(project / "a.toml", "voice = 1\n")
    write(project / "b.toml", 'voice = "ash"\n')
    write(project / "c.toml", "[turn_detection\n")
    code, out, _ = validate("a.toml", "missing.toml", "b.toml", "c.toml")
    assert code == 1
    assert out.splitlines() == [
        "a.toml:1:9: error: voice: expected a string, found an integer",
        "missing.toml:1:1: error: no such file",
        "c.toml:1:16: error: invalid TOML: expected ']' at the end of a table declaration",
    ]


def test_a_shared_base_reports_its_problem_once(project: Path) -> None:
    write(project / "base.toml", "speed = 9.0\n")
    write(project / "a.toml", 'preset.extends = "base.toml"\n')
    write(project / "b.toml", 'preset.extends = "base.toml"\n')
    code, out, _ = validate("a.toml", "b.toml", "base.toml")
    assert code == 1
    assert out == (
        "base.toml:1:9: error: speed: 9.0 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)\n"
    )


def test_json_format(project: Path) -> None:
    write(project / "p.toml", '[turn_detection]\ntype = "server_vad"\ntreshold = 0.4\nvoice = 2\n')
    code, out, err = validate("--format", "json", "p.toml")
    assert (code, err) == (1, "")
    assert json.loads(out) == [
        {
            "file": "p.toml",
            "line": 3,
            "column": 1,
            "severity": "error",
            "rule": "unknown-key",
            "message": "unknown key `treshold` in table `turn_detection`; did you mean `threshold`?",
            "key": "turn_detection.treshold",
        },
        {
            "file": "p.toml",
            "line": 4,
            "column": 1,
            "severity": "error",
            "rule": "unknown-key",
            "message": "unknown key `voice` in table `turn_detection`",
            "key": "turn_detection.voice",
        },
    ]


def test_json_format_when_all_is_valid(project: Path) -> None:
    write(project / "p.toml", "")
    assert validate("--format", "json", "p.toml") == (0, "[]\n", "")


def test_github_format(project: Path) -> None:
    write(project / "p,1.toml", 'modalities = ["text"]\nvoice = "ash"\n')
    write(project / "q.toml", "\n\nspeed = 100\n")
    code, out, _ = validate("--format", "github", "p,1.toml", "q.toml")
    assert code == 1
    assert out.splitlines() == [
        "::warning file=p%2C1.toml,line=2,col=1,title=realtime-config no-effect::"
        'voice has no effect: modalities does not include "audio"',
        "::error file=q.toml,line=3,col=9,title=realtime-config range::"
        "speed: 100 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)",
    ]


def test_warnings_pass_unless_strict(project: Path) -> None:
    write(project / "p.toml", 'voice = "marine"\n')
    line = "p.toml:1:9: warning: voice `marine` is not a known voice; did you mean `marin`?\n"
    assert validate("p.toml") == (0, line, "1 preset checked: 0 error(s), 1 warning(s)\n")
    assert validate("--strict", "p.toml") == (
        1,
        line,
        "1 preset checked: 0 error(s), 1 warning(s)\n",
    )


def test_quiet_prints_nothing_on_success(project: Path) -> None:
    write(project / "p.toml", 'voice = "ash"\n')
    assert validate("-q", "p.toml") == (0, "", "")


def test_colour_only_on_a_terminal_and_never_with_no_color(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "p.toml", "voice = 1\n")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert "\x1b[" not in validate("p.toml")[1]
    monkeypatch.setenv("FORCE_COLOR", "1")  # colour as on a terminal
    coloured = validate("p.toml")[1]
    assert coloured == (
        "\x1b[1mp.toml:1:9:\x1b[0m \x1b[1;31merror:\x1b[0m voice: expected a string, found an integer\n"
    )


def test_use_color_honours_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    # Private: the stream must be a terminal, and no public call runs a command on one.
    from realtime_config.cli._options import use_color

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Terminal()) is False
    monkeypatch.delenv("NO_COLOR")
    assert use_color(object()) is False


def test_control_characters_in_keys_and_values_stay_on_one_line(project: Path) -> None:
    write(project / "p.toml", '[input_audio_transcription]\n"\\n" = false\n')
    write(project / "q.toml", 'voice = "mar\\nin"\n')
    code, out, _ = validate("p.toml", "q.toml")
    assert code == 1
    assert out.splitlines() == [
        'p.toml:2:1: error: unknown key `"\\n"` in table `input_audio_transcription`',
        "q.toml:1:9: warning: voice `mar\\nin` is not a known voice; did you mean `marin`?",
    ]
