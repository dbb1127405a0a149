"""GA presets: every key of the live API, compiled exactly, and the laws that tie the dialects.

The official request schema (closed, so that an unknown key is rejected) judges every GA
body: the shipped presets', one that sets every key of the API, and any that hypothesis
draws from the schema's GA branch.
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

from realtime_config import (
    TARGETS,
    AcceptedCall,
    PresetError,
    RealtimeClient,
    compile_preset,
    dumps_payload,
    load_preset,
)
from realtime_config.cli import main
from tests.conftest import PROJECT, write
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI, serve
from tests.strategies import ga_session_tables, session_tables
from tests.test_targets import official_errors, official_schema

EVERY_KEY = sorted((PROJECT / "tests" / "cases" / "ga").glob("every-key*.toml"))
"""Presets that together set every key of the GA realtime session (some keys exclude others)."""
PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def official_definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = official_schema()["$defs"]
    return definitions


def official_orders(node: Any, value: Any, path: str = "") -> list[str]:
    """Each object of ``value`` whose keys stray from the order of the official schema node
    (through references and the matching alternative of each union)."""
    definitions = official_definitions()
    while isinstance(node, dict) and "$ref" in node:
        node = {
            **definitions[node["$ref"].rsplit("/", 1)[-1]],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    if not isinstance(node, dict):
        return []
    for union in ("oneOf", "anyOf"):
        if union in node:
            strays = [official_orders(branch, value, path) for branch in node[union]]
            fitting = [s for s in strays if s != ["no match"]]
            return min(fitting, key=len) if fitting else ["no match"]
    if isinstance(value, dict) and "properties" in node:
        if not set(value) <= set(node["properties"]):
            return ["no match"]
        kind = node["properties"].get("type", {})
        allowed = kind.get("enum") or ([kind["const"]] if "const" in kind else None)
        if allowed and "type" in value and value["type"] not in allowed:
            return ["no match"]
        order = [key for key in node["properties"] if key in value]
        strays = [] if list(value) == order else [path or "(top)"]
        for key, item in value.items():
            strays += official_orders(node["properties"][key], item, f"{path}.{key}")
        return strays
    if isinstance(value, list) and "items" in node:
        return [s for i, item in enumerate(value) for s in official_orders(node["items"], item)]
    return []


def request_node() -> dict[str, Any]:
    return {"$ref": "#/$defs/RealtimeCreateClientSecretRequest"}


def session_node(kind: str) -> dict[str, Any]:
    name = (
        "RealtimeSessionCreateRequestGA"
        if kind == "realtime"
        else "RealtimeTranscriptionSessionCreateRequestGA"
    )
    return {"$ref": f"#/$defs/{name}"}


def without_nulls(value: Any) -> Any:
    """``value`` without its nulls, and without the tables only nulls were in."""
    if isinstance(value, dict):
        kept = {k: without_nulls(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v != {} or value[k] == {}}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


# --- every key of the official request --------------------------------------------------


def official_keys(node: Any, path: str = "") -> set[str]:
    """Every property path of the official GA session schemas (``tools[].server_url``)."""
    definitions = official_definitions()
    found: set[str] = set()
    stack = [(node, path)]
    seen: set[str] = set()
    while stack:
        current, where = stack.pop()
        if not isinstance(current, dict):
            continue
        if "$ref" in current:
            name = current["$ref"].rsplit("/", 1)[-1]
            if (name, where) not in seen:
                seen.add((name, where))  # type: ignore[arg-type]
                stack.append((definitions[name], where))
        for union in ("oneOf", "anyOf", "allOf"):
            stack.extend((branch, where) for branch in current.get(union, ()))
        for key, child in current.get("properties", {}).items():
            full = f"{where}.{key}" if where else key
            found.add(full)
            stack.append((child, full))
        if isinstance(current.get("items"), dict):
            stack.append((current["items"], f"{where}[]"))
        if isinstance(current.get("additionalProperties"), dict) and where.endswith("variables"):
            stack.append((current["additionalProperties"], f"{where}.*"))
    return found


def written_keys(value: Any, path: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            full = f"{path}.{key}" if path else key
            found.add(full)
            found |= written_keys(item, full)
    elif isinstance(value, list):
        for item in value:
            found |= written_keys(item, f"{path}[]")
    return found


def test_presets_set_every_key_of_the_official_request() -> None:
    assert [p.stem for p in EVERY_KEY] == ["every-key-semantic", "every-key-whisper", "every-key"]
    sent: set[str] = set()
    for path in EVERY_KEY:
        body = compile_preset(load_preset(path), "client_secrets")
        assert official_errors(body) == [], path
        assert official_orders(request_node(), body) == [], path
        sent |= written_keys(body["session"])
        assert "expires_after" not in body["session"]
    session_keys = official_keys(session_node("realtime"))
    variables = {k for k in session_keys if k.startswith("prompt.variables.*.")}
    assert session_keys - variables - sent == set()
    written_variables = {
        f"prompt.variables.*.{key.split('.', 3)[3]}"
        for key in sent
        if key.startswith("prompt.variables.") and key.count(".") >= 3
    }
    assert variables - written_variables == set()
    first = compile_preset(load_preset(EVERY_KEY[-1]), "client_secrets")
    assert {"expires_after.anchor", "expires_after.seconds"} <= written_keys(first)


def test_every_key_of_a_transcription_session_can_be_written(project: Path) -> None:
    text = """type = "transcription"
