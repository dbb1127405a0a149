"""``migrate``: beta presets rewritten as GA presets with the same client_secrets body.

Golden migrations (``tests/golden/migrate/beta/*.toml`` -> ``ga/*.toml``, byte for byte) cover
every shipped beta preset and DESIGN's examples, comments included. The law, over the shipped
presets, DESIGN's examples and generated presets: the migrated GA preset compiles for
``client_secrets`` to exactly the bytes the beta preset compiles to.

Beside them, the layouts the goldens do not show: the file's opening lines (the ``#:schema``
directive, a header paragraph) stay first even when the first key moves to another table;
dotted keys and inline tables move as they are written; a preset that does not load, a GA
preset among beta ones and the other presets of the project (one that cannot be parsed, an
extends list with a stray item) are each handled with the exact message a user sees.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import tomli_w
import tomllib
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from realtime_config import (
    PresetError,
    compile_preset,
    dumps_payload,
    load_preset,
    migrate_presets,
    migrate_text,
)
from realtime_config.cli import main
from tests.conftest import GOLDEN, PRESETS, PROJECT, beta_presets, check_golden, write
from tests.strategies import session_tables

BETA = GOLDEN / "migrate" / "beta"
GA = GOLDEN / "migrate" / "ga"
DESIGN = PROJECT / "tests" / "cases" / "design"


def beta_inputs() -> list[Path]:
    found = sorted(BETA.glob("*.toml"))
    assert len(found) >= 10, f"golden inputs missing under {BETA}"
    return found


def is_beta(path: Path) -> bool:
    """Whether a preset is in the beta dialect: no ``type`` after resolving ``extends``."""
    return "type" not in load_preset(path).session


def beta_body(path: Path) -> str:
    """Today's client_secrets body of a beta preset (unsupported fields left out)."""
    return dumps_payload(compile_preset_dropping(path))


def compile_preset_dropping(path: Path) -> dict[str, object]:
    return compile_preset(load_preset(path), "client_secrets", drop_unsupported=True)


def comments(text: str) -> list[str]:
    """Every comment of a TOML text, in order (this suite's files have no '#' in strings)."""
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


# --- Golden migrations: text level ------------------------------------------------------


def test_golden_inputs_cover_every_shipped_preset_and_design_example() -> None:
    names = {p.name for p in beta_inputs()}
    assert {f"design-{p.name}" for p in DESIGN.glob("*.toml")} <= names
    assert "commented.toml" in names
    assert {p.name for p in (GA).glob("*.toml")} == names


@pytest.fixture(scope="module")
def golden_migrations() -> dict[str, str]:
    migrations = migrate_presets(beta_inputs(), drop_unsupported=True)
    return {m.path.name: m.text for m in migrations}


@pytest.mark.parametrize("source", beta_inputs(), ids=lambda p: p.stem)
def test_golden_migration(source: Path, golden_migrations: dict[str, str]) -> None:
    check_golden(GA / source.name, golden_migrations[source.name])


@pytest.mark.parametrize("source", beta_inputs(), ids=lambda p: p.stem)
def test_every_comment_survives(source: Path) -> None:
    before = comments(source.read_text(encoding="utf-8"))
    after = comments((GA / source.name).read_text(encoding="utf-8"))
    assert sorted(before) == sorted(after)


def test_comment_above_a_key_moves_with_it_and_trailing_comment_stays_on_its_line() -> None:
    text = (GA / "commented.toml").read_text(encoding="utf-8")
    assert (
        "[audio.output]\n"
        "# Marketing chose this voice; keep it for brand consistency.\n"
        'voice = "marin"\n'
        'format = { type = "audio/pcma" }   # European SIP trunk\n'
    ) in text
    assert 'model = "gpt-realtime" # pinned: newer snapshots change the greeting\n' in text
    assert (
        "# Quiet lobby: a low threshold picks up soft voices.\n"
        "[audio.input.turn_detection]\n"
        'type = "server_vad"\n'
        "# 0.4 after the March review (was 0.5)\n"
        "threshold = 0.4\n"
    ) in text


