"""Hostile inputs: each becomes a located diagnostic, never a traceback, a hang or a leak.

Nesting past the limit in every way TOML nests, ``extends`` graphs of any length or shape,
names no file can have, integers past 64 bits, FIFOs, symlinks out of the project, a
recursive ``$ref``, a byte order mark, a cycle reported where it is checked.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config import (
    PresetError,
    RealtimeConfigError,
    check_files,
    compile_preset,
    load_preset,
)
from realtime_config.cli import main
from tests.conftest import write
from tests.test_exit_statuses import ENTRY_POINT, command

TOO_DEEP = (
    "error: keys and values are nested deeper than 64 levels (dotted keys, [headers], "
    "arrays and inline tables all count)"
)
OUT_OF_RANGE = (
    "the integer is out of range; TOML integers are 64-bit, from -9223372036854775808 to "
    "9223372036854775807"
)
TOOL = '[[tools]]\ntype = "function"\nname = "f"\n'


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def lines(path: Path | str) -> list[str]:
    return [str(d) for d in check_files([path])]


def error_lines(path: Path) -> list[str]:
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    return str(caught.value).splitlines()


# --- Nesting: every way TOML nests is bounded by the same limit --------------------------


def chain(parts: int) -> str:
    """``a.a.a...`` with ``parts`` parts."""
    return ".".join(["a"] * parts)


@pytest.mark.parametrize("parts", [62, 600, 200_000])
@pytest.mark.parametrize(
    ("form", "column"),
    [
        # tools, 0, parameters: 3 levels before the dotted key; the 65th level is part 62.
        (lambda n: f"{TOOL}parameters.{chain(n)} = 1\n", 134),
        (lambda n: f"{TOOL}[tools.parameters.{chain(n)}]\nx = 1\n", 141),
        (lambda n: f"{TOOL}[[tools.parameters.{chain(n)}]]\nx = 1\n", 142),
        (lambda n: f"{TOOL}parameters = {{ {chain(n)} = 1 }}\n", 138),
    ],
    ids=["dotted-key", "header", "array-of-tables", "inline-table-dotted-key"],
)
def test_nesting_past_the_limit_is_refused_however_it_is_written(
    project: Path, form: object, column: int, parts: int
) -> None:
    # Before: a RecursionError from about 500 levels, and a parse that ran out of memory
    # on 200,000 parts (tomllib keeps every prefix of a dotted key).
    text = form(parts)  # type: ignore[operator]
    path = write(project / "p.toml", text)
    assert lines(path) == [f"p.toml:4:{column}: {TOO_DEEP}"]


def test_nesting_up_to_the_limit_is_accepted(project: Path) -> None:
    # tools, 0, parameters and 61 parts: a value 64 levels deep.
    path = write(project / "p.toml", f"{TOOL}parameters.{chain(61)} = 1\n")
    assert lines(path) == []


def test_arrays_nested_to_the_limit_with_a_value_inside_are_refused(project: Path) -> None:
    # 64 brackets pass the bracket count, but the value inside is at level 65, where the
    # importer refuses it too: compile and import agree.
    path = write(project / "p.toml", "[tracing]\nmetadata = " + "[" * 63 + "1" + "]" * 63 + "\n")
    assert lines(path) == [f"p.toml:2:75: {TOO_DEEP}"]


def test_a_deep_inline_table_is_still_the_bracket_error(project: Path) -> None:
    path = write(project / "p.toml", "x = " + "{a=" * 70 + "1" + "}" * 70 + "\n")
    assert lines(path) == [
        "p.toml:1:197: error: arrays and inline tables are nested deeper than 64 levels"
    ]


# --- extends: any length, any shape, each file resolved once -----------------------------


def test_an_extends_chain_of_any_length_resolves(project: Path) -> None:
    # Before: RecursionError from about 485 files. Resolution is iterative, not bounded:
    # a chain is as long as the files a project has, and each is read once.
    count = 1500
    for index in range(count - 1):
        write(project / f"f{index}.toml", f'preset.extends = "f{index + 1}.toml"\n')
    write(project / f"f{count - 1}.toml", 'voice = "ash"\n')
    assert load_preset(project / "f0.toml").session == {"voice": "ash"}


def test_a_long_chain_over_a_missing_base_is_one_located_error(project: Path) -> None:
    count = 1500
    for index in range(count):
        write(project / f"f{index}.toml", f'preset.extends = "f{index + 1}.toml"\n')
    assert lines(project / "f0.toml") == [
        f"f{count - 1}.toml:1:18: error: preset.extends: 'f{count}.toml' does not exist"
    ]


def test_a_diamond_over_a_missing_base_is_resolved_once_per_file(project: Path) -> None:
    # Before: 18 levels took 61 s and 165 MB, every path through the diamond walked again.
    levels = 18
    for level in range(levels):
        for side in "ab":
            write(
                project / f"l{level}{side}.toml",
                f'preset.extends = ["l{level + 1}a.toml", "l{level + 1}b.toml"]\n',
            )
    started = time.perf_counter()
    found = lines(project / "l0a.toml")
    assert time.perf_counter() - started < 5
    last = levels - 1
    assert found == [
        f"l{last}a.toml:1:19: error: preset.extends: 'l{levels}a.toml' does not exist",
        f"l{last}a.toml:1:32: error: preset.extends: 'l{levels}b.toml' does not exist",
        f"l{last}b.toml:1:19: error: preset.extends: 'l{levels}a.toml' does not exist",
        f"l{last}b.toml:1:32: error: preset.extends: 'l{levels}b.toml' does not exist",
    ]


def test_a_cycle_is_reported_in_each_file_checked_naming_the_chain(project: Path) -> None:
    # Before: a.toml's cycle was reported in c.toml, which pre-commit (showing only the
    # changed file's lines) did not show.
    write(project / "a.toml", 'voice = "ash"\npreset.extends = "b.toml"\n')
    write(project / "b.toml", 'preset.extends = "c.toml"\n')
    write(project / "c.toml", 'preset.extends = ["a.toml"]\n')
    assert run("validate", "-q", "a.toml", "c.toml")[:2] == (
        1,
        "a.toml:2:18: error: preset.extends forms a cycle: a.toml -> b.toml -> c.toml -> a.toml\n"
        "c.toml:1:19: error: preset.extends forms a cycle: c.toml -> a.toml -> b.toml -> c.toml\n",
    )


def test_a_preset_above_a_cycle_reports_the_cycle_where_it_is(project: Path) -> None:
    write(project / "top.toml", 'preset.extends = "a.toml"\n')
    write(project / "a.toml", 'preset.extends = "b.toml"\n')
    write(project / "b.toml", 'preset.extends = "a.toml"\n')
    assert lines(project / "top.toml") == [
        "a.toml:1:18: error: preset.extends forms a cycle: a.toml -> b.toml -> a.toml"
    ]


def test_a_long_cycle_takes_no_quadratic_time(project: Path) -> None:
    count = 2000
    for index in range(count):
        write(project / f"f{index}.toml", f'preset.extends = "f{(index + 1) % count}.toml"\n')
    started = time.perf_counter()
    (found,) = lines(project / "f0.toml")
    assert time.perf_counter() - started < 10
    assert found.startswith("f0.toml:1:18: error: preset.extends forms a cycle: f0.toml -> f1")
    assert found.endswith(f"-> f{count - 1}.toml -> f0.toml")


# --- Names no file can have ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["extends", "instructions_file"])
def test_a_nul_in_a_named_path_is_located(project: Path, key: str) -> None:
    path = write(project / "p.toml", f'preset.{key} = "a\\u0000b.toml"\n')
    column = len(f"preset.{key} = ") + 1
    assert lines(path) == [
        f"p.toml:1:{column}: error: preset.{key}: 'a\\x00b.toml': the file name contains a "
        "NUL character"
    ]


@pytest.mark.parametrize("key", ["extends", "instructions_file"])
def test_an_over_long_name_in_a_named_path_is_located(project: Path, key: str) -> None:
    path = write(project / "p.toml", f'preset.{key} = "{"a" * 5000}"\n')
    column = len(f"preset.{key} = ") + 1
    (found,) = lines(path)
    assert found.startswith(f"p.toml:1:{column}: error: preset.{key}: ")
    assert found.endswith("the file name is too long")
    assert len(found) < 250  # the name is cut short, not printed whole


def test_a_nul_or_long_name_given_to_the_library_or_a_command(project: Path) -> None:
    assert lines("a\0b.toml") == ["a\\x00b.toml:1:1: error: the file name contains a NUL character"]
    long = "b" * 5000 + ".toml"
    assert run("validate", "-q", long)[:2] == (1, f"{long}:1:1: error: the file name is too long\n")
    code, out, err = run("compile", long)
    assert (code, out) == (1, "")
    assert err.startswith(f"{long}:1:1: error: the file name is too long")


# --- Integers past 64 bits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "column"),
    [
        ("9" * 5000, 9),  # past Python's int/str conversion limit: a ValueError before
        ("0x" + "f" * 5000, 9),  # hexadecimal has no such limit, but no 64-bit form either
        ("9223372036854775808", 9),
        ("-9223372036854775809", 9),
    ],
)
def test_an_integer_past_64_bits_in_a_preset_is_located(
    project: Path, literal: str, column: int
) -> None:
    path = write(project / "p.toml", f"[tracing]\nmetadata = {{ n = {literal} }}\ntop = 1\n")
    assert lines(path)[0] == f"p.toml:2:{column + 9}: error: tracing.metadata.n: {OUT_OF_RANGE}"


def test_the_64_bit_extremes_are_accepted(project: Path) -> None:
    path = write(
        project / "p.toml",
        "[tracing]\nmetadata = { a = 9223372036854775807, b = -9223372036854775808 }\n",
    )
    assert load_preset(path).session["tracing"]["metadata"] == {"a": 2**63 - 1, "b": -(2**63)}


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "9" * 30, "18446744073709551616"])
def test_an_integer_past_64_bits_in_imported_json_is_located(project: Path, literal: str) -> None:
    text = '{\n  "voice": "ash",\n  "tracing": {"metadata": {"n": ' + literal + "}}\n}\n"
    write(project / "p.json", text)
    assert run("import", "p.json") == (
        1,
        "",
        f"p.json:3:33: error: tracing.metadata.n: {OUT_OF_RANGE}\n",
    )


# --- Files that are not regular files ---------------------------------------------------------


def finishes(call: object, seconds: float = 10) -> object:
    """The result of ``call()``, or a failure if it has not returned after ``seconds``."""
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)  # type: ignore[operator]
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still blocked after {seconds} s"
    return result[0]


def release(fifo: Path) -> None:
    """Open the FIFO for writing without blocking, so that a blocked reader returns."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
