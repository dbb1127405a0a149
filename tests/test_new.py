"""new: a starter preset with the #:schema header and every session field commented out."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config import PresetNameError, check_files, compile_preset, load_preset, load_schema

# A field's own schema node, with its inherited description and default: the schema's
# internals; the expected starter is built from it, not from the starter's code.
from realtime_config._schema import field_schema

# Which fields a starter lists, its no-default note and the library's own name check (the
# command turns it into a usage error): writing a starter has no public function.
from realtime_config.authoring._starter import NO_DEFAULT, starter_fields, starter_path
from realtime_config.cli import main
from tests.conftest import write


@pytest.fixture
def project(project: Path) -> Path:
    """The empty project, with the schema copy that ``new`` would otherwise write first."""
    (project / "schema").mkdir()
    copy = "schema/realtime-session.schema.json"
    assert run("schema", "--write", copy) == (0, f"wrote {copy}\n", "")
    return project


if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SCHEMA_ID = load_schema()["$id"]
BETA_FIELDS = load_schema()["$defs"]["beta"]["x-order"]
DIALECTS = ["realtime", "transcription", "beta"]
FLAGS = {"realtime": [], "transcription": ["--transcription"], "beta": ["--beta"]}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def starter(name: str, dialect: str) -> str:
    """The text of the starter ``realtime-config new NAME`` writes for ``dialect``."""
    assert run("new", name, *FLAGS[dialect]) == (0, f"created presets/{name}.toml\n", "")
    return Path("presets", f"{name}.toml").read_text(encoding="utf-8")


def field_blocks(text: str) -> list[list[str]]:
    """The starter's per-field blocks (description lines, then the value line)."""
    return [block.splitlines() for block in text.split("\n\n")[1:]]


def uncomment(line: str) -> str:
    assert line.startswith("# ")
    return line[2:]