include = ["item.input_audio_transcription.logprobs"]

[audio.input]
format = { type = "audio/pcmu" }
noise_reduction = { type = "far_field", strength = 0.4 }
turn_detection = { type = "server_vad", threshold = 0.4, prefix_padding_ms = 200, silence_duration_ms = 300, create_response = true, interrupt_response = true, idle_timeout_ms = 6000 }

[audio.input.transcription]
model = "gpt-live-transcribe"
language = "en"
languages = ["en", "fr"]
keywords = ["Acme"]
prompt = "Rail words."

[expires_after]
anchor = "created_at"
seconds = 120
"""
    body = compile_preset(load_preset(write(project / "t.toml", text)))
    assert official_errors(body) == []
    assert official_orders(request_node(), body) == []
    # What one transcription session cannot hold beside these: semantic VAD's eagerness, the
    # delay of gpt-realtime-whisper (which needs turn detection off), the rate of pcm.
    assert official_keys(session_node("transcription")) - written_keys(body["session"]) == {
        "audio.input.turn_detection.eagerness",
        "audio.input.transcription.delay",
        "audio.input.format.rate",
    }


# --- DESIGN 2a, exactly ------------------------------------------------------------------


SWITCHED_OFF = """type = "realtime"
tracing = false

[audio.input]
turn_detection = false
noise_reduction = false
"""


def test_design_worked_example_bytes(project: Path) -> None:
    preset = load_preset(write(project / "off.toml", SWITCHED_OFF))
    assert dumps_payload(compile_preset(preset, "client_secrets"), compact=True) == (
        '{"session":{"type":"realtime","audio":{"input":{"turn_detection":null}}}}'
    )
    assert dumps_payload(compile_preset(preset, "session.update"), compact=True) == (
        '{"type":"session.update","session":{"type":"realtime","audio":{"input":'
        '{"noise_reduction":null,"turn_detection":null}},"tracing":null}}'
    )


DESIGN_EXAMPLE = """type = "realtime"
model = "gpt-realtime-2.1"
instructions = "You are Ada, a concise support agent for Acme Rail."
tool_choice = "auto"
max_output_tokens = "inf"

[audio.input]
noise_reduction = { type = "near_field" }
transcription = { model = "gpt-live-transcribe", languages = ["en", "de"] }

[audio.input.turn_detection]
type = "server_vad"
silence_duration_ms = 400
idle_timeout_ms = 15000