@pytest.mark.parametrize("role", ["preset", "instructions", "extends"])
def test_a_fifo_is_refused_instead_of_blocking(project: Path, role: str) -> None:
    fifo = project / "pipe.toml"
    os.mkfifo(fifo)
    if role == "preset":
        checked, want = (
            fifo,
            "pipe.toml:1:1: error: is a FIFO (named pipe), not a preset file; only regular files are read",
        )
    elif role == "instructions":
        checked = write(project / "p.toml", 'preset.instructions_file = "pipe.toml"\n')
        want = (
            "p.toml:1:28: error: preset.instructions_file: pipe.toml: is a FIFO (named pipe), "
            "not a preset file; only regular files are read"
        )
    else:
        checked = write(project / "p.toml", 'preset.extends = "pipe.toml"\n')
        want = "p.toml:1:18: error: preset.extends: 'pipe.toml' is a FIFO (named pipe), not a preset file"
    try:
        assert finishes(lambda: lines(checked)) == [want]
    finally:
        release(fifo)


# --- Confinement of the presets a command finds -------------------------------------------


@pytest.fixture
def leaking(project: Path) -> Path:
    """A project whose presets/ holds a symlink to a file outside the project."""
    secret = write(project.parent / f"{project.name}-secret.toml", 'voice = "TOP-SECRET"\n')
    write(project / "presets" / "fine.toml", 'voice = "ash"\n')
    (project / "presets" / "leak.toml").symlink_to(secret)
    return project


