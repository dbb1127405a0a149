"""`realtime-config explain` and ``explain_field``: every field's type, values, default and
emission rule, from the schema.

A GA field's explanation adds two rows a beta one lacks: ``in`` (realtime sessions,
transcription sessions or both) and ``beta name``, read backwards from the beta fields'
``x-ga`` mapping, down into a mapped table or array of tables (``tools[].name``), or saying
why there is none. ``explain_field`` returns the same facts as a record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config import FieldFacts, UnknownFieldError, explain_field, load_schema

# The schema is walked here independently of the code under test, through its $refs.
from realtime_config._schema import resolve

# The field list of a dialect with each field's schema node: explain_field describes one
# field, and the table of every field is the command's text only.
from realtime_config.authoring._explain import fields
from realtime_config.cli import main


def run(*args: str, columns: int = 100) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def explained(field: str, columns: int = 100) -> str:
    """What ``realtime-config explain --dialect beta FIELD`` prints on a terminal that wide."""
    code, out, err = run("explain", "--dialect", "beta", field, columns=columns)
    assert (code, err) == (0, ""), err
    return out


def emission_rule(field: str) -> str:
    """The emission line of a beta field's explanation."""
    lines = explained(field).splitlines()
    [start] = [i for i, line in enumerate(lines) if line.startswith("  emission:")]
    wrapped = [lines[start]]
    for line in lines[start + 1 :]:  # the row's own continuation lines, if it wraps
        if not line.startswith(" " * 15):
            break
        wrapped.append(line)
    return " ".join(line.removeprefix("  emission:").strip() for line in wrapped)


def schema_paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every field path of the schema, walked here independently of the code under test."""
    node = resolve(node)
    for branch in [node, *(resolve(b) for b in node.get("anyOf", ()))]:
        if branch.get("x-verbatim"):
            continue
        if branch.get("type") == "array" and "properties" in resolve(branch.get("items", {})):
            yield from schema_paths(branch["items"], prefix + "[]")
        for key, child in branch.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from schema_paths(child, path)


THRESHOLD = """\
turn_detection.threshold
  type:        number (integer or float)
  allowed:     0.0 to 1.0
  default:     0.5
  emission:    sent when set, omitted when absent
  applies to:  turn_detection.type = "server_vad" only

server_vad only: activation threshold; higher needs louder audio, which suits noisy rooms.
"""

INPUT_AUDIO_FORMAT = """\
input_audio_format
  type:        string
  allowed:     "pcm16", "g711_ulaw" or "g711_alaw"
  default:     "pcm16"
  emission:    omitted when absent or equal to the default "pcm16"; an update sends it as written
  GA body:     session.audio.input.format (target client_secrets); "pcm16" as
               { type = "audio/pcm", rate = 24000 }, "g711_ulaw" as { type = "audio/pcmu" },
               "g711_alaw" as { type = "audio/pcma" }

Format of the input audio: pcm16 (16-bit PCM, 24 kHz, mono, little-endian), g711_ulaw or g711_alaw.
Not sent when pcm16, the server default.
"""

VOICE = """\
voice
  type:        string
  allowed:     any string; known voices: "alloy", "ash", "ballad", "coral", "echo", "sage",
               "shimmer", "verse", "marin", "cedar"
  default:     "alloy"
  emission:    sent when set, omitted when absent
  GA body:     session.audio.output.voice (target client_secrets)
  needs:       modalities to include "audio"; no effect otherwise

The voice the model speaks with. Cannot be changed once the model has responded with audio.
"""

TURN_DETECTION = """\
turn_detection
  type:        table, or false to switch off
  default:     { type = "server_vad" }
  emission:    sent when set, omitted when absent; false is sent as null
  GA body:     session.audio.input.turn_detection (target client_secrets)
  keys:        type, threshold, prefix_padding_ms, silence_duration_ms, eagerness, create_response,
               interrupt_response (in the order sent)

