"""import: a JSON request body, session object or session event back into a TOML preset."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from realtime_config import (
    TARGETS,
    ImportedPreset,
    PresetError,
    compile_preset,
    dumps_payload,
    import_payload,
    load_preset,
    load_schema,
)

# Which fields a server echoes as null comes from the schema's internals: no public name says.
from realtime_config._schema import switchable_paths

# The TOML writer's escaping is checked for any text; import writes it for instructions only.
from realtime_config._toml_write import MULTILINE_AFTER, toml_multiline

# JSON text located in its file (line and column of each problem): the public import_payload
# takes parsed data, which has no positions, and the command prints only text.
from realtime_config.authoring._importer import import_json
from realtime_config.cli import main
from tests.conftest import (
    PROJECT,
    beta_presets,
    ga_presets,
    preset_name,
    shipped_presets,
    write,
)
from tests.strategies import WHISPER, ga_session_tables, session_tables

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SCHEMA_ID = load_schema()["$id"]
LAW = settings(max_examples=200, deadline=None)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def recompile(text: str, folder: Path, target: str = "sessions") -> str:
    """Load preset text through the real loader and compile it for ``target``."""
    path = write(folder / "imported.toml", text)
    return dumps_payload(compile_preset(load_preset(path, root=folder), target))


def bodies(preset: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every target's body for a preset (or table): all five, but those that refuse a
    transcription session as a whole; fields a target lacks are left out."""
    found = []
    for name in TARGETS:
        try:
            found.append((name, compile_preset(preset, name, drop_unsupported=True)))
        except PresetError as error:
            assert [d.rule for d in error.diagnostics] == ["target-refused"]
            assert error.diagnostics[0].key == "type"
    return found


def assert_law(preset: Any, folder: Path) -> None:
    """compile(import(compile(p, t)), t) == compile(p, t), byte for byte, for every t."""
    found = bodies(preset)
    assert len(found) >= 2
    for name, body in found:
        imported = import_payload(body)
        assert imported.dropped == ()
        speaks = "beta" if TARGETS[name].speaks == "beta" else "ga"
        assert (imported.dialect == "beta") == (speaks == "beta")
        assert recompile(imported.text, folder, name) == dumps_payload(body), name


# --- The round-trip law: compile(import(compile(p, t)), t) == compile(p, t) ------------------

EVERY_PRESET = sorted(set(shipped_presets()) | set(beta_presets()))


@pytest.mark.parametrize("path", EVERY_PRESET, ids=preset_name)
def test_law_holds_for_every_preset_and_target(path: Path, tmp_path: Path) -> None:
    assert_law(load_preset(path, root=PROJECT), tmp_path)