LEAK = (
    "presets/leak.toml:1:1: error: leads outside the project root through a symlink; only "
    "files inside the root are read"
)


def test_validate_refuses_a_discovered_symlink_out_of_the_root(leaking: Path) -> None:
    code, out, err = run("validate")
    assert (code, out) == (1, LEAK + "\n")
    assert "TOP-SECRET" not in out + err


def test_compile_out_dir_refuses_a_discovered_symlink_out_of_the_root(leaking: Path) -> None:
    code, out, err = run("compile", "--out-dir", "snapshots")
    assert code == 1
    assert LEAK in err + out
    assert "TOP-SECRET" not in out + err
    assert not (leaking / "snapshots" / "leak.json").exists()


def test_serve_refuses_a_discovered_symlink_out_of_the_root(leaking: Path) -> None:
    pytest.importorskip("starlette")
    from realtime_config import create_app

    with pytest.raises(RealtimeConfigError) as caught:
        create_app(root=leaking, api_key="sk-test")
    assert "TOP-SECRET" not in str(caught.value)
    assert "presets/leak.toml:1:1: error:" in str(caught.value)


def test_a_listed_symlink_out_of_the_root_is_refused_too(leaking: Path) -> None:
    assert lines(leaking / "presets" / "leak.toml") == [LEAK]


def test_new_from_a_base_outside_the_root_is_refused_before_it_is_read(
    project: Path,
) -> None:
    outside = write(project.parent / f"{project.name}-base.toml", "voice = [TOP-SECRET\n")
    code, out, err = run("new", "agent", "--from", str(outside))
    assert code != 0
    assert "is outside the project root" in err
    assert "TOP-SECRET" not in out + err
    assert "invalid TOML" not in err


# --- Recursive $ref, BOM, a newline in a file name ----------------------------------------


def test_a_recursive_ref_in_tool_parameters_is_a_warning(project: Path) -> None:
    path = write(
        project / "p.toml",
        f'{TOOL}description = "d"\n'
        '[tools.parameters]\ntype = "object"\n'
        '[tools.parameters.properties.child]\n"$ref" = "#"\n',
    )
    assert lines(path) == [
        'p.toml:8:10: warning: tools[0].parameters.properties.child."$ref": "#" makes the '
        "parameters recursive: it refers to a schema that contains it, so the arguments have "
        "no depth limit"
    ]


def test_a_ref_to_a_plain_definition_is_no_warning(project: Path) -> None:
    path = write(
        project / "p.toml",
        f'{TOOL}description = "d"\n'
        '[tools.parameters]\ntype = "object"\n'
        '"$defs" = { name = { type = "string" } }\n'
        'properties = { who = { "$ref" = "#/$defs/name" } }\n',
    )
    assert lines(path) == []


def test_a_byte_order_mark_is_accepted_and_positions_stay_right(project: Path) -> None:
    path = project / "p.toml"
    path.write_bytes(b"\xef\xbb\xbfvoice = 1\n")
    assert lines(path) == ["p.toml:1:9: error: voice: expected a string, found an integer"]
    path.write_bytes(b'\xef\xbb\xbfvoice = "ash"\n')
    assert (
        compile_preset(load_preset(path), target="beta.session.update")["session"]["voice"] == "ash"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="a newline cannot be in a Windows name")
def test_a_newline_in_a_file_name_keeps_a_diagnostic_on_one_line(project: Path) -> None:
    write(project / "a\nb.toml", "voice = 1\n")
    code, out, _ = run("validate", "-q", "a\nb.toml")
    assert code == 1
    assert out.splitlines() == ["a\\nb.toml:1:9: error: voice: expected a string, found an integer"]
    assert json.loads(run("validate", "--format", "json", "a\nb.toml")[1])[0]["file"] == "a\nb.toml"


def test_a_json_object_used_as_a_key_is_invalid_json_not_a_crash(project: Path) -> None:
    write(project / "bad.json", '{{"a": 1}: 2}')
    assert run("import", "bad.json") == (
        1,
        "",
        "bad.json:1:2: error: invalid JSON: expecting property name enclosed in double quotes\n",
    )


def test_new_from_a_base_with_a_nul_in_its_name_is_located(project: Path) -> None:
    # Writing a starter has no public function, and a command line cannot pass a NUL
    # (argv cannot hold one): only the library call meets such a base.
    from realtime_config.authoring._starter import new_preset

    with pytest.raises(RealtimeConfigError) as raised:
        new_preset("child", base="a\x00b.toml", root=project)
    assert "NUL" in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("quotes", ['"""', "'''"])
def test_brackets_inside_a_multi_line_string_are_text_not_nesting(
    project: Path, quotes: str
) -> None:
    """Found by the long fuzz run: the pre-parse scan took a multi-line string's text for
    arrays; the string is just instructions."""
    text = f'type = "realtime"\ninstructions = {quotes}\n{"[" * 70}{{ Ada {quotes}\n'
    path = write(project / "p.toml", text)
    assert [str(d) for d in check_files([path])] == []
    assert load_preset(path).session["instructions"] == "[" * 70 + "{ Ada "