def value_at(table: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        table = table[key]
    return table


def test_new_writes_a_ga_starter_that_validates_and_compiles(project: Path) -> None:
    assert run("new", "support") == (0, "created presets/support.toml\n", "")
    path = project / "presets" / "support.toml"
    text = path.read_text(encoding="utf-8")
    assert text.split("\n\n")[0] == (
        "#:schema ../schema/realtime-session.schema.json\n"
        "# Every session field is listed below with its server default, commented out;\n"
        "# uncomment a line to set that field.\n"
        'type = "realtime"'
    )
    assert check_files([path]) == []
    assert load_preset(path).dialect == "realtime"
    assert compile_preset(load_preset(path)) == {"session": {"type": "realtime"}}


def test_new_transcription_and_beta_starters(project: Path) -> None:
    assert run("new", "captions", "--transcription") == (0, "created presets/captions.toml\n", "")
    captions = project / "presets" / "captions.toml"
    assert '\ntype = "transcription"\n' in captions.read_text(encoding="utf-8")
    assert compile_preset(load_preset(captions)) == {"session": {"type": "transcription"}}
    assert run("new", "legacy", "--beta") == (0, "created presets/legacy.toml\n", "")
    legacy = project / "presets" / "legacy.toml"
    assert "\ntype = " not in legacy.read_text(encoding="utf-8")
    assert check_files([legacy]) == []
    assert compile_preset(load_preset(legacy)) == {"modalities": ["audio", "text"]}


def test_the_header_is_relative_when_the_project_has_the_schema(project: Path) -> None:
    write(project / "schema" / "realtime-session.schema.json", "{}")
    assert run("new", "support")[0] == 0
    text = (project / "presets" / "support.toml").read_text(encoding="utf-8")
    assert text.startswith("#:schema ../schema/realtime-session.schema.json\n")


def test_the_ga_starter_lists_nested_fields_as_dotted_keys_in_schema_order() -> None:
    assert starter_fields("realtime") == [
        ("output_modalities",),
        ("model",),
        ("instructions",),
        ("audio", "input", "format"),
        ("audio", "input", "transcription"),
        ("audio", "input", "noise_reduction"),
        ("audio", "input", "turn_detection"),
        ("audio", "output", "format"),
        ("audio", "output", "voice"),
        ("audio", "output", "speed"),
        ("include",),
        ("tracing",),
        ("tools",),
        ("tool_choice",),
        ("parallel_tool_calls",),
        ("reasoning", "effort"),
        ("max_output_tokens",),
        ("truncation",),
        ("prompt",),
        ("expires_after", "anchor"),
        ("expires_after", "seconds"),
    ]
    assert starter_fields("beta") == [(key,) for key in BETA_FIELDS]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_field_is_listed_in_schema_order_with_its_description(
    project: Path, dialect: str
) -> None:
    text = starter("support", dialect)
    blocks = field_blocks(text)
    listed = [tomllib.loads(uncomment(block[-1])) for block in blocks]
    paths = starter_fields(dialect)
    assert len(listed) == len(paths)
    for path, block, value in zip(paths, blocks, listed, strict=True):
        field = field_schema(path, dialect)
        assert field is not None
        value_at(value, path)  # the value line sets exactly this path
        comments = [uncomment(line) for line in block[:-1]]
        if "default" not in field:
            assert comments.pop() == NO_DEFAULT
        assert " ".join(comments) == " ".join(str(field["description"]).split())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_value_line_is_the_schema_default_as_toml(project: Path, dialect: str) -> None:
    blocks = field_blocks(starter("support", dialect))
    paths = starter_fields(dialect)
    defaults = 0
    for path, block in zip(paths, blocks, strict=True):
        field = field_schema(path, dialect)
        assert field is not None
        value = value_at(tomllib.loads(uncomment(block[-1])), path)
        if "default" in field:
            defaults += 1
            assert value == field["default"]
        else:
            assert block[-2] == f"# {NO_DEFAULT}"
    assert defaults >= len(paths) - (3 if dialect == "beta" else 7)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_uncommenting_every_value_line_gives_a_valid_preset(project: Path, dialect: str) -> None:
    text = starter("support", dialect)
    header = text.split("\n\n")[0]
    values = [uncomment(block[-1]) for block in field_blocks(text)]
    path = write(project / "presets" / "all.toml", header + "\n" + "\n".join(values) + "\n")
    assert [d for d in check_files([path]) if d.is_error] == []
    preset = load_preset(path)
    assert preset.dialect == dialect
    payload = compile_preset(preset)
    if dialect == "beta":
        assert list(payload) == [key for key in BETA_FIELDS if key in payload]
    else:
        assert list(payload) == ["expires_after", "session"]
        assert payload["expires_after"] == {"anchor": "created_at", "seconds": 600}
        order = load_schema()["$defs"][dialect]["x-order"]
        assert list(payload["session"]) == [key for key in order if key in payload["session"]]


def test_long_descriptions_are_wrapped(project: Path) -> None:
    for dialect in DIALECTS:
        text = starter(f"support-{dialect}", dialect)
        assert max(len(line) for line in text.splitlines()[1:]) <= 88
    text = (project / "presets" / "support-beta.toml").read_text(encoding="utf-8")
    description = field_schema(("input_audio_format",))
    assert description is not None
    wrapped = textwrap.wrap(str(description["description"]), width=86)
    assert "\n".join(f"# {line}" for line in wrapped) in text


def test_new_creates_the_presets_folder_and_refuses_to_overwrite(project: Path) -> None:
    assert not (project / "presets").exists()
    assert run("new", "support.toml") == (0, "created presets/support.toml\n", "")
    path = project / "presets" / "support.toml"
    path.write_text('voice = "ash"\n', encoding="utf-8")
    assert run("new", "support") == (
        1,
        "",
        "realtime-config: error: presets/support.toml: already exists; "
        "use --force to overwrite it\n",
    )
    assert path.read_text(encoding="utf-8") == 'voice = "ash"\n'
    assert run("new", "support", "--force") == (0, "created presets/support.toml\n", "")
    assert path.read_text(encoding="utf-8").startswith("#:schema ")
    assert sorted(p.name for p in path.parent.iterdir()) == ["support.toml"]


def test_new_writes_under_the_project_root_from_a_subfolder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "src" / "app").mkdir(parents=True)
    monkeypatch.chdir(project / "src" / "app")
    code, out, err = run("new", "support")
    target = project / "presets" / "support.toml"
    assert (code, out, err) == (0, f"created {target}\n", "")
    assert target.is_file()


@pytest.mark.parametrize(
    "name", ["a/b", "../x", "..", "a..b", "", ".hidden", "a b", "x\\y", "/abs", "-dash"]
)
def test_a_name_that_is_not_a_simple_file_name_is_a_usage_error(project: Path, name: str) -> None:
    code, out, err = run("new", "--", name)
    assert (code, out) == (2, "")
    assert err.endswith(
        f"Error: Invalid value for 'NAME': {name!r} is not a simple file name: use letters, "
        "digits, '-', '_' and '.', without '/' or '..'\n"
    )
    assert not (project / "presets").exists()