@LAW
@given(table=session_tables() | ga_session_tables())
def test_law_holds_for_generated_presets_of_both_dialects(
    table: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Known gap, outside import: a beta preset may pair the gpt-realtime-whisper
    # transcription model with a prompt, which its GA body cannot (the GA checks refuse
    # that body); such a preset has no GA body to import.
    transcription = table.get("input_audio_transcription")
    assume(
        not isinstance(transcription, dict)
        or transcription.get("model") != WHISPER
        or "prompt" not in transcription
    )
    assert_law(table, tmp_path_factory.mktemp("law"))


@LAW
@given(table=session_tables())
def test_law_holds_for_payloads_compiled_from_generated_presets(
    table: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    payload = compile_preset(table, "sessions")
    imported = import_payload(payload)
    assert imported.dropped == ()
    assert recompile(imported.text, tmp_path_factory.mktemp("law")) == dumps_payload(payload)


# --- The echo law: a response or event imports to the session the server echoed -------------

READ_ONLY = {"object": "realtime.session", "id": "sess_C9CiUVUzUzYIssh3ELY1d", "expires_at": 0}
SECRET = {"value": "ek_68af296e8e408191a1120ab6383263c2", "expires_at": 1756310470}


def server_echo(session: dict[str, Any]) -> dict[str, Any]:
    """``session`` as a server echoes it: read-only keys, and null on every optional field
    a server fills in (switchable ones, and ``include``, ``tool_choice.name``, MCP keys)."""
    echo = copy.deepcopy(session)
    kind = echo["type"]
    object_name = "realtime.session" if kind == "realtime" else "realtime.transcription_session"
    echo = {"type": kind, **READ_ONLY, "object": object_name, **echo}
    echo.setdefault("include", None)
    audio_input = echo.setdefault("audio", {}).setdefault("input", {})
    for key in ("transcription", "noise_reduction"):
        audio_input.setdefault(key, None)
    detection = audio_input.get("turn_detection")
    if isinstance(detection, dict) and detection.get("type") == "server_vad":
        detection.setdefault("idle_timeout_ms", None)
    if kind == "realtime":
        echo.setdefault("tracing", None)
        echo.setdefault("prompt", None)
        if isinstance(echo.get("prompt"), dict):
            echo["prompt"].setdefault("version", None)
        choice = echo.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "mcp":
            choice.setdefault("name", None)
        for tool in echo.get("tools", []):
            if tool.get("type") == "mcp":
                for key in ("headers", "allowed_tools", "require_approval"):
                    tool.setdefault(key, None)
    return echo


SWITCHABLE = set(switchable_paths("realtime")) | set(switchable_paths("transcription"))


def without_unset(value: Any, path: tuple[str, ...] = ()) -> Any:
    """What import keeps of an echo: no read-only keys, and no null but the switchable ones
    (which import reads as false, and session.update sends as null again)."""
    if isinstance(value, dict):
        return {
            k: without_unset(v, (*path, k))
            for k, v in value.items()
            if not (not path and k in READ_ONLY) and (v is not None or (*path, k) in SWITCHABLE)
        }
    if isinstance(value, list):
        return [without_unset(v, path) for v in value]
    return value


def assert_echo_law(session: dict[str, Any], folder: Path) -> None:
    echo = server_echo(session)
    wrappers = [
        ({**SECRET, "session": echo}, ("value", "expires_at")),
        ({"type": "session.created", "event_id": "event_C9G5", "session": echo}, ("event_id",)),
        ({"type": "session.updated", "event_id": "event_C9G6", "session": echo}, ("event_id",)),
    ]
    for payload, outside in wrappers:
        imported = import_payload(payload)
        assert imported.dropped == (*outside, "session.object", "session.id", "session.expires_at")
        assert "ek_" not in imported.text
        path = write(folder / "echo.toml", imported.text)
        compiled = compile_preset(load_preset(path, root=folder), "session.update")
        assert compiled["session"] == without_unset(echo)


@LAW
@given(table=ga_session_tables())
def test_a_response_or_event_imports_to_the_session_the_server_echoed(
    table: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    session = compile_preset(table, "session.update")["session"]
    assert_echo_law(session, tmp_path_factory.mktemp("echo"))


@pytest.mark.parametrize(
    # translation sessions are echoed with their own request's keys: tests/test_translation.py
    "path",
    [p for p in ga_presets() if load_preset(p).dialect != "translation"],
    ids=preset_name,
)
def test_the_echo_law_holds_for_every_shipped_ga_preset(path: Path, tmp_path: Path) -> None:
    session = compile_preset(load_preset(path, root=PROJECT), "session.update")["session"]
    assert_echo_law(session, tmp_path)


@settings(max_examples=100, deadline=None)
@given(table=session_tables())
def test_any_valid_session_table_imports_to_the_same_table(table: dict[str, Any]) -> None:
    # Tables hold what compile never sends (pcm16, false), so this is wider than the law.
    imported = import_payload(table)
    assert tomllib.loads(imported.text) == table
    assert dumps_payload(compile_preset(tomllib.loads(imported.text))) == dumps_payload(
        compile_preset(table)
    )


@settings(max_examples=100, deadline=None)
@given(table=session_tables(), secret=st.booleans())
def test_a_session_event_imports_like_its_session(table: dict[str, Any], secret: bool) -> None:
    payload = compile_preset(table, "sessions")
    session: dict[str, Any] = {"id": "sess_001", "object": "realtime.session", **payload}
    dropped: tuple[str, ...] = ("event_id", "session.id", "session.object")
    if secret:
        requested = payload.get("client_secret", {})
        secret_keys = {"value": "ek_abc", "expires_at": 1_700_000_000}
        session["client_secret"] = {**secret_keys, **requested}
        dropped += (
            ("session.client_secret.value", "session.client_secret.expires_at")
            if requested
            else ("session.client_secret",)
        )
    event = {"type": "session.created", "event_id": "event_1", "session": session}
    imported = import_payload(event)
    assert imported.text == import_payload(payload).text
    assert imported.dropped == dropped


def test_import_leaves_its_input_untouched() -> None:
    payload = {"turn_detection": None, "tools": [{"name": "f", "parameters": {"type": "object"}}]}
    before = copy.deepcopy(payload)
    import_payload(payload)
    assert payload == before


# --- Layout ----------------------------------------------------------------------------------

DESIGN_EXAMPLE_PRESET = f"""\
#:schema {SCHEMA_ID}
model = "gpt-realtime"
modalities = ["audio", "text"]
instructions = "You are Ada, a concise support agent for Acme Rail."
voice = "marin"
output_audio_format = "g711_ulaw"
temperature = 0.7
max_response_output_tokens = "inf"
speed = 1.1

[input_audio_transcription]
model = "gpt-4o-transcribe"
language = "en"

[input_audio_noise_reduction]
type = "near_field"

[turn_detection]
type = "server_vad"
threshold = 0.6
silence_duration_ms = 400

[[tools]]
type = "function"
name = "lookup_booking"
description = "Find a booking by its reference."

[tools.parameters]
type = "object"
required = ["reference"]
properties.reference = {{ type = "string", description = "Six-letter booking reference" }}

[tool_choice]
type = "function"
name = "lookup_booking"

[tracing]
workflow_name = "support"
metadata = {{ team = "rail" }}

[client_secret.expires_after]
anchor = "created_at"
seconds = 900
"""


def test_cli_prints_the_design_example_as_a_readable_preset(project: Path) -> None:
    example = PROJECT / "tests" / "cases" / "design" / "full-example.toml"
    payload = compile_preset(load_preset(example, root=PROJECT), "sessions")
    write(project / "payload.json", dumps_payload(payload))
    # DESIGN's example names models that shut down in 2027: import says so, as validate does.
    assert run("import", "payload.json") == (
        0,
        DESIGN_EXAMPLE_PRESET,
        "payload.json:2:12: warning: model `gpt-realtime` is deprecated and shuts down on "
        "2027-01-20; use `gpt-realtime-2.1`\n"
        "payload.json:11:14: warning: input_audio_transcription.model `gpt-4o-transcribe` is "
        "deprecated and shuts down on 2027-02-26; use `gpt-transcribe`\n",
    )


def test_verbatim_tables_keep_their_key_order_when_a_table_comes_before_a_scalar(
    tmp_path: Path,
) -> None:
    # tomli-w alone would write `required` before the [properties] table and reorder it.
    parameters = {
        "type": "object",
        "properties": {
            "reference": {"type": "string", "description": "x" * 90},
            "when": {"type": "string"},
        },
        "required": ["reference"],
    }
    payload = {
        "modalities": ["audio", "text"],
        "tools": [{"type": "function", "name": "lookup", "parameters": parameters}],
    }
    imported = import_payload(payload)
    assert imported.text == (
        f"#:schema {SCHEMA_ID}\n"
        'modalities = ["audio", "text"]\n'
        "\n"
        "[[tools]]\n"
        'type = "function"\n'
        'name = "lookup"\n'
        "\n"
        "[tools.parameters]\n"
        'type = "object"\n'
        'properties.reference.type = "string"\n'
        f'properties.reference.description = "{"x" * 90}"\n'
        'properties.when = { type = "string" }\n'
        'required = ["reference"]\n'
    )
    assert recompile(imported.text, tmp_path) == dumps_payload(payload)


def test_long_arrays_are_written_one_item_per_line() -> None:
    values = [f"value-number-{i}" for i in range(8)]
    payload = {"tools": [{"name": "f", "parameters": {"enum": values}}]}
    text = import_payload(payload).text
    assert "\nenum = [\n" + "".join(f'    "{v}",\n' for v in values) + "]\n" in text
    assert tomllib.loads(text)["tools"][0]["parameters"]["enum"] == values


def test_the_four_nullable_fields_turn_null_into_false(tmp_path: Path) -> None:
    payload = {
        "modalities": ["text"],
        "input_audio_transcription": None,
        "input_audio_noise_reduction": None,
        "turn_detection": None,
        "tracing": None,
    }
    imported = import_payload(payload)
    assert imported.text == (
        f"#:schema {SCHEMA_ID}\n"
        'modalities = ["text"]\n'
        "input_audio_transcription = false\n"
        "input_audio_noise_reduction = false\n"
        "turn_detection = false\n"
        "tracing = false\n"
    )
    assert recompile(imported.text, tmp_path) == dumps_payload(payload)


def test_an_empty_payload_gives_a_preset_with_only_the_header() -> None:
    assert import_payload({}).text == f"#:schema {SCHEMA_ID}\n"


# --- Multi-line instructions -----------------------------------------------------------------

TRICKY_INSTRUCTIONS = [
    pytest.param("Line one\nLine two", id="newline"),
    pytest.param("Ends with newlines\n\n", id="trailing-newlines"),
    pytest.param("\nStarts with a newline", id="leading-newline"),
    pytest.param("Windows\r\nline\r\nends\r\n", id="crlf"),
    pytest.param("A lone\rcarriage return\n", id="lone-cr"),
    pytest.param("Backslash \\ and \\n and a line ending in one\\\nnext", id="backslashes"),
    pytest.param('Say """hello""" and """"" five\n', id="triple-quotes"),
    pytest.param('Ends with a quote"\n"', id="quote-at-end"),
    pytest.param('Ends with two quotes""\n""', id="two-quotes-at-end"),
    pytest.param("Tabs\tinside\n\tand leading\n", id="tabs"),
    pytest.param("Unicode: café, 東京, emoji 🚆, \u2028 separator\n", id="unicode"),
    pytest.param("Control \x00 \x07 \x1b \x7f characters\n", id="control"),
    pytest.param("x" * (MULTILINE_AFTER + 1), id="long-single-line"),
]


@pytest.mark.parametrize("instructions", TRICKY_INSTRUCTIONS)
def test_long_instructions_round_trip_exactly_as_a_multiline_string(
    instructions: str, tmp_path: Path
) -> None:
    payload = {"modalities": ["audio", "text"], "instructions": instructions}
    imported = import_payload(payload)
    assert '\ninstructions = """\n' in imported.text
    assert tomllib.loads(imported.text)["instructions"] == instructions
    assert recompile(imported.text, tmp_path) == dumps_payload(payload)


def test_the_multiline_form_escapes_only_what_it_must() -> None:
    text = 'He said """hi"""\\\tbye\r\n'
    assert toml_multiline(text) == '"""\nHe said ""\\"hi""\\"\\\\\tbye\\r\n"""'


def test_short_instructions_and_other_long_strings_stay_on_one_line() -> None:
    short = "x" * MULTILINE_AFTER
    long_description = "d" * 120
    imported = import_payload(
        {"instructions": short, "tools": [{"name": "f", "description": long_description}]}
    )
    assert f'\ninstructions = "{short}"\n' in imported.text
    assert f'\ndescription = "{long_description}"\n' in imported.text


TOML_SPECIAL = st.sampled_from(['"', "\\", "\r", "\n", "\t", " ", "a", "\x00", "\x7f", "é"])


@settings(max_examples=200, deadline=None)
@given(st.text() | st.text(alphabet=TOML_SPECIAL))
def test_any_text_survives_the_multiline_form(text: str) -> None:
    assert tomllib.loads(f"x = {toml_multiline(text)}")["x"] == text


# --- Session objects: read-only keys ---------------------------------------------------------

SPEC_RESPONSE = {
    "id": "sess_001",
    "object": "realtime.session",
    "model": "gpt-realtime-2025-08-28",
    "modalities": ["audio", "text"],
    "instructions": "Be brief.",
    "voice": "alloy",
    "input_audio_format": "pcm16",
    "output_audio_format": "pcm16",
    "input_audio_transcription": {"model": "gpt-live-transcribe"},
    "turn_detection": None,
    "tools": [],
    "tool_choice": "none",
    "temperature": 0.7,
    "max_response_output_tokens": 200,
    "speed": 1.1,
    "tracing": "auto",
    "client_secret": {"value": "ek_abc123", "expires_at": 1234567890},
}


def test_a_response_keeps_its_server_defaults_and_drops_its_read_only_keys() -> None:
    imported = import_payload(SPEC_RESPONSE)
    assert imported.dropped == ("id", "object", "client_secret")
    assert imported.text == (
        f"#:schema {SCHEMA_ID}\n"
        'model = "gpt-realtime-2025-08-28"\n'
        'modalities = ["audio", "text"]\n'
        'instructions = "Be brief."\n'
        'voice = "alloy"\n'
        'input_audio_format = "pcm16"\n'
        'output_audio_format = "pcm16"\n'
        "turn_detection = false\n"
        "tools = []\n"
        'tool_choice = "none"\n'
        "temperature = 0.7\n"
        "max_response_output_tokens = 200\n"
        "speed = 1.1\n"
        'tracing = "auto"\n'
        "\n"
        "[input_audio_transcription]\n"
        'model = "gpt-live-transcribe"\n'
    )


def test_cli_names_the_dropped_keys_of_a_session_created_event(project: Path) -> None:
    session = {"id": "sess_001", "object": "realtime.session", "expires_at": 1700000000}
    session.update({k: v for k, v in SPEC_RESPONSE.items() if k not in session})
    event = {"type": "session.created", "event_id": "event_1", "session": session}
    write(project / "event.json", json.dumps(event, indent=2))
    code, out, err = run("import", "event.json")
    assert (code, err) == (
        0,
        "dropped read-only keys: event_id, session.id, session.object, session.expires_at, "
        "session.client_secret\n"
        "event.json:8:14: warning: model `gpt-realtime-2025-08-28` is deprecated and shuts down "
        "on 2027-01-20; use `gpt-realtime-2.1`\n",
    )
    assert out == import_payload(SPEC_RESPONSE).text


def test_a_client_secret_with_request_settings_keeps_them() -> None:
    payload = {
        "client_secret": {
            "value": "ek_abc",
            "expires_after": {"anchor": "created_at", "seconds": 60},
            "expires_at": 1700000000,
        }
    }
    imported = import_payload(payload)
    assert imported.dropped == ("client_secret.value", "client_secret.expires_at")
    assert imported.table == {
        "client_secret": {"expires_after": {"anchor": "created_at", "seconds": 60}}
    }


def test_a_null_client_secret_is_dropped() -> None:
    imported = import_payload({"voice": "ash", "client_secret": None})
    assert (imported.dropped, imported.table) == (("client_secret",), {"voice": "ash"})


def test_a_request_body_drops_nothing(project: Path) -> None:
    write(project / "body.json", '{"voice": "ash"}')
    assert run("import", "body.json") == (0, f'#:schema {SCHEMA_ID}\nvoice = "ash"\n', "")


def test_a_session_update_event_is_imported_too() -> None:
    event = {"type": "session.update", "session": {"voice": "ash"}}
    assert import_payload(event).table == {"voice": "ash"}


# --- The #:schema header ---------------------------------------------------------------------


def test_the_header_points_at_the_project_schema_relative_to_the_output(project: Path) -> None:
    write(project / "schema" / "realtime-session.schema.json", "{}")
    write(project / "body.json", '{"voice": "ash"}')
    (project / "presets" / "team").mkdir(parents=True)
    for output, reference in [
        ("presets/ash.toml", "../schema/realtime-session.schema.json"),
        ("presets/team/ash.toml", "../../schema/realtime-session.schema.json"),
        ("ash.toml", "schema/realtime-session.schema.json"),
    ]:
        assert run("import", "body.json", "-o", output) == (0, "", "")
        text = (project / output).read_text(encoding="utf-8")
        assert text == f'#:schema {reference}\nvoice = "ash"\n'


def test_the_header_is_the_schema_id_without_a_project_schema_or_on_stdout(
    project: Path,
) -> None:
    write(project / "body.json", '{"voice": "ash"}')
    (project / "presets").mkdir()
    assert run("import", "body.json", "-o", "presets/a.toml") == (0, "", "")
    text = (project / "presets" / "a.toml").read_text(encoding="utf-8")
    assert text == f'#:schema {SCHEMA_ID}\nvoice = "ash"\n'
    write(project / "schema" / "realtime-session.schema.json", "{}")
    assert run("import", "body.json") == (0, f'#:schema {SCHEMA_ID}\nvoice = "ash"\n', "")


# --- Writing ---------------------------------------------------------------------------------


def test_output_is_written_atomically_and_never_over_a_file_without_force(project: Path) -> None:
    write(project / "body.json", '{"voice": "ash"}')
    assert run("import", "body.json", "-o", "out.toml") == (0, "", "")
    assert (project / "out.toml").read_text(encoding="utf-8") == (
        f'#:schema {SCHEMA_ID}\nvoice = "ash"\n'
    )
    write(project / "body.json", '{"voice": "sage"}')
    assert run("import", "body.json", "-o", "out.toml") == (
        1,
        "",
        "realtime-config: error: out.toml: already exists; use --force to overwrite it\n",
    )
    assert 'voice = "ash"' in (project / "out.toml").read_text(encoding="utf-8")
    assert run("import", "body.json", "-o", "out.toml", "--force") == (0, "", "")
    assert 'voice = "sage"' in (project / "out.toml").read_text(encoding="utf-8")
    assert sorted(p.name for p in project.iterdir()) == ["body.json", "out.toml", "pyproject.toml"]


def test_the_payload_itself_is_never_overwritten(project: Path) -> None:
    write(project / "body.json", '{"voice": "ash"}')
    assert run("import", "body.json", "-o", "body.json", "--force") == (
        1,
        "",
        "realtime-config: error: body.json: is the payload itself; refusing to overwrite it\n",
    )


def test_a_missing_output_folder_is_an_error(project: Path) -> None:
    write(project / "body.json", '{"voice": "ash"}')
    assert run("import", "body.json", "-o", "nowhere/out.toml") == (
        1,
        "",
        "realtime-config: error: nowhere/out.toml: cannot write: folder nowhere does not exist\n",
    )


# --- Errors: one located line each, exit status 1 --------------------------------------------

ERRORS = [
    pytest.param(
        '{"voice": "ash",}',
        "p.json:1:17: error: invalid JSON: expecting property name enclosed in double quotes",
        id="syntax",
    ),
    pytest.param(
        "  \n", "p.json:1:1: error: the file is empty; expected a JSON object", id="empty"
    ),
    pytest.param(
        "[1, 2]",
        "p.json:1:1: error: expected a JSON object (a session request body, session object, "
        "response or session event), found an array",
        id="array",
    ),
    pytest.param(
        '\n  "text"',
        "p.json:2:3: error: expected a JSON object (a session request body, session object, "
        "response or session event), found a string",
        id="string",
    ),
    pytest.param(
        '{\n  "temperature": "hot",\n  "speed": 2\n}',
        "p.json:2:18: error: temperature: expected a number, found a string\n"
        "p.json:3:12: error: speed: 2 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)",
        id="types",
    ),
    pytest.param(
        '{"tools": [{"name": ""}]}',
        "p.json:1:21: error: tools[0].name: must not be empty",
        id="empty-name",
    ),
    pytest.param(
        '{"voise": "ash", "turn_detection": {"idle_timeout_ms": null}}',
        "p.json:1:2: error: unknown key `voise`; did you mean `voice`?\n"
        "p.json:1:37: error: unknown key `idle_timeout_ms` in table `turn_detection`\n"
        "realtime-config: hint: for fields newer than this version's schema, pass --drop-unknown "
        "to leave them out",
        id="unknown-keys",
    ),
    pytest.param(
        '{"preset": {"target": "sessions"}}',
        "p.json:1:2: error: unknown key `preset`; not a session field",
        id="preset-table",
    ),
    pytest.param(
        '{"client_secret": {"expires_at": {"seconds": 60}}}',
        "p.json:1:20: error: unknown key `expires_at` in table `client_secret`; "
        "did you mean `expires_after`?\n"
        "realtime-config: hint: for fields newer than this version's schema, pass --drop-unknown "
        "to leave them out",
        id="old-client-secret",
    ),
    pytest.param(
        '{"tools": [{"name": "f", "description": null}], "voice": null}',
        "p.json:1:41: error: tools[0].description: null has no TOML form; only "
        "input_audio_transcription, input_audio_noise_reduction, turn_detection and tracing "
        "may be null (written as false)\n"
        "p.json:1:58: error: voice: null has no TOML form; only input_audio_transcription, "
        "input_audio_noise_reduction, turn_detection and tracing may be null (written as false)",
        id="null",
    ),
    pytest.param(
        '{"tools": [{"name": "f", "parameters": {"default": null}}]}',
        "p.json:1:52: error: tools[0].parameters.default: null has no TOML form; only "
        "input_audio_transcription, input_audio_noise_reduction, turn_detection and tracing "
        "may be null (written as false)",
        id="null-in-verbatim",
    ),
    pytest.param(
        '{"voice": "ash",\n "voice": "sage"}',
        "p.json:2:2: error: voice: the key is repeated in the same object",
        id="duplicate",
    ),
    pytest.param(
        '{"temperature": NaN}',
        "p.json:1:17: error: temperature: nan is not allowed; JSON has no infinite or NaN numbers",
        id="nan",
    ),
    pytest.param(
        '{"instructions": "\\ud800"}',
        "p.json:1:18: error: instructions: the text holds a lone surrogate (\\ud800), which "
        "UTF-8 cannot encode",
        id="surrogate",
    ),
    pytest.param(
        '{"tool_choice": {"type": "function", "name": "lookup"}}',
        'p.json:1:46: error: tool_choice names the function "lookup", but `tools` defines no '
        "function",
        id="cross-field",
    ),
    pytest.param(
        '{"type": "response.created", "session": {}}',
        'p.json:1:10: error: type: "response.created" is not a session event; expected '
        "session.created, session.updated or session.update",
        id="other-event",
    ),
    pytest.param(
        '{"type": "session.created", "session": []}',
        "p.json:1:40: error: session: expected a JSON object, found an array",
        id="event-without-session",
    ),
    pytest.param(
        '{"type": "session.created", "session": {}, "extra": 1}',
        "p.json:1:44: error: unknown key `extra` in the session.created event\n"
        "realtime-config: hint: for fields newer than this version's schema, pass --drop-unknown "
        "to leave them out",
        id="event-extra-key",
    ),
    pytest.param(
        '{"type": "session.created", "event_id": "e",\n "session": {"speed": 9}}',
        "p.json:2:23: error: speed: 9 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)",
        id="error-inside-event",
    ),
    pytest.param(
        '{"tools": [{"name": "f", "parameters": ' + '{"a": ' * 70 + "1" + "}" * 70 + "}]}",
        "p.json:1:" + str(40 + 6 * 62) + ": error: arrays and objects are nested deeper than "
        "64 levels",
        id="too-deep",
    ),
    pytest.param(
        "[" * 5000 + "]" * 5000,
        "p.json:1:66: error: arrays and objects are nested deeper than 64 levels",
        id="recursion",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_bad_payloads_give_located_errors(project: Path, text: str, expected: str) -> None:
    write(project / "p.json", text)
    assert run("import", "p.json", "-o", "out.toml") == (1, "", expected + "\n")
    assert not (project / "out.toml").exists()


def test_bytes_that_are_not_utf8_are_located(project: Path) -> None:
    (project / "p.json").write_bytes(b'{"voice": "\xff"}')
    assert run("import", "p.json") == (
        1,
        "",
        "p.json:1:12: error: invalid UTF-8: byte 0xff cannot be decoded; JSON must be UTF-8\n",
    )


def test_a_missing_file_or_a_folder_is_an_error(project: Path) -> None:
    (project / "folder").mkdir()
    assert run("import", "nope.json") == (1, "", "nope.json:1:1: error: no such file\n")
    assert run("import", "folder") == (
        1,
        "",
        "folder:1:1: error: is a directory, not a JSON file\n",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_is_refused_instead_of_blocking(project: Path) -> None:
    fifo = project / "pipe.json"
    os.mkfifo(fifo)
    # Should the reader block, opening the FIFO for writing lets it go (and the test fail).
    unblock = threading.Timer(10, lambda: os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)))
    unblock.start()
    try:
        assert run("import", "pipe.json") == (
            1,
            "",
            "pipe.json:1:1: error: is a FIFO (named pipe), not a JSON file; "
            "only regular files are read\n",
        )
    finally:
        unblock.cancel()


def test_warnings_are_printed_and_the_preset_still_written(project: Path) -> None:
    write(project / "p.json", '{"modalities": ["text"], "voice": "ash"}')
    assert run("import", "p.json") == (
        0,
        f'#:schema {SCHEMA_ID}\nmodalities = ["text"]\nvoice = "ash"\n',
        'p.json:1:26: warning: voice has no effect: modalities does not include "audio"\n',
    )


def test_the_library_raises_a_preset_error_with_every_problem() -> None:
    with pytest.raises(PresetError) as caught:
        import_json('{"speed": 0, "temperature": 5}', display="body.json")
    assert [str(d) for d in caught.value.diagnostics] == [
        "body.json:1:11: error: speed: 0 is less than the minimum of 0.25 (allowed: 0.25 to 1.5)",
        "body.json:1:29: error: temperature: 5 is greater than the maximum of 1.2 "
        "(allowed: 0.6 to 1.2)",
    ]


def test_a_refused_write_reports_only_the_refusal(project: Path) -> None:
    write(
        project / "session.json", '{"id": "sess_1", "object": "realtime.session", "voice": "ash"}'
    )
    write(project / "out.toml", "keep me\n")
    assert run("import", "session.json", "-o", "out.toml") == (
        1,
        "",
        "realtime-config: error: out.toml: already exists; use --force to overwrite it\n",
    )
    assert (project / "out.toml").read_text(encoding="utf-8") == "keep me\n"
    assert run("import", "session.json", "-o", "out.toml", "--force") == (
        0,
        "",
        "dropped read-only keys: id, object\n",
    )


# --- GA shapes: the official examples, as the live API returns them --------------------------

FIXTURES = PROJECT / "tests" / "fixtures"
"""JSON as the GA API returns it: the official examples of RealtimeCreateClientSecretResponse
and session.created (whose trailing comma, invalid JSON, is removed), and a transcription
client_secrets response with every null a server fills in."""

GA_RESPONSE_PRESET = f"""\
#:schema {SCHEMA_ID}
type = "realtime"
output_modalities = ["audio"]
model = "gpt-realtime-2025-08-25"
instructions = "You are a friendly assistant."
tracing = false
tools = []
tool_choice = "auto"
max_output_tokens = "inf"
truncation = "auto"
prompt = false

[audio.input]
format = {{ type = "audio/pcm", rate = 24000 }}
transcription = false
noise_reduction = false

[audio.input.turn_detection]
type = "server_vad"
threshold = 0.5
prefix_padding_ms = 300
silence_duration_ms = 200
create_response = true
interrupt_response = true
idle_timeout_ms = false

[audio.output]
format = {{ type = "audio/pcm", rate = 24000 }}
voice = "alloy"
speed = 1.0
"""


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def test_cli_imports_the_official_client_secrets_response(project: Path) -> None:
    shutil.copy(FIXTURES / "ga-client-secret-response.json", project / "response.json")
    code, out, err = run("import", "response.json")
    assert (code, out) == (0, GA_RESPONSE_PRESET)
    assert err == (
        "dropped read-only keys: value, expires_at, session.object, session.id, "
        "session.expires_at\n"
        "response.json:8:14: warning: model `gpt-realtime-2025-08-25` is not a known model id; "
        "did you mean `gpt-realtime-2025-08-28`?\n"
    )
    assert "ek_" not in out + err


@pytest.mark.parametrize(
    "name",
    [
        "ga-client-secret-response.json",
        "ga-session-created.json",
        "ga-transcription-client-secret-response.json",
    ],
)
def test_an_official_response_or_event_compiles_to_the_session_it_echoed(
    name: str, tmp_path: Path
) -> None:
    payload = fixture(name)
    imported = import_payload(payload)
    assert imported.dialect == payload["session"]["type"]
    path = write(tmp_path / "echo.toml", imported.text)
    session = compile_preset(load_preset(path, root=tmp_path), "session.update")["session"]
    assert session == without_unset(payload["session"])
    # Every null the server filled in was read: as false where a preset can say it, else
    # as not set.
    assert "language" not in (session["audio"]["input"]["transcription"] or {})
    assert "include" not in session


def test_the_transcription_response_gives_a_transcription_preset() -> None:
    imported = import_payload(fixture("ga-transcription-client-secret-response.json"))
    assert imported.text == (
        f"#:schema {SCHEMA_ID}\n"
        'type = "transcription"\n'
        "\n"
        "[audio.input]\n"
        'format = { type = "audio/pcmu" }\n'
        'noise_reduction = { type = "far_field" }\n'
        "\n"
        "[audio.input.transcription]\n"
        'model = "gpt-4o-transcribe"\n'
        'prompt = "Acme Rail, booking references are six letters"\n'
        "\n"
        "[audio.input.turn_detection]\n"
        'type = "server_vad"\n'
        "threshold = 0.5\n"
        "prefix_padding_ms = 300\n"
        "silence_duration_ms = 500\n"
        "create_response = true\n"
        "interrupt_response = true\n"
        "idle_timeout_ms = false\n"
    )


def test_the_session_created_event_keeps_its_long_instructions() -> None:
    payload = fixture("ga-session-created.json")
    imported = import_payload(payload)
    assert imported.dropped == ("event_id", "session.object", "session.id", "session.expires_at")
    assert tomllib.loads(imported.text)["instructions"] == payload["session"]["instructions"]
    assert '\ninstructions = """\n' in imported.text


def test_our_own_client_secrets_output_imports(project: Path) -> None:
    # The issue: `compile -t client_secrets` output gave "unknown key 'expires_after'".
    preset = write(
        project / "p.toml",
        'type = "realtime"\nmodel = "gpt-realtime-1.5"\n\n[expires_after]\nseconds = 900\n',
    )
    body = dumps_payload(compile_preset(load_preset(preset), "client_secrets"))
    write(project / "body.json", body)
    code, out, err = run("import", "body.json")
    assert (code, err) == (0, "")
    assert out == (
        f"#:schema {SCHEMA_ID}\n"
        'type = "realtime"\n'
        'model = "gpt-realtime-1.5"\n'
        "\n"
        "[expires_after]\n"
        'anchor = "created_at"\n'
        "seconds = 900\n"
    )
    assert recompile(out, project, "client_secrets") == body


def test_a_calls_accept_body_and_a_ga_session_update_event_give_ga_presets() -> None:
    session = {"type": "realtime", "audio": {"output": {"voice": "marin"}}}
    accept = import_payload(session)
    update = import_payload({"type": "session.update", "session": session})
    assert (
        accept.text
        == update.text
        == (f'#:schema {SCHEMA_ID}\ntype = "realtime"\n\n[audio.output]\nvoice = "marin"\n')
    )
    assert (accept.dropped, update.dropped) == ((), ())


def test_a_beta_session_update_event_still_gives_a_beta_preset() -> None:
    imported = import_payload({"type": "session.update", "session": {"voice": "ash"}})
    assert (imported.dialect, imported.table) == ("beta", {"voice": "ash"})


def test_server_nulls_on_fields_that_cannot_say_false_are_not_set() -> None:
    payload = {
        "type": "realtime",
        "include": None,
        "tool_choice": {"type": "mcp", "server_label": "bookings", "name": None},
        "tools": [
            {
                "type": "mcp",
                "server_label": "bookings",
                "server_url": "https://mcp.example/sse",
                "headers": None,
                "allowed_tools": None,
                "require_approval": None,
            }
        ],
        "prompt": {"id": "pmpt_1", "version": None},
        "audio": {"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": None}}},
    }
    imported = import_payload(payload)
    assert imported.table == {
        "type": "realtime",
        "tool_choice": {"type": "mcp", "server_label": "bookings"},
        "tools": [
            {"type": "mcp", "server_label": "bookings", "server_url": "https://mcp.example/sse"}
        ],
        "prompt": {"id": "pmpt_1"},
        "audio": {"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": False}}},
    }


