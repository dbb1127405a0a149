"""The three compile targets: goldens, the GA translation and its conformance, and the CLI.

``client_secrets`` goldens: ``<name>.json`` is the body (compiled with ``drop_unsupported``
when the preset sets a field GA lacks), ``<name>.err`` the diagnostics of the strict compile,
present exactly for the presets it refuses. ``REALTIME_CONFIG_REGENERATE=1`` rewrites them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from jsonschema import Draft202012Validator

from realtime_config import (
    TARGETS,
    Preset,
    PresetError,
    compile_preset,
    compile_preset_with_warnings,
    dumps_payload,
    load_preset,
    load_schema,
)

# The schema's own helpers read the annotations the expectations are built from.
from realtime_config._schema import branch_of_type, dialect_schema, resolve, validator

# Generated tables must pass the schema alone (asserted) and may fail the cross-field checks
# (assumed away): a public call runs both and does not tell them apart.
from realtime_config.checking._checks import cross_field_diagnostics
from realtime_config.cli import main
from tests.conftest import (
    GOLDEN,
    PROJECT,
    REGENERATE,
    beta_presets,
    check_golden,
    preset_name,
    shipped_presets,
    write,
)
from tests.strategies import session_tables


def compile_client_secrets(preset: Preset, **options: Any) -> dict[str, Any]:
    return compile_preset(preset, "client_secrets", **options)


OFFICIAL_SCHEMA = PROJECT / "schema" / "official-ga-request.json"
COMPOSITIONS = ("allOf", "anyOf", "oneOf")


def diagnostics_text(error: PresetError) -> str:
    return "".join(f"{d}\n" for d in error.diagnostics)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def at_project(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository, so that diagnostics name files as ``presets/x.toml``."""
    monkeypatch.chdir(PROJECT)


# --- the official GA request schema ----------------------------------------------------


def closed(node: Any) -> Any:
    """A copy of ``node`` where every object schema with properties rejects unknown keys."""
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: closed(value) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        # Properties spread over a composition would be rejected by each part once closed.
        assert not any(k in node for k in COMPOSITIONS), f"cannot close {sorted(node)}"
        result["additionalProperties"] = False
    return result


def with_sdk_fields(node: Any) -> Any:
    """The official schema plus what the SDK (openai 3.57.0) has and the spec lacks: a
    ``strength`` number after ``type`` in each noise-reduction table."""
    if isinstance(node, list):
        return [with_sdk_fields(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: with_sdk_fields(value) for key, value in node.items()}
    kind = node.get("properties", {}).get("type", {})
    if kind.get("$ref", "").endswith("/NoiseReductionType"):
        result["properties"] = {**result["properties"], "strength": {"type": "number"}}
    return result


def official_schema() -> dict[str, Any]:
    """The official request schema, with the SDK's additions."""
    loaded: dict[str, Any] = with_sdk_fields(json.loads(OFFICIAL_SCHEMA.read_text("utf-8")))
    return loaded


@functools.cache
def official_validator() -> Draft202012Validator:
    schema = closed(official_schema())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def official_errors(body: Mapping[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in official_validator().iter_errors(body)
    ]


def official_properties(*names: str) -> list[str]:
    """The property names, in the official order, of the request object at ``names``."""
    defs = official_schema()["$defs"]
    node = defs["RealtimeCreateClientSecretRequest"]
    for name in names:
        node = node["properties"][name]
        if name == "session":
            node = defs["RealtimeSessionCreateRequestGA"]
    return list(node["properties"])


# The request example of the official API reference ("Create client secret",
# developers.openai.com/api/reference/resources/realtime/subresources/client_secrets).
OFFICIAL_REQUEST_EXAMPLE = {
    "expires_after": {"anchor": "created_at", "seconds": 600},
    "session": {
        "type": "realtime",
        "model": "gpt-realtime",
        "instructions": "You are a friendly assistant.",
    },
}

# The session of the official response example (RealtimeCreateClientSecretResponse in the
# extract) sent back as a request: without the response-only keys (object, id, expires_at)
# and without the nulls the request schema has no null for (transcription, noise_reduction,
# tracing, include).
OFFICIAL_RESPONSE_SESSION_AS_REQUEST = {
    "session": {
        "type": "realtime",
        "model": "gpt-realtime-2025-08-25",
        "output_modalities": ["audio"],
        "instructions": "You are a friendly assistant.",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "truncation": "auto",
        "prompt": None,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 200,
                    "idle_timeout_ms": None,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "alloy",
                "speed": 1.0,
            },
        },
    }
}

