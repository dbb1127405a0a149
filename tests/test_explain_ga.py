"""`realtime-config explain` of GA fields: the sessions a field is in, and its beta name.

A GA field's explanation adds two rows a beta one lacks: ``in`` (realtime sessions,
transcription sessions or both) and ``beta name``, read backwards from the beta fields'
``x-ga`` mapping, down into a mapped table or array of tables (``tools[].name``), or saying
why there is none.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from realtime_config.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "100"}).invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


NO_BETA_FIELD = (
    "  beta name:   none: the beta API has no such field (targets sessions and beta.session.update refuse\n"
    "               it)\n"
)

EXPLAINED = {
    # A key always sent inside its table: the emission line names the table.
    "expires_after.anchor": """\
expires_after.anchor
  in:          realtime, transcription and translation sessions (GA presets)
  type:        string
  allowed:     only "created_at"
  default:     "created_at"
  emission:    always sent inside expires_after; "created_at" when not set
  beta name:   client_secret.expires_after.anchor

The anchor point for the client secret expiration, meaning that `seconds` will be added to the
`created_at` time of the client secret to produce an expiration timestamp. Only `created_at` is
currently supported.
""",
    # Only one model takes it, and beta never had it.
    "audio.input.transcription.delay": f"""\
audio.input.transcription.delay
  in:          realtime and transcription sessions (GA presets)
  type:        string
  allowed:     "minimal", "low", "medium", "high" or "xhigh"
  emission:    sent when set, omitted when absent
{NO_BETA_FIELD}\
  needs:       model "gpt-realtime-whisper"

Controls how long the model waits before emitting transcription text. Higher values can improve
transcription accuracy at the cost of latency. Only supported with `gpt-realtime-whisper` in GA
Realtime sessions.
""",
    # The dialect's own key: a beta preset is the one without it.
    "type": """\
type
  in:          realtime, transcription and translation sessions (GA presets)
  type:        string
  allowed:     "realtime", "transcription" or "translation"
  emission:    sent when set, omitted when absent
  beta name:   none: a beta preset has no type

The kind of session, and the dialect of the preset: realtime (speech to speech), transcription, or
translation (a translation session: its own branch). A preset with a top-level type is a GA preset;
a child of a GA base inherits it.
""",
    # Inside a mapped field (turn_detection): the beta name is found below the mapping.
    "audio.input.turn_detection.threshold": """\
audio.input.turn_detection.threshold
  in:          realtime and transcription sessions (GA presets)
  type:        number (integer or float)
  allowed:     0.0 to 1.0
  default:     0.5
  emission:    sent when set, omitted when absent
  beta name:   turn_detection.threshold

Used only for `server_vad` mode. Activation threshold for VAD (0.0 to 1.0), this defaults to 0.5. A
higher threshold will require louder audio to activate the model, and thus might perform better in
noisy environments.
""",
    # Through an array of tables: beta's name keeps the [] of its path.
    "tools[].name": """\
tools[].name
  in:          realtime sessions (GA presets)
  type:        string
  allowed:     not empty
  emission:    sent when set, omitted when absent
  beta name:   tools[].name

The name of the function.
""",
    # A key of a GA-only kind of tool (MCP), required there: beta's tools have no such key.
    "tools[].server_label": f"""\
tools[].server_label
  in:          realtime sessions (GA presets)
  type:        string
  required:    yes
  allowed:     not empty
  emission:    sent when set, omitted when absent
{NO_BETA_FIELD}
A label for this MCP server, used to identify it in tool calls.
""",
    # The preset's own settings are never sent, so no beta name is looked for.
    "preset.description": """\
preset.description
  in:          realtime, transcription and translation sessions (GA presets)
  type:        string
  emission:    never sent: a setting of the preset itself, not of the session

Free text describing the preset, for humans.
""",
}


@pytest.mark.parametrize("field", list(EXPLAINED))
def test_a_ga_field_says_where_it_is_and_its_beta_name(field: str) -> None:
    assert run("explain", field) == (0, EXPLAINED[field], "")


def test_the_realtime_dialect_is_the_default() -> None:
    assert run("explain", "--dialect", "realtime", "tools[].name") == run("explain", "tools.name")


def test_a_realtime_field_is_unknown_to_transcription_sessions() -> None:
    # A transcription session has no model of its own: only its transcription's.
    assert run("explain", "--dialect", "transcription", "model") == (
        1,
        "",
        "realtime-config: error: unknown field `model`; did you mean "
        "`audio.input.transcription.model`?\n",
    )