def test_periods_in_strings_and_comments_do_not_start_the_full_nesting_scan(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preset with paragraphs of instructions pays no key-path scan: only the ``.``, ``[``
    and ``{`` outside strings and comments bound the nesting. (Private: no public call can
    say whether the scan ran.)"""
    from realtime_config import _source

    def refused(text: str, limit: int) -> object:
        raise AssertionError("the full nesting scan ran")

    monkeypatch.setattr(_source, "nesting_overflow", refused)
    prose = "Be brief. Say the date as 3.12.2026. See https://example.com/a.b.c. " * 20
    text = (
        f'# A comment. With periods. Many... of them.\nvoice = "ash"\ninstructions = """\n'
        f'{prose}\n"""\n[tracing]\nworkflow_name = \'{prose}\'\nmetadata = {{ note = "{prose}" }}\n'
    )
    path = write(project / "p.toml", text)
    assert [str(d) for d in check_files([path])] == []


@pytest.mark.parametrize("parts", [63, 64, 70])
def test_dotted_keys_beside_prose_are_still_bounded(project: Path, parts: int) -> None:
    prose = 'instructions = "' + "A sentence. " * 40 + '"\n'
    path = write(project / "p.toml", f"{prose}{chain(parts)} = 1\n")
    expected = [] if parts <= 64 else [f"p.toml:2:{2 * 64 + 1}: {TOO_DEEP}"]
    assert [str(d) for d in check_files([path]) if d.rule == "nesting"] == expected


# === Writes, the terminal and the file system: the edges (issue: writes a team can trust) ===

BETA_BASE = 'modalities = ["text", "audio"]\ninstructions = "hi"\n'
BETA_CHILD = 'voice = "ash"\n\n[preset]\nextends = "../base.toml"\n'
CHAIN = ("presets/base.toml", "presets/team/support.toml")


def chain_project(folder: Path) -> Path:
    """A beta chain across two folders: migrating one file without the other breaks it."""
    write(folder / "pyproject.toml", "[project]\nname = 'demo'\n")
    write(folder / "presets" / "base.toml", BETA_BASE)
    write(folder / "presets" / "team" / "support.toml", BETA_CHILD)
    return folder


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` with its bytes (None for a folder): leftovers show."""
    return {
        path.relative_to(folder).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


def migrated_chain(tmp_path: Path) -> dict[str, bytes | None]:
    """The tree of the chain migrated by an uninterrupted run, for comparison."""
    reference = chain_project(tmp_path / "reference")
    done = subprocess.run(
        [str(ENTRY_POINT), "migrate", "--in-place", *CHAIN],
        cwd=reference,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (
        0,
        b"rewrote presets/base.toml\nrewrote presets/team/support.toml\n",
    ), done.stderr
    return tree(reference)


PAUSED = """
import os, sys
import realtime_config._commit as files
step, ready, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def pause(name, path):
    if name == step:
        files.COMMIT_HOOK = None
        os.write(ready, str(path).encode() + b"\\n")
        os.read(go, 1)
files.COMMIT_HOOK = pause
from realtime_config.cli import main
main(sys.argv[4:], prog_name="realtime-config")
"""
"""The command line with a commit that stops after its first ``step`` until told to go on:
the test hook of ``_commit`` holds it there, so a signal lands mid-commit without sleeping."""


class Paused:
    """A command run in a subprocess, held inside its commit."""

    def __init__(self, cwd: Path, step: str, *args: str) -> None:
        ready, self._ready = os.pipe()
        self._go, go = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", PAUSED, step, str(self._ready), str(self._go), *args],
            cwd=cwd,
            pass_fds=(self._ready, self._go),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
        )
        os.close(self._ready)
        os.close(self._go)
        self._go = go
        with os.fdopen(ready, "rb") as stream:
            assert select.select([stream], [], [], 60)[0], "the commit never reached the hook"
            self.at = stream.readline().decode().strip()

    def resume(self) -> tuple[int, str, str]:
        with contextlib.suppress(OSError):
            os.write(self._go, b"g")
        os.close(self._go)
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out.decode(), err.decode()


# --- 1. Several files: all or nothing -------------------------------------------------------


def test_migrate_in_place_names_every_file_it_rewrote(tmp_path: Path) -> None:
    migrated = migrated_chain(tmp_path)
    assert migrated["presets/base.toml"] != BETA_BASE.encode()
    assert set(migrated) == {
        "presets",
        "presets/base.toml",
        "presets/team",
        "presets/team/support.toml",
        "pyproject.toml",
    }  # no journal, no backup, no temporary file left behind


@pytest.mark.parametrize(
    ("signum", "name"),
    [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT"), (signal.SIGHUP, "SIGHUP")],
)
def test_a_signal_during_the_commit_puts_every_file_back(
    tmp_path: Path, signum: int, name: str
) -> None:
    project = chain_project(tmp_path / "p")
    before = tree(project)
    paused = Paused(project, "replaced", "migrate", "--in-place", *CHAIN)
    assert paused.at == "presets/base.toml"  # the first file is already replaced
    assert (project / "presets" / "base.toml").read_text(encoding="utf-8") != BETA_BASE
    paused.process.send_signal(signum)
    code, out, err = paused.resume()
    assert (code, out) == (-signum, "")
    assert err == f"realtime-config: error: interrupted by {name}; nothing was changed\n"
    assert tree(project) == before


def test_a_signal_once_every_file_is_in_place_lets_the_command_finish_and_say_so(
    tmp_path: Path,
) -> None:
    project = chain_project(tmp_path / "p")
    paused = Paused(project, "committed", "migrate", "--in-place", *CHAIN)
    paused.process.send_signal(signal.SIGTERM)
    code, out, err = paused.resume()
    assert (code, out, err) == (
        -signal.SIGTERM,
        "rewrote presets/base.toml\nrewrote presets/team/support.toml\n",
        "",
    )
    assert tree(project) == migrated_chain(tmp_path)


def test_a_signal_during_compile_out_dir_removes_the_new_snapshots(tmp_path: Path) -> None:
    project = chain_project(tmp_path / "p")
    before = tree(project)
    paused = Paused(project, "replaced", "compile", "--out-dir", "snapshots/all")
    assert paused.at == "snapshots/all/base.json"
    paused.process.send_signal(signal.SIGTERM)
    code, out, err = paused.resume()
    assert (code, out) == (-signal.SIGTERM, "")
    assert err == "realtime-config: error: interrupted by SIGTERM; nothing was changed\n"
    assert tree(project) == before  # the folders it made are gone too


def test_a_replacement_that_fails_midway_puts_the_first_back(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain_project(project)
    before = tree(project)
    # Private: a failure between two replacements can only be placed through the test seam.
    from realtime_config import _commit

    def lose_the_next_temporary(step: str, path: Path) -> None:
        if step == "replaced" and path == Path(CHAIN[0]):
            for staged in (project / "presets" / "team").glob(".support.toml.*.tmp"):
                staged.unlink()  # the second replacement now fails

    monkeypatch.setattr(_commit, "COMMIT_HOOK", lose_the_next_temporary)
    assert run("migrate", "--in-place", *CHAIN) == (
        1,
        "",
        "realtime-config: error: presets/team/support.toml: cannot write: No such file or "
        "directory; nothing was changed\n",
    )
    assert tree(project) == before


def test_kill_9_mid_commit_is_repaired_by_the_next_run(tmp_path: Path) -> None:
    project = chain_project(tmp_path / "p")
    paused = Paused(project, "replaced", "migrate", "--in-place", *CHAIN)
    paused.process.kill()
    assert paused.resume()[0] == -signal.SIGKILL
    # Half done: base is GA, the preset extending it still beta, and the run's files lie about.
    assert (project / "presets" / "base.toml").read_text(encoding="utf-8") != BETA_BASE
    leftovers = sorted(
        p.relative_to(project).as_posix()
        for p in project.rglob(".*")
        if p.name != ".realtime-config-journal"
    )
    assert [re.sub(r"\.[0-9a-f]{8}\.", ".X.", p) for p in leftovers] == [
        "presets/.base.toml.X.orig",
        "presets/team/.support.toml.X.tmp",
    ]
    assert (project / ".realtime-config-journal").is_file()
    # --check writes nothing: it says what to do.
    done = subprocess.run(
        [str(ENTRY_POINT), "migrate", "--check", *CHAIN],
        cwd=project,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, b"")
    assert done.stderr == (
        b"realtime-config: error: an interrupted `migrate --in-place` left its files "
        b"half-written (.realtime-config-journal); run `migrate --in-place` again to repair "
        b"them\n"
    )
    done = subprocess.run(
        [str(ENTRY_POINT), "migrate", "--in-place", *CHAIN],
        cwd=project,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        b"realtime-config: note: an earlier `migrate --in-place` was interrupted; what it "
        b"left is put back as it was\n"
    )
    assert done.stdout.decode() == (
        "restored presets/base.toml\n"
        f"removed {leftovers[1]}\n"
        "rewrote presets/base.toml\n"
        "rewrote presets/team/support.toml\n"
    )
    assert tree(project) == migrated_chain(tmp_path)
    assert run("validate", "--root", str(project), *(str(project / p) for p in CHAIN))[0] == 0


def test_kill_9_after_a_new_snapshot_is_placed_removes_it_next_time(tmp_path: Path) -> None:
    project = chain_project(tmp_path / "p")
    paused = Paused(project, "replaced", "compile", "--out-dir", "snapshots")
    paused.process.kill()
    paused.resume()
    assert (project / "snapshots" / "base.json").is_file()
    done = subprocess.run(
        [str(ENTRY_POINT), "compile", "--out-dir", "snapshots"],
        cwd=project,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The new file it had placed, its staged one, and the folders it made go; then it runs.
    assert re.sub(r"\.[0-9a-f]{8}\.", ".X.", done.stdout.decode()) == (
        "removed snapshots/base.json\n"
        "removed snapshots/team/.support.json.X.tmp\n"
        "removed snapshots/team\n"
        "removed snapshots\n"
        "wrote snapshots/base.json\n"
        "wrote snapshots/team/support.json\n"
        "2 snapshots: 2 written, 0 unchanged\n"
    )
    assert sorted(p.name for p in project.rglob(".*")) == []


def test_a_journal_that_names_files_not_its_own_is_refused(project: Path) -> None:
    chain_project(project)
    entry = {"target": "presets/base.toml", "temporary": "../../etc/x", "backup": "y"}
    write(project / ".realtime-config-journal", json.dumps({"files": [entry]}) + "\n")
    assert run("migrate", "--in-place", *CHAIN) == (
        1,
        "",
        "realtime-config: error: .realtime-config-journal: is the journal of an interrupted "
        "write, but temporary '../../etc/x' is not one of its own files; check the files it "
        "names, then remove it\n",
    )
    assert (project / "presets" / "base.toml").read_text(encoding="utf-8") == BETA_BASE


# --- 1b. A read-only folder in the middle of migrate --in-place (as a user, not root) ------


@pytest.fixture
def shared() -> Iterator[Path]:
    """A project folder its (unprivileged) user owns the writes of: tmp_path's parents are
    0700, so ``command`` (run as nobody when the tests run as root) could not enter it."""
    folder = Path(tempfile.mkdtemp(prefix="realtime-config-"))
    folder.chmod(0o777)
    write(folder / "pyproject.toml", "[project]\nname = 'demo'\n").chmod(0o666)
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(folder)


def test_a_read_only_folder_midway_through_migrate_in_place_changes_nothing(
    shared: Path,
) -> None:
    chain_project(shared)
    for path in [shared, *shared.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    (shared / "presets" / "team").chmod(0o555)  # base.toml's folder stays writable
    before = tree(shared)
    done = command("migrate", "--in-place", *CHAIN, cwd=shared)
    assert (done.returncode, done.stdout) == (1, b"")
    assert done.stderr == (
        b"realtime-config: error: presets/team/support.toml: cannot write: Permission denied; "
        b"nothing was changed\n"
    )
    assert tree(shared) == before


# --- 2. No write through a link out of the root, unless the user typed the path --------------


@pytest.fixture
def snapshotted(project: Path) -> Path:
    write(project / "presets" / "assistant.toml", 'voice = "ash"\n')
    (project / "snapshots").mkdir()
    return project


def victim(project: Path) -> Path:
    return write(project.parent / f"{project.name}-victim.txt", "keep me\n")


def test_a_symlinked_snapshot_leading_out_of_the_root_is_not_written(snapshotted: Path) -> None:
    outside = victim(snapshotted)
    (snapshotted / "snapshots" / "assistant.json").symlink_to(f"../../{outside.name}")
    assert run("compile", "--out-dir", "snapshots") == (
        1,
        "",
        "realtime-config: error: snapshots/assistant.json: leads outside the project root "
        f"through the symlink snapshots/assistant.json (to ../../{outside.name}); refusing to "
        "write through it; nothing was changed\n",
    )
    assert outside.read_text(encoding="utf-8") == "keep me\n"


def test_a_symlinked_snapshot_folder_leading_out_of_the_root_is_not_written(
    snapshotted: Path,
) -> None:
    outside = victim(snapshotted)
    (snapshotted / "snapshots").rmdir()
    (snapshotted / "snapshots").symlink_to("..")
    code, out, err = run("compile", "--out-dir", "snapshots")
    assert (code, out) == (1, "")
    assert err == (
        "realtime-config: error: snapshots/assistant.json: leads outside the project root "
        "through the symlink snapshots (to ..); refusing to write through it; nothing was "
        "changed\n"
    )
    assert not (outside.parent / "assistant.json").exists()


def test_a_hard_linked_snapshot_is_not_written(snapshotted: Path) -> None:
    outside = victim(snapshotted)
    os.link(outside, snapshotted / "snapshots" / "assistant.json")
    assert run("compile", "--out-dir", "snapshots") == (
        1,
        "",
        "realtime-config: error: snapshots/assistant.json: has 2 names (hard links), and "
        "another may lie outside the project root; refusing to write it; nothing was changed\n",
    )
    assert outside.read_text(encoding="utf-8") == "keep me\n"


def test_a_symlink_inside_the_root_is_written_through(snapshotted: Path) -> None:
    real = write(snapshotted / "kept" / "assistant.json", "old\n")
    (snapshotted / "snapshots" / "assistant.json").symlink_to("../kept/assistant.json")
    assert run("compile", "--out-dir", "snapshots") == (
        0,
        "wrote snapshots/assistant.json\n1 snapshot: 1 written, 0 unchanged\n",
        "",
    )
    assert (snapshotted / "snapshots" / "assistant.json").is_symlink()
    assert real.read_text(encoding="utf-8").startswith("{")


def test_an_out_dir_the_user_named_outside_the_root_is_theirs(snapshotted: Path) -> None:
    elsewhere = snapshotted.parent / f"{snapshotted.name}-snapshots"
    assert run("compile", "--out-dir", str(elsewhere))[0] == 0
    assert (elsewhere / "assistant.json").is_file()


def test_o_through_a_symlink_out_of_the_root_is_the_users_choice(snapshotted: Path) -> None:
    outside = victim(snapshotted)
    (snapshotted / "out.json").symlink_to(outside)
    assert run("compile", "presets/assistant.toml", "-o", "out.json") == (0, "", "")
    assert outside.read_text(encoding="utf-8").startswith("{")


def test_migrate_in_place_of_a_preset_symlinked_out_of_the_root_writes_nothing(
    project: Path,
) -> None:
    outside = write(project.parent / f"{project.name}-beta.toml", 'voice = "ash"\n')
    (project / "presets").mkdir()
    (project / "presets" / "a.toml").symlink_to(outside)
    code, out, err = run("migrate", "--in-place", "presets/a.toml")
    assert (code, out) == (1, "")
    assert err == (
        "presets/a.toml:1:1: error: leads outside the project root through a symlink; only "
        "files inside the root are read\n"
    )
    assert outside.read_text(encoding="utf-8") == 'voice = "ash"\n'


# --- 3. The terminal: a full disk, a closed stdout, a closed pipe, for every command --------


def named(value: object) -> str | None:
    """A test id: the command line of a case, its other values left to pytest."""
    return " ".join(value) if isinstance(value, list) else None


NO_SPACE = "realtime-config: error: cannot write the output: No space left on device"
CLOSED = "realtime-config: error: cannot write the output: standard output is closed"

EVERY_COMMAND: list[tuple[list[str], int, str]] = [
    (["--version"], 1, ""),
    (["--help"], 1, ""),
    (["compile", "--help"], 1, ""),
    (["schema"], 1, ""),
    (["schema", "--path"], 1, ""),
    (["explain"], 1, ""),
    (["explain", "voice"], 1, ""),
    (["validate"], 1, ""),
    (["compile", "presets/beta.toml"], 1, ""),
    (["import", "body.json"], 1, ""),
    (["migrate", "presets/beta.toml"], 1, ""),
    (["migrate", "--check", "presets/beta.toml"], 1, ""),
    (["submit", "--dry-run", "presets/beta.toml"], 1, ""),
    (["diff", "presets/beta.toml", "presets/other.toml"], 2, ""),
    (
        ["new", "fresh"],
        1,
        "; schema/realtime-session.schema.json, presets/fresh.toml were written",
    ),
    (["migrate", "--in-place", "presets/beta.toml"], 1, "; presets/beta.toml was written"),
    (
        ["compile", "--out-dir", "snapshots"],
        1,
        "; snapshots/beta.json, snapshots/other.json were written",
    ),
]
"""Every command that prints on stdout, its exit status when stdout fails, and the files it
names as written by then (a file already written is never a silent side effect)."""


def terminal_project(folder: Path) -> Path:
    write(folder / "pyproject.toml", "[project]\nname = 'demo'\n")
    write(folder / "presets" / "beta.toml", 'voice = "ash"\n')
    write(folder / "presets" / "other.toml", 'voice = "alloy"\n')
    write(folder / "body.json", '{"voice": "ash"}')
    return folder


def entry_point(args: list[str], cwd: Path, **options: Any) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1", "OPENAI_API_KEY": "sk-test-terminal"}
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [str(ENTRY_POINT), *args],
        cwd=cwd,
        env=env,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
        **options,
    )


@pytest.mark.parametrize(("args", "status", "written"), EVERY_COMMAND, ids=named)
def test_a_full_disk_on_stdout_is_one_line_for_every_command(
    tmp_path: Path, args: list[str], status: int, written: str
) -> None:
    project = terminal_project(tmp_path)
    with Path("/dev/full").open("wb") as full:
        done = entry_point(args, project, stdout=full)
    assert (done.returncode, done.stderr.decode()) == (status, f"{NO_SPACE}{written}\n")


@pytest.mark.parametrize(("args", "status", "written"), EVERY_COMMAND, ids=named)
def test_a_closed_stdout_is_one_line_for_every_command(
    tmp_path: Path, args: list[str], status: int, written: str
) -> None:
    project = terminal_project(tmp_path)
    done = entry_point(
        ["-c", 'exec "$0" "$@" >&-', str(ENTRY_POINT), *args], project, executable="/bin/sh"
    )
    assert (done.returncode, done.stderr.decode()) == (status, f"{CLOSED}{written}\n")


@pytest.mark.parametrize(
    ("args", "status"),
    [(["schema"], 1), (["explain"], 1), (["diff", "presets/beta.toml", "presets/other.toml"], 2)],
    ids=named,
)
def test_a_reader_that_went_away_ends_the_command_quietly(
    tmp_path: Path, args: list[str], status: int
) -> None:
    project = terminal_project(tmp_path)
    reading, writing = os.pipe()
    os.close(reading)
    try:
        done = entry_point(args, project, stdout=writing)
    finally:
        os.close(writing)
    assert (done.returncode, done.stderr) == (status, b"")


def test_a_closed_stderr_still_fails_with_the_status(tmp_path: Path) -> None:
    project = terminal_project(tmp_path)
    write(project / "presets" / "bad.toml", "voice = 1\n")
    done = entry_point(
        ["-c", 'exec "$0" "$@" 2>&-', str(ENTRY_POINT), "validate"], project, executable="/bin/sh"
    )
    assert done.returncode == 1
    assert done.stdout.startswith(b"presets/bad.toml:1:9: error: ")


def test_a_read_only_output_file_is_refused_as_a_shell_would(shared: Path) -> None:
    write(shared / "p.toml", 'voice = "ash"\n').chmod(0o644)
    out = write(shared / "out.json", "mine\n")
    out.chmod(0o444)
    done = command("compile", "p.toml", "-o", "out.json", cwd=shared)
    assert (done.returncode, done.stderr) == (
        1,
        b"realtime-config: error: out.json: is read-only; refusing to replace it\n",
    )
    assert out.read_text(encoding="utf-8") == "mine\n"


# --- 4. Unreadable folders, FIFOs, a non-table `preset`: located lines, no traceback ------


@pytest.fixture
def locked(shared: Path) -> Path:
    """A project whose presets/private folder its user may not search (as a user, not root)."""
    write(shared / "presets" / "open.toml", 'voice = "ash"\n')
    write(shared / "presets" / "private" / "hidden.toml", 'voice = "ash"\n')
    for path in [shared, *shared.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    (shared / "presets" / "private").chmod(0o000)
    return shared


UNREADABLE_FOLDER = (
    "presets/private:1:1: error: permission denied: the folder cannot be read, so the "
    "presets in it are not found"
)
UNREADABLE_FILE = (
    "presets/private/hidden.toml:1:1: error: permission denied: the file cannot be read"
)


SUMMARY_1 = "1 preset checked: 1 error(s), 0 warning(s)\n"
NOT_COMPILED = "presets/private: failed: the presets in it are not compiled\n"


@pytest.mark.parametrize(
    ("args", "status", "stdout", "stderr"),
    [
        (["validate"], 1, UNREADABLE_FOLDER + "\n", SUMMARY_1),
        (["validate", "presets/private/hidden.toml"], 1, UNREADABLE_FILE + "\n", SUMMARY_1),
        (["compile", "presets/private/hidden.toml"], 1, "", UNREADABLE_FILE + "\n"),
        (["migrate", "--check", "presets/private/hidden.toml"], 1, "", UNREADABLE_FILE + "\n"),
        (["submit", "--dry-run", "presets/private/hidden.toml"], 1, "", UNREADABLE_FILE + "\n"),
        (
            ["diff", "presets/private/hidden.toml", "presets/open.toml"],
            2,
            "",
            UNREADABLE_FILE + "\n",
        ),
        (
            ["compile", "--out-dir", "snapshots"],
            1,
            "wrote snapshots/open.json\n1 snapshot: 1 written, 0 unchanged\n",
            f"{UNREADABLE_FOLDER}\n{NOT_COMPILED}",
        ),
        (
            ["compile", "--out-dir", "snapshots", "--check"],
            1,
            "",
            f"{UNREADABLE_FOLDER}\n{NOT_COMPILED}snapshots/open.json: missing: presets/open.toml "
            "has no snapshot; run realtime-config compile --out-dir snapshots\n",
        ),
        (
            ["migrate", "--check", "presets/open.toml"],
            1,
            "would migrate presets/open.toml\n",
            f"{UNREADABLE_FOLDER.replace(' error: ', ' warning: ')}; whether a preset in it "
            "extends a migrated preset is unknown\n",
        ),
    ],
    ids=named,
)
def test_an_unsearchable_folder_is_a_located_line_in_every_command(
    locked: Path, args: list[str], status: int, stdout: str, stderr: str
) -> None:
    done = command(*args, cwd=locked)
    assert (done.returncode, done.stdout.decode(), done.stderr.decode()) == (
        status,
        stdout,
        stderr,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_migrate_reads_the_projects_other_presets_through_the_loader(project: Path) -> None:
    """A FIFO among them used to hang it, ``preset = "oops"`` to crash it."""
    write(project / "presets" / "beta.toml", 'voice = "ash"\n')
    write(project / "presets" / "oops.toml", 'preset = "oops"\n')
    os.mkfifo(project / "presets" / "pipe.toml")
    try:
        outcome = finishes(lambda: run("migrate", "--check", "presets/beta.toml"))
    finally:
        release(project / "presets" / "pipe.toml")
    assert outcome == (
        1,
        "would migrate presets/beta.toml\n",
        "presets/pipe.toml:1:1: warning: is a FIFO (named pipe), not a preset file; only "
        "regular files are read; whether it extends a migrated preset is unknown\n",
    )


def test_a_non_table_preset_anywhere_is_a_located_error(project: Path) -> None:
    write(project / "presets" / "oops.toml", 'voice = "ash"\npreset = "oops"\n')
    write(project / "presets" / "child.toml", 'preset.extends = "oops.toml"\n')
    code, out, _ = run("validate")
    assert code == 1
    assert out == "presets/oops.toml:2:10: error: preset: expected a table, found a string\n"


# --- 5. Messages that said something untrue ----------------------------------------------


def test_instructions_file_in_a_transcription_preset_is_an_error_not_dropped(
    project: Path,
) -> None:
    write(project / "inst.txt", "Be kind.\n")
    write(
        project / "t.toml", 'type = "transcription"\n\n[preset]\ninstructions_file = "inst.txt"\n'
    )
    assert run("compile", "t.toml") == (
        1,
        "",
        "t.toml:4:1: error: preset.instructions_file: `instructions` is not part of a GA "
        "transcription session; remove the setting\n",
    )


def test_new_refuses_two_dialects(project: Path) -> None:
    code, out, err = run("new", "x", "--transcription", "--beta")
    assert (code, out) == (2, "")
    assert err.endswith("Error: --transcription and --beta: a preset has one dialect\n")
    assert not (project / "presets").exists()


@pytest.mark.parametrize("seconds", ["nan", "inf", "1e400"])
def test_a_timeout_that_is_not_finite_is_a_usage_error(project: Path, seconds: str) -> None:
    write(project / "p.toml", 'voice = "ash"\n')
    code, _, err = run("submit", "--dry-run", "--timeout", seconds, "p.toml")
    assert code == 2
    assert err.endswith(
        f"Error: Invalid value for '--timeout': {seconds!r} is not a finite number of seconds.\n"
    )


@pytest.mark.parametrize("command_name", ["compile", "diff"])
def test_help_names_the_default_target_of_each_dialect(command_name: str) -> None:
    code, out, _ = run(command_name, "--help")
    assert code == 0
    assert "client_secrets for GA presets and sessions for beta ones" in " ".join(out.split())


def test_new_from_a_ga_preset_writes_its_type_for_editors(project: Path) -> None:
    write(project / "presets" / "base.toml", 'type = "realtime"\nmodel = "gpt-realtime-2.1"\n')
    assert run("new", "agent", "--from", "presets/base.toml")[0] == 0
    text = (project / "presets" / "agent.toml").read_text(encoding="utf-8")
    assert '\npreset.extends = "base.toml"\ntype = "realtime"\n' in text
    assert run("validate", "presets/agent.toml") == (0, "1 preset valid\n", "")


def test_migrate_keeps_crlf_line_endings_and_multi_line_strings(project: Path) -> None:
    beta = (
        'voice = "ash"\r\n'
        'instructions = """\r\nBe kind.\r\n  Keep it short.\r\n"""\r\n'
        "tools = [{ type = 'function', name = 'f', description = '''\r\nline\r\n''' }]\r\n"
    )
    (project / "crlf.toml").write_bytes(beta.encode())
    assert run("migrate", "crlf.toml", "-o", "ga.toml") == (0, "", "")  # bytes, as written
    assert (project / "ga.toml").read_bytes().decode() == (
        'type = "realtime"\r\n'
        'output_modalities = ["audio"]\r\n'
        'instructions = """\r\nBe kind.\r\n  Keep it short.\r\n"""\r\n'
        "tools = [{ type = 'function', name = 'f', description = '''\r\nline\r\n''' }]\r\n"
        "\r\n[audio.output]\r\n"
        'voice = "ash"\r\n'
    )


def test_migrate_keeps_lf_multi_line_strings_byte_for_byte(project: Path) -> None:
    write(project / "lf.toml", 'voice = "ash"\ninstructions = """\\\n  One, \\\n  two.\n"""\n')
    assert run("migrate", "lf.toml") == (
        0,
        'type = "realtime"\noutput_modalities = ["audio"]\n'
        'instructions = """\\\n  One, \\\n  two.\n"""\n\n[audio.output]\nvoice = "ash"\n',
        "",
    )


def test_explain_escapes_a_terminal_escape_in_its_argument() -> None:
    assert run("explain", "\x1b[2Jvoice") == (
        1,
        "",
        "realtime-config: error: unknown field `\\x1b[2Jvoice`; did you mean `voice`?\n",
    )


def test_a_bidi_override_in_a_key_or_a_file_name_is_escaped(project: Path) -> None:
    write(project / "evil\u202e.toml", '"voi\u202ece" = "ash"\n')
    code, out, _ = run("validate", "evil\u202e.toml")
    assert code == 1
    assert out == (
        'evil\\u202e.toml:1:1: error: unknown key `"voi\\u202ece"`; did you mean `voice`?\n'
    )


def test_a_mistyped_command_with_escapes_is_escaped_in_clicks_own_message() -> None:
    code, _, err = run("\x1b]0;owned\x07")
    assert code == 2
    assert err.endswith("Error: No such command '\\x1b]0;owned\\x07'.\n")
    assert "\x1b" not in err


def test_diff_escapes_a_bidi_override_in_a_value(project: Path) -> None:
    write(project / "a.toml", 'instructions = "plain"\n')
    write(project / "b.toml", 'instructions = "evil\u202eadmin"\n')
    assert run("diff", "a.toml", "b.toml") == (
        1,
        '~ instructions: "plain" -> "evil\\u202eadmin"\n',
        "",
    )