# One body through the other alternatives of each composition the closing touches.
OTHER_ALTERNATIVES = {
    "session": {
        "type": "realtime",
        "audio": {
            "input": {
                "format": {"type": "audio/pcma"},
                "noise_reduction": {"type": "near_field"},
                "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
            },
            "output": {"format": {"type": "audio/pcmu"}, "voice": {"id": "voice_1234"}},
        },
        "tracing": "auto",
        "tools": [
            {"type": "mcp", "server_label": "docs", "server_url": "https://example.com/mcp"},
            {"type": "function", "name": "f", "parameters": {"type": "object"}},
        ],
        "tool_choice": {"type": "mcp", "server_label": "docs", "name": None},
        "truncation": {"type": "retention_ratio", "retention_ratio": 0.8},
        "prompt": {"id": "pmpt_1", "variables": {"city": {"type": "input_text", "text": "Oslo"}}},
        "reasoning": {"effort": "low"},
    }
}

TRANSCRIPTION_SESSION = {
    "session": {
        "type": "transcription",
        "audio": {"input": {"transcription": {"model": "gpt-realtime-whisper", "delay": "low"}}},
    }
}


@pytest.mark.parametrize(
    "body",
    [
        OFFICIAL_REQUEST_EXAMPLE,
        OFFICIAL_RESPONSE_SESSION_AS_REQUEST,
        OTHER_ALTERNATIVES,
        TRANSCRIPTION_SESSION,
    ],
    ids=["request-example", "response-session", "other-alternatives", "transcription"],
)
def test_closing_the_official_schema_keeps_valid_bodies_valid(body: dict[str, Any]) -> None:
    assert official_errors(body) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({**OFFICIAL_REQUEST_EXAMPLE, "model": "gpt-realtime-1.5"}, "Additional properties"),
        (
            {"session": {"type": "realtime", "temperature": 0.8}},
            "is not valid under any of the given schemas",
        ),
        (
            {"session": {"type": "realtime", "audio": {"input": {"format": "pcm16"}}}},
            "is not valid under any of the given schemas",
        ),
        (
            {
                "session": {
                    "type": "realtime",
                    "audio": {
                        "output": {"format": {"type": "audio/pcm", "rate": 24000, "bits": 16}}
                    },
                }
            },
            "is not valid under any of the given schemas",
        ),
        (
            {"session": {"type": "realtime", "audio": {"input": {"transcription": None}}}},
            "is not valid under any of the given schemas",
        ),
        (
            {"expires_after": {"seconds": 600, "anchor": "created_at", "ttl": 1}},
            "Additional properties",
        ),
    ],
    ids=["top", "temperature", "string-format", "format", "transcription-null", "expires-after"],
)
def test_the_closed_official_schema_rejects_what_ga_does_not_have(
    body: dict[str, Any], error: str
) -> None:
    errors = official_errors(body)
    assert len(errors) == 1
    assert error in errors[0]


# --- the schema's x-ga annotations -----------------------------------------------------


def ga_paths() -> dict[str, str | None]:
    """Each session field (or table key) with an x-ga annotation, and its GA path."""
    found: dict[str, str | None] = {}
    properties = load_schema()["$defs"]["beta"]["properties"]
    for key in load_schema()["$defs"]["beta"]["x-order"]:
        field = resolve(properties[key])
        if "x-ga" in field:
            found[key] = field["x-ga"]
            continue
        table = branch_of_type(field, "object")
        assert table is not None, f"{key} has no x-ga and is not a table"
        for inner, child in table["properties"].items():
            assert "x-ga" in child, f"{key}.{inner} has no x-ga"
            found[f"{key}.{inner}"] = child["x-ga"]
    return found


def test_every_session_field_says_where_it_goes_in_the_ga_body() -> None:
    schema = load_schema()["$defs"]["beta"]
    placed = [p for p in ga_paths().values() if p is not None]
    assert len(placed) == len(set(placed))
    assert sorted([*placed, *schema["x-ga-const"]]) == sorted(schema["x-ga-order"])
    assert [k for k, p in ga_paths().items() if p is None] == ["temperature"]


