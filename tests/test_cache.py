"""PresetCache: the uncached answers exactly, and any change to any file of a preset is seen."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from realtime_config import (
    TARGETS,
    PresetCache,
    PresetError,
    compile_preset,
    dumps_payload,
    load_preset,
)

# Private: how long a file written just now stays untrusted is the cache's own constant;
# the test ages files past it, which no public call can say.
from realtime_config.compiling._cache import RACY_SECONDS
from tests.conftest import PROJECT, shipped_presets, write

BASE = """type = "realtime"
model = "gpt-realtime-1.5"
output_modalities = ["audio"]

[audio.output]
voice = "marin"
"""
CHILD = """type = "realtime"
preset.extends = "base.toml"
preset.instructions_file = "instructions/child.md"

[audio.output]
speed = 1.1
"""


def age(*paths: Path) -> None:
    """Date the files back, as files not written just now: their times can be trusted."""
    past = time.time() - 10 * RACY_SECONDS
    for path in paths:
        os.utime(path, (past, past))


@pytest.fixture
def team(project: Path) -> dict[str, Path]:
    files = {
        "base": write(project / "presets" / "base.toml", BASE),
        "child": write(project / "presets" / "child.toml", CHILD),
        "instructions": write(project / "presets" / "instructions" / "child.md", "Be brief."),
    }
    age(*files.values())
    return files


def uncached(path: Path, target: str | None) -> object:
    """compile_preset(load_preset(path)) or the text of its error."""
    try:
        return compile_preset(load_preset(path), target)
    except PresetError as error:
        return str(error)


@pytest.mark.parametrize("target", [None, *TARGETS])
def test_every_shipped_preset_compiles_exactly_as_uncached(target: str | None) -> None:
    cache = PresetCache()
    for path in shipped_presets():
        expected = uncached(path, target)
        for _ in range(2):  # the first call fills the cache, the second reads it
            try:
                found: object = cache.compile(path, target)
            except PresetError as error:
                found = str(error)
            assert found == expected, path
            if not isinstance(expected, str):
                assert cache.dumps(path, target) == dumps_payload(expected, compact=True)
                assert cache.dumps(path, target, compact=False) == dumps_payload(expected)


def test_load_gives_load_preset_answer(team: dict[str, Path]) -> None:
    cache = PresetCache()
    assert cache.load(team["child"]) == load_preset(team["child"])
    assert cache.load(team["child"]).session["instructions"] == "Be brief."
    shipped = PROJECT / "presets" / "team" / "support.toml"
    assert cache.load(shipped) == load_preset(shipped)


def test_an_unchanged_preset_is_served_from_the_cache(team: dict[str, Path]) -> None:
    cache = PresetCache()
    first = cache.load(team["child"])
    assert cache.load(team["child"]) is first
    assert cache.load(Path("presets/../presets/child.toml")) is first  # the same file
    assert cache.dumps(team["child"]) is cache.dumps(team["child"])


def test_compile_gives_a_copy_the_caller_may_change(team: dict[str, Path]) -> None:
    cache = PresetCache()
    body = cache.compile(team["child"], "client_secrets")
    expected = compile_preset(load_preset(team["child"]), "client_secrets")
    body["session"]["model"] = "changed"
    assert cache.compile(team["child"], "client_secrets") == expected


@pytest.mark.parametrize("changed", ["child", "base", "instructions"])
def test_a_change_to_any_file_of_the_preset_is_seen(team: dict[str, Path], changed: str) -> None:
    cache = PresetCache()
    before = cache.compile(team["child"], "client_secrets")
    edits = {
        "child": CHILD.replace("speed = 1.1", "speed = 1.2"),
        "base": BASE.replace('"marin"', '"cedar"'),
        "instructions": "Be very brief.",
    }
    write(team[changed], edits[changed])
    age(team[changed])  # even dated back, its change time and size tell
    after = cache.compile(team["child"], "client_secrets")
    assert after != before
    assert after == compile_preset(load_preset(team["child"]), "client_secrets")
    assert cache.load(team["child"]) is cache.load(team["child"])


def test_a_file_replaced_with_the_same_size_and_times_is_seen(team: dict[str, Path]) -> None:
    cache = PresetCache()
    assert cache.load(team["child"]).session["instructions"] == "Be brief."
    times = team["instructions"].stat()
    replacement = write(team["instructions"].with_name("new.md"), "Be bold.!")
    os.utime(replacement, ns=(times.st_atime_ns, times.st_mtime_ns))
    replacement.replace(team["instructions"])  # a new inode, as editors and deploys do
    assert cache.load(team["child"]).session["instructions"] == "Be bold.!"


def test_files_written_just_now_are_not_trusted(team: dict[str, Path]) -> None:
    cache = PresetCache()
    write(team["instructions"], "Be quick.")  # its times are now: a second write may not move them
    first = cache.load(team["child"])
    second = cache.load(team["child"])
    assert first == second
    assert first is not second  # loaded again until the files are older
    age(team["instructions"])
    assert cache.load(team["child"]) is cache.load(team["child"])


def test_errors_are_raised_every_time_and_never_cached(team: dict[str, Path]) -> None:
    cache = PresetCache()
    team["base"].unlink()
    for _ in range(2):
        with pytest.raises(PresetError) as raised:
            cache.load(team["child"])
        assert str(raised.value) == (
            "presets/child.toml:2:18: error: preset.extends: 'base.toml' does not exist"
        )
    write(team["base"], BASE)
    assert cache.load(team["child"]) == load_preset(team["child"])


def test_clear_forgets_every_preset(team: dict[str, Path]) -> None:
    cache = PresetCache()
    first = cache.load(team["child"])
    cache.clear()
    assert cache.load(team["child"]) is not first
