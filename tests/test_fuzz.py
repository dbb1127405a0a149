"""Fuzzing: every shipped and test preset, mutated bytewise and structurally, goes through
``check_files``, ``load_preset``, every target's compile and ``import``; only the library's
own errors (RealtimeConfigError) may come out, and what compile accepts, import accepts.

A last dimension is the terminal: each command's stdout fails after any number of bytes,
with ENOSPC, EPIPE, EBADF or EIO. The example count is kept small for CI; a long run raises it, for instance
``REALTIME_CONFIG_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` (four fuzz tests: 20,000 inputs).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_config import (
    TARGETS,
    RealtimeConfigError,
    check_files,
    compile_preset,
    dumps_payload,
    load_preset,
)
from realtime_config.cli import main
from tests.conftest import PROJECT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SEEDS = sorted(
    path
    for path in [
        *(PROJECT / "presets").rglob("*.toml"),
        *(PROJECT / "tests" / "cases").rglob("*.toml"),
    ]
    if path.is_file()  # tests/cases/invalid has a folder named like a preset
)
EXAMPLES = int(os.environ.get("REALTIME_CONFIG_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 150,  # CI runs the same inputs every time; a long run explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Fragments that the parser, the locator and the loader treat specially.
TOKENS = [
    b"[",
    b"]",
    b"{",
    b"}",
    b"[[",
    b".a",
    b'"',
    b"'''",
    b'"""',
    b"\\",
    b"\\u0000",
    b"#",
    b"=",
    b",",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff",
    b"9" * 5000,
    b"0x" + b"f" * 40,
    b"1e999",
    b"nan",
    b"1979-05-27",
    b"\n[[tools]]\n",
    b"\n[preset]\n",
    b'\npreset.extends = "base.toml"\n',
    b'\npreset.extends = ["../x.toml", "/etc/passwd"]\n',
    b'\npreset.instructions_file = "instructions/x.md"\n',
    b'\ntype = "realtime"\n',
    b'\ntype = "transcription"\n',
    b'\n"$ref" = "#"\n',
    b"a." * 70,
    b"[" * 70,
]


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project holding a copy of every seed (with its neighbours: bases, instructions)."""
    assert len(SEEDS) >= 20, SEEDS
    root = tmp_path_factory.mktemp("fuzz")
    (root / "pyproject.toml").write_text("[project]\nname = 'fuzz'\n", encoding="utf-8")
    shutil.copytree(PROJECT / "presets", root / "presets")
    shutil.copytree(PROJECT / "tests" / "cases", root / "cases")
    cwd = Path.cwd()
    os.chdir(root)
    try:
        yield root
    finally:
        os.chdir(cwd)


def imported(folder: Path, name: str, text: str) -> tuple[int, str]:
    """``realtime-config import NAME.json`` of ``text``: its exit status and the preset it
    prints. Any exception but the command's exit (a traceback) fails the test."""
    payload = folder / f"{name}.json"
    payload.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["import", str(payload)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, result.stdout


def place(root: Path, seed: Path) -> Path:
    """Where a mutant of ``seed`` is written: beside the seed's copy, so its bases resolve."""
    relative = seed.relative_to(PROJECT)
    folder = relative.parent if relative.parts[0] == "presets" else Path(*relative.parts[1:-1])
    return root / folder / "fuzzed.toml"


def mutate(data: bytes, draw: Any) -> bytes:
    """Up to eight byte edits: flips, inserted tokens or bytes, deletions, duplications."""
    for _ in range(draw(st.integers(1, 8))):
        where = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "token", "bytes", "delete", "duplicate"]))
        if kind == "flip" and data:
            where = min(where, len(data) - 1)
            data = (
                data[:where] + bytes([data[where] ^ draw(st.integers(1, 255))]) + data[where + 1 :]
            )
        elif kind == "token":
            data = data[:where] + draw(st.sampled_from(TOKENS)) + data[where:]
        elif kind == "bytes":
            data = data[:where] + draw(st.binary(min_size=1, max_size=8)) + data[where:]
        elif kind == "delete":
            data = data[:where] + data[where + draw(st.integers(1, 40)) :]
        else:
            end = where + draw(st.integers(1, 80))
            data = data[:end] + data[where:end] + data[end:]
    return data


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["ash", "audio", "text", "server_vad", "auto", "#", "../x.toml", "a\nb"])
)
VALUES = st.recursive(
    SCALARS.filter(lambda v: v is not None),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def restructure(table: dict[str, Any], draw: Any) -> dict[str, Any]:
    """Up to four structural edits: a value replaced, a key dropped, a key added."""
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(list(paths(table))))
        parent: Any = table
        for part in where[:-1]:
            parent = parent[part]
        kind = draw(st.sampled_from(["replace", "drop", "add"]))
        if not where or kind == "add":
            target = parent if not where else parent[where[-1]]
            if isinstance(target, dict):
                key = draw(
                    st.sampled_from(["voice", "tools", "type", "preset", "x", "$ref"])
                    | st.text(max_size=6)
                )
                target[key] = draw(VALUES)
        elif kind == "replace":
            parent[where[-1]] = draw(VALUES)
        else:
            del parent[where[-1]]
    return table