def test_ga_value_annotations_cover_their_fields() -> None:
    properties = load_schema()["$defs"]["beta"]["properties"]
    for key in ("input_audio_format", "output_audio_format"):
        field = resolve(properties[key])
        assert sorted(field["x-ga-map"]) == sorted(field["enum"])
    assert sorted(properties["modalities"]["x-ga-pick"]) == sorted(
        properties["modalities"]["items"]["enum"]
    )
    omitted = [k for k, v in properties.items() if v.get("x-ga-omit-false")]
    assert omitted == ["input_audio_transcription", "input_audio_noise_reduction", "tracing"]
    assert all(properties[k].get("x-null-when-false") for k in omitted)


def annotation_keys(node: Any) -> set[str]:
    """Every key starting with ``x-ga`` anywhere in ``node``."""
    if isinstance(node, list):
        return set().union(*map(annotation_keys, node))
    if not isinstance(node, dict):
        return set()
    own = {key for key in node if key.startswith("x-ga")}
    return own.union(*map(annotation_keys, node.values()))


def test_the_schema_comment_documents_every_ga_keyword() -> None:
    keywords = annotation_keys(load_schema())
    assert keywords == {
        "x-ga",
        "x-ga-order",
        "x-ga-const",
        "x-ga-map",
        "x-ga-pick",
        "x-ga-omit-false",
    }
    comment = load_schema()["$comment"]
    assert [k for k in sorted(keywords) if f"{k} " not in comment and f"{k}:" not in comment] == []


# --- goldens ---------------------------------------------------------------------------


def all_presets() -> list[Path]:
    """Every preset with goldens: the shipped ones (GA and beta) and the beta test cases."""
    return sorted({*shipped_presets(), *beta_presets()})


def session_presets() -> list[Path]:
    """Every preset with goldens but the translation ones: the sessions of client_secrets."""
    return [p for p in all_presets() if load_preset(p).dialect != "translation"]


def test_every_golden_belongs_to_a_preset() -> None:
    names = sorted(preset_name(p) for p in all_presets())
    assert sorted(path.name for path in GOLDEN.iterdir() if path.name in TARGETS) == sorted(TARGETS)
    for target in TARGETS:
        goldens = sorted((GOLDEN / target).rglob("*.json"))
        refused = sorted((GOLDEN / target).rglob("*.err"))
        assert goldens, f"no goldens under {GOLDEN / target}"
        stems = {p.relative_to(GOLDEN / target).with_suffix("").as_posix() for p in goldens}
        stems |= {p.relative_to(GOLDEN / target).with_suffix("").as_posix() for p in refused}
        assert sorted(stems) == names, target
    assert sorted((GOLDEN / "client_secrets").rglob("*.err")), "no preset exercises a drop"


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("preset", all_presets(), ids=preset_name)
def test_target_golden(preset: Path, target: str, at_project: None) -> None:
    """``<name>.json``: the body (with unsupported fields dropped); ``<name>.err``: the
    diagnostics of the strict compile, exactly for the presets it refuses."""
    loaded = load_preset(preset.relative_to(PROJECT))
    name = preset_name(preset)
    refused = GOLDEN / target / f"{name}.err"
    body_file = GOLDEN / target / f"{name}.json"
    try:
        strict = compile_preset(loaded, target)
    except PresetError as error:
        check_golden(refused, diagnostics_text(error))
        try:
            dropped, warnings = compile_preset_with_warnings(loaded, target, drop_unsupported=True)
        except PresetError as whole:
            assert whole.diagnostics == error.diagnostics  # refused as a whole
            assert [d.rule for d in whole.diagnostics] == ["target-refused"]
            if REGENERATE:
                body_file.unlink(missing_ok=True)
            assert not body_file.exists(), f"{body_file} is stale: the target refuses it"
            return
        assert [(d.file, d.line, d.column, d.key) for d in warnings] == [
            (d.file, d.line, d.column, d.key) for d in error.diagnostics
        ]
        assert {d.severity for d in warnings} == {"warning"}
    else:
        if REGENERATE:
            refused.unlink(missing_ok=True)
        assert not refused.exists(), f"{refused} is stale: the preset now compiles"
        dropped, warnings = compile_preset_with_warnings(loaded, target, drop_unsupported=True)
        assert (strict, warnings) == (dropped, [])
    check_golden(body_file, dumps_payload(dropped))


