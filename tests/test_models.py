"""Model lifecycle and model rules, as the schema states them, with "today" fixed.

Every test runs with REALTIME_CONFIG_TODAY set by conftest (2026-12-01); the ones here move
it across the shutdown dates to see the warning turn into an error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_config import load_schema
from tests.conftest import TODAY, run_cli, write

OLD = 'type = "realtime"\nmodel = "gpt-realtime"\naudio.input.transcription.model = "gpt-4o-transcribe"\n'
WARNINGS = (
    "p.toml:2:9: warning: model `gpt-realtime` is deprecated and shuts down on 2027-01-20; "
    "use `gpt-realtime-2.1`\n"
    "p.toml:3:35: warning: audio.input.transcription.model `gpt-4o-transcribe` is deprecated "
    "and shuts down on 2027-02-26; use `gpt-transcribe`\n"
)


def validate(*args: str) -> tuple[int, str, str]:
    return run_cli("validate", "-q", *args)


def test_the_tests_judge_shutdowns_on_a_fixed_day() -> None:
    import os

    assert os.environ["REALTIME_CONFIG_TODAY"] == TODAY == "2026-12-01"


def test_a_deprecated_model_warns_before_its_shutdown(project: Path) -> None:
    write(project / "p.toml", OLD)
    assert validate("p.toml") == (0, WARNINGS, "1 preset checked: 0 error(s), 2 warning(s)\n")
    assert validate("--strict", "p.toml")[0] == 1


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (
            "2027-01-19",
            WARNINGS,
        ),
        (
            "2027-01-20",
            "p.toml:2:9: error: model `gpt-realtime` shut down on 2027-01-20; use "
            "`gpt-realtime-2.1`\n" + WARNINGS.splitlines(keepends=True)[1],
        ),
        (
            "2027-03-01",
            "p.toml:2:9: error: model `gpt-realtime` shut down on 2027-01-20; use "
            "`gpt-realtime-2.1`\n"
            "p.toml:3:35: error: audio.input.transcription.model `gpt-4o-transcribe` shut down "
            "on 2027-02-26; use `gpt-transcribe`\n",
        ),
    ],
)
def test_from_the_shutdown_date_on_it_is_an_error_that_names_the_date(
    project: Path, monkeypatch: pytest.MonkeyPatch, today: str, expected: str
) -> None:
    monkeypatch.setenv("REALTIME_CONFIG_TODAY", today)
    write(project / "p.toml", OLD)
    code, out, _ = validate("p.toml")
    assert (code, out) == (1 if " error: " in expected else 0, expected)


def test_a_beta_preset_is_judged_alike(project: Path) -> None:
    write(
        project / "p.toml",
        'model = "gpt-realtime-mini"\ninput_audio_transcription.model = "whisper-1"\n',
    )
    assert validate("p.toml")[1] == (
        "p.toml:1:9: warning: model `gpt-realtime-mini` is deprecated and shuts down on "
        "2027-01-20; use `gpt-realtime-2.1-mini`\n"
        "p.toml:2:35: warning: input_audio_transcription.model `whisper-1` is deprecated and "
        "shuts down on 2027-02-26; use `gpt-live-transcribe`\n"
    )


def test_a_today_that_is_not_a_date_is_an_error_at_each_deprecated_model(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALTIME_CONFIG_TODAY", "next week")
    write(project / "p.toml", 'type = "realtime"\nmodel = "gpt-realtime"\n')
    assert validate("p.toml")[:2] == (
        1,
        "p.toml:2:9: error: model `gpt-realtime`: REALTIME_CONFIG_TODAY is not a date "
        "(YYYY-MM-DD), so the shutdown on 2027-01-20 cannot be judged\n",
    )
    write(project / "q.toml", 'type = "realtime"\nmodel = "gpt-realtime-2.1"\n')
    assert validate("q.toml")[:2] == (0, "")


def test_the_eleven_deprecated_models_and_their_successors_are_known_models() -> None:
    realtime = load_schema()["$defs"]["realtime"]["properties"]
    models = realtime["model"]
    transcription = realtime["audio"]["properties"]["input"]["properties"]["transcription"]
    transcription_model = next(b for b in transcription["anyOf"] if b.get("type") == "object")[
        "properties"
    ]["model"]
    retired = {**models["x-deprecated"], **transcription_model["x-deprecated"]}
    assert len(retired) == 11
    assert {when["shutdown"] for when in retired.values()} == {"2027-01-20", "2027-02-26"}
    known = {
        value
        for node in (models, transcription_model)
        for branch in node["anyOf"]
        for value in branch.get("enum", ())
    }
    assert set(retired) <= known
    assert {when["use"] for when in retired.values()} <= known
    assert not {when["use"] for when in retired.values()} & set(retired)


# --- model rules as the SDK states them ---------------------------------------------------


def test_whisper_takes_no_transcription_prompt_in_any_ga_session(project: Path) -> None:
    for kind, off in (("realtime", ""), ("transcription", "audio.input.turn_detection = false\n")):
        write(
            project / "p.toml",
            f'type = "{kind}"\n{off}[audio.input.transcription]\nmodel = "gpt-realtime-whisper"\n'
            'prompt = "Acme"\n',
        )
        line = 5 if off else 4
        assert validate("p.toml")[:2] == (
            1,
            f"p.toml:{line}:1: error: audio.input.transcription.prompt is not supported with "
            'model "gpt-realtime-whisper"\n',
        ), kind


def test_turn_detection_must_be_off_for_whisper_in_transcription_sessions_only(
    project: Path,
) -> None:
    body = '[audio.input.transcription]\nmodel = "gpt-realtime-whisper"\n'
    write(project / "r.toml", 'type = "realtime"\nmodel = "gpt-realtime-2.1"\n' + body)
    write(project / "t.toml", 'type = "transcription"\n' + body)
    assert validate("r.toml")[:2] == (0, "")
    assert validate("t.toml")[:2] == (
        1,
        't.toml:3:9: error: audio.input.transcription.model "gpt-realtime-whisper" needs '
        "audio.input.turn_detection = false: it does no turn detection of its own\n",
    )


def test_reasoning_settings_on_a_model_that_does_not_reason_are_errors(project: Path) -> None:
    write(
        project / "p.toml",
        'type = "realtime"\nmodel = "gpt-realtime-1.5"\nparallel_tool_calls = true\n'
        'reasoning = { effort = "low" }\n',
    )
    assert validate("p.toml")[:2] == (
        1,
        'p.toml:3:1: error: parallel_tool_calls is not supported by model "gpt-realtime-1.5": '
        "it is not a reasoning model\n"
        'p.toml:4:1: error: reasoning is not supported by model "gpt-realtime-1.5": it is not '
        "a reasoning model\n",
    )
    write(
        project / "q.toml",
        'type = "realtime"\nmodel = "gpt-realtime-2.1"\nreasoning.effort = "low"\n',
    )
    assert validate("q.toml")[:2] == (0, "")


@pytest.mark.parametrize("fixed", ["2026-02-30", "2026-1-05", "20261201"])
def test_only_a_real_calendar_date_fixes_today(monkeypatch: pytest.MonkeyPatch, fixed: str) -> None:
    # The date is read in the checks; its reader is the one thing no command can show alone.
    from realtime_config.checking._checks import _today

    monkeypatch.setenv("REALTIME_CONFIG_TODAY", fixed)
    assert _today() is None


def test_without_a_fixed_date_today_is_the_clock_s(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    # Private: which day the lifecycle checks take for today shows in no public result
    # unless a model's shutdown falls between the clock's date and a fixed one.
    from realtime_config.checking._checks import _today

    monkeypatch.delenv("REALTIME_CONFIG_TODAY")
    before = datetime.date.today().isoformat()
    assert _today() in (before, datetime.date.today().isoformat())