def exercise(path: Path, *, law: bool = False) -> None:
    """Every stage on one file: only RealtimeConfigError may escape.

    With ``law``, what compile accepts import must accept too: a PresetError from the
    import is then a rule that compile and import disagree on.
    """
    found = check_files([path])
    assert isinstance(found, list)
    try:
        preset = load_preset(path)
    except RealtimeConfigError:
        return
    for name in TARGETS:
        try:
            body = compile_preset(preset, target=name)
        except RealtimeConfigError:
            continue
        code, _ = imported(path.parent, name, dumps_payload(body))
        if law:
            assert code == 0, name


@FUZZ
@given(data=st.data())
def test_bytewise_mutants_raise_only_the_librarys_errors(
    playground: Path, data: st.DataObject
) -> None:
    seed = data.draw(st.sampled_from(SEEDS))
    path = place(playground, seed)
    path.write_bytes(mutate(seed.read_bytes(), data.draw))
    exercise(path)


def structural_mutant(playground: Path, data: st.DataObject) -> Path | None:
    seed = data.draw(st.sampled_from(SEEDS))
    try:
        table = tomllib.loads(seed.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        table = {}
    table = restructure(table, data.draw)
    try:
        text = tomli_w.dumps(table)
    except (TypeError, ValueError):  # None and other values TOML cannot write
        return None
    path = place(playground, seed)
    path.write_text(text, encoding="utf-8")
    return path


@FUZZ
@given(data=st.data())
def test_structural_mutants_raise_only_the_librarys_errors(
    playground: Path, data: st.DataObject
) -> None:
    path = structural_mutant(playground, data)
    if path is not None:
        exercise(path)


@FUZZ
@given(data=st.data())
def test_what_compile_accepts_import_accepts(playground: Path, data: st.DataObject) -> None:
    path = structural_mutant(playground, data)
    if path is not None:
        exercise(path, law=True)


@FUZZ
@given(data=st.data())
def test_imports_of_mutated_bodies_raise_only_the_librarys_errors(
    playground: Path, data: st.DataObject
) -> None:
    seed = data.draw(st.sampled_from([s for s in SEEDS if s.parts[-2] != "invalid"]))
    try:
        preset = load_preset(seed)
    except RealtimeConfigError:
        return
    name = data.draw(st.sampled_from(list(TARGETS)))
    try:
        body = dumps_payload(compile_preset(preset, target=name)).encode()
    except RealtimeConfigError:
        body = b'{"session": {"type": "realtime"}}'
    mutant = mutate(body, data.draw)
    try:
        text = mutant.decode("utf-8")
    except UnicodeDecodeError:
        return
    code, preset_text = imported(playground, "fuzzed", text)
    if code != 0:
        return
    # What import writes, the loader reads.
    path = playground / "imported.toml"
    path.write_text(preset_text, encoding="utf-8")
    assert [d for d in check_files([path]) if d.is_error] == [], preset_text


@FUZZ
@given(data=st.data())
def test_hostile_names_in_paths_raise_only_the_librarys_errors(
    playground: Path, data: st.DataObject
) -> None:
    name = data.draw(
        st.text(st.characters(codec="utf-8"), max_size=300)
        | st.sampled_from(["\x00", "a" * 5000, "../" * 50, "/dev/zero", "presets", "\n"])
    )
    key = data.draw(st.sampled_from(["extends", "instructions_file"]))
    path = playground / "presets" / "named.toml"
    path.write_text(f"preset.{key} = {tomli_w.dumps({'x': name})[4:]}", encoding="utf-8")
    exercise(path)
    assert isinstance(check_files([name]), list)


@pytest.mark.parametrize("target", ["sessions", "beta.session.update"])
def test_a_ga_tool_without_a_name_is_refused_by_compile_or_accepted_by_import(
    project: Path, target: str
) -> None:
    # Found by the law above: the GA schema leaves a tool's name optional, the beta schema
    # requires it, so the beta targets compiled a body that import then refused with
    # "tools[0]: missing required key `name`". Compile and import must agree.
    path = project / "p.toml"
    path.write_text(
        'type = "realtime"\nmodel = "gpt-realtime-1.5"\n[[tools]]\ntype = "function"\n',
        encoding="utf-8",
    )
    try:
        body = compile_preset(load_preset(path), target=target)
    except RealtimeConfigError:
        return
    code, _ = imported(project, target, dumps_payload(body))
    assert code == 0


# --- The terminal as a dimension: stdout that fails after any number of bytes ---------------


class FailingOutput(io.RawIOBase):
    """Standard output that takes ``room`` bytes, then fails every write with ``error``."""

    def __init__(self, room: int, error: int) -> None:
        self.room = room
        self.error = error
        self.kept = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if len(data) > self.room:
            raise OSError(self.error, os.strerror(self.error))
        self.room -= len(data)
        self.kept += bytes(data)
        return len(data)


def run_into(args: list[str], room: int, error: int) -> tuple[int, bytes, str]:
    """The command line in-process, its stdout failing past ``room`` bytes: exit status,
    what reached stdout, and stderr."""
    raw = FailingOutput(room, error)
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main.main(args, prog_name="realtime-config")
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        else:  # pragma: no cover - standalone mode always exits
            code = 0
    return code, bytes(raw.kept), err.getvalue()


UNLIMITED = 1 << 40
STREAM_ERRORS = [errno.ENOSPC, errno.EPIPE, errno.EBADF, errno.EIO]


@FUZZ
@given(data=st.data())
def test_stdout_failing_at_any_byte_ends_every_command_in_one_way(
    playground: Path, data: st.DataObject
) -> None:
    """What fits is the same run; what does not fit is exit 1 (2 for diff), one line on
    stderr naming the failure (none for a closed pipe), and never a traceback."""
    seed = data.draw(st.sampled_from(SEEDS))
    path = place(playground, seed)
    path.write_bytes(mutate(seed.read_bytes(), data.draw))
    shown = str(path.relative_to(playground))
    relative = seed.relative_to(PROJECT)  # the seed's copy in the playground
    original = str(relative if relative.parts[0] == "presets" else Path(*relative.parts[1:]))
    args = data.draw(
        st.sampled_from(
            [
                ["validate", shown],
                ["validate", "--format", "json", shown],
                ["compile", shown],
                ["compile", "--compact", shown],
                ["migrate", shown],
                ["submit", "--dry-run", shown],
                ["diff", original, shown],
                ["explain", data.draw(st.sampled_from(["voice", "audio", "tools[].name"]))],
                ["schema"],
                ["--help"],
            ]
        )
    )
    code, out, err = run_into(args, UNLIMITED, errno.ENOSPC)
    assert "Traceback" not in err
    room = data.draw(st.integers(0, len(out) + 8))
    error = data.draw(st.sampled_from(STREAM_ERRORS))
    failed_code, failed_out, failed_err = run_into(args, room, error)
    assert "Traceback" not in failed_err
    if len(out) <= room:
        assert (failed_code, failed_out, failed_err) == (code, out, err)
        return
    assert failed_code == (2 if args[0] == "diff" else 1)
    assert out.startswith(failed_out)
    said = [line for line in failed_err.splitlines() if "cannot write the output" in line]
    if error == errno.EPIPE:
        assert said == []
    else:
        reason = "standard output is closed" if error == errno.EBADF else os.strerror(error)
        assert said == [f"realtime-config: error: cannot write the output: {reason}"]