GA_ERRORS = [
    pytest.param(
        '{"type": "realtime",\n "tools": [{"type": "function", "name": "f",'
        ' "parameters": {"default": null}}]}',
        "p.json:2:72: error: tools[0].parameters.default: null has no TOML form; only "
        "audio.input.transcription, audio.input.noise_reduction, audio.input.turn_detection, "
        "audio.input.turn_detection.idle_timeout_ms, tracing and prompt may be null "
        "(written as false)",
        id="null-in-verbatim",
    ),
    pytest.param(
        '{"type": "realtime", "include": [null]}',
        "p.json:1:34: error: include[0]: null has no TOML form; only audio.input.transcription, "
        "audio.input.noise_reduction, audio.input.turn_detection, "
        "audio.input.turn_detection.idle_timeout_ms, tracing and prompt may be null "
        "(written as false)",
        id="null-item",
    ),
    pytest.param(
        '{"value": "ek_1", "session": {"model": "gpt-realtime-1.5", "instructions": "Hi"}}',
        'p.json:1:19: error: session: a client_secrets session needs its type ("realtime" or '
        '"transcription"); without one it is read as a translation session, and this one has '
        "keys a translation session has not",
        id="session-without-type",
    ),
    pytest.param(
        '{"session": {"type": "realtime"}, "client_secret": {}}',
        "p.json:1:35: error: unknown key `client_secret` in the client_secrets body\n"
        "realtime-config: hint: for fields newer than this version's schema, pass --drop-unknown "
        "to leave them out",
        id="unknown-beside-session",
    ),
    pytest.param(
        '{"type": "realtime", "expires_after": {"seconds": 60}}',
        "p.json:1:22: error: unknown key `expires_after`; not a session field",
        id="expires-after-inside-the-session",
    ),
    pytest.param(
        '{"type": "transcription", "audio": {"input": {"format": "pcm16"}}}',
        "p.json:1:57: error: audio.input.format: expected a table, found a string",
        id="early-ga-string-format",
    ),
    pytest.param(
        '{"session": {"type": "realtime", "instructions": 1}, "expires_after": {"seconds": 5}}',
        "p.json:1:50: error: instructions: expected a string, found an integer\n"
        "p.json:1:83: error: expires_after.seconds: 5 is less than the minimum of 10 "
        "(allowed: 10 to 7200)",
        id="located-inside-and-beside-the-session",
    ),
]


