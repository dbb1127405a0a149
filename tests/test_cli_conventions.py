"""Conventions users know from ruff, taplo and check-jsonschema: '-' for stdin, folders,
--color, shell completion and SARIF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from realtime_config.cli import main
from tests.conftest import GOLDEN, PRESETS, PROJECT, write

CASES = PROJECT / "tests" / "cases" / "invalid"
SCRIPTS = Path(sys.executable).parent


def run(*args: str, stdin: bytes | str | None = None, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin, env=env or None)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


# --- '-' reads standard input --------------------------------------------------------------


def test_validate_reads_stdin_and_names_it() -> None:
    assert run("validate", "-", stdin='type = "realtime"\n') == (0, "1 preset valid\n", "")
    assert run("validate", "-", stdin='type = "realtime"\nvoice = "ash"\n') == (
        1,
        "<stdin>:2:1: error: `voice` is `audio.output.voice` in a GA preset\n",
        "1 preset checked: 1 error(s), 0 warning(s)\n",
    )


def test_stdin_filename_names_the_file_and_finds_its_bases(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped preset that extends a base and reads an instructions file, piped in."""
    monkeypatch.chdir(PROJECT)
    support = PRESETS / "team" / "support.toml"
    text = support.read_text(encoding="utf-8")
    name = "presets/team/support.toml"
    assert run("compile", "-", "--stdin-filename", name, stdin=text) == run("compile", name)
    bad = text.replace('tool_choice = "auto"', 'tool_choice = "sometimes"')
    code, out, _ = run("validate", "-", "--stdin-filename", name, stdin=bad)
    assert code == 1
    assert out.startswith(f"{name}:3:15: error: tool_choice: ")
    code, out, _ = run("validate", "-", stdin=text)  # no name: its base is not found
    assert code == 1
    assert out.startswith("<stdin>:5:")


def test_compile_reads_stdin() -> None:
    text = (PRESETS / "phone-agent.toml").read_text(encoding="utf-8")
    golden = (GOLDEN / "client_secrets" / "phone-agent.json").read_text(encoding="utf-8")
    assert run("compile", "-t", "client_secrets", "-", stdin=text) == (0, golden, "")


def test_stdin_is_read_with_the_limits_of_a_file() -> None:
    code, out, _ = run("validate", "-", stdin=b"# " + b"x" * (1024 * 1024) + b"\n")
    assert (code, out) == (
        1,
        "<stdin>:1:1: error: file is larger than 1 MiB; a preset is a small text file\n",
    )
    code, out, _ = run("validate", "-", stdin=b'voice = "\xff"\n')
    assert (code, out) == (
        1,
        "<stdin>:1:10: error: invalid UTF-8: byte 0xff cannot be decoded; a preset must be UTF-8 text\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "-", "a.toml"], "'-' (standard input) is a preset of its own: give it alone"),
        (
            ["validate", "a.toml", "--stdin-filename", "b.toml"],
            "--stdin-filename goes with '-' (standard input) as FILES",
        ),
        (
            ["compile", "a.toml", "--stdin-filename", "b.toml"],
            "--stdin-filename goes with '-' (standard input) as PRESET",
        ),
        (
            ["compile", "--out-dir", "snapshots", "-"],
            "--out-dir compiles files; '-' (standard input) has no name",
        ),
    ],
)
def test_stdin_misuse_is_a_usage_error(args: list[str], message: str) -> None:
    code, out, err = run(*args, stdin="")
    assert (code, out) == (2, "")
    assert err.endswith(f"Error: {message}\n")


# --- a folder means the presets under it ---------------------------------------------------


def test_a_folder_means_every_preset_under_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT)
    under = sorted((PRESETS / "team").rglob("*.toml"))
    assert len(under) >= 2
    assert run("validate", "presets/team") == (0, f"{len(under)} presets valid\n", "")
    assert run("validate", "presets/team", "presets/phone-agent.toml") == (
        0,
        f"{len(under) + 1} presets valid\n",
        "",
    )


def test_a_folder_without_presets_is_an_error_in_its_place(project: Path) -> None:
    (project / "empty").mkdir()
    write(project / "ok.toml", 'voice = "ash"\n')
    assert run("validate", "empty", "ok.toml") == (
        1,
        "empty:1:1: error: is a directory, not a preset file\n",
        "2 presets checked: 1 error(s), 0 warning(s)\n",
    )


def test_a_folder_reports_each_bad_preset_in_it(project: Path) -> None:
    write(project / "presets" / "a" / "bad.toml", "voice = 3\n")
    write(project / "presets" / "good.toml", 'voice = "ash"\n')
    code, out, err = run("validate", "presets")
    assert (code, out) == (
        1,
        "presets/a/bad.toml:1:9: error: voice: expected a string, found an integer\n",
    )
    assert err == "2 presets checked: 1 error(s), 0 warning(s)\n"


def test_compile_out_dir_takes_folders_and_compile_says_what_to_do_with_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(PROJECT)
    out = tmp_path / "snapshots"
    code, stdout, _ = run("compile", "--out-dir", str(out), "presets/team")
    assert (code, stdout.splitlines()[-1]) == (0, "2 snapshots: 2 written, 0 unchanged")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json")) == [
        "team/base.json",
        "team/support.json",
    ]
    code, stdout, err = run("compile", "presets/team")
    assert (code, stdout) == (2, "")
    assert err.endswith(
        "Error: compile takes one PRESET, and presets/team is a folder: --out-dir DIR compiles "
        "every preset under it\n"
    )


