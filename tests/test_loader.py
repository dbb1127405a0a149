"""Loading presets: extends (merge, cycles), instructions_file, and root confinement."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_config import PresetError, compile_preset, load_preset
from tests.conftest import write


def error_lines(path: Path, root: Path | None = None) -> list[str]:
    with pytest.raises(PresetError) as caught:
        load_preset(path, root=root)
    return str(caught.value).splitlines()


def test_tables_merge_key_by_key_and_other_values_are_replaced(project: Path) -> None:
    write(
        project / "base.toml",
        'voice = "ash"\nmodalities = ["audio", "text"]\n'
        "[turn_detection]\nthreshold = 0.5\nsilence_duration_ms = 300\n"
        "[tracing]\nworkflow_name = 'w'\nmetadata = { a = 1, b = 2 }\n"
        "[[tools]]\nname = 'one'\n[[tools]]\nname = 'two'\n",
    )
    child = write(
        project / "child.toml",
        'preset.extends = "base.toml"\nmodalities = ["text"]\n'
        "[turn_detection]\nthreshold = 0.9\n"
        "[tracing]\nmetadata = { b = 3 }\n"
        "[[tools]]\nname = 'three'\n",
    )
    session = load_preset(child).session
    assert session == {
        "voice": "ash",
        "modalities": ["text"],
        "turn_detection": {"threshold": 0.9, "silence_duration_ms": 300},
        "tracing": {"workflow_name": "w", "metadata": {"a": 1, "b": 3}},
        "tools": [{"name": "three"}],
    }


def test_false_replaces_an_inherited_table(project: Path) -> None:
    write(project / "base.toml", "[turn_detection]\nthreshold = 0.5\n")
    child = write(project / "child.toml", 'preset.extends = "base.toml"\nturn_detection = false\n')
    assert compile_preset(load_preset(child))["turn_detection"] is None


def test_several_bases_merge_in_order_and_each_is_resolved_first(project: Path) -> None:
    write(project / "a.toml", 'voice = "ash"\ntemperature = 0.7\n')
    write(project / "b.toml", 'preset.extends = "a.toml"\nvoice = "sage"\n')
    write(project / "c.toml", "temperature = 0.9\nspeed = 1.2\n")
    child = write(project / "d.toml", 'preset.extends = ["b.toml", "c.toml"]\nspeed = 1.0\n')
    assert load_preset(child).session == {"voice": "sage", "temperature": 0.9, "speed": 1.0}


def test_the_preset_table_is_not_inherited(project: Path) -> None:
    write(
        project / "base.toml",
        'voice = "ash"\n[preset]\ntarget = "session.update"\ndescription = "b"\n',
    )
    child = load_preset(write(project / "child.toml", 'preset.extends = "base.toml"\n'))
    assert child.target is None
    assert child.description is None
    assert "preset" not in child.session


def test_extends_cycle_names_the_chain(project: Path) -> None:
    write(project / "a.toml", 'preset.extends = "b.toml"\n')
    write(project / "b.toml", 'voice = "ash"\npreset.extends = "c.toml"\n')
    write(project / "c.toml", '[preset]\nextends = "a.toml"\n')
    # Each file of the cycle reports it at its own preset.extends, naming the whole chain:
    # a hook that shows only the changed file's lines still shows the cycle.
    assert error_lines(project / "a.toml") == [
        "a.toml:1:18: error: preset.extends forms a cycle: a.toml -> b.toml -> c.toml -> a.toml"
    ]
    assert error_lines(project / "c.toml") == [
        "c.toml:2:11: error: preset.extends forms a cycle: c.toml -> a.toml -> b.toml -> c.toml"
    ]


def test_a_preset_extending_itself_is_a_cycle(project: Path) -> None:
    write(project / "a.toml", 'preset.extends = ["a.toml"]\n')
    assert error_lines(project / "a.toml") == [
        "a.toml:1:19: error: preset.extends forms a cycle: a.toml -> a.toml"
    ]


def test_missing_base_is_located_at_the_key_that_names_it(project: Path) -> None:
    write(project / "a.toml", 'voice = "ash"\npreset.extends = ["x.toml", "nope.toml"]\n')
    write(project / "x.toml", "")
    assert error_lines(project / "a.toml") == [
        "a.toml:2:29: error: preset.extends: 'nope.toml' does not exist"
    ]


def test_errors_in_a_base_point_into_the_base(project: Path) -> None:
    write(project / "base.toml", "\n\ntemperature = 2.0\n")
    write(project / "child.toml", 'preset.extends = "base.toml"\n')
    assert error_lines(project / "child.toml") == [
        "base.toml:3:15: error: temperature: 2.0 is greater than the maximum of 1.2 "
        "(allowed: 0.6 to 1.2)"
    ]


def test_cross_field_errors_point_at_the_file_that_wrote_the_key(project: Path) -> None:
    write(project / "base.toml", '[[tools]]\nname = "a"\n')
    write(
        project / "child.toml",
        'preset.extends = "base.toml"\n\ntool_choice = { type = "function", name = "b" }\n',
    )
    assert error_lines(project / "child.toml") == [
        'child.toml:3:43: error: tool_choice names the function "b", but no tool in `tools` '
        "has that name"
    ]


def test_instructions_file_content_becomes_instructions_unchanged(project: Path) -> None:
    write(project / "prompts" / "agent.md", "# Agent\n\n  Be kind.\r\nÜber alles.\n\n")
    preset = load_preset(
        write(project / "p.toml", 'preset.instructions_file = "prompts/agent.md"\n')
    )
    assert preset.session["instructions"] == "# Agent\n\n  Be kind.\r\nÜber alles.\n\n"


def test_instructions_file_overrides_inherited_instructions(project: Path) -> None:
    write(project / "base.toml", 'instructions = "old"\n')
    write(project / "new.md", "new")
    child = write(
        project / "child.toml",
        'preset.extends = "base.toml"\npreset.instructions_file = "new.md"\n',
    )
    assert load_preset(child).session["instructions"] == "new"


def test_inherited_instructions_file_is_overridden_by_instructions(project: Path) -> None:
    write(project / "base.md", "from file")
    write(project / "base.toml", 'preset.instructions_file = "base.md"\n')
    child = write(project / "child.toml", 'preset.extends = "base.toml"\ninstructions = "inline"\n')
    assert load_preset(child).session["instructions"] == "inline"


def test_instructions_and_instructions_file_together_is_an_error(project: Path) -> None:
    write(project / "a.md", "x")
    path = write(project / "p.toml", 'instructions = "x"\npreset.instructions_file = "a.md"\n')
    assert error_lines(path) == [
        "p.toml:1:1: error: instructions and preset.instructions_file are both set; keep one"
    ]


def test_missing_instructions_file(project: Path) -> None:
    path = write(project / "p.toml", 'preset.instructions_file = "gone.md"\n')
    assert error_lines(path) == [
        "p.toml:1:28: error: preset.instructions_file: gone.md: no such file"
    ]


def test_instructions_file_that_is_not_utf8(project: Path) -> None:
    (project / "bad.md").write_bytes(b"ok\n\xff")
    path = write(project / "p.toml", 'preset.instructions_file = "bad.md"\n')
    assert error_lines(path) == [
        "p.toml:1:28: error: preset.instructions_file: bad.md: invalid UTF-8: byte 0xff "
        "cannot be decoded; a preset must be UTF-8 text"
    ]


@pytest.mark.parametrize("key", ["extends", "instructions_file"])
def test_absolute_paths_are_refused(project: Path, key: str) -> None:
    target = write(project / "x.toml", "")
    path = write(project / "p.toml", f"preset.{key} = {str(target)!r}\n")
    column = len(f"preset.{key} = ") + 1
    assert error_lines(path) == [
        f"p.toml:1:{column}: error: preset.{key}: {str(target)!r} is an absolute path; "
        "paths are relative to the preset"
    ]


@pytest.mark.parametrize("key", ["extends", "instructions_file"])
def test_dotdot_escape_from_the_root_is_refused(project: Path, key: str) -> None:
    write(project.parent / "outside.toml", "")
    path = write(project / "p.toml", f'preset.{key} = "../outside.toml"\n')
    column = len(f"preset.{key} = ") + 1
    assert error_lines(path) == [
        f"p.toml:1:{column}: error: preset.{key}: '../outside.toml' leads outside the project root"
    ]


def test_dotdot_inside_the_root_is_fine(project: Path) -> None:
    write(project / "presets" / "base.toml", 'voice = "ash"\n')
    child = write(project / "presets" / "team" / "c.toml", 'preset.extends = "../base.toml"\n')
    assert load_preset(child).session == {"voice": "ash"}


@pytest.mark.parametrize("key", ["extends", "instructions_file"])
def test_symlink_out_of_the_root_is_refused(project: Path, key: str) -> None:
    outside = write(project.parent / "secret.toml", "")
    (project / "link.toml").symlink_to(outside)
    path = write(project / "p.toml", f'preset.{key} = "link.toml"\n')
    column = len(f"preset.{key} = ") + 1
    assert error_lines(path) == [
        f"p.toml:1:{column}: error: preset.{key}: 'link.toml' leads outside the project root "
        "through a symlink"
    ]


@pytest.mark.parametrize("key", ["extends", "instructions_file"])
def test_a_folder_symlinked_out_of_the_root_is_refused(project: Path, key: str) -> None:
    """The quick proof of confinement follows each folder: one reached through a symlink
    takes the exact way."""
    write(project.parent / "elsewhere" / "secret.toml", "")
    (project / "shared").symlink_to(project.parent / "elsewhere")
    path = write(project / "p.toml", f'preset.{key} = "shared/secret.toml"\n')
    column = len(f"preset.{key} = ") + 1
    assert error_lines(path) == [
        f"p.toml:1:{column}: error: preset.{key}: 'shared/secret.toml' leads outside the "
        "project root through a symlink"
    ]


def test_symlinks_that_stay_inside_the_root_are_followed(project: Path) -> None:
    write(project / "real" / "base.toml", 'voice = "ash"\n')
    (project / "linked").symlink_to(project / "real")
    (project / "top.toml").symlink_to(
        # Names in a symlinked file are relative to where the link is, not to its target.
        write(project / "real" / "top.toml", 'preset.extends = "real/base.toml"\nspeed = 1.1\n')
    )
    child = write(project / "c.toml", 'preset.extends = "linked/base.toml"\n')
    assert load_preset(child).session == {"voice": "ash"}
    assert load_preset(project / "top.toml").session == {"voice": "ash", "speed": 1.1}


def test_a_file_read_as_a_base_is_still_confined_as_a_listed_file(project: Path) -> None:
    """A nested project's file, read first as another's base, then listed itself: the
    symlink check of a listed file is not skipped because its text is known already."""
    inner = project / "inner"
    write(inner / "pyproject.toml", "[project]\nname = 'inner'\n")
    write(project / "sibling.toml", 'voice = "ash"\n')
    (inner / "link.toml").symlink_to(project / "sibling.toml")
    base_user = write(project / "user.toml", 'preset.extends = "inner/link.toml"\n')
    from realtime_config import check_files

    found = check_files([base_user, inner / "link.toml"])
    assert [str(d) for d in found] == [
        "inner/link.toml:1:1: error: leads outside the project root through a symlink; only "
        "files inside the root are read"
    ]


def test_root_option_narrows_the_root(project: Path) -> None:
    write(project / "base.toml", "")
    path = write(project / "sub" / "p.toml", 'preset.extends = "../base.toml"\n')
    assert load_preset(path).session == {}
    assert error_lines(path, root=project / "sub") == [
        "sub/p.toml:1:18: error: preset.extends: '../base.toml' leads outside the project root"
    ]


def test_session_field_inside_the_preset_table_gets_the_hint(project: Path) -> None:
    path = write(project / "p.toml", '[preset]\ndescription = "d"\nvoice = "ash"\n')
    assert error_lines(path) == [
        "p.toml:3:1: error: `voice` is a session field, not a [preset] setting: a table header "
        "captures every key after it, so put [preset] at the end of the file or write its keys "
        "as dotted keys (preset.extends = ...)"
    ]


@pytest.mark.parametrize(
    ("text", "kind", "column"),
    [
        ("instructions = 1979-05-27T07:32:00Z", "a date-time", 16),
        ("instructions = 1979-05-27", "a date", 16),
        ("instructions = 07:32:00", "a time", 16),
    ],
)
def test_toml_dates_and_times_are_type_errors(
    project: Path, text: str, kind: str, column: int
) -> None:
    path = write(project / "p.toml", text + "\n")
    assert error_lines(path) == [
        f"p.toml:1:{column}: error: instructions: {kind} is not allowed here; TOML dates "
        "and times have no JSON form (write it as a string)"
    ]


def test_dates_inside_verbatim_tables_are_errors_too(project: Path) -> None:
    path = write(project / "p.toml", "[tracing.metadata]\nsince = 2024-01-01\n")
    assert error_lines(path) == [
        "p.toml:2:9: error: tracing.metadata.since: a date is not allowed here; TOML dates "
        "and times have no JSON form (write it as a string)"
    ]


def test_non_finite_floats_are_refused(project: Path) -> None:
    path = write(project / "p.toml", "[tracing.metadata]\nratio = nan\n")
    assert error_lines(path) == [
        "p.toml:2:9: error: tracing.metadata.ratio: nan is not allowed; JSON has no infinite "
        "or NaN numbers"
    ]


def test_project_root_defaults_to_the_nearest_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "repo" / "pyproject.toml", "")
    write(tmp_path / "repo" / "base.toml", 'voice = "ash"\n')
    child = write(tmp_path / "repo" / "presets" / "c.toml", 'preset.extends = "../base.toml"\n')
    monkeypatch.chdir(tmp_path)
    assert load_preset(child).session == {"voice": "ash"}
