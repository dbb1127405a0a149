"""Golden payloads: every shipped preset and DESIGN's worked examples, compared byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_config import compile_preset, dumps_payload, load_preset
from tests.conftest import (
    GOLDEN,
    PROJECT,
    beta_presets,
    check_golden,
    preset_name,
    shipped_presets,
)

DESIGN_CASES = sorted((PROJECT / "tests" / "cases" / "design").glob("*.toml"))


def test_every_glob_matches() -> None:
    assert len(shipped_presets()) >= 4
    assert [p.stem for p in DESIGN_CASES] == ["full-example", "minimal", "switched-off"]


@pytest.mark.parametrize("preset", beta_presets(), ids=preset_name)
def test_beta_preset_compiles_to_its_golden_payload(preset: Path) -> None:
    payload = compile_preset(load_preset(preset), "sessions")
    check_golden(GOLDEN / "sessions" / f"{preset_name(preset)}.json", dumps_payload(payload))


@pytest.mark.parametrize("case", DESIGN_CASES, ids=lambda p: p.stem)
def test_design_worked_example(case: Path) -> None:
    payload = compile_preset(load_preset(case))
    check_golden(case.with_suffix(".json"), dumps_payload(payload))


def test_design_minimal_example_text() -> None:
    """DESIGN section 3, first example, exactly as the document prints it."""
    payload = compile_preset(load_preset(PROJECT / "tests/cases/design/minimal.toml"))
    assert dumps_payload(payload) == (
        '{\n  "model": "gpt-realtime",\n  "modalities": [\n    "audio",\n    "text"\n  ]\n}\n'
    )


def test_design_switched_off_example_text() -> None:
    payload = compile_preset(load_preset(PROJECT / "tests/cases/design/switched-off.toml"))
    assert dumps_payload(payload) == (
        '{\n  "modalities": [\n    "text"\n  ],\n  "input_audio_transcription": null,\n'
        '  "turn_detection": null,\n  "tracing": null\n}\n'
    )


def test_design_full_example_properties() -> None:
    """The facts DESIGN section 3 states about the section 2 preset's payload."""
    payload = compile_preset(load_preset(PROJECT / "tests/cases/design/full-example.toml"))
    assert payload["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.6,
        "silence_duration_ms": 400,
    }
    assert "input_audio_format" not in payload
    assert payload["output_audio_format"] == "g711_ulaw"
    assert list(payload["input_audio_transcription"]) == ["model", "language"]
    assert list(payload)[-1] == "client_secret"
    assert payload["client_secret"] == {"expires_after": {"anchor": "created_at", "seconds": 900}}
    assert dumps_payload(payload).endswith(
        '"client_secret": {\n    "expires_after": {\n      "anchor": "created_at",\n'
        '      "seconds": 900\n    }\n  }\n}\n'
    )
