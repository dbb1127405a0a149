"""One test per emission rule of DESIGN section 3, through TOML text as a user writes it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from realtime_config import PresetError, compile_preset, dumps_payload, load_preset, load_schema
from tests.conftest import DESIGN_KEY_ORDER, write


def compiled(project: Path, text: str) -> dict[str, Any]:
    return compile_preset(load_preset(write(project / "p.toml", text)))


def test_top_level_key_order_is_designs(project: Path) -> None:
    preset = """
client_secret.expires_after.seconds = 60
tracing = "auto"
speed = 1.0
max_response_output_tokens = 10
temperature = 0.9
tool_choice = "required"
tools = [{ name = "f" }]
turn_detection = { type = "server_vad" }
input_audio_noise_reduction = { type = "far_field" }
input_audio_transcription = { model = "gpt-live-transcribe" }
output_audio_format = "g711_alaw"
input_audio_format = "g711_ulaw"
voice = "ash"
instructions = "x"
modalities = ["text", "audio"]
model = "gpt-realtime-1.5"
"""
    assert list(compiled(project, preset)) == DESIGN_KEY_ORDER


def test_empty_preset_compiles_to_default_modalities(project: Path) -> None:
    assert compiled(project, "") == {"modalities": ["audio", "text"]}


def test_modalities_are_emitted_in_the_order_written(project: Path) -> None:
    assert compiled(project, 'modalities = ["text", "audio"]') == {"modalities": ["text", "audio"]}


@pytest.mark.parametrize("key", ["input_audio_format", "output_audio_format"])
def test_pcm16_formats_are_omitted_and_others_kept(project: Path, key: str) -> None:
    assert key not in compiled(project, f'{key} = "pcm16"')
    assert compiled(project, f'{key} = "g711_alaw"')[key] == "g711_alaw"


def test_turn_detection_type_is_always_emitted_first(project: Path) -> None:
    payload = compiled(project, "[turn_detection]\ninterrupt_response = false\nthreshold = 0.3\n")
    assert json.dumps(payload["turn_detection"]) == (
        '{"type": "server_vad", "threshold": 0.3, "interrupt_response": false}'
    )
    payload = compiled(project, '[turn_detection]\neagerness = "low"\ntype = "semantic_vad"\n')
    assert list(payload["turn_detection"].items()) == [
        ("type", "semantic_vad"),
        ("eagerness", "low"),
    ]


def test_turn_detection_full_key_order(project: Path) -> None:
    payload = compiled(
        project,
        "[turn_detection]\ninterrupt_response = true\ncreate_response = true\n"
        "silence_duration_ms = 1\nprefix_padding_ms = 2\nthreshold = 0.1\ntype = 'server_vad'\n",
    )
    assert list(payload["turn_detection"]) == [
        "type",
        "threshold",
        "prefix_padding_ms",
        "silence_duration_ms",
        "create_response",
        "interrupt_response",
    ]


def test_transcription_keys_in_order_model_language_prompt(project: Path) -> None:
    payload = compiled(
        project,
        '[input_audio_transcription]\nprompt = "p"\nlanguage = "de"\nmodel = "gpt-live-transcribe"\n',
    )
    assert list(payload["input_audio_transcription"]) == ["model", "language", "prompt"]


def test_tool_type_always_emitted_and_keys_ordered(project: Path) -> None:
    payload = compiled(
        project,
        '[[tools]]\ndescription = "d"\nparameters = { type = "object" }\nname = "f"\n'
        '[[tools]]\nname = "g"\ntype = "function"\n',
    )
    assert payload["tools"] == [
        {"type": "function", "name": "f", "parameters": {"type": "object"}, "description": "d"},
        {"type": "function", "name": "g"},
    ]
    assert list(payload["tools"][0]) == ["type", "name", "parameters", "description"]


def test_parameters_are_copied_verbatim_in_written_order(project: Path) -> None:
    payload = compiled(
        project,
        "[[tools]]\nname = 'f'\n[tools.parameters]\nadditionalProperties = false\n"
        "type = 'object'\nproperties.z = { type = 'number', minimum = 0.0 }\nproperties.a = {}\n",
    )
    parameters = payload["tools"][0]["parameters"]
    assert json.dumps(parameters) == (
        '{"additionalProperties": false, "type": "object", '
        '"properties": {"z": {"type": "number", "minimum": 0.0}, "a": {}}}'
    )


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_tool_choice_strings(project: Path, choice: str) -> None:
    assert compiled(project, f'tool_choice = "{choice}"')["tool_choice"] == choice


def test_tool_choice_function_is_emitted_type_then_name(project: Path) -> None:
    payload = compiled(
        project, 'tool_choice = { name = "f", type = "function" }\n[[tools]]\nname = "f"\n'
    )
    assert list(payload["tool_choice"].items()) == [("type", "function"), ("name", "f")]


def test_tracing_auto_and_table_order(project: Path) -> None:
    assert compiled(project, 'tracing = "auto"')["tracing"] == "auto"
    payload = compiled(
        project,
        '[tracing]\nmetadata = { b = 1, a = false }\ngroup_id = "g"\nworkflow_name = "w"\n',
    )
    assert json.dumps(payload["tracing"]) == (
        '{"workflow_name": "w", "group_id": "g", "metadata": {"b": 1, "a": false}}'
    )


def test_empty_tracing_table_is_sent_as_an_empty_object(project: Path) -> None:
    assert compiled(project, "tracing = {}")["tracing"] == {}


def test_client_secret_anchor_defaults_to_created_at(project: Path) -> None:
    payload = compiled(project, "client_secret.expires_after.seconds = 900")
    assert json.dumps(payload["client_secret"]) == (
        '{"expires_after": {"anchor": "created_at", "seconds": 900}}'
    )


def test_client_secret_anchor_alone_is_emitted(project: Path) -> None:
    payload = compiled(project, 'client_secret.expires_after.anchor = "created_at"')
    assert payload["client_secret"] == {"expires_after": {"anchor": "created_at"}}


@pytest.mark.parametrize("text", ["client_secret = {}", "client_secret.expires_after = {}"])
def test_client_secret_without_a_key_is_not_emitted(project: Path, text: str) -> None:
    assert "client_secret" not in compiled(project, text)


@pytest.mark.parametrize(
    "key", ["input_audio_transcription", "input_audio_noise_reduction", "turn_detection", "tracing"]
)
def test_false_on_a_nullable_field_is_sent_as_null(project: Path, key: str) -> None:
    payload = compiled(project, f"{key} = false")
    assert key in payload
    assert payload[key] is None
    assert f'"{key}": null' in dumps_payload(payload)


def test_integers_stay_integers_and_floats_stay_floats(project: Path) -> None:
    text = dumps_payload(
        compiled(project, "temperature = 1\nspeed = 1.0\nmax_response_output_tokens = 4096\n"),
        compact=True,
    )
    assert text == (
        '{"modalities":["audio","text"],"temperature":1,'
        '"max_response_output_tokens":4096,"speed":1.0}'
    )


def test_max_response_output_tokens_inf(project: Path) -> None:
    assert (
        compiled(project, 'max_response_output_tokens = "inf"')["max_response_output_tokens"]
        == "inf"
    )


def test_compact_output_is_exactly_the_wire_bytes(project: Path) -> None:
    payload = compiled(project, 'instructions = "Grüße, ☃"\nturn_detection = false\n')
    assert dumps_payload(payload, compact=True) == (
        '{"modalities":["audio","text"],"instructions":"Grüße, ☃","turn_detection":null}'
    )
    assert dumps_payload(payload).endswith("}\n")
    assert '"Grüße, ☃"' in dumps_payload(payload)


def test_the_same_preset_always_gives_the_same_bytes(project: Path) -> None:
    first = dumps_payload(compiled(project, "[turn_detection]\nthreshold = 0.7\n"))
    second = dumps_payload(compiled(project, "[turn_detection]\nthreshold = 0.7\n"))
    assert first == second


def test_compile_does_not_mutate_its_input(project: Path) -> None:
    preset = load_preset(write(project / "p.toml", "[tracing]\nmetadata = { a = [1, 2] }\n"))
    before = copy.deepcopy(dict(preset.session))
    payload = compile_preset(preset)
    payload["tracing"]["metadata"]["a"].append(3)
    assert dict(preset.session) == before


def test_compile_a_mapping_checks_it_first() -> None:
    assert compile_preset({"voice": "ash"}) == {"modalities": ["audio", "text"], "voice": "ash"}
    with pytest.raises(PresetError) as caught:
        compile_preset({"temperature": 3.0})
    assert str(caught.value) == (
        "<session>:1:1: error: temperature: 3.0 is greater than the maximum of 1.2 "
        "(allowed: 0.6 to 1.2)"
    )


def test_compile_a_mapping_runs_the_cross_field_checks_too() -> None:
    with pytest.raises(PresetError) as caught:
        compile_preset({"tool_choice": {"type": "function", "name": "nope"}})
    assert str(caught.value) == (
        '<session>:1:1: error: tool_choice names the function "nope", but `tools` defines '
        "no function"
    )


def test_beta_session_update_target_drops_client_secret(project: Path) -> None:
    preset = load_preset(
        write(project / "p.toml", "voice = 'ash'\nclient_secret.expires_after.seconds = 60\n")
    )
    assert compile_preset(preset, "beta.session.update") == {
        "type": "session.update",
        "session": {"voice": "ash"},
    }


def test_every_schema_field_has_an_emission_order() -> None:
    """x-order lists exactly the properties of every closed object in the schema."""
    seen = 0
    stack: list[Any] = [load_schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            closed = node.get("additionalProperties") is False and node.get("x-emit") != "never"
            if "properties" in node and closed:
                order = node.get("x-order", [])
                outside = node.get("x-outside-session", [])
                names = [
                    k
                    for k in node["properties"]
                    if node["properties"][k].get("x-emit") != "never" and k not in outside
                ]
                # a key never sent (a translation preset's type) may be placed for writers
                placed = [k for k in order if node["properties"][k].get("x-emit") != "never"]
                assert sorted(placed) == sorted(names)
                seen += 1
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert seen >= 8
