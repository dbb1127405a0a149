"""Hostile inputs: each becomes a located diagnostic, never a traceback, a hang or a leak.

Nesting past the limit in every way TOML nests, ``extends`` graphs of any length or shape,
names no file can have, integers past 64 bits, FIFOs, symlinks out of the project, a
recursive ``$ref``, a byte order mark, a cycle reported where it is checked.
"""

from __future__ import annotations

import contextlib
import json
import os
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
