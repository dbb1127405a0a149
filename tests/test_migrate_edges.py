"""`realtime-config migrate` on the layouts the golden files do not show.

The file's opening lines (the ``#:schema`` directive, a header paragraph) stay first even
when the first key moves to another table; dotted keys and inline tables move as they are
written; a preset that does not load, a GA preset among beta ones and the other presets of
the project (one that cannot be parsed, an extends list with a stray item) are each
handled with the exact message a user sees.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from realtime_config.cli import main
from tests.conftest import write

SCHEMA = "#:schema ../schema/realtime-session.schema.json\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def migrated(project: Path, text: str) -> str:
    write(project / "p.toml", text)
    code, out, err = run("migrate", "p.toml")
    assert (code, err) == (0, ""), err
    return out


# --- the file's opening lines stay first ----------------------------------------------------


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


# --- keys move as they are written ----------------------------------------------------------


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


def test_temperature_in_a_file_with_an_inline_client_secret(project: Path) -> None:
    write(
        project / "p.toml",
        "client_secret = { expires_after = { seconds = 30 } }\ntemperature = 0.7\n",
    )
    assert run("migrate", "p.toml") == (
        1,
        "",
        "p.toml:2:1: error: temperature: the GA API has no temperature, so it cannot be migrated\n"
        "realtime-config: hint: remove those fields, or pass --drop-unsupported to leave them out\n",
    )
    assert run("migrate", "--drop-unsupported", "p.toml") == (
        0,
        'expires_after = { seconds = 30 }\ntype = "realtime"\noutput_modalities = ["audio"]\n',
        "p.toml:2:1: warning: temperature dropped: the GA API has no temperature\n",
    )


# --- several presets, and the rest of the project --------------------------------------------


def test_a_preset_that_does_not_load_is_reported_and_nothing_is_written(project: Path) -> None:
    write(project / "good.toml", 'voice = "ash"\n')
    write(project / "bad.toml", "voice = 3\n")
    assert run("migrate", "--in-place", "good.toml", "bad.toml") == (
        1,
        "",
        "bad.toml:1:9: error: voice: expected a string, found an integer\n",
    )
    assert (project / "good.toml").read_text(encoding="utf-8") == 'voice = "ash"\n'


def test_a_ga_preset_among_beta_ones_is_left_as_it_is(project: Path) -> None:
    ga = write(project / "ga.toml", 'type = "realtime"\nmodel = "gpt-realtime-1.5"\n')
    write(project / "beta.toml", 'voice = "ash"\n')
    assert run("migrate", "--check", "ga.toml", "beta.toml") == (
        1,
        "would migrate beta.toml\n",
        "",
    )
    assert run("migrate", "--in-place", "ga.toml", "beta.toml") == (0, "rewrote beta.toml\n", "")
    assert ga.read_text(encoding="utf-8") == 'type = "realtime"\nmodel = "gpt-realtime-1.5"\n'
    assert run("migrate", "--check", "ga.toml", "beta.toml") == (
        0,
        "every preset is already GA\n",
        "",
    )


def test_a_project_preset_that_cannot_be_parsed_does_not_stop_a_migration(project: Path) -> None:
    """It is read through the loader, and what stops it being read is a warning there."""
    write(project / "presets" / "broken.toml", "voice = [\n")
    write(project / "presets" / "beta.toml", 'voice = "ash"\n')
    assert run("migrate", "--check", "presets/beta.toml") == (
        1,
        "would migrate presets/beta.toml\n",
        "presets/broken.toml:2:1: warning: invalid TOML: invalid value; whether it extends a "
        "migrated preset is unknown\n",
    )


def test_a_child_is_found_past_a_stray_item_of_its_extends_list(project: Path) -> None:
    write(project / "presets" / "beta.toml", 'voice = "ash"\n')
    write(project / "presets" / "child.toml", 'preset.extends = [1, "beta.toml"]\n')
    assert run("migrate", "--check", "presets/beta.toml") == (
        1,
        "",
        "presets/child.toml:1:22: error: preset.extends: presets/beta.toml is migrated to GA, "
        "but this preset, which extends it, is left behind\n",
    )
