"""``realtime-config submit`` against the loopback fake of the API, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from realtime_config import TARGETS, __version__, load_preset
from realtime_config.cli import main
from tests.conftest import PROJECT, preset_name, shipped_presets, write
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI, Reply, error_body, serve

PRESET = """\
model = "gpt-realtime-1.5"
instructions = "Sei kurz. ✓"
voice = "marin"
output_audio_format = "g711_ulaw"

[turn_detection]
threshold = 0.6
silence_duration_ms = 400

[client_secret.expires_after]
seconds = 900
"""
PRESET_BODY = (
    '{"model":"gpt-realtime-1.5","modalities":["audio","text"],"instructions":"Sei kurz. ✓",'
    '"voice":"marin","output_audio_format":"g711_ulaw","turn_detection":{"type":"server_vad",'
    '"threshold":0.6,"silence_duration_ms":400},'
    '"client_secret":{"expires_after":{"anchor":"created_at","seconds":900}}}'
)
SESSION = {k: v for k, v in json.loads(PRESET_BODY).items() if k != "client_secret"}
ERROR_PREFIX = "realtime-config: error: "


@pytest.fixture
def preset(project: Path) -> Path:
    return write(project / "presets" / "agent.toml", PRESET)


def submit(api: FakeAPI | None, *args: str, key: str | None = CANARY_KEY) -> Result:
    """Run ``submit`` with a clean environment: only the key and the fake's base URL."""
    env: dict[str, str | None] = {
        "OPENAI_API_KEY": key,
        "OPENAI_BASE_URL": api.base_url if api else None,
        "OPENAI_ORG_ID": None,
        "OPENAI_PROJECT_ID": None,
    }
    return CliRunner().invoke(main, ["submit", *args], env=env)


def assert_one_line_error(result: Result, line: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == ERROR_PREFIX + line + "\n"
    assert "Traceback" not in result.output
    assert CANARY_KEY not in result.output


# --- success ---------------------------------------------------------------------------


def test_submit_prints_the_created_session_as_json(api: FakeAPI, preset: Path) -> None:
    result = submit(api, str(preset))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "target": "sessions",
        "client_secret": {"value": SECRET, "expires_at": EXPIRES_AT},
        "session": {"id": "sess_001", "object": "realtime.session", **SESSION},
    }
    assert "client_secret" not in json.loads(result.stdout)["session"]
    assert result.stdout.startswith('{\n  "target": "sessions",\n  "client_secret": {\n')
    assert result.stdout.endswith("}\n")
    [request] = api.requests
    assert request.path == "/v1/realtime/sessions"
    assert request.body == PRESET_BODY.encode()
    assert request.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert request.headers["user-agent"] == f"realtime-config/{__version__}"


def test_submit_text_format_prints_the_secret_and_its_expiry(api: FakeAPI, preset: Path) -> None:
    result = submit(api, str(preset), "--format", "text")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"client_secret: {SECRET}\nexpires_at: 2026-01-01T00:00:00Z (unix {EXPIRES_AT})\n"
    )


def test_submit_to_client_secrets(api: FakeAPI, preset: Path) -> None:
    result = submit(api, str(preset), "--target", "client_secrets")
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["target"] == "client_secrets"
    assert output["client_secret"] == {"value": SECRET, "expires_at": EXPIRES_AT}
    [request] = api.requests
    assert request.path == "/v1/realtime/client_secrets"
    assert request.json()["session"]["type"] == "realtime"
    assert output["session"]["type"] == "realtime"


def test_preset_target_is_the_default(api: FakeAPI, project: Path) -> None:
    path = write(project / "ga.toml", PRESET + '\n[preset]\ntarget = "client_secrets"\n')
    result = submit(api, str(path))
    assert result.exit_code == 0, result.output
    assert [r.path for r in api.requests] == ["/v1/realtime/client_secrets"]


def test_base_url_option_wins_over_the_environment(api: FakeAPI, preset: Path) -> None:
    env = {"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": "http://127.0.0.1:9/nowhere"}
    result = CliRunner().invoke(
        main, ["submit", str(preset), "--base-url", api.base_url, "--format", "text"], env=env
    )
    assert result.exit_code == 0, result.output
    assert len(api.requests) == 1