# --- --color, NO_COLOR and FORCE_COLOR -----------------------------------------------------

RED_LINE = (
    "\x1b[1mp.toml:1:9:\x1b[0m \x1b[1;31merror:\x1b[0m voice: expected a string, found an integer\n"
)
PLAIN_LINE = "p.toml:1:9: error: voice: expected a string, found an integer\n"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, PLAIN_LINE),  # not a terminal
        ([], {"FORCE_COLOR": "1"}, RED_LINE),
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, PLAIN_LINE),
        (["--color", "always"], {"NO_COLOR": "1"}, RED_LINE),
        (["--color", "never"], {"FORCE_COLOR": "1"}, PLAIN_LINE),
        (["--color", "auto"], {"FORCE_COLOR": "1"}, RED_LINE),
    ],
)
def test_color_follows_the_option_then_the_environment(
    project: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    write(project / "p.toml", "voice = 3\n")
    assert run("validate", *args, "p.toml", **env)[1] == expected
    # Before the command, as a global option, too.
    assert run(*args, "validate", "p.toml", **env)[1] == expected


def test_color_reaches_the_warnings_compile_prints(project: Path) -> None:
    write(project / "p.toml", 'voice = "ash"\nmodel = "gpt-4o-realtime-preview-2099"\n')
    code, _, err = run("compile", "--color", "always", "p.toml")
    assert code == 0
    assert "\x1b[1;33mwarning:\x1b[0m" in err


# --- shell completion ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _realtime_config_completion realtime-config"),
        ("zsh", "compdef _realtime_config_completion realtime-config"),
        ("fish", "complete --no-files --command realtime-config"),
    ],
)
def test_completion_prints_the_script_of_each_shell(shell: str, marker: str) -> None:
    code, out, err = run("completion", shell)
    assert (code, err) == (0, "")
    assert marker in out
    assert "_REALTIME_CONFIG_COMPLETE" in out


def complete(words: str, **env: str) -> list[str]:
    """What click's completion answers for the command line ``words`` (bash protocol)."""
    result = CliRunner().invoke(
        main,
        [],
        prog_name="realtime-config",
        env={
            "_REALTIME_CONFIG_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
            **env,
        },
    )
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_explain_completes_field_names() -> None:
    assert complete("realtime-config explain audio.input.turn_detection.th") == [
        "audio.input.turn_detection.threshold"
    ]
    assert complete("realtime-config explain --dialect beta turn_detection.th") == [
        "turn_detection.threshold"
    ]
    assert "turn_detection.threshold" not in complete(
        "realtime-config explain --dialect realtime tu"
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_completes_in_a_real_bash() -> None:
    """Source the printed script in bash, as ~/.bashrc would, and ask it to complete."""
    script = (
        'eval "$(realtime-config completion bash)"\n'
        "COMP_WORDS=(realtime-config explain audio.output.sp)\n"
        "COMP_CWORD=2\n"
        "_realtime_config_completion realtime-config\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env={**os.environ, "PATH": f"{SCRIPTS}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "audio.output.speed\n"), done.stderr


# --- SARIF ---------------------------------------------------------------------------------

SARIF_SUBSET = {
    "$comment": "The SARIF 2.1.0 (OASIS) properties this reporter writes, with the spec's "
    "required keys, types and value sets for each.",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "informationUri": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {"id": {"type": "string"}},
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {"text": {"type": "string"}},
                                },
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation", "region"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                        "properties": {"uri": {"type": "string"}},
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine"],
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                            "startColumn": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_gives_each_diagnostic_as_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    text_code, text, _ = run(
        "validate", "-q", "several-mistakes.toml", "cross-tool-choice-unknown.toml"
    )
    code, out, err = run(
        "validate", "--format", "sarif", "several-mistakes.toml", "cross-tool-choice-unknown.toml"
    )
    assert (code, err) == (text_code, "")
    log = json.loads(out)
    jsonschema.Draft202012Validator(
        SARIF_SUBSET, format_checker=jsonschema.FormatChecker()
    ).validate(log)
    (only_run,) = log["runs"]
    rules = [rule["id"] for rule in only_run["tool"]["driver"]["rules"]]
    lines = []
    for result in only_run["results"]:
        (location,) = result["locations"]
        place = location["physicalLocation"]
        region = place["region"]
        assert rules[result["ruleIndex"]] == result["ruleId"]
        lines.append(
            f"{place['artifactLocation']['uri']}:{region['startLine']}:{region['startColumn']}: "
            f"{result['level']}: {result['message']['text']}\n"
        )
    assert "".join(lines) == text
    assert sorted(set(rules)) == rules


def test_sarif_of_a_clean_run_has_no_results_and_file_uris_are_escaped(project: Path) -> None:
    write(project / "my presets" / "a b.toml", "voice = 3\n")
    log = json.loads(run("validate", "--format", "sarif", "my presets/a b.toml")[1])
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "my%20presets/a%20b.toml"
    write(project / "ok.toml", 'voice = "ash"\n')
    log = json.loads(run("validate", "--format", "sarif", "ok.toml")[1])
    assert log["runs"][0]["results"] == []