@pytest.mark.parametrize("preset", beta_presets(), ids=preset_name)
def test_beta_session_update_is_the_sessions_body_without_client_secret(preset: Path) -> None:
    loaded = load_preset(preset)
    event = compile_preset(loaded, "beta.session.update")
    body = compile_preset(loaded, "sessions")
    assert list(event) == ["type", "session"]
    assert event["type"] == "session.update"
    assert "client_secret" not in event["session"]
    expected = {
        key: value
        for key, value in body.items()
        if key != "client_secret" and (key != "modalities" or key in loaded.session)
    }
    for key in ("input_audio_format", "output_audio_format"):
        if loaded.session.get(key) == "pcm16":
            expected[key] = "pcm16"  # the sessions body omits the default; an update sends it
    assert event["session"] == expected
    order = dialect_schema("beta")["x-order"]
    assert list(event["session"]) == sorted(event["session"], key=order.index)


@pytest.mark.parametrize(
    "session",
    [
        {"instructions": "Answer in French."},
        {"input_audio_format": "pcm16", "output_audio_format": "pcm16"},
        {"modalities": ["text"], "turn_detection": None},
    ],
)
def test_an_imported_beta_update_event_compiles_back_to_the_same_json(
    session: dict[str, Any],
) -> None:
    """What Azure's legacy API versions (and LiveKit) send: nothing added, nothing dropped."""
    from realtime_config import import_payload

    event = {"type": "session.update", "session": session}
    imported = import_payload(event)
    assert imported.dialect == "beta"
    assert compile_preset(imported.table, "beta.session.update") == event


def test_update_events_add_no_creation_default(project: Path) -> None:
    """An update sends what is written: no modalities added, written pcm16 formats kept."""
    preset = load_preset(
        write(project / "p.toml", 'instructions = "Be brief."\ninput_audio_format = "pcm16"\n')
    )
    assert compile_preset(preset, "beta.session.update") == {
        "type": "session.update",
        "session": {"instructions": "Be brief.", "input_audio_format": "pcm16"},
    }
    assert compile_preset(preset, "sessions") == {
        "modalities": ["audio", "text"],
        "instructions": "Be brief.",
    }
    assert compile_preset(preset, "session.update") == {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "instructions": "Be brief.",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}},
        },
    }
    ga = load_preset(
        write(project / "ga.toml", 'type = "realtime"\noutput_modalities = ["audio"]\n')
    )
    assert compile_preset(ga, "beta.session.update") == {
        "type": "session.update",
        "session": {"modalities": ["audio", "text"]},
    }
    bare = load_preset(write(project / "bare.toml", 'type = "realtime"\ninstructions = "Hi."\n'))
    assert compile_preset(bare, "beta.session.update") == {
        "type": "session.update",
        "session": {"instructions": "Hi."},
    }


@pytest.mark.parametrize("preset", session_presets(), ids=preset_name)
def test_session_update_is_the_ga_session_with_every_false_as_null(preset: Path) -> None:
    """The GA event carries the session of client_secrets, plus the switched-off features."""
    loaded = load_preset(preset)
    event = compile_preset(loaded, "session.update", drop_unsupported=True)
    created = compile_preset(loaded, "client_secrets", drop_unsupported=True)["session"]
    assert list(event) == ["type", "session"]
    assert event["session"]["type"] in ("realtime", "transcription")
    without_nulls = without_null_values(event["session"])
    if loaded.dialect == "beta" and "modalities" not in loaded.session:
        # the beta creation default ["audio", "text"] is not added to an update
        created = {k: v for k, v in created.items() if k != "output_modalities"}
    assert without_nulls == without_null_values(created)


def without_null_values(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_null_values(v) for k, v in node.items() if v is not None}
    return node


@pytest.mark.parametrize("preset", session_presets(), ids=preset_name)
def test_every_preset_conforms_to_the_official_ga_schema(preset: Path) -> None:
    body = compile_preset(load_preset(preset), "client_secrets", drop_unsupported=True)
    assert official_errors(body) == []
    assert_official_key_order(body)