def test_organization_and_project_come_from_the_environment(api: FakeAPI, preset: Path) -> None:
    env = {
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_BASE_URL": api.base_url,
        "OPENAI_ORG_ID": "org_cli",
        "OPENAI_PROJECT_ID": "proj_cli",
    }
    result = CliRunner().invoke(main, ["submit", str(preset)], env=env)
    assert result.exit_code == 0, result.output
    headers = api.requests[0].headers
    assert (headers["openai-organization"], headers["openai-project"]) == ("org_cli", "proj_cli")


def test_retries_then_success(api: FakeAPI, preset: Path) -> None:
    api.script(Reply(500, b"", {"retry-after-ms": "1"}), Reply(429, b"", {"retry-after-ms": "1"}))
    result = submit(api, str(preset))
    assert result.exit_code == 0, result.output
    assert len(api.requests) == 3


# --- the body is exactly what `compile --compact` prints -------------------------------


def submittable() -> list[tuple[Path, str]]:
    """Every shipped preset with every target it can be posted to (not refused as a whole)."""
    pairs = []
    for path in shipped_presets():
        preset = load_preset(path)
        for target in TARGETS.values():
            translating = (preset.dialect == "translation") == (target.speaks == "translation")
            if (
                target.endpoint
                and translating
                and (preset.dialect != "transcription" or target.transcription)
            ):
                pairs.append((path, target.name))
    return pairs


OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

ENDPOINT_PATHS = {
    "sessions": "/v1/realtime/sessions",
    "client_secrets": "/v1/realtime/client_secrets",
    "calls.accept": "/v1/realtime/calls/rtc_test_42/accept",
    "calls": "/v1/realtime/calls",
    "translations.client_secrets": "/v1/realtime/translations/client_secrets",
}


@pytest.mark.parametrize(
    ("path", "target"), submittable(), ids=[f"{preset_name(p)}-{t}" for p, t in submittable()]
)
def test_the_body_sent_is_byte_identical_to_compile_compact(
    api: FakeAPI, path: Path, target: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(PROJECT)
    args = [str(path), "--target", target, "--drop-unsupported"]
    compiled = CliRunner().invoke(main, ["compile", "--compact", *args])
    assert compiled.exit_code == 0, compiled.output
    if target == "calls.accept":
        args += ["--call-id", "rtc_test_42"]
    if target == "calls":
        offer = tmp_path / "offer.sdp"
        offer.write_bytes(OFFER.encode())
        args += ["--sdp", str(offer)]
    dry = submit(api, *args, "--dry-run")
    result = submit(api, *args)
    assert result.exit_code == 0, result.output
    [request] = api.requests
    assert request.path == ENDPOINT_PATHS[target]
    if target == "calls":  # the session part of the multipart, next to the offer
        assert request.parts() == [
            ("sdp", "application/sdp", OFFER.encode()),
            ("session", "application/json", compiled.stdout_bytes),
        ]
        assert dry.stdout_bytes.endswith(b"\n\n" + request.body + b"\n")
    else:
        assert request.body == compiled.stdout_bytes
        assert dry.stdout_bytes.endswith(b"\n\n" + compiled.stdout_bytes + b"\n")
    # the same warnings as compile, e.g. for each field dropped
    assert dry.stderr == result.stderr == compiled.stderr


def test_the_client_secrets_body_is_byte_identical_to_compile_compact(
    api: FakeAPI, preset: Path
) -> None:
    args = ["--target", "client_secrets", str(preset)]
    compiled = CliRunner().invoke(main, ["compile", "--compact", *args])
    assert compiled.exit_code == 0, compiled.output
    result = submit(api, *args)
    assert result.exit_code == 0, result.output
    [request] = api.requests
    assert request.path == "/v1/realtime/client_secrets"
    assert request.body == compiled.stdout_bytes


def test_unsupported_fields_fail_unless_dropped(api: FakeAPI, project: Path) -> None:
    path = write(project / "warm.toml", 'model = "gpt-realtime-1.5"\ntemperature = 0.9\n')
    refused = submit(api, str(path), "--target", "client_secrets")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "warm.toml:2:1: error: temperature is not supported by target client_secrets (the GA "
        "endpoint has no temperature); remove it or use --drop-unsupported\n"
    )
    assert api.requests == []
    dropped = submit(api, str(path), "--target", "client_secrets", "--drop-unsupported")
    assert dropped.exit_code == 0, dropped.output
    assert dropped.stderr == (
        "warm.toml:2:1: warning: temperature is not supported by target client_secrets (the GA "
        "endpoint has no temperature); dropped from the payload\n"
    )
    [request] = api.requests
    assert "temperature" not in request.json()["session"]


