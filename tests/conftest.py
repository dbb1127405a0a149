"""Shared test helpers: where the project is, and how to run the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_api import FakeAPI, serve

PROJECT = Path(__file__).resolve().parent.parent
PRESETS = PROJECT / "presets"
BETA_CASES = PROJECT / "tests" / "cases" / "beta"
"""Beta presets kept in the tests: the seed's dialect, compiled byte-exact as before GA."""
GOLDEN = PROJECT / "tests" / "golden"
REGENERATE = os.environ.get("REALTIME_CONFIG_REGENERATE") == "1"

TODAY = "2026-12-01"
"""The date every test judges model shutdowns on (REALTIME_CONFIG_TODAY, inherited by the
commands the tests start): no test depends on the clock."""
os.environ["REALTIME_CONFIG_TODAY"] = TODAY

DESIGN_KEY_ORDER = [
    "model",
    "modalities",
    "instructions",
    "voice",
    "input_audio_format",
    "output_audio_format",
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "turn_detection",
    "tools",
    "tool_choice",
    "temperature",
    "max_response_output_tokens",
    "speed",
    "tracing",
    "client_secret",
]
"""DESIGN section 3's top-level key order, written out here as the spec states it."""


def shipped_presets() -> list[Path]:
    """Every preset shipped under presets/; an empty match is an error, not an empty test."""
    found = sorted(PRESETS.rglob("*.toml"))
    assert found, f"no presets found under {PRESETS}"
    return found


def beta_presets() -> list[Path]:
    """Every beta preset of the repository: the one shipped and those kept in the tests."""
    from realtime_config import load_preset

    found = sorted(BETA_CASES.glob("*.toml")) + [
        p for p in shipped_presets() if load_preset(p).dialect == "beta"
    ]
    assert len(found) >= 6, found
    return found


def ga_presets() -> list[Path]:
    """Every GA preset shipped under presets/."""
    from realtime_config import load_preset

    found = [p for p in shipped_presets() if load_preset(p).dialect != "beta"]
    assert len(found) >= 4, found
    return found


def preset_name(path: Path) -> str:
    """A preset's name: its path under presets/ (or the beta cases) without .toml."""
    folder = BETA_CASES if path.is_relative_to(BETA_CASES) else PRESETS
    return path.relative_to(folder).with_suffix("").as_posix()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project (a folder with pyproject.toml) as the working directory."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def check_golden(golden: Path, actual: str) -> None:
    """Compare ``actual`` with a golden file byte for byte (REALTIME_CONFIG_REGENERATE=1 rewrites)."""
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual.encode("utf-8"))
    assert golden.is_file(), f"missing golden file {golden}"
    assert actual.encode("utf-8") == golden.read_bytes()


OPENAI_ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")
"""The variables the client reads: no test may pick up the developer's real ones."""


@pytest.fixture(autouse=True)
def _no_forced_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's or CI's FORCE_COLOR would colour every expected plain-text output."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up the developer's real key or base URL."""
    for name in OPENAI_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """The loopback fake of the API, serving on 127.0.0.1 for one test."""
    with serve() as fake:
        yield fake


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run the command line in-process: its exit status, stdout and stderr (never a crash)."""
    from click.testing import CliRunner

    from realtime_config.cli import main

    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def exception_texts(error: BaseException) -> Iterator[str]:
    """str, repr, args and attributes of an exception and of everything it was raised from:
    every text a secret could leak through."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        yield repr(vars(current)) if hasattr(current, "__dict__") else ""
        todo += [current.__cause__, current.__context__]


def write(path: Path, text: str) -> Path:
    """Write a UTF-8 file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