[audio.output]
voice = "marin"
format = { type = "audio/pcmu" }

[reasoning]
effort = "low"

[[tools]]
type = "mcp"
server_label = "bookings"
server_url = "https://mcp.acme-rail.example/sse"
require_approval = "never"

[expires_after]
seconds = 900
"""


def test_design_example_compiles_in_the_official_order_with_nothing_added(project: Path) -> None:
    body = compile_preset(load_preset(write(project / "ada.toml", DESIGN_EXAMPLE)))
    assert official_errors(body) == []
    assert body == {
        "expires_after": {"anchor": "created_at", "seconds": 900},
        "session": {
            "type": "realtime",
            "model": "gpt-realtime-2.1",
            "instructions": "You are Ada, a concise support agent for Acme Rail.",
            "audio": {
                "input": {
                    "transcription": {"model": "gpt-live-transcribe", "languages": ["en", "de"]},
                    "noise_reduction": {"type": "near_field"},
                    "turn_detection": {
                        "type": "server_vad",
                        "silence_duration_ms": 400,
                        "idle_timeout_ms": 15000,
                    },
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"},
            },
            "tools": [
                {
                    "type": "mcp",
                    "server_label": "bookings",
                    "server_url": "https://mcp.acme-rail.example/sse",
                    "require_approval": "never",
                }
            ],
            "tool_choice": "auto",
            "reasoning": {"effort": "low"},
            "max_output_tokens": "inf",
        },
    }
    assert official_orders(request_node(), body) == []


def test_an_explicit_default_is_sent_as_written(project: Path) -> None:
    text = 'type = "realtime"\naudio.input.format = { type = "audio/pcm", rate = 24000 }\n'
    body = compile_preset(load_preset(write(project / "p.toml", text)))
    assert body["session"]["audio"] == {"input": {"format": {"type": "audio/pcm", "rate": 24000}}}


def test_expires_after_is_only_in_client_secrets(project: Path) -> None:
    preset = load_preset(
        write(project / "p.toml", 'type = "realtime"\nexpires_after.seconds = 60\n')
    )
    assert compile_preset(preset, "client_secrets")["expires_after"] == {
        "anchor": "created_at",
        "seconds": 60,
    }
    for target in ("session.update", "calls.accept"):
        assert "expires_after" not in json.dumps(compile_preset(preset, target))
    assert "expires_after" not in compile_preset(preset, "client_secrets")["session"]


def test_an_empty_expires_after_table_sends_nothing(project: Path) -> None:
    preset = load_preset(write(project / "p.toml", 'type = "realtime"\n[expires_after]\n'))
    assert compile_preset(preset) == {"session": {"type": "realtime"}}


def test_a_child_completes_its_tables_from_its_ga_base(project: Path) -> None:
    write(
        project / "base.toml",
        'type = "realtime"\n[audio.input.turn_detection]\ntype = "semantic_vad"\n',
    )
    child = write(
        project / "child.toml",
        'preset.extends = "base.toml"\n[audio.input.turn_detection]\neagerness = "high"\n',
    )
    preset = load_preset(child)
    assert preset.dialect == "realtime"
    assert compile_preset(preset)["session"]["audio"] == {
        "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}
    }


def test_a_merged_table_is_checked_where_its_keys_were_written(project: Path) -> None:
    write(
        project / "base.toml", 'type = "realtime"\naudio.input.turn_detection.type = "server_vad"\n'
    )
    child = write(
        project / "child.toml",
        'preset.extends = "base.toml"\n[audio.input.turn_detection]\neagerness = "high"\n',
    )
    with pytest.raises(PresetError) as raised:
        load_preset(child)
    assert str(raised.value) == (
        "child.toml:3:1: error: audio.input.turn_detection.eagerness applies only to "
        "semantic_vad, but audio.input.turn_detection.type is server_vad"
    )


def test_a_transcription_preset_is_not_a_billable_realtime_session(project: Path) -> None:
    preset = load_preset(write(project / "t.toml", 'type = "transcription"\n'))
    assert compile_preset(preset) == {"session": {"type": "transcription"}}
    for name, target in TARGETS.items():
        if target.transcription:
            continue
        with pytest.raises(PresetError) as raised:
            compile_preset(preset, name, drop_unsupported=True)
        if target.speaks == "translation":
            assert str(raised.value) == (
                f"t.toml:1:8: error: target {name} carries only translation sessions "
                '(type = "translation"), and this is a transcription session '
                '(type = "transcription")'
            )
            continue
        assert str(raised.value) == (
            f"t.toml:1:8: error: target {name} cannot carry a transcription session "
            '(type = "transcription"); compile it for client_secrets or session.update'
        )


# --- laws, over presets drawn from the schema --------------------------------------------


@PROPERTIES
@given(ga_session_tables("realtime") | ga_session_tables("transcription"))
def test_every_ga_preset_compiles_to_bodies_the_official_schema_accepts(
    table: dict[str, Any],
) -> None:
    body = compile_preset(table, "client_secrets")
    assert official_errors(body) == []
    assert official_orders(request_node(), body) == []
    kind = table["type"]
    event = compile_preset(table, "session.update")
    assert list(event) == ["type", "session"]
    assert event["session"]["type"] == kind
    assert official_errors({"session": without_nulls(event["session"])}) == []
    assert without_nulls(event["session"]) == without_nulls(body["session"])
    if kind == "realtime":
        accepted = compile_preset(table, "calls.accept")
        assert accepted == body["session"]


@PROPERTIES
@given(ga_session_tables("realtime"))
def test_the_beta_targets_refuse_exactly_what_beta_lacks(table: dict[str, Any]) -> None:
    try:
        strict = compile_preset(table, "sessions")
    except PresetError as error:
        assert {d.rule for d in error.diagnostics} == {"target-unsupported"}
        dropped = compile_preset(table, "sessions", drop_unsupported=True)
        assert "temperature" not in dropped
        return
    assert strict == compile_preset(table, "sessions", drop_unsupported=True)


def nulls_to_false(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: False if v is None else nulls_to_false(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nulls_to_false(v) for v in value]
    return value


def with_switched_off(created: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``created`` with each null of ``update`` written as false, table by table."""
    merged = dict(created)
    for key, value in update.items():
        if value is None:
            merged[key] = False
        elif isinstance(value, dict) and isinstance(created.get(key), dict):
            merged[key] = with_switched_off(created[key], value)
        elif isinstance(value, dict):
            inner = with_switched_off({}, value)
            if inner:
                merged[key] = inner
    return merged