def assert_official_key_order(body: Mapping[str, Any]) -> None:
    """Every object of the body lists its keys in the order the official schema does."""
    objects: list[tuple[tuple[str, ...], Any]] = [((), body)]
    session = body.get("session", {})
    objects += [(("expires_after",), body.get("expires_after", {})), (("session",), session)]
    audio = session.get("audio", {})
    objects += [(("session", "audio"), audio)]
    objects += [(("session", "audio", io), audio.get(io, {})) for io in ("input", "output")]
    for names, value in objects:
        official = official_properties(*names)
        assert list(value) == [key for key in official if key in value], names


# --- the GA translation ----------------------------------------------------------------


def ga_body(text: str, project: Path, **options: bool) -> dict[str, Any]:
    return compile_client_secrets(load_preset(write(project / "p.toml", text)), **options)


def test_minimal_preset(project: Path) -> None:
    body = ga_body('model = "gpt-realtime-1.5"\n', project)
    assert dumps_payload(body) == (
        '{\n  "session": {\n    "type": "realtime",\n    "output_modalities": [\n'
        '      "audio"\n    ],\n    "model": "gpt-realtime-1.5"\n  }\n}\n'
    )


def test_switched_off_features(project: Path) -> None:
    text = (
        'modalities = ["text"]\nturn_detection = false\ntracing = false\n'
        "input_audio_transcription = false\ninput_audio_noise_reduction = false\n"
    )
    assert ga_body(text, project) == {
        "session": {
            "type": "realtime",
            "output_modalities": ["text"],
            "audio": {"input": {"turn_detection": None}},
        }
    }


@pytest.mark.parametrize(
    ("modalities", "output"),
    [
        ('["audio", "text"]', "audio"),
        ('["text", "audio"]', "audio"),
        ('["audio"]', "audio"),
        ('["text"]', "text"),
    ],
)
def test_modalities_become_one_output_modality(modalities: str, output: str, project: Path) -> None:
    body = ga_body(f"modalities = {modalities}\n", project)
    assert body["session"]["output_modalities"] == [output]


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("g711_ulaw", {"type": "audio/pcmu"}),
        ("g711_alaw", {"type": "audio/pcma"}),
    ],
)
def test_audio_formats_become_objects(written: str, sent: dict[str, Any], project: Path) -> None:
    text = f'input_audio_format = "{written}"\noutput_audio_format = "{written}"\n'
    audio = ga_body(text, project)["session"]["audio"]
    assert audio == {"input": {"format": sent}, "output": {"format": sent}}


def test_pcm16_is_the_default_and_left_out_as_in_the_sessions_body(project: Path) -> None:
    """pcm16 is not sent to sessions (server default); GA's default is audio/pcm at 24 kHz."""
    text = 'input_audio_format = "pcm16"\noutput_audio_format = "pcm16"\n'
    assert "audio" not in ga_body(text, project)["session"]
    field = resolve(load_schema()["$defs"]["beta"]["properties"]["input_audio_format"])
    assert field["x-ga-map"]["pcm16"] == {"type": "audio/pcm", "rate": 24000}


def test_design_full_example_translated(at_project: None) -> None:
    preset = load_preset("tests/cases/design/full-example.toml")
    body = compile_client_secrets(preset, drop_unsupported=True)
    assert list(body) == ["expires_after", "session"]
    assert body["expires_after"] == {"anchor": "created_at", "seconds": 900}
    session = body["session"]
    assert list(session) == [
        "type",
        "output_modalities",
        "model",
        "instructions",
        "audio",
        "tracing",
        "tools",
        "tool_choice",
        "max_output_tokens",
    ]
    assert session["audio"] == {
        "input": {
            "transcription": {"model": "gpt-4o-transcribe", "language": "en"},
            "noise_reduction": {"type": "near_field"},
            "turn_detection": {"type": "server_vad", "threshold": 0.6, "silence_duration_ms": 400},
        },
        "output": {"format": {"type": "audio/pcmu"}, "voice": "marin", "speed": 1.1},
    }
    assert session["max_output_tokens"] == "inf"
    assert session["tool_choice"] == {"type": "function", "name": "lookup_booking"}
    assert session["tracing"] == {"workflow_name": "support", "metadata": {"team": "rail"}}
    assert "temperature" not in json.dumps(body)


def test_expires_after_sends_its_anchor(project: Path) -> None:
    body = ga_body("[client_secret.expires_after]\nseconds = 60\n", project)
    assert body == {
        "expires_after": {"anchor": "created_at", "seconds": 60},
        "session": {"type": "realtime", "output_modalities": ["audio"]},
    }
    empty = ga_body("[client_secret.expires_after]\n", project)
    assert "expires_after" not in empty


