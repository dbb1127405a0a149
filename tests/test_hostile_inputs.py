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
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

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
    from realtime_config._starter import new_preset

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


ENTRY_POINT = Path(sys.executable).with_name("realtime-config")

PAUSED = """
import os, sys
import realtime_config._files as files
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
the test hook of ``_files`` holds it there, so a signal lands mid-commit without sleeping."""


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
    from realtime_config import _files

    def lose_the_next_temporary(step: str, path: Path) -> None:
        if step == "replaced" and path == Path(CHAIN[0]):
            for staged in (project / "presets" / "team").glob(".support.toml.*.tmp"):
                staged.unlink()  # the second replacement now fails

    monkeypatch.setattr(_files, "COMMIT_HOOK", lose_the_next_temporary)
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
        b"half-written (.realtime-config-journal); run it again without --check to repair them\n"
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