Voice activity detection. Server VAD by default; false switches it off (sent as null), so the client
must trigger responses.
"""


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("turn_detection.threshold", THRESHOLD),
        ("input_audio_format", INPUT_AUDIO_FORMAT),
        ("voice", VOICE),
        ("turn_detection", TURN_DETECTION),
    ],
)
def test_explain_a_field_prints_everything_the_schema_says(field: str, expected: str) -> None:
    assert run("explain", "--dialect", "beta", field) == (0, expected, "")


def test_explain_tools_name_in_every_spelling() -> None:
    expected = """\
tools[].name
  type:        string
  required:    yes
  allowed:     not empty
  emission:    sent when set, omitted when absent

The function's name, as the model will call it.
"""
    for spelling in ("tools[].name", "tools.name", "tools[0].name", " tools[3].name "):
        assert run("explain", "--dialect", "beta", spelling) == (0, expected, ""), spelling


def test_explain_emission_rules_in_plain_words() -> None:
    assert emission_rule("turn_detection.type") == (
        'always sent inside turn_detection; "server_vad" when not set'
    )
    assert emission_rule("modalities") == (
        'always sent; ["audio", "text"] when not set; an update sends it as written'
    )
    assert emission_rule("output_audio_format") == (
        'omitted when absent or equal to the default "pcm16"; an update sends it as written'
    )
    assert emission_rule("tracing") == ("sent when set, omitted when absent; false is sent as null")
    assert emission_rule("tools.parameters") == (
        "sent when set, omitted when absent; copied exactly as written, key order kept"
    )
    assert emission_rule("client_secret") == (
        "sent only when a key inside it is set; only when a session is created, never in an "
        "update event"
    )
    assert emission_rule("preset.extends") == (
        "never sent: a setting of the preset itself, not of the session"
    )


def test_explain_types_in_toml_words() -> None:
    def type_line(name: str) -> str:
        return explained(name).splitlines()[1]

    assert type_line("tools") == "  type:        array of tables"
    assert type_line("modalities") == "  type:        array of strings"
    assert type_line("tracing") == '  type:        "auto", table, or false to switch off'
    assert type_line("max_response_output_tokens") == '  type:        integer or "inf"'
    assert type_line("preset.extends") == "  type:        string or array of strings"
    assert type_line("turn_detection.create_response") == "  type:        boolean"
    assert type_line("client_secret.expires_after.seconds") == "  type:        integer"


def test_unknown_field_is_exit_1_with_a_suggestion() -> None:
    assert run("explain", "--dialect", "beta", "turn_detection.treshold") == (
        1,
        "",
        "realtime-config: error: unknown field `turn_detection.treshold`; "
        "did you mean `turn_detection.threshold`?\n",
    )
    assert run("explain", "--dialect", "beta", "tools.nmae") == (
        1,
        "",
        "realtime-config: error: unknown field `tools.nmae`; did you mean `tools[].name`?\n",
    )
    assert run("explain", "--dialect", "beta", "threshold") == (
        1,
        "",
        "realtime-config: error: unknown field `threshold`; "
        "did you mean `turn_detection.threshold`?\n",
    )
    assert run("explain", "--dialect", "beta", "zzzz") == (
        1,
        "",
        "realtime-config: error: unknown field `zzzz`\n",
    )


def test_unknown_field_error_carries_the_suggestion() -> None:
    with pytest.raises(UnknownFieldError) as caught:
        explain_field("temprature", dialect="beta")
    assert (caught.value.name, caught.value.suggestion) == ("temprature", "temperature")


def test_the_fields_are_exactly_those_of_the_schema() -> None:
    listed = [field.path for field in fields("beta")]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(schema_paths(load_schema()["$defs"]["beta"]))
    assert {
        "turn_detection.threshold",
        "tools[].name",
        "client_secret.expires_after.seconds",
        "preset.extends",
    } <= set(listed)


def test_table_lists_every_field_with_type_default_and_summary() -> None:
    code, out, err = run("explain", "--dialect", "beta")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "FIELD                                TYPE                DEFAULT"
    rows = [line for line in lines[1:] if not line.startswith(" ")]
    assert [row.split()[0] for row in rows] == [field.path for field in fields("beta")]
    threshold = "turn_detection.threshold             number              0.5"
    assert lines[lines.index(threshold) + 1] == (
        "    server_vad only: activation threshold; higher needs louder audio, which suits noisy rooms."
    )
    assert {
        'turn_detection                       table/false         { type = "server_vad" }',
        "tools[].name                         string",
        'max_response_output_tokens           integer/"inf"       "inf"',
        'tracing                              "auto"/table/false  false',
    } <= set(rows)
    assert max(len(row) for row in rows) <= 80


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_table_and_explanations_fit_the_terminal(columns: int) -> None:
    code, out, _ = run("explain", "--dialect", "beta", columns=columns)
    assert code == 0
    summaries = [line for line in out.splitlines() if line.startswith(" ")]
    assert summaries
    assert all(len(line) <= columns for line in summaries)
    for field in fields("beta"):
        text = explained(field.path, columns)
        assert text.startswith(field.path + "\n")
        assert all(len(line) <= columns for line in text.splitlines()[1:]), text


def test_the_table_is_as_wide_as_the_terminal_allows() -> None:
    widest = run("explain", "--dialect", "beta", columns=100)
    narrowest = run("explain", "--dialect", "beta", columns=60)
    assert widest[0] == narrowest[0] == 0
    assert widest[1] != narrowest[1]
    assert run("explain", "--dialect", "beta", columns=300) == widest
    assert run("explain", "--dialect", "beta", columns=20) == narrowest


def test_every_explanation_reflects_its_schema_node() -> None:
    for field in fields("beta"):
        text = explained(field.path)
        node = field.schema
        description = " ".join(node.get("description", "").split())
        assert description in " ".join(text.split()), field.path
        assert ("  default:" in text) == ("default" in node), field.path
        if node.get("x-emit") == "always":
            assert "always sent" in text, field.path
        if node.get("x-null-when-false"):
            assert "false is sent as null" in text, field.path
        if "x-applies-to" in node:
            assert f'= "{node["x-applies-to"]}" only' in text, field.path


# --- GA fields: the sessions a field is in, and its beta name -------------------------------


NO_BETA_FIELD = (
    "  beta name:   none: the beta API has no such field (targets sessions and beta.session.update refuse\n"
    "               it)\n"
)

EXPLAINED_GA = {
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


@pytest.mark.parametrize("field", list(EXPLAINED_GA))
def test_a_ga_field_says_where_it_is_and_its_beta_name(field: str) -> None:
    assert run("explain", field) == (0, EXPLAINED_GA[field], "")


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


# --- The record: explain_field ---------------------------------------------------------------


def test_explain_field_returns_the_facts_the_command_prints() -> None:
    facts = explain_field("tools[].server_label")
    assert isinstance(facts, FieldFacts)
    assert (facts.path, facts.dialect, facts.required) == ("tools[].server_label", "realtime", True)
    assert facts.facts == (
        ("in", "realtime sessions (GA presets)"),
        ("type", "string"),
        ("required", "yes"),
        ("allowed", "not empty"),
        ("emission", "sent when set, omitted when absent"),
        (
            "beta name",
            "none: the beta API has no such field (targets sessions and beta.session.update "
            "refuse it)",
        ),
    )
    assert facts.description == "A label for this MCP server, used to identify it in tool calls."
    assert str(facts) == EXPLAINED_GA["tools[].server_label"]


@pytest.mark.parametrize("columns", [60, 100])
def test_explain_field_lays_its_text_out_for_a_width(columns: int) -> None:
    facts = explain_field("input_audio_format", dialect="beta")
    assert facts.dialect == "beta"
    assert facts.text(columns) == explained("input_audio_format", columns)
    assert explain_field("input_audio_format", dialect="beta").text(columns) == (
        explained("input_audio_format", columns)
    )
    # A mapping's value stays whole on one line when laid out, but the facts are plain text.
    assert dict(facts.facts)["GA body"].count("\u00a0") == 0