def test_compiling_leaves_the_preset_untouched(project: Path) -> None:
    preset = load_preset(write(project / "p.toml", 'input_audio_format = "g711_alaw"\n'))
    body = compile_client_secrets(preset)
    body["session"]["audio"]["input"]["format"]["type"] = "changed"
    assert compile_client_secrets(preset)["session"]["audio"]["input"]["format"] == {
        "type": "audio/pcma"
    }
    assert dict(preset.session) == {"input_audio_format": "g711_alaw"}


# --- unsupported fields ----------------------------------------------------------------

TEMPERATURE_ERROR = (
    "temperature is not supported by target client_secrets (the GA endpoint has no temperature)"
)
"""The library's fact; the command line adds its remedy (CLI_TEMPERATURE_ERROR)."""
CLI_TEMPERATURE_ERROR = f"{TEMPERATURE_ERROR}; remove it or use --drop-unsupported"
TEMPERATURE_WARNING = (
    "temperature is not supported by target client_secrets (the GA endpoint has no "
    "temperature); dropped from the payload"
)


def test_temperature_is_a_located_error(at_project: None) -> None:
    preset = load_preset("presets/phone-support.toml")
    with pytest.raises(PresetError) as raised:
        compile_client_secrets(preset)
    assert str(raised.value) == f"presets/phone-support.toml:15:1: error: {TEMPERATURE_ERROR}"
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.rule, diagnostic.key) == ("target-unsupported", "temperature")


def test_inherited_temperature_points_at_the_base_preset(at_project: None) -> None:
    preset = load_preset("tests/cases/beta/hotel-concierge.toml")
    with pytest.raises(PresetError) as raised:
        compile_client_secrets(preset)
    assert [str(d) for d in raised.value.diagnostics] == [
        f"tests/cases/beta/hotel-base.toml:5:1: error: {TEMPERATURE_ERROR}"
    ]


def test_drop_unsupported_warns_per_field(at_project: None) -> None:
    preset = load_preset("presets/phone-support.toml")
    body, warnings = compile_preset_with_warnings(preset, "client_secrets", drop_unsupported=True)
    assert [str(w) for w in warnings] == [
        f"presets/phone-support.toml:15:1: warning: {TEMPERATURE_WARNING}"
    ]
    assert body == compile_preset(preset, "client_secrets", drop_unsupported=True)
    assert "temperature" not in json.dumps(body)


def test_other_targets_support_temperature(at_project: None) -> None:
    preset = load_preset("presets/phone-support.toml")
    for target in ("sessions", "beta.session.update"):
        body, warnings = compile_preset_with_warnings(preset, target, drop_unsupported=True)
        assert warnings == []
        assert body == compile_preset(preset, target)
        assert "temperature" in json.dumps(body)


def test_a_session_table_is_compiled_for_ga_too() -> None:
    table = {"voice": "ash", "temperature": 0.8, "preset": {"target": "client_secrets"}}
    with pytest.raises(PresetError) as raised:
        compile_preset(table)
    assert [d.message for d in raised.value.diagnostics] == [TEMPERATURE_ERROR]
    assert compile_preset(table, drop_unsupported=True) == {
        "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {"output": {"voice": "ash"}},
        }
    }


# --- property: every valid session compiles into a body the official schema accepts ----


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session_tables())
def test_every_valid_session_compiles_into_an_official_ga_body(table: dict[str, Any]) -> None:
    assert validator().is_valid(table)
    preset = Preset(path=Path("<generated>"), session=table)
    assume(not any(d.is_error for d in cross_field_diagnostics(preset)))
    body = compile_preset(table, "client_secrets", drop_unsupported=True)
    assert official_errors(body) == []
    assert_official_key_order(body)
    if "temperature" in table:
        with pytest.raises(PresetError):
            compile_preset(table, "client_secrets")
    else:
        assert compile_preset(table, "client_secrets") == body


# --- the command line ------------------------------------------------------------------


def test_cli_compile_client_secrets(at_project: None) -> None:
    code, out, err = run(
        "compile", "--target", "client_secrets", "tests/cases/beta/voice-low-latency.toml"
    )
    assert (code, err) == (0, "")
    assert out == (GOLDEN / "client_secrets" / "voice-low-latency.json").read_text(encoding="utf-8")