def equivalent_ga_preset(beta: Mapping[str, Any]) -> dict[str, Any]:
    """The GA preset that says what a beta preset says: its GA event, nulls as false."""
    secrets = compile_preset(beta, "client_secrets")
    # The created session, plus what the update switches off (an update adds no default).
    table: dict[str, Any] = with_switched_off(
        secrets["session"], compile_preset(beta, "session.update")["session"]
    )
    if "expires_after" in secrets:
        table["expires_after"] = secrets["expires_after"]
    return table


@PROPERTIES
@given(session_tables())
def test_sessions_of_a_ga_preset_is_the_payload_of_its_beta_equivalent(
    beta: dict[str, Any],
) -> None:
    assume("temperature" not in beta)
    # GA keeps one output modality: ["audio"] and ["text", "audio"] read back as the default.
    assume(beta.get("modalities") in (None, ["audio", "text"], ["text"]))
    # gpt-realtime-whisper with a transcription prompt is a beta preset no GA preset can say.
    transcription = beta.get("input_audio_transcription")
    whisper = (
        isinstance(transcription, dict) and transcription.get("model") == "gpt-realtime-whisper"
    )
    assume(not whisper or "prompt" not in transcription)  # type: ignore[operator]
    ga = equivalent_ga_preset(beta)
    assert compile_preset(ga, "sessions") == compile_preset(beta, "sessions")
    assert compile_preset(ga, "client_secrets") == compile_preset(beta, "client_secrets")
    # An update sends what is written: the GA preset writes what the beta one leaves to its
    # creation defaults (["audio"] output, a pcm16 format left out), so only the switches agree.
    assert switches(compile_preset(ga, "session.update")) == switches(
        compile_preset(beta, "session.update")
    )