@pytest.mark.parametrize(("text", "expected"), GA_ERRORS)
def test_bad_ga_payloads_give_located_errors(project: Path, text: str, expected: str) -> None:
    write(project / "p.json", text)
    assert run("import", "p.json", "-o", "out.toml") == (1, "", expected + "\n")
    assert not (project / "out.toml").exists()


NEWER = {
    "type": "session.created",
    "event_id": "event_1",
    "session": {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_1",
        "model": "gpt-realtime-1.5",
        "voice_activity": {"mode": "fast"},
        "audio": {"output": {"voice": "marin", "pitch": 1.1}},
    },
    "rate_limits": [],
}


def test_fields_newer_than_the_schema_are_errors_naming_each(project: Path) -> None:
    write(project / "event.json", json.dumps(NEWER, indent=2))
    code, out, err = run("import", "event.json")
    assert (code, out) == (1, "")
    assert err == (
        "event.json:9:5: error: unknown key `voice_activity`\n"
        "event.json:15:9: error: unknown key `pitch` in table `audio.output`\n"
        "event.json:19:3: error: unknown key `rate_limits` in the session.created event\n"
        "realtime-config: hint: for fields newer than this version's schema, pass --drop-unknown "
        "to leave them out\n"
    )


def test_unknown_session_fields_are_errors_naming_each(project: Path) -> None:
    event = {k: v for k, v in NEWER.items() if k != "rate_limits"}
    write(project / "event.json", json.dumps(event, indent=2))
    code, out, err = run("import", "event.json")
    assert (code, out) == (1, "")
    assert err == (
        "event.json:9:5: error: unknown key `voice_activity`\n"
        "event.json:15:9: error: unknown key `pitch` in table `audio.output`\n"
        "realtime-config: hint: for fields newer than this version's schema, pass --drop-unknown "
        "to leave them out\n"
    )


