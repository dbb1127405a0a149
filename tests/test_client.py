"""The HTTP clients: requests, retries, timeouts, errors and key hygiene.

Most tests talk HTTP to the loopback fake of ``fake_api.py``; pure rules (backoff,
Retry-After, status mapping) use ``httpx.MockTransport`` or no transport at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_config import (
    AcceptedCall,
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AsyncRealtimeClient,
    AuthenticationError,
    BadRequestError,
    ClientConfigError,
    ClientSecret,
    ConflictError,
    CreatedCall,
    CreatedSession,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    PresetError,
    RateLimitError,
    RealtimeClient,
    RealtimeConfigError,
    ServerError,
    UnknownTargetError,
    __version__,
    compile_preset,
    dumps_payload,
    load_preset,
)

# The backoff and the Retry-After parsing take the random draw and the clock as arguments,
# and the SSL context is shared inside the package: through a client, exact values need both.
from realtime_config.client._config import verify as _verify
from realtime_config.client._retry import MAX_RETRY_AFTER, retry_after_seconds, retry_delay
from tests.conftest import OPENAI_ENVIRONMENT, exception_texts, write
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI, Reply, error_body, serve

PAYLOAD: dict[str, Any] = {
    "model": "gpt-realtime-1.5",
    "modalities": ["audio", "text"],
    "instructions": "Grüß Gott, sei kurz ✓",
    "temperature": 0.8,
}
GA_PAYLOAD: dict[str, Any] = {
    "expires_after": {"anchor": "created_at", "seconds": 600},
    "session": {"type": "realtime", "model": "gpt-realtime-1.5", "output_modalities": ["audio"]},
}


pytestmark = pytest.mark.usefixtures("clean_env")


class Sleeps(list[float]):
    """A sleep that records the wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


def client_for(api: FakeAPI, sleeps: Sleeps | None = None, **kwargs: Any) -> RealtimeClient:
    kwargs.setdefault("api_key", CANARY_KEY)
    sleep = sleeps if sleeps is not None else Sleeps()
    return RealtimeClient(base_url=api.base_url, sleep=sleep, **kwargs)


def async_client_for(
    api: FakeAPI, sleeps: Sleeps | None = None, **kwargs: Any
) -> AsyncRealtimeClient:
    kwargs.setdefault("api_key", CANARY_KEY)
    sleep = sleeps if sleeps is not None else Sleeps()
    return AsyncRealtimeClient(base_url=api.base_url, sleep=sleep.asleep, **kwargs)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- success against the loopback fake -------------------------------------------------


def test_sessions_posts_the_compact_body_with_the_documented_headers(api: FakeAPI) -> None:
    with client_for(api, organization="org_123", project="proj_456") as client:
        created = client.send_payload(PAYLOAD, target="sessions")

    [request] = api.requests
    assert request.method == "POST"
    assert request.path == "/v1/realtime/sessions"
    assert request.body == dumps_payload(PAYLOAD, compact=True).encode()
    assert request.body.startswith(b'{"model":"gpt-realtime-1.5","modalities":["audio","text"]')
    assert "Grüß Gott, sei kurz ✓".encode() in request.body
    assert request.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == f"realtime-config/{__version__}"
    assert request.headers["openai-organization"] == "org_123"
    assert request.headers["openai-project"] == "proj_456"
    assert "openai-beta" not in request.headers

    assert created.target == "sessions"
    assert created.client_secret == ClientSecret(SECRET, EXPIRES_AT)
    assert created.session == {"id": "sess_001", "object": "realtime.session", **PAYLOAD}
    assert created.raw == {
        **created.session,
        "client_secret": {"value": SECRET, "expires_at": EXPIRES_AT},
    }
    assert created.request_id == "req_fake_123"
    assert created.session_id == "sess_001"


def test_client_secrets_target_posts_to_the_ga_endpoint(api: FakeAPI) -> None:
    with client_for(api) as client:
        created = client.send_payload(GA_PAYLOAD, target="client_secrets")

    [request] = api.requests
    assert request.path == "/v1/realtime/client_secrets"
    assert request.body == dumps_payload(GA_PAYLOAD, compact=True).encode()
    assert "openai-organization" not in request.headers
    assert "openai-project" not in request.headers
    assert created.target == "client_secrets"
    assert created.client_secret.value == SECRET
    assert created.client_secret.expires_at == EXPIRES_AT
    assert created.session == {
        "object": "realtime.session",
        "id": "sess_001",
        **GA_PAYLOAD["session"],
    }
    assert created.raw["session"] == created.session
    assert created.to_dict() == {
        "target": "client_secrets",
        "client_secret": {"value": SECRET, "expires_at": EXPIRES_AT},
        "session": created.session,
    }


def test_async_client_creates_sessions_on_both_endpoints(api: FakeAPI) -> None:
    async def main() -> tuple[CreatedSession, CreatedSession]:
        async with async_client_for(api, project="proj_456") as client:
            beta = await client.send_payload(PAYLOAD, target="sessions")
            ga = await client.send_payload(GA_PAYLOAD, target="client_secrets")
        return beta, ga

    beta, ga = asyncio.run(main())
    assert [r.path for r in api.requests] == [
        "/v1/realtime/sessions",
        "/v1/realtime/client_secrets",
    ]
    assert api.requests[0].body == dumps_payload(PAYLOAD, compact=True).encode()
    assert api.requests[0].headers["openai-project"] == "proj_456"
    assert api.requests[0].headers["user-agent"] == f"realtime-config/{__version__}"
    assert beta.client_secret == ga.client_secret == ClientSecret(SECRET, EXPIRES_AT)
    assert beta.session["instructions"] == PAYLOAD["instructions"]
    assert ga.session["type"] == "realtime"