# --- --dry-run -------------------------------------------------------------------------


def test_dry_run_sends_nothing_and_redacts_the_key(api: FakeAPI, preset: Path) -> None:
    result = submit(api, str(preset), "--dry-run")
    assert result.exit_code == 0, result.output
    assert api.requests == []
    assert result.stderr == ""
    assert result.stdout == (
        f"POST {api.url('sessions')}\n"
        "Authorization: Bearer [redacted]\n"
        "Content-Type: application/json\n"
        "Accept: application/json\n"
        f"User-Agent: realtime-config/{__version__}\n"
        "\n" + PRESET_BODY + "\n"
    )
    for part in ("canary", "DO-NOT-LEAK", "1234567890"):
        assert part not in result.output


def test_dry_run_needs_no_key(preset: Path) -> None:
    result = submit(None, str(preset), "--dry-run", "--target", "client_secrets", key=None)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("POST https://api.openai.com/v1/realtime/client_secrets\n")
    assert "Authorization" not in result.stdout
    assert result.stderr == (
        "realtime-config: note: OPENAI_API_KEY is not set, so this request has no "
        "Authorization header; a real submit would fail\n"
    )


# --- failures: exit 1 and one line on stderr -------------------------------------------


def test_missing_key_is_an_error_before_any_request(api: FakeAPI, preset: Path) -> None:
    result = submit(api, str(preset), key="")
    assert_one_line_error(
        result, "no API key: set the OPENAI_API_KEY environment variable (nothing was sent)"
    )
    assert api.requests == []


def test_wrong_key(preset: Path) -> None:
    with serve(api_key="sk-the-right-one-000000000") as api:
        result = submit(api, str(preset))
    assert_one_line_error(
        result,
        f"401 Unauthorized from POST {api.url('sessions')}: invalid_api_key: "
        "Incorrect API key provided: [redacted]. (request id req_fake_123)",
    )


def test_beta_endpoint_gone_suggests_client_secrets(api: FakeAPI, preset: Path) -> None:
    api.script(Reply(404, error_body("Invalid URL", "invalid_request_error", None)))
    result = submit(api, str(preset))
    assert_one_line_error(
        result,
        f"404 Not Found from POST {api.url('sessions')}: invalid_request_error: Invalid URL "
        "(request id req_fake_123); the beta endpoint /realtime/sessions is not available on "
        "this server; its GA successor is target client_secrets",
    )


def test_session_update_cannot_be_submitted(api: FakeAPI, preset: Path) -> None:
    result = submit(api, str(preset), "--target", "session.update")
    assert_one_line_error(
        result,
        "target session.update is a WebSocket client event, not an HTTP request: send it over "
        "the Realtime WebSocket, or submit with --target client_secrets or --target calls.accept "
        "or --target calls or --target sessions or --target translations.client_secrets",
    )
    assert api.requests == []


def test_timeout(api: FakeAPI, preset: Path) -> None:
    api.script(Reply(delay=5.0))
    result = submit(api, str(preset), "--timeout", "0.2", "--max-retries", "0")
    assert_one_line_error(
        result,
        f"timeout from POST {api.url('sessions')}: no complete response within the 0.2 s deadline",
    )


def test_server_errors_until_the_retries_run_out(api: FakeAPI, preset: Path) -> None:
    failure = Reply(502, b"<html>Bad Gateway</html>", {"retry-after-ms": "1"})
    api.script(failure, failure)
    result = submit(api, str(preset), "--max-retries", "1")
    assert_one_line_error(
        result,
        f"502 Bad Gateway from POST {api.url('sessions')}: non-JSON response body: "
        "<html>Bad Gateway</html> (request id req_fake_123) (after 2 attempts)",
    )
    assert len(api.requests) == 2


