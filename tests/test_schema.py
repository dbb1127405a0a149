"""The schema itself: valid draft 2020-12, complete, and consistent with the reference."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from realtime_config import TARGETS, load_schema, schema_path

# The schema's own helpers ($ref resolution, its validator alone, without the cross-field
# checks a public call adds, a union's branch, its known values): no public call isolates them.
from realtime_config._schema import branch_of_type, field_schema, known_values, resolve, validator
from tests.conftest import DESIGN_KEY_ORDER, PROJECT


def all_nodes(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def test_schema_is_valid_against_its_metaschema() -> None:
    schema = json.loads((PROJECT / "schema" / "realtime-session.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_package_reads_the_published_schema_file() -> None:
    published = (PROJECT / "schema" / "realtime-session.schema.json").read_bytes()
    assert schema_path().read_bytes() == published


def test_top_level_covers_every_request_field_in_design_order() -> None:
    schema = load_schema()["$defs"]["beta"]
    assert schema["x-order"] == DESIGN_KEY_ORDER
    assert list(schema["properties"]) == [*DESIGN_KEY_ORDER, "preset"]
    assert schema["additionalProperties"] is False


def test_every_property_has_a_description() -> None:
    missing = [
        name
        for node in all_nodes(load_schema()["$defs"])
        for name, field in node.get("properties", {}).items()
        if isinstance(field, dict) and "description" not in field
    ]
    assert missing == []


def test_every_default_is_itself_a_valid_value() -> None:
    checked = 0
    for node in all_nodes(load_schema()):
        for field in node.get("properties", {}).values():
            if isinstance(field, dict) and "default" in field:
                subschema = dict(resolve(field))
                subschema["$defs"] = load_schema()["$defs"]
                Draft202012Validator(subschema).validate(field["default"])
                checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    ("path", "low", "high"),
    [
        (("temperature",), 0.6, 1.2),
        (("speed",), 0.25, 1.5),
        (("turn_detection", "threshold"), 0.0, 1.0),
        (("client_secret", "expires_after", "seconds"), 10, 7200),
    ],
)
def test_ranges_from_the_reference(path: tuple[str, ...], low: float, high: float) -> None:
    node = field_schema(path)
    assert node is not None
    number = branch_of_type(node, "number") or branch_of_type(node, "integer")
    assert number is not None
    assert (number["minimum"], number["maximum"]) == (low, high)


@pytest.mark.parametrize(
    "key", ["input_audio_transcription", "input_audio_noise_reduction", "turn_detection", "tracing"]
)
def test_exactly_four_fields_accept_false(key: str) -> None:
    assert validator().is_valid({key: False})
    nullable = [
        k
        for k, v in load_schema()["$defs"]["beta"]["properties"].items()
        if v.get("x-null-when-false")
    ]
    assert nullable == [
        "input_audio_transcription",
        "input_audio_noise_reduction",
        "turn_detection",
        "tracing",
    ]


@pytest.mark.parametrize("key", ["voice", "tools", "temperature", "modalities", "client_secret"])
def test_false_elsewhere_is_invalid(key: str) -> None:
    assert not validator().is_valid({key: False})


def test_open_strings_accept_any_string_and_list_known_values() -> None:
    assert validator().is_valid({"model": "my-fine-tune", "voice": "voice_1234"})
    props = load_schema()["$defs"]["beta"]["properties"]
    assert "gpt-realtime-1.5" in known_values(props["model"])
    assert "marin" in known_values(props["voice"])


def test_integers_must_be_integers() -> None:
    assert not validator().is_valid({"turn_detection": {"prefix_padding_ms": 300.0}})
    assert validator().is_valid({"turn_detection": {"prefix_padding_ms": 300}})
    assert validator().is_valid({"temperature": 1})


def test_the_ga_branch_is_what_the_generator_builds_from_the_official_schema() -> None:
    """schema/generate.py --check: nobody edited the generated GA branch by hand."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(PROJECT / "schema" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_preset_target_lists_exactly_the_registry() -> None:
    target = load_schema()["$defs"]["preset"]["properties"]["target"]
    assert target["enum"] == list(TARGETS)


def load_generator() -> Any:
    """schema/generate.py as a module: the checks it runs are tested through its functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", PROJECT / "schema" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_request_key_of_the_spec_and_the_sdk_can_be_written() -> None:
    """schema/generate.py --missing: nothing of the spec or the SDK's key list is lacking."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(PROJECT / "schema" / "generate.py"), "--missing"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_missing_check_names_what_the_schema_lacks() -> None:
    generate = load_generator()
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    official = json.loads((PROJECT / "schema" / "official-ga-request.json").read_text("utf-8"))
    official = official["$defs"]
    sdk = json.loads((PROJECT / "schema" / "sdk-request-keys.json").read_text("utf-8"))
    sdk = sdk["requests"]
    sdk["client_secrets"] = [*sdk["client_secrets"], "session.audio.input.format.channels"]
    for dialect in ("realtime", "transcription"):
        realtime = schema["$defs"][dialect]["properties"]
        del realtime["include"]
        turn = realtime["audio"]["properties"]["input"]["properties"]["turn_detection"]
        for branch in turn["anyOf"]:
            branch.get("properties", {}).pop("idle_timeout_ms", None)
    assert generate.missing_paths(schema, official, sdk) == [
        ("client_secrets", "sdk", "session.audio.input.format.channels"),
        ("client_secrets", "spec, sdk", "session.audio.input.turn_detection.idle_timeout_ms"),
        ("client_secrets", "spec, sdk", "session.include"),
    ]


def test_noise_reduction_strength_is_a_number_in_every_ga_session() -> None:
    for dialect in ("realtime", "transcription"):
        strength = field_schema(("audio", "input", "noise_reduction", "strength"), dialect)
        assert strength is not None and strength["type"] == "number", dialect
    assert validator("realtime").is_valid(
        {"type": "realtime", "audio": {"input": {"noise_reduction": {"strength": 0.5}}}}
    )
    assert not validator("realtime").is_valid(
        {"type": "realtime", "audio": {"input": {"noise_reduction": {"strength": "high"}}}}
    )


def test_every_annotation_is_documented_in_the_comment() -> None:
    """The ``x-*`` keys are the schema's list of rules: each is explained in ``$comment``, so
    that a reader (and a generator of the GA branches) knows what it means."""
    schema = load_schema()
    used = {key for node in all_nodes(schema) for key in node if key.startswith("x-")}
    assert len(used) >= 30
    words = set(re.findall(r"x-[a-z-]*[a-z]", schema["$comment"]))
    assert sorted(used - words) == []
