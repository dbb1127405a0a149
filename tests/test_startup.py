"""Start-up cost: what each command imports, what is built once, and the quick schema check.

The pre-commit hook starts a process per batch of files, so imports and one-time set-up are
most of its run time. These tests pin the structure that keeps them small; the timings
themselves are in benchmarks/.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# Private: how often the validator is built, whether the quick check or the compiled parser
# answered, are start-up costs no public call shows (its diagnostics are the same).
from realtime_config import _schema, check_files
from realtime_config.checking import _quick_check
from realtime_config.preset._fastparse import compiled_loads
from realtime_config.preset._parse import parse_toml
from tests.conftest import BETA_CASES, PROJECT, shipped_presets, write
from tests.strategies import json_values, session_tables

NETWORK_MODULES = frozenset(
    {"httpx", "httpcore", "anyio", "h11", "h2", "sniffio", "certifi", "ssl", "_ssl"}
)
"""What only ``submit`` needs: never imported by the offline commands."""

INVALID_CASES = PROJECT / "tests" / "cases" / "invalid"
TOOL_LESS = [BETA_CASES / "text-assistant.toml", BETA_CASES / "voice-low-latency.toml"]


def imported_modules(*arguments: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime ARGUMENTS`` in the project; its result and every import."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    modules = {
        line.split("|")[2].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and not line.endswith("imported package")
    }
    return result, modules


def test_the_import_trace_sees_an_import() -> None:
    result, modules = imported_modules("-c", "import httpx")
    assert result.returncode == 0, result.stderr
    assert {"httpx", "ssl"} <= modules


@pytest.mark.parametrize(
    "arguments",
    [
        ["validate", *(str(p.relative_to(PROJECT)) for p in shipped_presets())],
        ["validate"],
        ["validate", "--format", "json", "presets/phone-support.toml"],
        ["compile", "presets/phone-support.toml"],
        ["compile", "--target", "client_secrets", "tests/cases/beta/voice-low-latency.toml"],
        ["schema"],
        ["schema", "--path"],
        ["--help"],
    ],
    ids=" ".join,
)
def test_offline_commands_do_not_import_the_http_client(arguments: list[str]) -> None:
    result, modules = imported_modules("-m", "realtime_config", *arguments)
    assert result.returncode == 0, result.stderr
    assert "realtime_config.cli" in modules
    assert modules & NETWORK_MODULES == set()


def test_validating_valid_presets_imports_nothing_a_valid_preset_does_not_need() -> None:
    """tomllib answers only when the compiled parser fails, difflib only makes suggestions,
    and the file writers (with ``secrets`` for their temporary names) only write; an invalid
    preset still gets the first two (the second run)."""
    shipped = [str(p.relative_to(PROJECT)) for p in shipped_presets()]
    result, modules = imported_modules("-m", "realtime_config", "validate", *shipped)
    assert result.returncode == 0, result.stderr
    assert "realtime_config.preset._parse" in modules
    unneeded = {"difflib", "tomllib._parser"} if compiled_loads() is not None else {"difflib"}
    unneeded |= {"realtime_config._files", "realtime_config._commit", "secrets"}
    assert modules & unneeded == set()
    bad = str(INVALID_CASES.relative_to(PROJECT) / "enum-typo.toml")
    result, modules = imported_modules("-m", "realtime_config", "validate", bad)
    assert result.returncode == 1, result.stderr
    assert "difflib" in modules
    assert "did you mean" in result.stdout


def test_importing_the_package_imports_nothing_but_its_version() -> None:
    result, modules = imported_modules("-c", "import realtime_config")
    assert result.returncode == 0, result.stderr
    assert {m for m in modules if m.startswith("realtime_config")} == {
        "realtime_config",
        "realtime_config._version",
    }
    assert modules & {"jsonschema", "referencing", "click", "tomllib", *NETWORK_MODULES} == set()


def test_a_name_of_the_package_imports_its_module_on_first_use() -> None:
    probe = (
        "import sys, realtime_config\n"
        "before = sorted(m for m in sys.modules if m.startswith('realtime_config.'))\n"
        "realtime_config.load_preset\n"
        "print(before, 'realtime_config.checking._compose' in sys.modules, 'jsonschema' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "['realtime_config._version'] True False\n"


@pytest.mark.parametrize("arguments", [["--version"], ["--help"]])
def test_version_and_help_load_neither_the_loader_nor_the_schema(arguments: list[str]) -> None:
    result, modules = imported_modules("-m", "realtime_config", *arguments)
    assert result.returncode == 0, result.stderr
    assert "click" in modules
    heavy = {
        *["preset._loader", "_schema", "checking._checks", "compiling._batch"],
        *["compiling._targets", "compiling._compile", "checking._validate", "_report"],
    }
    assert modules & {f"realtime_config.{name}" for name in heavy} == set()


def test_validating_a_long_list_forks_without_a_process_pool(project: Path) -> None:
    files = [
        write(project / "presets" / f"p{n:03d}.toml", "temperature = 0.8\n") for n in range(250)
    ]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "realtime_config", "validate", "--jobs", "2"]
        + [str(f.relative_to(project)) for f in files],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "250 presets valid\n"), result.stderr
    modules = {line.split("|")[2].strip() for line in result.stderr.splitlines() if "|" in line}
    assert modules & {"multiprocessing", "concurrent.futures", "jsonschema"} == set()


def test_valid_presets_without_tools_are_validated_without_importing_jsonschema() -> None:
    presets = [str(p.relative_to(PROJECT)) for p in TOOL_LESS]
    result, modules = imported_modules("-m", "realtime_config", "validate", *presets)
    assert (result.returncode, result.stdout) == (0, "2 presets valid\n"), result.stderr
    assert "realtime_config.checking._validate" in modules
    assert "jsonschema" not in modules


@pytest.fixture
def counted_builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts of validators built by ``jsonschema.validators.extend`` and of KeyLocators."""
    from jsonschema import validators

    # Private: KeyLocators built are counted at their class; no public call counts them.
    from realtime_config import _source

    counts = {"validator": 0, "locator": 0}

    def counting(name: str, build: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return build(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(validators, "extend", counting("validator", validators.extend))
    monkeypatch.setattr(_source, "KeyLocator", counting("locator", _source.KeyLocator))
    _schema.validator.cache_clear()
    yield counts
    _schema.validator.cache_clear()


def test_the_validator_is_built_once_for_many_files(
    project: Path, counted_builds: dict[str, int]
) -> None:
    files = [
        write(project / "presets" / f"p{n:02d}.toml", f"temperature = {n + 2}\n") for n in range(30)
    ]

    diagnostics = check_files(files)
    check_files(files)

    assert [d.message for d in diagnostics[:1]] == [
        "temperature: 2 is greater than the maximum of 1.2 (allowed: 0.6 to 1.2)"
    ]
    assert len(diagnostics) == 30
    assert counted_builds["validator"] == 1
    assert _schema.validator.cache_info().misses == 1


def test_valid_presets_build_neither_the_validator_nor_a_key_locator(
    project: Path, counted_builds: dict[str, int]
) -> None:
    files = [
        write(project / "presets" / f"p{n:02d}.toml", f"temperature = 0.{6 + n % 4}\n")
        for n in range(30)
    ]
    assert check_files(files) == []
    assert counted_builds == {"validator": 0, "locator": 0}

    bad = write(project / "presets" / "bad.toml", "temprature = 0.7\n")
    assert [d.line for d in check_files([bad])] == [1]
    assert counted_builds == {"validator": 1, "locator": 1}


def test_the_quick_check_covers_the_shipped_schema() -> None:
    assert _quick_check.quick_check() is not None


def test_a_keyword_the_quick_check_does_not_know_leaves_every_answer_to_jsonschema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    beta = {"type": "object", "properties": {"speed": {"type": "number", "multipleOf": 0.5}}}
    schema = {"$defs": {"beta": beta}}
    monkeypatch.setattr(_schema, "load_schema", lambda: schema)
    _quick_check.quick_check.cache_clear()
    try:
        assert _quick_check.quick_check() is None
        assert not _quick_check.is_certainly_valid({"speed": 1.0})
    finally:
        _quick_check.quick_check.cache_clear()


def test_the_quick_check_accepts_every_shipped_preset_table() -> None:
    for path in shipped_presets():
        table = parse_toml(path.read_text(encoding="utf-8"), path.name)
        assert _quick_check.is_certainly_valid(table, _schema.dialect_of(table)), path


@pytest.mark.parametrize(
    "table",
    [
        {"modalities": ["text", "text"]},
        {"modalities": []},
        {"temperature": 2.0},
        {"temperature": 0.1},
        {"tools": [{"type": "function"}]},
        {"tools": [{"name": ""}]},
        {"tool_choice": {"type": "function"}},
        {"voice": 1},
        {"input_audio_format": "mp3"},
        {"turn_detection": True},
        {"temprature": 0.7},
        {"max_response_output_tokens": 1.0},
        {"max_response_output_tokens": True},
        {"tracing": {"workflow_name": "support", "extra": 1}},
        {"client_secret": {"expires_after": {"seconds": 5}}},
        {"speed": "fast"},
        {"preset": {"extends": 1}},
    ],
    ids=repr,
)
def test_the_quick_check_rejects_each_kind_of_mistake(table: dict[str, Any]) -> None:
    assert not _schema.validator().is_valid(table)
    assert not _quick_check.is_certainly_valid(table)


def test_the_quick_check_rejects_every_invalid_case_the_validator_rejects() -> None:
    cases = sorted(INVALID_CASES.glob("*.toml"))
    assert cases, f"no cases under {INVALID_CASES}"
    rejected = 0
    for path in cases:
        if not path.is_file():
            continue
        try:
            table = tomllib_loads(path)
        except ValueError:
            continue
        if not _schema.validator().is_valid(table):
            rejected += 1
            assert not _quick_check.is_certainly_valid(table), path.name
    assert rejected >= 10


def tomllib_loads(path: Path) -> dict[str, Any]:
    """A case's table, or ValueError when it is not TOML (or not UTF-8)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(path) from error


@st.composite
def mutated_tables(draw: st.DrawFn) -> dict[str, Any]:
    """A valid session table with one change anywhere in it: a value replaced, a key added
    or removed, an array item repeated."""
    table: dict[str, Any] = draw(session_tables())
    node: Any = table
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys or draw(st.booleans()):
            break
        key = draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)):
            break
        node = node[key]
    change = draw(st.sampled_from(["replace", "remove", "repeat"]))
    replacement = draw(json_values | st.sampled_from([1.0, True, 0, "", [], {}]))
    if isinstance(node, dict):
        if change == "remove" and node:
            del node[draw(st.sampled_from(list(node)))]
        else:
            node[draw(st.sampled_from([*node, "extra"]))] = replacement
    elif node:
        index = draw(st.integers(0, len(node) - 1))
        if change == "repeat":
            node.append(copy.deepcopy(node[index]))
        else:
            node[index] = replacement
    return table


@settings(max_examples=600, deadline=None)
@given(mutated_tables())
def test_the_quick_check_is_never_laxer_than_the_validator(table: dict[str, Any]) -> None:
    if _quick_check.is_certainly_valid(table):
        assert list(_schema.validator().iter_errors(table)) == []


@settings(max_examples=200, deadline=None)
@given(session_tables())
def test_the_quick_check_accepts_valid_tables(table: dict[str, Any]) -> None:
    assert _quick_check.is_certainly_valid(table)
