"""loads_preset: TOML text checked as the preset file it stands for (editors, bots, tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_config import PresetError, compile_preset, load_preset, loads_preset
from tests.conftest import shipped_presets, write


def error_lines(text: str, **options: str | Path) -> list[str]:
    with pytest.raises(PresetError) as caught:
        loads_preset(text, **options)  # type: ignore[arg-type]
    return str(caught.value).splitlines()


@pytest.mark.parametrize("path", shipped_presets(), ids=lambda p: p.stem)
def test_the_text_of_a_shipped_preset_loads_as_the_file_does(path: Path) -> None:
    from_file = load_preset(path)
    from_text = loads_preset(path.read_text(encoding="utf-8"), path=path)
    assert from_text.session == from_file.session
    assert (from_text.target, from_text.description) == (from_file.target, from_file.description)
    assert from_text.warnings == from_file.warnings
    assert compile_preset(from_text) == compile_preset(from_file)


def test_diagnostics_name_the_path_the_text_stands_for(project: Path) -> None:
    assert error_lines('voice = "ash"\ntemperature = 9\n', path="presets/draft.toml") == [
        "presets/draft.toml:2:15: error: temperature: 9 is greater than the maximum of 1.2 "
        "(allowed: 0.6 to 1.2)"
    ]


def test_without_a_path_the_text_is_named_text(project: Path) -> None:
    assert error_lines("voice = [\n") == ["<text>:2:1: error: invalid TOML: invalid value"]
    assert loads_preset('voice = "ash"\n').path == project / "<text>"  # as load_preset's


def test_the_text_replaces_the_file_on_disk(project: Path) -> None:
    saved = write(project / "presets" / "draft.toml", 'voice = "ash"\n')
    assert loads_preset('voice = "sage"\n', path=saved).session == {"voice": "sage"}
    assert load_preset(saved).session == {"voice": "ash"}


def test_bases_and_instructions_files_are_read_from_disk_beside_the_path(project: Path) -> None:
    write(project / "presets" / "base.toml", 'voice = "ash"\ntemperature = 0.7\n')
    write(project / "presets" / "prompt.md", "Be brief.\n")
    text = 'preset.extends = "base.toml"\npreset.instructions_file = "prompt.md"\nvoice = "sage"\n'
    preset = loads_preset(text, path="presets/unsaved.toml")
    assert preset.session == {"voice": "sage", "temperature": 0.7, "instructions": "Be brief.\n"}
    assert preset.source_files == (
        project / "presets" / "unsaved.toml",
        project / "presets" / "base.toml",
        project / "presets" / "prompt.md",
    )


def test_a_base_is_confined_to_the_root_as_a_files_is(project: Path) -> None:
    assert error_lines('preset.extends = "../../outside.toml"\n', path="presets/x.toml") == [
        "presets/x.toml:1:18: error: preset.extends: '../../outside.toml' leads outside "
        "the project root"
    ]


def test_a_text_larger_than_a_preset_file_may_be_is_refused(project: Path) -> None:
    text = "# " + "x" * (1024 * 1024) + "\n"
    assert error_lines(text, path="big.toml") == [
        "big.toml:1:1: error: text is larger than 1 MiB; a preset is a small text file"
    ]


def test_a_byte_order_mark_is_dropped_as_in_a_file(project: Path) -> None:
    assert loads_preset('\ufeffvoice = "ash"\n').session == {"voice": "ash"}
