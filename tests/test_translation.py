"""Translation presets (type = "translation"): the schema branch, both targets, refusals both
ways, the checks at the key, import, new, explain, and minting against the loopback fake.

The official translation request (``RealtimeTranslationClientSecretCreateRequest``, closed
so that an unknown key is rejected) judges every body, the shipped preset's and those of
presets drawn from the schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from realtime_config import (
    PresetError,
    RealtimeClient,
    compile_preset,
    dumps_payload,
    import_payload,
    load_preset,
)
from tests.conftest import GOLDEN, PROJECT, run_cli, write
from tests.fake_api import SECRET, FakeAPI
from tests.strategies import ga_session_tables
from tests.test_targets import closed, official_schema

INTERPRETER = PROJECT / "presets" / "interpreter.toml"
TRANSLATION_REQUEST = "RealtimeTranslationClientSecretCreateRequest"


def translation_errors(body: Any) -> list[str]:
    """What the official translation request schema (closed) says of a body."""
    schema = closed(official_schema())
    validator = Draft202012Validator({**schema, "$ref": f"#/$defs/{TRANSLATION_REQUEST}"})
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
    ]


def test_the_shipped_interpreter_compiles_to_its_goldens_and_the_official_request() -> None:
    preset = load_preset(INTERPRETER)
    assert preset.dialect == "translation"
    body = compile_preset(preset)
    assert dumps_payload(body) == (
        GOLDEN / "translations.client_secrets" / "interpreter.json"
    ).read_text("utf-8")
    assert translation_errors(body) == []
    assert body == {
        "expires_after": {"anchor": "created_at", "seconds": 120},
        "session": {
            "model": "gpt-realtime-translate",
            "audio": {
                "input": {
                    "transcription": {"model": "gpt-live-transcribe"},
                    "noise_reduction": {"type": "far_field"},
                },
                "output": {"language": "de"},
            },
        },
    }
    event = compile_preset(preset, "translations.session.update")
    # The model is set when the session is created and cannot be changed: not in the event.
    assert event == {"type": "session.update", "session": {"audio": body["session"]["audio"]}}


def test_design_2b_example(project: Path) -> None:
    preset = load_preset(
        write(
            project / "t.toml",
            'type = "translation"\nmodel = "gpt-realtime-translate"\n\n[audio.input]\n'
            'transcription = { model = "gpt-4o-mini-transcribe" }\n\n[audio.output]\n'
            'language = "de"\n\n[expires_after]\nseconds = 300\n',
        )
    )
    assert json.dumps(compile_preset(preset, "translations.client_secrets")) == (
        '{"expires_after": {"anchor": "created_at", "seconds": 300}, "session": {"model": '
        '"gpt-realtime-translate", "audio": {"input": {"transcription": {"model": '
        '"gpt-4o-mini-transcribe"}}, "output": {"language": "de"}}}}'
    )


def test_false_switches_off_as_in_ga_presets(project: Path) -> None:
    preset = load_preset(
        write(
            project / "t.toml",
            'type = "translation"\nmodel = "gpt-realtime-translate"\n'
            "audio.input.transcription = false\naudio.input.noise_reduction = false\n",
        )
    )
    assert compile_preset(preset) == {"session": {"model": "gpt-realtime-translate"}}
    assert compile_preset(preset, "translations.session.update") == {
        "type": "session.update",
        "session": {"audio": {"input": {"transcription": None, "noise_reduction": None}}},
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ga_session_tables("translation"))
def test_every_translation_preset_gives_a_body_the_official_request_accepts(
    table: dict[str, Any],
) -> None:
    body = compile_preset(table)
    assert translation_errors(body) == []
    assert "type" not in body["session"]
    event = compile_preset(table, "translations.session.update")
    assert list(event) == ["type", "session"]
    assert "model" not in event["session"]
    assert translation_errors({"session": {"model": "m", **without_nulls(event["session"])}}) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ga_session_tables("translation"))
def test_every_translation_body_and_event_imports_back_to_itself(table: dict[str, Any]) -> None:
    body = compile_preset(table)
    imported = import_payload(body)
    assert imported.dialect == "translation"
    assert compile_preset(imported.table) == body
    event = compile_preset(table, "translations.session.update")
    if event["session"]:  # an empty update says nothing a dialect could be read from
        again = import_payload(event)
        assert compile_preset(again.table, "translations.session.update") == event


def without_nulls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_nulls(v) for k, v in node.items() if v is not None}
    return node


# --- refusals, both ways ---------------------------------------------------------------


def located(diagnostic: Any) -> str:
    """A diagnostic as its line prints it, without the file (shown relative to the cwd)."""
    return f"{diagnostic.line}:{diagnostic.column}: {diagnostic.severity}: {diagnostic.message}"


@pytest.mark.parametrize(
    "target",
    ["client_secrets", "session.update", "calls.accept", "sessions", "beta.session.update"],
)
def test_other_targets_refuse_a_translation_preset(target: str) -> None:
    with pytest.raises(PresetError) as caught:
        compile_preset(load_preset(INTERPRETER), target)
    assert [located(d) for d in caught.value.diagnostics] == [
        f"7:8: error: target {target} cannot carry a translation session "
        '(type = "translation"); compile it for translations.client_secrets or '
        "translations.session.update"
    ]


@pytest.mark.parametrize(
    ("text", "kind", "where"),
    [
        ('type = "realtime"\n', 'a realtime session (type = "realtime")', "1:8"),
        ('type = "transcription"\n', 'a transcription session (type = "transcription")', "1:8"),
        ('voice = "ash"\n', "a beta preset (no type)", "1:1"),
    ],
)
@pytest.mark.parametrize("target", ["translations.client_secrets", "translations.session.update"])
def test_translation_targets_refuse_the_other_dialects(
    project: Path, text: str, kind: str, where: str, target: str
) -> None:
    path = write(project / "p.toml", text)
    with pytest.raises(PresetError) as caught:
        compile_preset(load_preset(path), target)
    assert [located(d) for d in caught.value.diagnostics] == [
        f"{where}: error: target {target} carries only translation sessions "
        f'(type = "translation"), and this is {kind}'
    ]


# --- checks at the key -----------------------------------------------------------------


def validate(*args: str) -> tuple[int, str, str]:
    return run_cli("validate", "-q", *args)


def test_keys_of_the_other_dialects_say_what_a_translation_session_has(project: Path) -> None:
    write(
        project / "t.toml",
        'type = "translation"\nmodel = "gpt-realtime-translate"\ninstructions = "Hi"\n'
        'voice = "ash"\ntools = []\n\n[audio.input]\nturn_detection = false\n',
    )
    has = (
        "which has model, audio.input.transcription, audio.input.noise_reduction and "
        "audio.output.language"
    )
    assert validate("t.toml") == (
        1,
        f"t.toml:3:1: error: `instructions` is not part of a translation session, {has}\n"
        f"t.toml:4:1: error: `voice` is not part of a translation session, {has}\n"
        f"t.toml:5:1: error: `tools` is not part of a translation session, {has}\n"
        f"t.toml:8:1: error: `audio.input.turn_detection` is not part of a translation "
        f"session, {has}\n",
        "1 preset checked: 4 error(s), 0 warning(s)\n",
    )


def test_model_is_required_to_create_a_session_and_an_unknown_language_warns(
    project: Path,
) -> None:
    write(project / "t.toml", 'type = "translation"\naudio.output.language = "dee"\n')
    assert validate("t.toml") == (
        1,
        "t.toml:1:8: error: target translations.client_secrets creates a translation "
        "session, which needs `model`\n"
        "t.toml:2:25: warning: audio.output.language `dee` is not a known translation output "
        "language; did you mean `de`?\n",
        "1 preset checked: 1 error(s), 1 warning(s)\n",
    )
    # An update event cannot carry a model: the same preset is fine for it.
    assert validate("--target", "translations.session.update", "t.toml") == (
        0,
        "t.toml:2:25: warning: audio.output.language `dee` is not a known translation output "
        "language; did you mean `de`?\n",
        "1 preset checked: 0 error(s), 1 warning(s)\n",
    )


def test_a_deprecated_source_transcription_model_warns(project: Path) -> None:
    write(
        project / "t.toml",
        'type = "translation"\nmodel = "gpt-realtime-translate"\n'
        'audio.input.transcription = { model = "whisper-1" }\n',
    )
    assert validate("t.toml") == (
        0,
        "t.toml:3:39: warning: audio.input.transcription.model `whisper-1` is deprecated and "
        "shuts down on 2027-02-26; use `gpt-live-transcribe`\n",
        "1 preset checked: 0 error(s), 1 warning(s)\n",
    )


# --- import, new, explain -----------------------------------------------------------------


RESPONSE = {
    "value": "ek_68af296e8e408191a1120ab6383263c2",
    "expires_at": 1756310470,
    "session": {
        "id": "sess_C9CiUVUzUzYIssh3ELY1d",
        "type": "translation",
        "expires_at": 1756310470,
        "model": "gpt-realtime-translate",
        "audio": {
            "input": {"transcription": None, "noise_reduction": None},
            "output": {"language": "es"},
        },
    },
}
"""The official example of a translation client secret response."""


def test_import_reads_a_translation_response() -> None:
    imported = import_payload(RESPONSE)
    assert imported.dialect == "translation"
    assert imported.table == {
        "type": "translation",
        "model": "gpt-realtime-translate",
        "audio": {
            "input": {"transcription": False, "noise_reduction": False},
            "output": {"language": "es"},
        },
    }
    assert imported.dropped == ("value", "expires_at", "session.id", "session.expires_at")


def test_import_reads_the_body_it_compiles_back_to_the_same_json() -> None:
    body = compile_preset(load_preset(INTERPRETER))
    imported = import_payload(body)
    assert imported.dialect == "translation"
    assert imported.text.splitlines()[1:3] == [
        'type = "translation"',
        'model = "gpt-realtime-translate"',
    ]
    assert compile_preset(imported.table) == body


def test_import_reads_a_translation_update_event() -> None:
    event = {
        "type": "session.update",
        "event_id": "evt_1",
        "session": {"audio": {"output": {"language": "es"}}},
    }
    imported = import_payload(event)
    assert imported.table == {"type": "translation", "audio": {"output": {"language": "es"}}}
    assert imported.dropped == ("event_id",)
    assert compile_preset(imported.table, "translations.session.update") == {
        k: v for k, v in event.items() if k != "event_id"
    }


def test_a_typeless_session_is_translation_only_if_its_keys_fit() -> None:
    with pytest.raises(PresetError) as caught:
        import_payload({"session": {"model": "gpt-realtime-2", "instructions": "Hi"}})
    assert "a client_secrets session needs its type" in str(caught.value)
    # A client_secrets body has no beta form: a typeless session that fits is translation.
    assert import_payload({"session": {"model": "acme-translate"}}).table == {
        "type": "translation",
        "model": "acme-translate",
    }
    # An event may be beta: there a translation key or model must say so.
    assert import_payload({"type": "session.update", "session": {"model": "m"}}).dialect == "beta"


def test_new_translation_writes_a_starter_that_validates(project: Path) -> None:
    assert run_cli("new", "--translation", "interp") == (
        0,
        "created schema/realtime-session.schema.json\ncreated presets/interp.toml\n",
        "",
    )
    text = (project / "presets" / "interp.toml").read_text("utf-8")
    assert text.splitlines()[3:5] == ['type = "translation"', 'model = "gpt-realtime-translate"']
    assert "# audio.output.language = " in text
    assert "instructions" not in text
    assert validate("presets/interp.toml") == (0, "", "")


def test_explain_covers_the_translation_fields() -> None:
    code, out, _ = run_cli("explain", "audio.output.language")
    assert code == 0
    assert out.splitlines()[:2] == [
        "audio.output.language",
        "  in:          translation sessions (GA presets)",
    ]
    assert "beta name:   none: a translation session has no beta form" in out
    code, out, _ = run_cli("explain", "--dialect", "translation", "type")
    assert "emission:    never sent: it picks the dialect; the request has no type" in out


# --- minting -------------------------------------------------------------------------------


def test_submit_mints_a_translation_secret(api: FakeAPI, clean_env: None) -> None:
    with RealtimeClient(api_key=api.api_key, base_url=api.base_url, max_retries=0) as client:
        created = client.create_secret(load_preset(INTERPRETER))
    assert created.target == "translations.client_secrets"
    assert created.client_secret.value == SECRET
    (request,) = api.requests
    assert request.path == "/v1/realtime/translations/client_secrets"
    assert request.json() == compile_preset(load_preset(INTERPRETER))
    assert created.session["type"] == "translation"


def test_the_cli_submits_a_translation_preset(
    api: FakeAPI, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", api.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    code, out, err = run_cli("submit", str(INTERPRETER))
    assert (code, err) == (0, "")
    assert json.loads(out)["target"] == "translations.client_secrets"
    assert [r.path for r in api.requests] == ["/v1/realtime/translations/client_secrets"]


def test_serve_mints_a_translation_secret(
    api: FakeAPI, clean_env: None, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    import httpx

    from realtime_config import create_app
    from tests.serving import serving

    write(project / "presets" / "interpreter.toml", INTERPRETER.read_text("utf-8"))
    monkeypatch.setenv("OPENAI_API_KEY", api.api_key)
    app = create_app(root=project, base_url=api.base_url)
    assert [p.listing() for p in app.state.presets] == [
        {
            "name": "interpreter",
            "description": "Help-desk interpreter: the caller's speech, translated into German "
            "for the agent",
            "target": "translations.client_secrets",
            "calls": False,  # a translation session places no WebRTC call through /calls
        }
    ]
    with serving(app) as (host, port):
        answer = httpx.post(f"http://{host}:{port}/sessions/interpreter", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["value"] == SECRET
    assert [r.path for r in api.requests] == ["/v1/realtime/translations/client_secrets"]
    assert api.api_key not in answer.text