def test_dropped_connection(api: FakeAPI, preset: Path) -> None:
    api.script(Reply(drop=True))
    result = submit(api, str(preset), "--max-retries", "0")
    assert_one_line_error(
        result,
        f"connection error from POST {api.url('sessions')}: "
        "Server disconnected without sending a response.",
    )


def test_a_200_that_is_not_json(api: FakeAPI, preset: Path) -> None:
    api.script(Reply(200, b"<html>hello</html>"))
    result = submit(api, str(preset))
    assert_one_line_error(
        result,
        f"invalid response from POST {api.url('sessions')}: 200 OK with a body that is not "
        "JSON (request id req_fake_123)",
    )


def test_invalid_base_url(preset: Path) -> None:
    result = submit(None, str(preset), "--base-url", "ftp://example.test/v1")
    assert_one_line_error(
        result, "invalid base URL 'ftp://example.test/v1': expected http:// or https:// and a host"
    )


def test_an_invalid_preset_sends_nothing(api: FakeAPI, project: Path) -> None:
    path = write(project / "bad.toml", "temperature = 9.0\n")
    result = submit(api, str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "bad.toml:1:15: error: temperature: 9.0 is greater than the maximum of 1.2 "
        "(allowed: 0.6 to 1.2)\n"
    )
    assert "Traceback" not in result.output
    assert api.requests == []


@pytest.mark.parametrize(
    "args",
    [
        ["--max-retries", "-1"],
        ["--timeout", "0"],
        ["--timeout", "soon"],
        ["--format", "xml"],
        ["--target", "realtime"],
        [],
    ],
)
def test_usage_errors_exit_2(api: FakeAPI, preset: Path, args: list[str]) -> None:
    result = submit(api, *([str(preset)] if args else []), *args)
    assert result.exit_code == 2, result.output
    assert api.requests == []


# --- the key never leaks through the command line --------------------------------------

CLI_FAILURES: dict[str, tuple[list[Reply], list[str]]] = {
    "401": ([Reply(401, error_body(f"bad key {CANARY_KEY}", "x", "invalid_api_key"))], []),
    "500 echo": ([Reply(500, f"<b>{CANARY_KEY}</b>".encode())], ["--max-retries", "0"]),
    "429 over the cap": ([Reply(429, b"", {"Retry-After": "999"})], []),
    "timeout": ([Reply(delay=5.0)], ["--timeout", "0.2", "--max-retries", "0"]),
    "dropped": ([Reply(drop=True)], ["--max-retries", "0"]),
    "200 not json": ([Reply(200, CANARY_KEY.encode())], []),
    "200 echo without secret": ([Reply(200, {"key": CANARY_KEY})], []),
    "client_secrets 403": (
        [Reply(403, error_body(CANARY_KEY, CANARY_KEY, CANARY_KEY, CANARY_KEY))],
        ["--target", "client_secrets"],
    ),
}


@pytest.mark.parametrize("case", sorted(CLI_FAILURES))
def test_the_key_never_leaks_from_the_cli(api: FakeAPI, preset: Path, case: str) -> None:
    replies, args = CLI_FAILURES[case]
    api.script(*replies)
    for extra in ([], ["--format", "text"], ["--dry-run"]):
        result = submit(api, str(preset), *args, *extra)
        assert CANARY_KEY not in result.output
        assert "Traceback" not in result.output
        if extra != ["--dry-run"]:
            assert result.exit_code == 1
            assert result.stderr.count("\n") == 1
            assert result.stderr.startswith(ERROR_PREFIX)
            api.script(*replies)


def test_help_mentions_the_environment() -> None:
    result = CliRunner().invoke(main, ["submit", "--help"])
    assert result.exit_code == 0
    text: Any = " ".join(result.stdout.split())
    for word in ("OPENAI_API_KEY", "--dry-run", "--target", "--base-url", "--max-retries"):
        assert word in text