def test_settings_come_from_the_environment(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url + "/")
    monkeypatch.setenv("OPENAI_ORG_ID", "org_env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_env")
    with RealtimeClient() as client:
        assert client.base_url == api.base_url
        client.send_payload(PAYLOAD, target="sessions")
    headers = api.requests[0].headers
    assert headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert headers["openai-organization"] == "org_env"
    assert headers["openai-project"] == "proj_env"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_ORG_ID", "org_env")
    with RealtimeClient(base_url="https://example.test/v2/", organization="org_arg") as client:
        assert client.base_url == "https://example.test/v2"
        assert client.organization == "org_arg"
        assert (
            client.endpoint("client_secrets") == "https://example.test/v2/realtime/client_secrets"
        )


def test_defaults() -> None:
    with RealtimeClient() as client:
        assert client.base_url == "https://api.openai.com/v1"
        assert client.endpoint("sessions") == "https://api.openai.com/v1/realtime/sessions"
        assert client.max_retries == 2
        assert client.timeout == httpx.Timeout(30.0, connect=5.0)
        assert not client.has_api_key
        assert client.organization is None
        assert client.project is None


def test_empty_environment_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OPENAI_ENVIRONMENT:
        monkeypatch.setenv(name, "")
    with RealtimeClient() as client:
        assert client.base_url == "https://api.openai.com/v1"
        assert not client.has_api_key
        assert client.organization is None


# --- what is refused before any request ------------------------------------------------