def switches(node: Any) -> Any:
    """The nulls of an event, at their paths."""
    if isinstance(node, dict):
        found = {k: switches(v) for k, v in node.items() if v is None or isinstance(v, dict)}
        return {k: v for k, v in found.items() if v != {}}
    return node


# --- submitting GA presets ---------------------------------------------------------------


def test_ga_presets_submit_to_client_secrets_by_default(tmp_path: Path) -> None:
    with serve() as api:
        with RealtimeClient(api_key=CANARY_KEY, base_url=api.base_url) as client:
            created = client.create_secret(load_preset(PROJECT / "presets" / "assistant.toml"))
        [request] = api.requests
        assert request.path == "/v1/realtime/client_secrets"
        assert created.client_secret.value == SECRET
        assert created.session["type"] == "realtime"


def test_a_transcription_secret_comes_back_typed(tmp_path: Path) -> None:
    with serve() as api:
        with RealtimeClient(api_key=CANARY_KEY, base_url=api.base_url) as client:
            created = client.create_secret(load_preset(PROJECT / "presets" / "transcription.toml"))
        assert (created.target, created.session["type"]) == ("client_secrets", "transcription")
        assert created.client_secret.expires_at == EXPIRES_AT


def test_calls_accept_posts_the_session_to_the_call(api_server: FakeAPI) -> None:
    preset = load_preset(PROJECT / "presets" / "phone-agent.toml")
    with RealtimeClient(api_key=CANARY_KEY, base_url=api_server.base_url) as client:
        accepted = client.accept_call(preset, call_id="rtc_abc123")
    [request] = api_server.requests
    assert request.path == "/v1/realtime/calls/rtc_abc123/accept"
    assert (
        request.body == dumps_payload(compile_preset(preset, "calls.accept"), compact=True).encode()
    )
    assert isinstance(accepted, AcceptedCall)
    assert accepted.to_dict() == {
        "target": "calls.accept",
        "accepted": True,
        "request_id": "req_fake_123",
    }


def test_a_call_id_cannot_change_the_request_path(api_server: FakeAPI) -> None:
    preset = load_preset(PROJECT / "presets" / "phone-agent.toml")
    with RealtimeClient(api_key=CANARY_KEY, base_url=api_server.base_url) as client:
        for bad in ("../sessions", "rtc/1", "rtc?x=1", ""):
            with pytest.raises(Exception) as raised:
                client.accept_call(preset, call_id=bad)
            assert type(raised.value).__name__ == "ClientConfigError", bad
    assert api_server.requests == []


def test_cli_submit_call_id_accepts_the_call(
    api_server: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", api_server.base_url)
    result = CliRunner().invoke(
        main, ["submit", "presets/phone-agent.toml", "--call-id", "rtc_abc123", "--format", "text"]
    )
    assert (result.exit_code, result.stdout, result.stderr) == (0, "call accepted\n", "")
    assert [r.path for r in api_server.requests] == ["/v1/realtime/calls/rtc_abc123/accept"]
    wrong = CliRunner().invoke(
        main, ["submit", "presets/phone-agent.toml", "--call-id", "x", "-t", "sessions"]
    )
    assert wrong.exit_code == 2
    assert "--call-id goes with --target calls.accept, not sessions" in wrong.stderr


@pytest.fixture
def api_server() -> Any:
    with serve() as api:
        yield api