def test_the_name_check_is_in_the_library(project: Path) -> None:
    with pytest.raises(PresetNameError):
        starter_path("a/b")
    assert starter_path("voice.v2", root=project) == project / "presets" / "voice.v2.toml"


# --- --from: the starter extends a preset ----------------------------------------------------

BASE = """\
#:schema ../../schema/realtime-session.schema.json
model = "gpt-realtime-1.5"
voice = "sage"

[turn_detection]
silence_duration_ms = 600
"""


def test_from_extends_the_base_preset(project: Path) -> None:
    base = write(project / "presets" / "team" / "base.toml", BASE)
    assert run("new", "agent", "--from", "presets/team/base.toml") == (
        0,
        "created presets/agent.toml\n",
        "",
    )
    path = project / "presets" / "agent.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:4] == [
        "#:schema ../schema/realtime-session.schema.json",
        "# Extends team/base.toml: a field set here overrides it. The commented values below",
        "# are the server defaults, not the values of team/base.toml.",
        'preset.extends = "team/base.toml"',
    ]
    assert check_files([path]) == []
    assert compile_preset(load_preset(path)) == compile_preset(load_preset(base))


def test_from_a_subfolder_is_relative_to_the_working_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "presets" / "base.toml", BASE)
    monkeypatch.chdir(project / "presets")
    assert run("new", "agent", "--from", "base.toml") == (0, "created agent.toml\n", "")
    text = (project / "presets" / "agent.toml").read_text(encoding="utf-8")
    assert '\npreset.extends = "base.toml"\n' in text


def test_from_a_missing_or_invalid_preset_is_an_error(project: Path) -> None:
    assert run("new", "agent", "--from", "presets/nope.toml") == (
        1,
        "",
        "presets/nope.toml:1:1: error: no such file\n",
    )
    write(project / "presets" / "bad.toml", "temperature = 2\n")
    assert run("new", "agent", "--from", "presets/bad.toml") == (
        1,
        "",
        "presets/bad.toml:1:15: error: temperature: 2 is greater than the maximum of 1.2 "
        "(allowed: 0.6 to 1.2)\n",
    )
    assert not (project / "presets" / "agent.toml").exists()


def test_from_outside_the_project_or_the_preset_itself_is_an_error(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = write(tmp_path_factory.mktemp("elsewhere") / "base.toml", BASE)
    assert run("new", "agent", "--from", str(outside)) == (
        1,
        "",
        f"realtime-config: error: {outside}: is outside the project root {project}; "
        "a preset can only extend presets inside it\n",
    )
    write(project / "presets" / "agent.toml", BASE)
    assert run("new", "agent", "--force", "--from", "presets/agent.toml") == (
        1,
        "",
        "realtime-config: error: presets/agent.toml: is the preset being created; "
        "it cannot extend itself\n",
    )
    assert (project / "presets" / "agent.toml").read_text(encoding="utf-8") == BASE


def test_a_file_where_the_presets_folder_should_be_is_an_error(project: Path) -> None:
    write(project / "presets", "not a folder")
    code, out, err = run("new", "support")
    assert (code, out) == (1, "")
    assert err == (
        "realtime-config: error: presets/support.toml: cannot create its folder: File exists\n"
    )


GA_BASE = """\
type = "realtime"
model = "gpt-realtime-1.5"

[audio.output]
voice = "marin"
"""


def test_from_a_ga_base_lists_ga_fields_and_repeats_its_type(project: Path) -> None:
    """Without ``type`` an editor would check the file against the beta branch of the schema
    and flag every GA key that validate accepts."""
    base = write(project / "presets" / "base.toml", GA_BASE)
    assert run("new", "agent", "--from", "presets/base.toml") == (
        0,
        "created presets/agent.toml\n",
        "",
    )
    path = project / "presets" / "agent.toml"
    text = path.read_text(encoding="utf-8")
    assert '\npreset.extends = "base.toml"\ntype = "realtime"\n' in text
    assert "\n# audio.output.voice = " in text
    assert check_files([path]) == []
    assert load_preset(path).dialect == "realtime"
    assert compile_preset(load_preset(path)) == compile_preset(load_preset(base))


def test_a_dialect_flag_with_from_is_a_usage_error(project: Path) -> None:
    write(project / "presets" / "base.toml", GA_BASE)
    code, out, err = run("new", "agent", "--beta", "--from", "presets/base.toml")
    assert (code, out) == (2, "")
    assert err.endswith("Error: --beta and --from: the base preset sets the dialect\n")
    assert not (project / "presets" / "agent.toml").exists()