def test_chain_root_states_the_dialect_and_its_children_do_not() -> None:
    base = tomllib.loads((GA / "hotel-base.toml").read_text(encoding="utf-8"))
    child = tomllib.loads((GA / "hotel-concierge.toml").read_text(encoding="utf-8"))
    assert base["type"] == "realtime"
    assert base["output_modalities"] == ["audio"]
    assert "type" not in child
    assert child["preset"] == {
        "extends": "hotel-base.toml",
        "instructions_file": "instructions/hotel-concierge.md",
        "description": "Grand Hotel concierge: bookings for restaurants and taxis.",
    }


def test_beta_emission_rules_are_written_out() -> None:
    """What the beta body adds is written; what it omits (pcm16) is gone."""
    full = tomllib.loads((GA / "design-full-example.toml").read_text(encoding="utf-8"))
    assert full["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert "format" not in full["audio"]["input"]
    assert full["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    assert [tool["type"] for tool in full["tools"]] == ["function"]
    minimal = tomllib.loads((GA / "design-minimal.toml").read_text(encoding="utf-8"))
    assert minimal == {"type": "realtime", "output_modalities": ["audio"], "model": "gpt-realtime"}
    off = tomllib.loads((GA / "design-switched-off.toml").read_text(encoding="utf-8"))
    assert off == {
        "type": "realtime",
        "output_modalities": ["text"],
        "tracing": False,
        "audio": {"input": {"turn_detection": False, "transcription": False}},
    }


# --- Layouts the goldens do not show: opening lines, dotted keys, inline tables ----------


SCHEMA = "#:schema ../schema/realtime-session.schema.json\n"


def migrated(project: Path, text: str) -> str:
    """The GA text of the beta preset ``text`` at ``p.toml``, by the text-level function."""
    migration = migrate_text(text, path=project / "p.toml")
    assert migration.warnings == ()
    return migration.text


def test_the_schema_directive_stays_on_the_first_line_when_the_first_key_moves(
    project: Path,
) -> None:
    # Editors read #:schema on the first line only; it used to move with voice.
    assert migrated(project, SCHEMA + 'voice = "ash"\nmodel = "gpt-realtime-1.5"\n') == (
        SCHEMA
        + 'type = "realtime"\noutput_modalities = ["audio"]\nmodel = "gpt-realtime-1.5"\n'
        + '\n[audio.output]\nvoice = "ash"\n'
    )


def test_the_opening_paragraph_stays_first_when_the_file_opens_with_a_table(
    project: Path,
) -> None:
    # It used to come out below type and output_modalities.
    assert migrated(
        project, SCHEMA + '# Acme support\n\n[turn_detection]\ntype = "semantic_vad"\n'
    ) == (
        SCHEMA
        + "# Acme support\n\n"
        + 'type = "realtime"\noutput_modalities = ["audio"]\n'
        + '[audio.input.turn_detection]\ntype = "semantic_vad"\n'
    )


def test_the_comment_right_above_the_first_key_moves_with_it(project: Path) -> None:
    text = '# Front desk.\n\n# brand voice\nvoice = "ash"\n'
    assert migrated(project, text) == (
        "# Front desk.\n\n"
        'type = "realtime"\noutput_modalities = ["audio"]\n'
        '\n[audio.output]\n# brand voice\nvoice = "ash"\n'
    )


def test_dotted_keys_move_into_their_table_still_dotted(project: Path) -> None:
    text = (
        'voice = "ash"\n\nturn_detection.type = "semantic_vad"\nturn_detection.eagerness = "low"\n'
    )
    assert migrated(project, text) == (
        'type = "realtime"\noutput_modalities = ["audio"]\n'
        '\n[audio.input]\nturn_detection.type = "semantic_vad"\nturn_detection.eagerness = "low"\n'
        '\n[audio.output]\nvoice = "ash"\n'
    )


def test_an_inline_client_secret_is_spread_into_expires_after(project: Path) -> None:
    text = 'client_secret = { expires_after = { anchor = "created_at", seconds = 600 } }\n'
    assert migrated(project, text + 'voice = "ash"\n') == (
        'expires_after = { anchor = "created_at", seconds = 600 }\n'
        'type = "realtime"\noutput_modalities = ["audio"]\n'
        '\n[audio.output]\nvoice = "ash"\n'
    )


def test_a_dotted_client_secret_key_becomes_a_dotted_expires_after_key(project: Path) -> None:
    text = 'voice = "ash"\nclient_secret.expires_after.seconds = 600\n'
    assert migrated(project, text) == (
        "expires_after.seconds = 600\n"
        'type = "realtime"\noutput_modalities = ["audio"]\n'
        '\n[audio.output]\nvoice = "ash"\n'
    )


def test_an_empty_inline_client_secret_goes_away(project: Path) -> None:
    assert migrated(project, 'client_secret = {}\nvoice = "ash"\n') == (
        'type = "realtime"\noutput_modalities = ["audio"]\n\n[audio.output]\nvoice = "ash"\n'
    )


def test_the_text_level_form_migrates_as_the_file_form_does(project: Path) -> None:
    source = BETA / "phone-support.toml"
    text = source.read_text(encoding="utf-8")
    migration = migrate_text(text, path=project / "presets" / "draft.toml", drop_unsupported=True)
    assert (migration.original, migration.changed) == (text, True)
    assert migration.text == (GA / "phone-support.toml").read_text(encoding="utf-8")
    assert migration.path == project / "presets" / "draft.toml"


def test_the_text_level_form_names_its_path_in_every_problem(project: Path) -> None:
    with pytest.raises(PresetError) as caught:
        migrate_text('voice = "ash"\ntemperature = 0.7\n', path="presets/draft.toml")
    assert [str(d) for d in caught.value.diagnostics] == [
        "presets/draft.toml:2:1: error: temperature: the GA API has no temperature, so it "
        "cannot be migrated"
    ]
    dropped = migrate_text(
        'voice = "ash"\ntemperature = 0.7\n', path="presets/draft.toml", drop_unsupported=True
    )
    assert [str(d) for d in dropped.warnings] == [
        "presets/draft.toml:2:1: warning: temperature dropped: the GA API has no temperature"
    ]


def test_settling_replaces_an_array_of_tables_whose_length_differs_whole() -> None:
    # The settle step's edits: no valid preset gets here (moving keeps every tool), so the
    # rule is fed directly; an index added or removed is no key a file could edit.
    from realtime_config.authoring._migrate_file import differences

    have = {"tools": [{"name": "a"}], "voice": "ash", "old": 1}
    want = {"voice": "cedar", "tools": [{"name": "a"}, {"name": "b"}], "new": 2}
    assert differences(have, want) == [
        ("replace", ("voice",), "cedar"),
        ("remove", ("old",), None),  # in the differ's order: after its old neighbour
        ("replace", ("tools",), [{"name": "a"}, {"name": "b"}]),
        ("add", ("new",), 2),
    ]
    assert differences({"a": {"b": 1, "c": 2}}, {"a": {"c": 2, "b": 1}}) == []


# --- Failures: unsupported fields, chains migrated in part --------------------------------


def test_temperature_fails_at_its_line(project: Path) -> None:
    write(project / "presets" / "a.toml", 'model = "gpt-realtime"\n\ntemperature = 0.7\n')
    assert run("presets/a.toml") == (
        1,
        "",
        "presets/a.toml:3:1: error: temperature: the GA API has no temperature, so it cannot be migrated\n"
        "realtime-config: hint: remove those fields, or pass --drop-unsupported to leave them out\n",
    )


def test_drop_unsupported_drops_with_a_warning_and_keeps_the_comment(project: Path) -> None:
    write(
        project / "presets" / "a.toml",
        'model = "gpt-realtime"\n# warmer for guests\ntemperature = 0.7\nspeed = 1.1\n',
    )
    assert run("--drop-unsupported", "presets/a.toml") == (
        0,
        'type = "realtime"\n'
        'output_modalities = ["audio"]\n'
        'model = "gpt-realtime"\n'
        "# warmer for guests\n"
        "\n"
        "[audio.output]\n"
        "speed = 1.1\n",
        "presets/a.toml:3:1: warning: temperature dropped: the GA API has no temperature\n",
    )


def test_migrating_a_child_without_its_base_is_refused(project: Path) -> None:
    write(project / "presets" / "base.toml", 'model = "gpt-realtime"\n')
    write(project / "presets" / "child.toml", 'preset.extends = "base.toml"\nspeed = 1.1\n')
    assert run("presets/child.toml") == (
        1,
        "",
        "presets/child.toml:1:18: error: preset.extends: presets/base.toml is left behind: "
        "a chain is migrated whole, and a GA preset cannot extend a beta one\n",
    )


def test_migrating_a_base_without_its_child_is_refused(project: Path) -> None:
    write(project / "presets" / "base.toml", 'model = "gpt-realtime"\n')
    write(project / "presets" / "child.toml", 'preset.extends = "base.toml"\nspeed = 1.1\n')
    assert run("presets/base.toml") == (
        1,
        "",
        "presets/child.toml:1:18: error: preset.extends: presets/base.toml is migrated to GA, "
        "but this preset, which extends it, is left behind\n",
    )


def test_an_inherited_format_that_pcm16_overrides_cannot_be_reproduced(project: Path) -> None:
    """The beta child's pcm16 hides the base's format; a GA child can only send one."""
    write(project / "presets" / "base.toml", 'input_audio_format = "g711_ulaw"\n')
    write(
        project / "presets" / "child.toml",
        'preset.extends = "base.toml"\ninput_audio_format = "pcm16"\n',
    )
    assert run("--check", "presets/base.toml", "presets/child.toml") == (
        1,
        "",
        "presets/child.toml:2:1: error: audio.input.format: the GA preset cannot reproduce "
        "today's client_secrets body here (it would keep audio.input.format)\n",
    )


def test_temperature_in_a_file_with_an_inline_client_secret(project: Path) -> None:
    write(
        project / "p.toml",
        "client_secret = { expires_after = { seconds = 30 } }\ntemperature = 0.7\n",
    )
    assert run("p.toml") == (
        1,
        "",
        "p.toml:2:1: error: temperature: the GA API has no temperature, so it cannot be migrated\n"
        "realtime-config: hint: remove those fields, or pass --drop-unsupported to leave them out\n",
    )
    assert run("--drop-unsupported", "p.toml") == (
        0,
        'expires_after = { seconds = 30 }\ntype = "realtime"\noutput_modalities = ["audio"]\n',
        "p.toml:2:1: warning: temperature dropped: the GA API has no temperature\n",
    )


# --- Several presets, and the rest of the project ---------------------------------------


def test_a_preset_that_does_not_load_is_reported_and_nothing_is_written(project: Path) -> None:
    write(project / "good.toml", 'voice = "ash"\n')
    write(project / "bad.toml", "voice = 3\n")
    assert run("--in-place", "good.toml", "bad.toml") == (
        1,
        "",
        "bad.toml:1:9: error: voice: expected a string, found an integer\n",
    )
    assert (project / "good.toml").read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_a_ga_preset_among_beta_ones_is_left_as_it_is(project: Path) -> None:
    ga = write(project / "ga.toml", 'type = "realtime"\nmodel = "gpt-realtime-1.5"\n')
    write(project / "beta.toml", 'voice = "ash"\n')
    assert run("--check", "ga.toml", "beta.toml") == (
        1,
        "would migrate beta.toml\n",
        "",
    )
    assert run("--in-place", "ga.toml", "beta.toml") == (0, "rewrote beta.toml\n", "")
    assert ga.read_text(encoding="utf-8") == 'type = "realtime"\nmodel = "gpt-realtime-1.5"\n'
    assert run("--check", "ga.toml", "beta.toml") == (
        0,
        "every preset is already GA\n",
        "",
    )


def test_a_project_preset_that_cannot_be_parsed_does_not_stop_a_migration(project: Path) -> None:
    """It is read through the loader, and what stops it being read is a warning there."""
    write(project / "presets" / "broken.toml", "voice = [\n")
    write(project / "presets" / "beta.toml", 'voice = "ash"\n')
    assert run("--check", "presets/beta.toml") == (
        1,
        "would migrate presets/beta.toml\n",
        "presets/broken.toml:2:1: warning: invalid TOML: invalid value; whether it extends a "
        "migrated preset is unknown\n",
    )


def test_a_child_is_found_past_a_stray_item_of_its_extends_list(project: Path) -> None:
    write(project / "presets" / "beta.toml", 'voice = "ash"\n')
    write(project / "presets" / "child.toml", 'preset.extends = [1, "beta.toml"]\n')
    assert run("--check", "presets/beta.toml") == (
        1,
        "",
        "presets/child.toml:1:22: error: preset.extends: presets/beta.toml is migrated to GA, "
        "but this preset, which extends it, is left behind\n",
    )


# --- The law: the client_secrets body is unchanged (needs GA compile) -----------------------


def copy_project(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination / "presets")
    (destination / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    return destination / "presets"


def assert_bodies_unchanged(folder: Path, files: list[Path]) -> None:
    before = {p.name: beta_body(p) for p in files}
    code, _, err = run("--in-place", "--drop-unsupported", *map(str, files))
    assert code == 0, err
    for path in files:
        assert not is_beta(path)
        assert beta_body(path) == before[path.name], path.name


def test_shipped_beta_presets_keep_their_client_secrets_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_project(PRESETS, tmp_path)
    monkeypatch.chdir(tmp_path)
    beta = [p for p in sorted(folder.rglob("*.toml")) if is_beta(p)]
    if not beta:
        beta = sorted(copy_project(BETA, tmp_path / "golden").glob("*.toml"))
    assert_bodies_unchanged(folder, beta)


def test_golden_and_design_presets_keep_their_client_secrets_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_project(BETA, tmp_path)
    monkeypatch.chdir(tmp_path)
    assert_bodies_unchanged(folder, sorted(folder.glob("*.toml")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session=session_tables())
def test_generated_beta_presets_keep_their_client_secrets_body(session: dict[str, object]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text("", encoding="utf-8")
        path = write(root / "presets" / "p.toml", tomli_w.dumps(session))
        before = dumps_payload(
            compile_preset(load_preset(path), "client_secrets", drop_unsupported=True)
        )
        code, text, err = run("--root", str(root), "--drop-unsupported", str(path))
        transcription = session.get("input_audio_transcription")
        whisper = isinstance(transcription, dict) and (
            transcription.get("model") == "gpt-realtime-whisper"
        )
        if whisper and "prompt" in transcription:  # type: ignore[operator]
            # GA refuses a transcription prompt with gpt-realtime-whisper: migrate says so.
            assert code == 1
            assert 'prompt is not supported with model "gpt-realtime-whisper"' in err
            return
        assert code == 0, err
        path.write_text(text, encoding="utf-8")
        after = dumps_payload(compile_preset(load_preset(path), "client_secrets"))
        assert after == before


# --- The command line -------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["migrate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_usage_errors(project: Path) -> None:
    write(project / "presets" / "a.toml", 'model = "gpt-realtime"\n')
    write(project / "presets" / "b.toml", 'model = "gpt-realtime"\n')
    code, _, err = run("presets/a.toml", "presets/b.toml")
    assert code == 2
    assert "several PRESETs need --in-place (or --check)" in err
    code, _, err = run("presets/a.toml", "presets/b.toml", "-o", "x.toml")
    assert code == 2
    assert "-o/--output takes one PRESET and no --in-place" in err
    code, _, _ = run()
    assert code == 2


def test_cli_unsupported_field_fails_and_writes_nothing(project: Path) -> None:
    good = write(project / "presets" / "a.toml", 'model = "gpt-realtime"\n')
    write(project / "presets" / "b.toml", "temperature = 0.8\n")
    code, out, err = run("--in-place", "presets/a.toml", "presets/b.toml")
    assert code == 1
    assert out == ""
    assert err == (
        "presets/b.toml:1:1: error: temperature: the GA API has no temperature, so it cannot be migrated\n"
        "realtime-config: hint: remove those fields, or pass --drop-unsupported to leave them out\n"
    )
    assert good.read_text(encoding="utf-8") == 'model = "gpt-realtime"\n'


def test_cli_prints_one_preset_to_stdout(project: Path) -> None:
    write(project / "presets" / "a.toml", '# the model\nmodel = "gpt-realtime"\n')
    code, out, err = run("presets/a.toml")
    assert (code, err) == (0, "")
    assert (
        out
        == '# the model\ntype = "realtime"\noutput_modalities = ["audio"]\nmodel = "gpt-realtime"\n'
    )


def test_cli_in_place_then_check(project: Path) -> None:
    folder = project / "presets"
    shutil.copytree(BETA / "instructions", folder / "instructions", dirs_exist_ok=True)
    for path in BETA.glob("*.toml"):
        if not path.name.startswith("design-"):
            write(folder / path.name, path.read_text(encoding="utf-8"))
    names = sorted(p.name for p in folder.glob("*.toml"))
    args = [f"presets/{name}" for name in names]
    # Without --drop-unsupported the check fails at each temperature, and only there.
    code, out, err = run("--check", *args)
    assert (code, out) == (1, "")
    assert [line.split(": ", 2)[2] for line in err.splitlines()] == [
        "temperature: the GA API has no temperature, so it cannot be migrated",
        "temperature: the GA API has no temperature, so it cannot be migrated",
        "temperature: the GA API has no temperature, so it cannot be migrated",
        "remove those fields, or pass --drop-unsupported to leave them out",
    ]
    # A file that extends a GA root changes nothing of its own: it inherits the type.
    changed = [n for n in names if (GA / n).read_bytes() != (folder / n).read_bytes()]
    assert changed == [n for n in names if n != "phone-support-forced-lookup.toml"]
    code, out, _ = run("--check", "--drop-unsupported", *args)
    assert code == 1
    assert out == "".join(f"would migrate presets/{name}\n" for name in changed)
    code, out, _ = run("--in-place", "--drop-unsupported", *args)
    assert code == 0
    assert out == "".join(f"rewrote presets/{name}\n" for name in changed)
    for name in names:
        assert (folder / name).read_text(encoding="utf-8") == (GA / name).read_text(
            encoding="utf-8"
        )
    code, out, _ = run("--check", *args)
    assert (code, out) == (0, "every preset is already GA\n")


def test_cli_output_never_overwrites_a_preset_being_migrated(project: Path) -> None:
    write(project / "presets" / "a.toml", 'model = "gpt-realtime"\n')
    code, out, err = run("presets/a.toml", "-o", "presets/a.toml")
    assert (code, out) == (1, "")
    assert err == (
        "realtime-config: error: presets/a.toml: is the preset itself; refusing to overwrite it\n"
    )
    assert (project / "presets" / "a.toml").read_text(encoding="utf-8") == (
        'model = "gpt-realtime"\n'
    )


def test_golden_inputs_are_the_repository_beta_presets() -> None:
    # The golden inputs are copies of tests/cases/beta and presets/phone-support.toml, in
    # one folder (so an extends path is written relative to it).
    for path in beta_presets():
        golden = (BETA / path.name).read_text(encoding="utf-8")
        text = path.read_text(encoding="utf-8")
        assert golden == text.replace("../../../presets/phone-support.toml", "phone-support.toml")


def test_cli_output_file(project: Path) -> None:
    write(project / "presets" / "a.toml", 'model = "gpt-realtime"\n')
    code, _, _ = run("presets/a.toml", "-o", "ga.toml")
    assert code == 0
    assert re.match(r'type = "realtime"\n', (project / "ga.toml").read_text(encoding="utf-8"))