def test_missing_key_fails_before_any_request(api: FakeAPI) -> None:
    client = RealtimeClient(base_url=api.base_url)
    with client, pytest.raises(MissingAPIKeyError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert (
        str(info.value)
        == "no API key: set the OPENAI_API_KEY environment variable (nothing was sent)"
    )
    assert isinstance(info.value, ClientConfigError)
    assert isinstance(info.value, RealtimeConfigError)
    assert api.requests == []


def test_async_missing_key_fails_before_any_request(api: FakeAPI) -> None:
    async def main() -> None:
        async with AsyncRealtimeClient(base_url=api.base_url, api_key="") as client:
            await client.send_payload(PAYLOAD, target="sessions")

    with pytest.raises(MissingAPIKeyError):
        asyncio.run(main())
    assert api.requests == []


def test_session_update_target_cannot_be_submitted(api: FakeAPI) -> None:
    with client_for(api) as client, pytest.raises(ClientConfigError) as info:
        client.send_payload({"type": "session.update", "session": {}}, target="session.update")
    assert str(info.value) == (
        "target session.update is a WebSocket client event, not an HTTP request: send it over "
        "the Realtime WebSocket, or submit with --target client_secrets or --target calls.accept "
        "or --target calls or --target sessions or --target translations.client_secrets"
    )
    assert api.requests == []


def test_unknown_target_is_refused_as_the_compiler_refuses_it() -> None:
    with RealtimeClient(api_key=CANARY_KEY) as client, pytest.raises(UnknownTargetError) as info:
        client.send_payload(PAYLOAD, target="transcription_sessions")
    assert str(info.value) == (
        "unknown target 'transcription_sessions'; expected one of client_secrets, "
        "session.update, calls.accept, calls, sessions, beta.session.update, "
        "translations.client_secrets, translations.session.update"
    )
    with pytest.raises(UnknownTargetError) as compiled:
        compile_preset(PAYLOAD, "transcription_sessions")
    assert str(compiled.value) == str(info.value)


def test_a_payload_is_sent_only_to_a_named_target(api: FakeAPI) -> None:
    with client_for(api) as client:
        for call in (
            lambda: client.prepare_request(PAYLOAD),
            lambda: client.create_session(PAYLOAD),
            lambda: client.send_payload(PAYLOAD, target=None),  # type: ignore[arg-type]
        ):
            with pytest.raises(ClientConfigError) as info:
                call()
            assert str(info.value) == (
                "a compiled payload goes to a named target: pass target=, such as client_secrets"
            )
    assert api.requests == []


def test_create_session_of_0_1_still_sends_a_payload_or_a_preset(
    api: FakeAPI, project: Path
) -> None:
    preset = load_preset(write(project / "p.toml", 'voice = "marin"\n'))
    with client_for(api) as client:
        beta = client.create_session(PAYLOAD, target="sessions")
        from_preset = client.create_session(preset)
        prepared = client.prepare_request(preset)
    assert (beta.target, from_preset.target, prepared.target) == ("sessions",) * 3
    assert [r.path for r in api.requests] == ["/v1/realtime/sessions"] * 2


def test_create_secret_takes_only_a_minting_target(api: FakeAPI, project: Path) -> None:
    preset = load_preset(write(project / "p.toml", 'model = "gpt-realtime-1.5"\n'))
    sip = load_preset(write(project / "sip.toml", 'preset.target = "calls.accept"\n'))
    with client_for(api) as client:
        for source, target in ((preset, "calls.accept"), (sip, None)):
            with pytest.raises(ClientConfigError) as info:
                client.create_secret(source, target)
            assert str(info.value) == (
                "target calls.accept mints no client secret; expected one of: client_secrets, "
                "sessions, translations.client_secrets"
            )
        with pytest.raises(UnknownTargetError):
            client.create_secret(preset, "beta_sessions")
        created = client.create_secret(preset, "sessions")
    assert created.target == "sessions"
    assert [r.path for r in api.requests] == ["/v1/realtime/sessions"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"base_url": "ftp://example.test/v1"},
            "invalid base URL 'ftp://example.test/v1': expected http:// or https:// and a host",
        ),
        (
            {"base_url": "api.openai.com/v1"},
            "invalid base URL 'api.openai.com/v1': expected http:// or https:// and a host",
        ),
        (
            {"base_url": "https://user:pw@example.test/v1"},
            "the base URL must not hold a user name or password",
        ),
        ({"timeout": 0}, "timeout must be a number of seconds > 0 or an httpx.Timeout, not 0"),
        (
            {"timeout": float("nan")},
            "timeout must be a number of seconds > 0 or an httpx.Timeout, not nan",
        ),
        (
            {"timeout": True},
            "timeout must be a number of seconds > 0 or an httpx.Timeout, not True",
        ),
        ({"max_retries": -1}, "max_retries must be a whole number >= 0, not -1"),
        ({"max_retries": 1.5}, "max_retries must be a whole number >= 0, not 1.5"),
        ({"organization": "org 1"}, "the organization id 'org 1' is not a valid header value"),
        (
            {"api_key": "sk-bad key"},
            "the API key contains spaces or characters that an HTTP header cannot carry",
        ),
        (
            {"api_key": CANARY_KEY + "\n"},
            "the API key contains spaces or characters that an HTTP header cannot carry",
        ),
        (
            {"api_key": CANARY_KEY + "é"},
            "the API key contains spaces or characters that an HTTP header cannot carry",
        ),
        (
            {"transport": httpx.MockTransport(lambda r: httpx.Response(200)), "http_client": 1},
            "pass http_client or transport, not both",
        ),
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientConfigError) as info:
        RealtimeClient(**kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
    assert CANARY_KEY not in repr(info.value)


def test_timeout_accepts_a_number_or_an_httpx_timeout() -> None:
    with RealtimeClient(timeout=60) as client:
        assert client.timeout == httpx.Timeout(60.0, connect=5.0)
    with RealtimeClient(timeout=2.5) as client:
        assert client.timeout == httpx.Timeout(2.5)
    custom = httpx.Timeout(10.0, connect=20.0)
    with RealtimeClient(timeout=custom) as client:
        assert client.timeout is custom


# --- error statuses --------------------------------------------------------------------


def test_wrong_key_gives_an_authentication_error_whose_echo_is_redacted(api: FakeAPI) -> None:
    wrong = "sk-wrong-0000000000000000"
    with client_for(api, api_key=wrong) as client, pytest.raises(AuthenticationError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    error = info.value
    assert str(error) == (
        f"401 Unauthorized from POST {api.url('sessions')}: invalid_api_key: "
        "Incorrect API key provided: [redacted]. (request id req_fake_123)"
    )
    assert error.status_code == 401
    assert error.type == "invalid_request_error"
    assert error.code == "invalid_api_key"
    assert error.param is None
    assert error.message == "Incorrect API key provided: [redacted]."
    assert error.request_id == "req_fake_123"
    assert error.method == "POST"
    assert error.url == api.url("sessions")
    assert error.attempts == 1
    assert len(api.requests) == 1  # a 401 is never retried


def test_404_from_the_beta_endpoint_points_to_client_secrets(api: FakeAPI) -> None:
    api.script(
        Reply(
            404,
            error_body("Invalid URL (POST /v1/realtime/sessions)", "invalid_request_error", None),
        )
    )
    with client_for(api) as client, pytest.raises(NotFoundError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value) == (
        f"404 Not Found from POST {api.url('sessions')}: invalid_request_error: "
        "Invalid URL (POST /v1/realtime/sessions) (request id req_fake_123); the beta endpoint "
        "/realtime/sessions is not available on this server; its GA successor is target client_secrets"
    )
    assert len(api.requests) == 1


def test_beta_api_shape_disabled_points_to_client_secrets(api: FakeAPI) -> None:
    body = error_body(
        "The beta API shape is disabled.", "invalid_request_error", "beta_api_shape_disabled"
    )
    api.script(Reply(400, body, {"x-request-id": "req_beta"}))
    with client_for(api) as client, pytest.raises(BadRequestError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value).endswith(
        "beta_api_shape_disabled: The beta API shape is disabled. (request id req_beta); "
        "the beta endpoint /realtime/sessions is not available on this server; "
        "its GA successor is target client_secrets"
    )


def test_404_from_client_secrets_has_no_beta_hint(api: FakeAPI) -> None:
    api.script(Reply(404, error_body("Not found", "invalid_request_error", "not_found")))
    with client_for(api) as client, pytest.raises(NotFoundError) as info:
        client.send_payload(GA_PAYLOAD, target="client_secrets")
    assert str(info.value) == (
        f"404 Not Found from POST {api.url('client_secrets')}: not_found: Not found "
        "(request id req_fake_123)"
    )


@pytest.mark.parametrize(
    ("status", "cls", "retried"),
    [
        (400, BadRequestError, False),
        (401, AuthenticationError, False),
        (403, PermissionDeniedError, False),
        (404, NotFoundError, False),
        (405, APIStatusError, False),
        (408, APIStatusError, True),
        (409, ConflictError, True),
        (413, APIStatusError, False),
        (422, BadRequestError, False),
        (429, RateLimitError, True),
        (500, ServerError, True),
        (502, ServerError, True),
        (503, ServerError, True),
        (504, ServerError, True),
        (599, ServerError, True),
        (302, APIStatusError, False),
    ],
)
def test_status_classes_and_which_are_retried(
    status: int, cls: type[APIStatusError], retried: bool
) -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = error_body("nope", "invalid_request_error", "some_code", "voice")
        return httpx.Response(status, json=body, headers={"x-request-id": "req_1"})

    sleeps = Sleeps()
    client = RealtimeClient(
        api_key=CANARY_KEY, transport=httpx.MockTransport(answer), sleep=sleeps, max_retries=3
    )
    with client, pytest.raises(APIStatusError) as info:
        client.send_payload(GA_PAYLOAD, target="client_secrets")
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.param == "voice"
    assert len(calls) == (4 if retried else 1)
    assert info.value.attempts == len(calls)
    assert len(sleeps) == len(calls) - 1
    attempts = " (after 4 attempts)" if retried else ""
    assert str(info.value).endswith(f"some_code: nope (param voice, request id req_1){attempts}")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"<html><body>502 Bad\n  Gateway</body></html>",
            "non-JSON response body: <html><body>502 Bad Gateway</body></html>",
        ),
        (b"", "empty response body"),
        (b'{"error": "model overloaded"}', "model overloaded"),
        (b'{"detail": "oops"}', 'no error message in: {"detail": "oops"}'),
        (b'{"error": {"type": null}}', 'no error message in: {"type": null}'),
        (b"[1, 2]", "unexpected error body: [1, 2]"),
        (b"[" * 100_000, "non-JSON response body: " + "[" * 199 + "…"),
        (b"\xff\xfe", "non-JSON response body: \ufffd\ufffd"),
    ],
)
def test_error_bodies_of_any_shape_give_a_one_line_status_error(
    content: bytes, message: str
) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(418, content=content))
    client = RealtimeClient(api_key=CANARY_KEY, transport=transport)
    with client, pytest.raises(APIStatusError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert info.value.message == message
    assert info.value.type is info.value.code is None
    assert info.value.request_id is None
    text = str(info.value)
    assert (
        text == f"418 I'm a Teapot from POST https://api.openai.com/v1/realtime/sessions: {message}"
    )
    assert "\n" not in text


# --- retries ---------------------------------------------------------------------------


def test_500_several_times_then_success(api: FakeAPI) -> None:
    failure = Reply(500, error_body("The server had an error", "server_error", None))
    api.script(failure, failure)
    sleeps = Sleeps()
    with client_for(api, sleeps) as client:
        created = client.send_payload(PAYLOAD, target="sessions")
    assert created.client_secret.value == SECRET
    assert len(api.requests) == 3
    assert all(r.body == api.requests[0].body for r in api.requests)
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


def test_500_until_the_retries_run_out(api: FakeAPI) -> None:
    failure = Reply(500, error_body("The server had an error", "server_error", None))
    api.script(*[failure] * 5)
    sleeps = Sleeps()
    with client_for(api, sleeps, max_retries=3) as client, pytest.raises(ServerError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert len(api.requests) == 4
    assert info.value.attempts == 4
    assert str(info.value) == (
        f"500 Internal Server Error from POST {api.url('sessions')}: server_error: "
        "The server had an error (request id req_fake_123) (after 4 attempts)"
    )
    assert [round(s / d, 2) >= 0.75 for s, d in zip(sleeps, [0.5, 1, 2], strict=True)] == [True] * 3


def test_no_retries_when_max_retries_is_zero(api: FakeAPI) -> None:
    api.script(Reply(503, error_body("busy", "server_error", None)))
    with client_for(api, max_retries=0) as client, pytest.raises(ServerError):
        client.send_payload(PAYLOAD, target="sessions")
    assert len(api.requests) == 1


def test_429_honours_retry_after_seconds(api: FakeAPI) -> None:
    limited = error_body("Rate limit reached", "requests", "rate_limit_exceeded")
    api.script(Reply(429, limited, {"Retry-After": "3"}))
    sleeps = Sleeps()
    with client_for(api, sleeps) as client:
        created = client.send_payload(PAYLOAD, target="sessions")
    assert created.client_secret.value == SECRET
    assert sleeps == [3.0]
    assert len(api.requests) == 2


def test_retry_after_ms_wins_over_retry_after(api: FakeAPI) -> None:
    api.script(Reply(429, b"", {"retry-after-ms": "250", "Retry-After": "7"}))
    sleeps = Sleeps()
    with client_for(api, sleeps) as client:
        client.send_payload(PAYLOAD, target="sessions")
    assert sleeps == [0.25]


def test_429_asking_for_more_than_the_cap_is_not_retried(api: FakeAPI) -> None:
    limited = error_body("Rate limit reached", "requests", "rate_limit_exceeded")
    api.script(Reply(429, limited, {"Retry-After": "600"}))
    sleeps = Sleeps()
    with client_for(api, sleeps) as client, pytest.raises(RateLimitError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert sleeps == []
    assert len(api.requests) == 1
    assert str(info.value) == (
        f"429 Too Many Requests from POST {api.url('sessions')}: rate_limit_exceeded: "
        "Rate limit reached (request id req_fake_123); the server asks to retry after 600 s, "
        "longer than the 120 s this client waits"
    )


def test_async_client_retries_like_the_sync_one(api: FakeAPI) -> None:
    api.script(
        Reply(500, b"oops"),
        Reply(429, b"", {"Retry-After": "2"}),
        Reply(drop=True),
    )
    sleeps = Sleeps()

    async def main() -> CreatedSession:
        async with async_client_for(api, sleeps, max_retries=3) as client:
            return await client.send_payload(GA_PAYLOAD, target="client_secrets")

    created = asyncio.run(main())
    assert created.client_secret.value == SECRET
    assert len(api.requests) == 4
    assert len(sleeps) == 3
    assert 0.375 <= sleeps[0] <= 0.5
    assert sleeps[1] == 2.0
    assert 1.5 <= sleeps[2] <= 2.0


def test_retry_is_logged_without_the_key(api: FakeAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="realtime_config")
    api.script(Reply(503, b"", {"retry-after-ms": "10"}))
    with client_for(api) as client:
        client.send_payload(PAYLOAD, target="sessions")
    [record] = [r for r in caplog.records if r.name == "realtime_config"]
    assert record.getMessage() == (
        f"retrying in 0.01 s (retry 1 of 2) after: 503 Service Unavailable from POST "
        f"{api.url('sessions')}: empty response body (request id req_fake_123)"
    )


def test_retry_delay_matches_the_sdk() -> None:
    assert [retry_delay(n, 0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry_delay(0, 1.0) == 0.375
    assert retry_delay(10, 0.5) == 7.0


@given(st.integers(min_value=0, max_value=10_000), st.floats(min_value=0.0, max_value=1.0))
def test_retry_delay_is_capped_and_jittered_down(retries_taken: int, rand: float) -> None:
    base = min(0.5 * 2.0 ** min(retries_taken, 10), 8.0)
    assert 0.75 * base <= retry_delay(retries_taken, rand) <= base


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "x", "retry-after": "4"}, 4.0),
        ({"retry-after-ms": "100", "retry-after": "4"}, 0.1),
        (
            {"retry-after": format_datetime(datetime.fromtimestamp(NOW + 30, timezone.utc), True)},
            30.0,
        ),
        (
            {"retry-after": format_datetime(datetime.fromtimestamp(NOW - 30, timezone.utc), True)},
            None,
        ),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:50 -0000"}, 30.0),
        ({"retry-after": "Mon, 99 Foo 2023 25:61:61 GMT"}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers), NOW) == seconds


@given(st.text(), st.text())
def test_retry_after_parsing_never_crashes(millis: str, value: str) -> None:
    result = retry_after_seconds({"retry-after-ms": millis, "retry-after": value}, NOW)
    assert result is None or result >= 0


def test_http_date_retry_after_is_honoured(api: FakeAPI) -> None:
    when = datetime.now(timezone.utc).timestamp() + 60
    api.script(
        Reply(
            503,
            b"",
            {"Retry-After": format_datetime(datetime.fromtimestamp(when, timezone.utc), True)},
        )
    )
    sleeps = Sleeps()
    with client_for(api, sleeps) as client:
        client.send_payload(PAYLOAD, target="sessions")
    [slept] = sleeps
    assert 55 <= slept <= 60


def test_retry_after_is_ignored_for_statuses_that_are_not_retried(api: FakeAPI) -> None:
    api.script(Reply(400, error_body("bad", "invalid_request_error", None), {"Retry-After": "1"}))
    sleeps = Sleeps()
    with client_for(api, sleeps) as client, pytest.raises(BadRequestError):
        client.send_payload(PAYLOAD, target="sessions")
    assert sleeps == []
    assert len(api.requests) == 1
    assert MAX_RETRY_AFTER == 120.0


# --- no HTTP response at all -----------------------------------------------------------


def test_a_reply_slower_than_the_timeout(api: FakeAPI) -> None:
    api.script(Reply(delay=5.0))
    client = client_for(api, timeout=0.2, max_retries=0)
    with client, pytest.raises(APITimeoutError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value) == (
        f"timeout from POST {api.url('sessions')}: no complete response within the 0.2 s deadline"
    )
    assert isinstance(info.value, APIConnectionError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_a_slow_reply_is_retried(api: FakeAPI) -> None:
    api.script(Reply(delay=5.0))
    sleeps = Sleeps()
    # The overall bound (0.6 s by default) has no room for a backoff after a 0.2 s attempt.
    with client_for(api, sleeps, timeout=0.2, total_timeout=10) as client:
        created = client.send_payload(PAYLOAD, target="sessions")
    assert created.client_secret.value == SECRET
    assert len(api.requests) == 2
    assert len(sleeps) == 1


def test_a_dropped_connection_is_retried_then_reported(api: FakeAPI) -> None:
    api.script(*[Reply(drop=True)] * 3)
    sleeps = Sleeps()
    with client_for(api, sleeps) as client, pytest.raises(APIConnectionError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert type(info.value) is APIConnectionError
    assert len(api.requests) == 3
    assert str(info.value) == (
        f"connection error from POST {api.url('sessions')}: "
        "Server disconnected without sending a response. (after 3 attempts)"
    )
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)


def test_a_dropped_connection_then_success(api: FakeAPI) -> None:
    api.script(Reply(drop=True))
    with client_for(api) as client:
        assert client.send_payload(PAYLOAD, target="sessions").client_secret.value == SECRET
    assert len(api.requests) == 2


def test_connection_refused(api: FakeAPI) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    sleeps = Sleeps()
    client = RealtimeClient(api_key=CANARY_KEY, base_url=url, sleep=sleeps)
    with client, pytest.raises(APIConnectionError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value).startswith(f"connection error from POST {url}/realtime/sessions: ")
    assert str(info.value).endswith(" (after 3 attempts)")
    assert len(sleeps) == 2
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_async_timeout(api: FakeAPI) -> None:
    api.script(Reply(delay=5.0))

    async def main() -> None:
        async with async_client_for(api, timeout=0.2, max_retries=0) as client:
            await client.send_payload(PAYLOAD, target="sessions")

    with pytest.raises(APITimeoutError) as info:
        asyncio.run(main())
    assert str(info.value).endswith("no complete response within the 0.2 s deadline")


def test_connect_timeout_names_the_connect_phase() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    client = RealtimeClient(
        api_key=CANARY_KEY, transport=httpx.MockTransport(refuse), sleep=Sleeps()
    )
    with client, pytest.raises(APITimeoutError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value) == (
        "timeout from POST https://api.openai.com/v1/realtime/sessions: could not connect "
        "within the 5 s connect timeout (after 3 attempts)"
    )


def test_unsupported_protocol_is_not_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no", request=request)

    sleeps = Sleeps()
    client = RealtimeClient(api_key=CANARY_KEY, transport=httpx.MockTransport(refuse), sleep=sleeps)
    with client, pytest.raises(APIConnectionError):
        client.send_payload(PAYLOAD, target="sessions")
    assert sleeps == []


# --- a success status with the wrong body ----------------------------------------------


@pytest.mark.parametrize(
    ("target", "body", "problem"),
    [
        ("sessions", b"<html>ok</html>", "with a body that is not JSON"),
        ("sessions", b"", "with a body that is not JSON"),
        ("sessions", b"[]", "with JSON that is not an object"),
        ("sessions", {"id": "sess_1"}, "without a client_secret object"),
        ("sessions", {"client_secret": None}, "without a client_secret object"),
        ("sessions", {"client_secret": {"expires_at": 1}}, "without a client_secret.value string"),
        (
            "sessions",
            {"client_secret": {"value": "", "expires_at": 1}},
            "without a client_secret.value string",
        ),
        (
            "sessions",
            {"client_secret": {"value": "ek_1", "expires_at": "soon"}},
            "without a client_secret.expires_at integer",
        ),
        (
            "sessions",
            {"client_secret": {"value": "ek_1", "expires_at": True}},
            "without a client_secret.expires_at integer",
        ),
        ("client_secrets", {"value": "ek_1", "expires_at": 1}, "without a session object"),
        (
            "client_secrets",
            {"client_secret": {"value": "ek_1", "expires_at": 1}, "session": {}},
            "without a value string",
        ),
        (
            "client_secrets",
            {"value": "ek_1", "expires_at": 1.5, "session": {}},
            "without a expires_at integer",
        ),
    ],
)
def test_a_200_without_the_documented_shape_is_an_error(
    api: FakeAPI, target: str, body: Any, problem: str
) -> None:
    api.script(Reply(200, body))
    payload = PAYLOAD if target == "sessions" else GA_PAYLOAD
    with client_for(api) as client, pytest.raises(APIResponseError) as info:
        client.send_payload(payload, target=target)
    assert str(info.value) == (
        f"invalid response from POST {api.url(target)}: 200 OK {problem} (request id req_fake_123)"
    )
    assert info.value.status_code == 200
    assert info.value.request_id == "req_fake_123"
    assert len(api.requests) == 1  # never retried


def test_a_body_that_cannot_be_decoded() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    transport = httpx.MockTransport(answer)
    client = RealtimeClient(api_key=CANARY_KEY, transport=transport, sleep=Sleeps())
    with client, pytest.raises(APIResponseError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value).startswith(
        "invalid response from POST https://api.openai.com/v1/realtime/sessions: "
        "cannot decode the body: "
    )
    assert info.value.status_code is None
    assert isinstance(info.value.__cause__, httpx.DecodingError)


def test_a_201_is_a_success_too() -> None:
    body = {"value": "ek_1", "expires_at": 5, "session": {"type": "realtime"}}
    transport = httpx.MockTransport(lambda request: httpx.Response(201, json=body))
    with RealtimeClient(api_key=CANARY_KEY, transport=transport) as client:
        created = client.send_payload(GA_PAYLOAD, target="client_secrets")
    assert created.client_secret == ClientSecret("ek_1", 5)
    assert created.request_id is None


# --- results, reprs and resources ------------------------------------------------------


def test_results_do_not_show_the_ephemeral_key_in_their_repr(api: FakeAPI) -> None:
    with client_for(api) as client:
        created = client.send_payload(PAYLOAD, target="sessions")
    assert SECRET not in repr(created)
    assert repr(created) == (
        "CreatedSession(target='sessions', client_secret=ClientSecret(expires_at=1767225600), "
        "request_id='req_fake_123')"
    )
    assert created.client_secret.expires_at_iso == "2026-01-01T00:00:00Z"
    assert created.client_secret.expires_at_datetime == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_client_repr_hides_the_key() -> None:
    with RealtimeClient(api_key=CANARY_KEY, organization="org_1") as client:
        assert repr(client) == (
            "RealtimeClient(provider='openai', base_url='https://api.openai.com/v1', "
            "organization='org_1', project=None, api_key=<set>, max_retries=2)"
        )
    async_client = AsyncRealtimeClient()
    assert repr(async_client) == (
        "AsyncRealtimeClient(provider='openai', base_url='https://api.openai.com/v1', "
        "organization=None, project=None, api_key=<missing>, max_retries=2)"
    )
    asyncio.run(async_client.aclose())


def test_clients_share_one_verifying_ssl_context(monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    import certifi

    first, second = _verify(), _verify()
    assert first is second
    assert first.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    assert _verify() is not first  # the variables httpx reads still take effect


def test_an_unreadable_ca_bundle_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    with pytest.raises(ClientConfigError) as info:
        RealtimeClient()
    assert str(info.value).startswith(
        f"cannot load the CA certificates of SSL_CERT_FILE={missing}: "
    )
    assert "\n" not in str(info.value)


def test_a_supplied_http_client_is_used_and_left_open(api: FakeAPI) -> None:
    with httpx.Client(headers={"X-Proxy-Tag": "t1"}) as http_client:
        with client_for(api, http_client=http_client) as client:
            client.send_payload(PAYLOAD, target="sessions")
        assert not http_client.is_closed
        assert api.requests[0].headers["x-proxy-tag"] == "t1"
    assert http_client.is_closed


def test_a_supplied_async_http_client_is_left_open(api: FakeAPI) -> None:
    async def main() -> bool:
        async with httpx.AsyncClient() as http_client:
            async with async_client_for(api, http_client=http_client) as client:
                await client.send_payload(PAYLOAD, target="sessions")
            return http_client.is_closed

    assert asyncio.run(main()) is False
    assert len(api.requests) == 1


def test_owned_connections_are_closed() -> None:
    client = RealtimeClient(api_key=CANARY_KEY)
    with client:
        pass
    assert client._http.is_closed

    async def main() -> bool:
        async with AsyncRealtimeClient(api_key=CANARY_KEY) as async_client:
            pass
        return bool(async_client._http.is_closed)

    assert asyncio.run(main())


def test_prepare_request_needs_no_key_and_redacts_it(api: FakeAPI) -> None:
    with RealtimeClient(base_url=api.base_url) as client:
        request = client.prepare_payload(PAYLOAD, target="sessions")
    assert "Authorization" not in dict(request.headers)
    with client_for(api, project="proj_1") as client:
        request = client.prepare_payload(GA_PAYLOAD, target="client_secrets")
    assert request.as_text() == (
        f"POST {api.url('client_secrets')}\n"
        "Authorization: Bearer [redacted]\n"
        "Content-Type: application/json\n"
        "Accept: application/json\n"
        f"User-Agent: realtime-config/{__version__}\n"
        "OpenAI-Project: proj_1\n"
        "\n" + dumps_payload(GA_PAYLOAD, compact=True) + "\n"
    )
    assert CANARY_KEY not in repr(request)
    assert api.requests == []


def test_a_loaded_preset_is_compiled_for_its_own_target(api: FakeAPI, project: Path) -> None:
    text = 'model = "gpt-realtime-1.5"\ntemperature = 0.9\n[preset]\ntarget = "client_secrets"\n'
    preset = load_preset(write(project / "p.toml", text))
    with client_for(api) as client:
        with pytest.raises(PresetError):  # GA has no temperature
            client.create_secret(preset)
        request = client.prepare_preset(preset, drop_unsupported=True)
        assert [(w.severity, w.key) for w in request.warnings] == [("warning", "temperature")]
        ga = client.create_secret(preset, drop_unsupported=True)
        beta = client.create_secret(preset, "sessions")
    ga_body = dumps_payload(compile_preset(preset, drop_unsupported=True), compact=True)
    beta_body = dumps_payload(compile_preset(preset, "sessions"), compact=True)
    assert [(r.path, r.body) for r in api.requests] == [
        ("/v1/realtime/client_secrets", ga_body.encode()),
        ("/v1/realtime/sessions", beta_body.encode()),
    ]
    assert (ga.target, beta.target) == ("client_secrets", "sessions")
    assert beta.session["temperature"] == 0.9


def test_async_client_takes_a_preset(api: FakeAPI, project: Path) -> None:
    preset = load_preset(write(project / "p.toml", 'voice = "marin"\n'))

    async def main() -> CreatedSession:
        async with async_client_for(api) as client:
            return await client.create_secret(preset)

    assert asyncio.run(main()).session["voice"] == "marin"
    assert api.requests[0].body == b'{"modalities":["audio","text"],"voice":"marin"}'


def test_a_preset_whose_target_is_session_update_cannot_be_submitted(
    api: FakeAPI, project: Path
) -> None:
    preset = load_preset(write(project / "p.toml", 'preset.target = "session.update"\n'))
    with client_for(api) as client, pytest.raises(ClientConfigError) as info:
        client.prepare_preset(preset)
    assert str(info.value).startswith("target session.update is a WebSocket client event")
    with client_for(api) as client, pytest.raises(ClientConfigError) as info:
        client.create_secret(preset)
    assert str(info.value).startswith("target session.update mints no client secret")
    assert api.requests == []


def test_a_prepared_request_can_be_inspected_then_sent(api: FakeAPI) -> None:
    with client_for(api) as client:
        request = client.prepare_payload(GA_PAYLOAD, target="client_secrets")
        assert request.warnings == ()
        created = client.send(request)
    assert created.target == "client_secrets"
    [recorded] = api.requests
    assert recorded.body == request.body
    assert recorded.headers["authorization"] == f"Bearer {CANARY_KEY}"


def test_sending_a_prepared_request_still_needs_a_key(api: FakeAPI) -> None:
    async def main() -> None:
        async with AsyncRealtimeClient(base_url=api.base_url) as client:
            await client.send(client.prepare_payload(PAYLOAD, target="sessions"))

    with pytest.raises(MissingAPIKeyError):
        asyncio.run(main())
    assert api.requests == []


def test_the_body_is_sent_as_is_not_reencoded() -> None:
    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json={"client_secret": {"value": "ek", "expires_at": 1}})

    payload = {"instructions": "naïve \u2028 \U0001f600", "temperature": 1.0, "n": 10**20}
    with RealtimeClient(api_key=CANARY_KEY, transport=httpx.MockTransport(answer)) as client:
        client.send_payload(payload, target="sessions")
    assert seen == [dumps_payload(payload, compact=True).encode("utf-8")]
    expected = (
        '{"instructions":"naïve \u2028 \U0001f600","temperature":1.0,"n":100000000000000000000}'
    )
    assert seen[0] == expected.encode()


# --- the key never leaks ---------------------------------------------------------------

LEAK_CASES: dict[str, Callable[[FakeAPI], tuple[list[Reply], dict[str, Any], str | None]]] = {
    "401 echoing the key": lambda api: ([], {}, None),
    "404 beta": lambda api: ([Reply(404, error_body(f"no {CANARY_KEY}", "x", None))], {}, None),
    "500 html echoing the key": lambda api: (
        [Reply(500, f"<h1>{CANARY_KEY}</h1>".encode())] * 3,
        {},
        None,
    ),
    "429 over the cap": lambda api: ([Reply(429, b"", {"Retry-After": "900"})], {}, None),
    "timeout": lambda api: ([Reply(delay=5.0)], {"timeout": 0.2, "max_retries": 0}, None),
    "dropped": lambda api: ([Reply(drop=True)] * 3, {}, None),
    "200 not json": lambda api: ([Reply(200, f"{CANARY_KEY}".encode())], {}, None),
    "200 without secret": lambda api: ([Reply(200, {"echo": CANARY_KEY})], {}, None),
    "refused": lambda api: ([], {"base_url": f"http://127.0.0.1:{closed_port()}/v1"}, None),
    "session.update": lambda api: ([], {}, "session.update"),
    "client_secrets 400": lambda api: (
        [Reply(400, error_body(CANARY_KEY, CANARY_KEY, CANARY_KEY, CANARY_KEY))],
        {},
        "client_secrets",
    ),
}


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("case", sorted(LEAK_CASES))
def test_the_key_never_leaks(
    case: str,
    flavour: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log at DEBUG too
    expected_key = "sk-someone-else-000000000" if case == "401 echoing the key" else CANARY_KEY
    with serve(api_key=expected_key) as api:
        replies, kwargs, target = LEAK_CASES[case](api)
        api.script(*replies)
        kwargs = {"base_url": api.base_url, **kwargs}
        payload = GA_PAYLOAD if target == "client_secrets" else PAYLOAD
        if flavour == "sync":
            with RealtimeClient(api_key=CANARY_KEY, sleep=Sleeps(), **kwargs) as client:
                assert CANARY_KEY not in repr(client)
                with pytest.raises(RealtimeConfigError) as info:
                    client.send_payload(payload, target=target)
        else:

            async def main() -> None:
                async with AsyncRealtimeClient(
                    api_key=CANARY_KEY, sleep=Sleeps().asleep, **kwargs
                ) as client:
                    assert CANARY_KEY not in repr(client)
                    await client.send_payload(payload, target=target)

            with pytest.raises(RealtimeConfigError) as info:
                asyncio.run(main())
    texts = list(exception_texts(info.value))
    assert texts
    for text in texts:
        assert CANARY_KEY not in text
    assert "\n" not in str(info.value)
    assert CANARY_KEY not in caplog.text
    for record in caplog.records:
        assert CANARY_KEY not in record.getMessage()
    out, err = capsys.readouterr()
    assert CANARY_KEY not in out + err


def test_the_leak_check_would_see_a_leak() -> None:
    """The canary test must be able to fail: an exception chain holding the key is caught."""
    error = APIError("outer", method="POST", url="u")
    error.__cause__ = ValueError("wrapped", RuntimeError(f"Bearer {CANARY_KEY}"))
    assert any(CANARY_KEY in text for text in exception_texts(error))
    inner = APIError("outer", method="POST", url="u")
    inner.__context__ = KeyError(CANARY_KEY)
    assert any(CANARY_KEY in text for text in exception_texts(inner))


# --- import cost -----------------------------------------------------------------------


def test_importing_the_package_does_not_import_httpx() -> None:
    root = Path(__file__).resolve().parent.parent
    code = (
        "import json, sys\n"
        "def loaded(): return sorted(m for m in sys.modules if m.split('.')[0] == 'httpx')\n"
        "import realtime_config, realtime_config.client._client, realtime_config.cli\n"
        "before = loaded()\n"
        "realtime_config.client._client.RealtimeClient().close()\n"
        "print(json.dumps([before, 'httpx' in loaded()]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert json.loads(result.stdout) == [[], True]


def test_an_entry_point_refuses_a_result_of_another_kind() -> None:
    # Private: each entry point's target is fixed by the registry, so no public call gets a
    # result of another kind; this guards the day a target's response kind changes.
    from realtime_config.client._models import result_of

    accepted = AcceptedCall(target="calls.accept", url="https://api.example/v1")
    assert result_of(accepted, AcceptedCall) is accepted
    for kind, said in (
        (CreatedSession, "creates no session"),
        (CreatedCall, "places no WebRTC call"),
    ):
        with pytest.raises(ClientConfigError) as info:
            result_of(accepted, kind)
        assert str(info.value) == f"target calls.accept {said}"
    created = CreatedCall(target="calls", sdp="v=0\r\n", call_id=None)
    with pytest.raises(ClientConfigError, match=r"^target calls accepts no call$"):
        result_of(created, AcceptedCall)


def test_the_async_client_accepts_a_call_and_keeps_create_session(
    api: FakeAPI, project: Path
) -> None:
    preset = load_preset(
        write(project / "p.toml", 'type = "realtime"\nmodel = "gpt-realtime-2.1"\n')
    )

    async def main() -> tuple[AcceptedCall, CreatedSession]:
        async with async_client_for(api) as client:
            assert (client.max_response_bytes, client.retry_rate_limited) == (1024 * 1024, True)
            accepted = await client.accept_call(preset, "rtc_abc123")
            created = await client.create_session(GA_PAYLOAD, target="client_secrets")
        return accepted, created

    accepted, created = asyncio.run(main())
    assert (accepted.target, created.target) == ("calls.accept", "client_secrets")
    assert [r.path for r in api.requests] == [
        "/v1/realtime/calls/rtc_abc123/accept",
        "/v1/realtime/client_secrets",
    ]