def test_cli_compile_session_update(at_project: None) -> None:
    code, out, err = run("compile", "-t", "beta.session.update", "presets/phone-support.toml")
    assert (code, err) == (0, "")
    assert out == (GOLDEN / "beta.session.update" / "phone-support.json").read_text(
        encoding="utf-8"
    )


def test_cli_compile_refuses_temperature_for_client_secrets(at_project: None) -> None:
    assert run("compile", "-t", "client_secrets", "presets/phone-support.toml") == (
        1,
        "",
        f"presets/phone-support.toml:15:1: error: {CLI_TEMPERATURE_ERROR}\n",
    )


def test_cli_compile_drop_unsupported(at_project: None) -> None:
    code, out, err = run(
        "compile",
        "-t",
        "client_secrets",
        "--drop-unsupported",
        "--compact",
        "presets/phone-support.toml",
    )
    assert (code, err) == (0, f"presets/phone-support.toml:15:1: warning: {TEMPERATURE_WARNING}\n")
    golden = (GOLDEN / "client_secrets" / "phone-support.json").read_text(encoding="utf-8")
    assert out == dumps_payload(json.loads(golden), compact=True)


def test_cli_drop_unsupported_changes_nothing_for_sessions(at_project: None) -> None:
    code, out, err = run("compile", "--drop-unsupported", "presets/phone-support.toml")
    assert (code, err) == (0, "")
    assert out == (GOLDEN / "sessions" / "phone-support.json").read_text(encoding="utf-8")


def test_cli_validate_client_secrets_reports_the_temperature_line(at_project: None) -> None:
    code, out, err = run(
        "validate",
        "--target",
        "client_secrets",
        "presets/phone-support.toml",
        "tests/cases/beta/voice-low-latency.toml",
    )
    assert (code, out) == (1, f"presets/phone-support.toml:15:1: error: {CLI_TEMPERATURE_ERROR}\n")
    assert err == "2 presets checked: 1 error(s), 0 warning(s)\n"


@pytest.mark.parametrize("target", ["sessions", "beta.session.update"])
def test_cli_validate_other_targets_accept_temperature(target: str, at_project: None) -> None:
    assert run("validate", "-t", target, "presets/phone-support.toml") == (
        0,
        "1 preset valid\n",
        "",
    )


def test_cli_preset_target_chooses_the_default(project: Path) -> None:
    text = 'voice = "ash"\ntemperature = 0.8\n\n[preset]\ntarget = "client_secrets"\n'
    write(project / "p.toml", text)
    error = f"p.toml:2:1: error: {CLI_TEMPERATURE_ERROR}\n"
    assert run("compile", "p.toml") == (1, "", error)
    assert run("validate", "p.toml")[:2] == (1, error)
    code, out, err = run("compile", "--drop-unsupported", "--compact", "p.toml")
    assert (code, err) == (0, f"p.toml:2:1: warning: {TEMPERATURE_WARNING}\n")
    assert json.loads(out) == {
        "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {"output": {"voice": "ash"}},
        }
    }
    assert run("compile", "-t", "sessions", "--compact", "p.toml") == (
        0,
        '{"modalities":["audio","text"],"voice":"ash","temperature":0.8}',
        "",
    )
    assert run("validate", "-t", "sessions", "p.toml") == (0, "1 preset valid\n", "")


def test_cli_unknown_target_is_a_usage_error(at_project: None) -> None:
    code, _, err = run("compile", "-t", "realtime", "presets/phone-support.toml")
    assert code == 2
    assert (
        "'realtime' is not one of 'client_secrets', 'session.update', 'calls.accept', 'calls', 'sessions', 'beta.session.update'"
        in err
    )


def test_the_registry_says_which_targets_mint_and_which_take_a_call_id() -> None:
    """serve's minting set, create_secret's check and submit --call-id read these facts."""
    minting = [t.name for t in TARGETS.values() if t.mints]
    assert minting == ["client_secrets", "sessions", "translations.client_secrets"]
    assert {t.response for t in TARGETS.values() if t.mints} == {"client_secret", "beta_session"}
    assert [t.name for t in TARGETS.values() if "call_id" in t.path_parameters] == ["calls.accept"]
    assert [t.name for t in TARGETS.values() if t.response == "sdp_answer"] == ["calls"]