def test_drop_unknown_leaves_them_out_with_a_warning_each(project: Path) -> None:
    write(project / "event.json", json.dumps(NEWER, indent=2))
    code, out, err = run("import", "event.json", "--drop-unknown")
    assert code == 0
    assert out == (
        f'#:schema {SCHEMA_ID}\ntype = "realtime"\nmodel = "gpt-realtime-1.5"\n\n'
        '[audio.output]\nvoice = "marin"\n'
    )
    assert err == (
        "dropped read-only keys: event_id, session.object, session.id\n"
        "event.json:9:5: warning: voice_activity: unknown key dropped; this version's schema "
        "has no such field\n"
        "event.json:15:9: warning: audio.output.pitch: unknown key dropped; this version's "
        "schema has no such field\n"
        "event.json:19:3: warning: rate_limits: unknown key dropped; the session.created event "
        "has no such key in this version's schema\n"
    )


def test_import_payload_returns_the_preset_as_a_record() -> None:
    imported = import_payload(
        {
            "type": "realtime",
            "model": "gpt-realtime-2.1",
            "id": "sess_1",
            "audio": {"output": {"voice": "ash"}},
        },
        destination="presets/support.toml",
    )
    assert isinstance(imported, ImportedPreset)
    assert (imported.dialect, imported.dropped, imported.warnings) == ("realtime", ("id",), ())
    assert imported.table == {
        "type": "realtime",
        "model": "gpt-realtime-2.1",
        "audio": {"output": {"voice": "ash"}},
    }
    assert imported.text.endswith(
        'type = "realtime"\nmodel = "gpt-realtime-2.1"\n\n[audio.output]\nvoice = "ash"\n'
    )
