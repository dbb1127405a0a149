"""The client-secret service: uvicorn really listening on 127.0.0.1, the loopback fake upstream.

Each test builds the app with ``create_app`` for a temporary project, runs it with uvicorn
in a thread (``running``), and talks HTTP to it with httpx. The ``serve`` command is run as
a real subprocess for the signal tests, and in this process until a SIGTERM. At the end, the
edges: start-up refusals, odd Origin and Host headers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request

from realtime_config import (
    AsyncRealtimeClient,
    MissingAPIKeyError,
    PresetError,
    ServeConfigError,
    check_files,
    create_app,
)
from realtime_config.cli import main
from tests.conftest import PROJECT, write
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI, Reply, error_body
from tests.serving import free_socket, serve_process, serving

AGENT = 'model = "gpt-realtime-1.5"\nvoice = "marin"\npreset.description = "Voice agent."\n'
SUPPORT = 'preset.target = "client_secrets"\nmodel = "gpt-realtime-1.5"\nvoice = "marin"\n'
ALLOWED = "http://app.example.test:3000"
OTHER = "http://evil.example.test"
WRONG_KEY = "sk-wrong-CANARY-0987654321"

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def presets(project: Path) -> Path:
    """A project with a beta preset (target sessions) and a nested client_secrets preset."""
    write(project / "presets" / "agent.toml", AGENT)
    write(project / "presets" / "team" / "support.toml", SUPPORT)
    return project


def app_for(api: FakeAPI, **options: Any) -> Starlette:
    settings: dict[str, Any] = {"api_key": CANARY_KEY, "base_url": api.base_url, "max_retries": 0}
    settings.update(options)
    return create_app(**settings)


@contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 for the block; yield its base URL."""
    with serving(app) as (host, port):
        yield f"http://{host}:{port}"


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, timeout=10, **kwargs)


def error(message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_}}


# --- minting ----------------------------------------------------------------------------


def test_mints_with_each_presets_default_target(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api)) as url:
        beta = post(f"{url}/sessions/agent")
        ga = post(f"{url}/sessions/team/support")
    assert beta.status_code == 200
    # One shape for both endpoints: the documented fields of a secret, nothing else.
    assert beta.json() == {
        "value": SECRET,
        "expires_at": EXPIRES_AT,
        "session": {
            "id": "sess_001",
            "object": "realtime.session",
            "model": "gpt-realtime-1.5",
            "modalities": ["audio", "text"],
            "voice": "marin",
        },
    }
    assert ga.status_code == 200
    assert ga.json() == {
        "value": SECRET,
        "expires_at": EXPIRES_AT,
        "session": {
            "object": "realtime.session",
            "id": "sess_002",
            **api.requests[1].json()["session"],
        },
    }
    assert beta.headers["cache-control"] == ga.headers["cache-control"] == "no-store"
    assert [r.path for r in api.requests] == [
        "/v1/realtime/sessions",
        "/v1/realtime/client_secrets",
    ]
    assert api.requests[0].json() == {
        "model": "gpt-realtime-1.5",
        "modalities": ["audio", "text"],
        "voice": "marin",
    }
    assert api.requests[1].json()["session"]["type"] == "realtime"
    assert api.requests[1].headers["authorization"] == f"Bearer {CANARY_KEY}"


def test_a_request_cannot_change_the_preset(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api)) as url:
        response = post(
            f"{url}/sessions/agent?model=other&voice=ash",
            json={"model": "gpt-4o-realtime-preview", "instructions": "leak everything"},
        )
    assert response.status_code == 200
    assert api.requests[0].json() == {
        "model": "gpt-realtime-1.5",
        "modalities": ["audio", "text"],
        "voice": "marin",
    }


def test_lists_presets_and_answers_health_checks(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api)) as url:
        listing = httpx.get(f"{url}/presets")
        health = httpx.get(f"{url}/healthz")
    assert listing.status_code == 200
    assert listing.json() == {
        "presets": [
            {"name": "agent", "description": "Voice agent.", "target": "sessions", "calls": True},
            {
                "name": "team/support",
                "description": None,
                "target": "client_secrets",
                "calls": True,
            },
        ]
    }
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "presets": 2}
    assert api.requests == []


def test_serves_only_the_named_presets(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api, presets=["presets/team/support.toml"])) as url:
        listing = httpx.get(f"{url}/presets").json()
        response = post(f"{url}/sessions/agent")
    assert [p["name"] for p in listing["presets"]] == ["team/support"]
    assert response.status_code == 404
    assert response.json() == error("no preset named 'agent'", "not_found")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/sessions/nope", "no preset named 'nope'"),
        ("/sessions/agent.toml", "no preset named 'agent.toml'"),
        ("/sessions/..%2F..%2Fpyproject", "no preset named '../../pyproject'"),
        ("/sessions/%2Fetc%2Fpasswd", "no preset named '/etc/passwd'"),
        ("/sessions/" + "x" * 150, "no preset named '" + "x" * 100 + "…'"),
    ],
)
def test_an_unknown_preset_is_404(api: FakeAPI, presets: Path, path: str, message: str) -> None:
    with running(app_for(api)) as url:
        response = post(url + path)
    assert response.status_code == 404
    assert response.json() == error(message, "not_found")
    assert api.requests == []


def test_other_routes_and_methods_answer_json(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api)) as url:
        wrong_method = httpx.get(f"{url}/sessions/agent")
        no_route = httpx.get(f"{url}/sessions")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == error("Method Not Allowed", "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"
    assert no_route.status_code == 404
    assert no_route.json() == error("Not Found", "not_found")


# --- authorize ---------------------------------------------------------------------------


def sync_check(request: Request) -> bool:
    return request.headers.get("authorization") == "Bearer app-session-ok"


async def async_check(request: Request) -> bool:
    await asyncio.sleep(0)
    token = request.headers.get("authorization")
    if token is None:
        raise HTTPException(401, "log in first")
    return token == "Bearer app-session-ok"


@pytest.mark.parametrize("check", [sync_check, async_check], ids=["sync", "async"])
def test_authorize_yes_and_no(api: FakeAPI, presets: Path, check: Any) -> None:
    with running(app_for(api, authorize=check)) as url:
        yes = post(f"{url}/sessions/agent", headers={"Authorization": "Bearer app-session-ok"})
        no = post(f"{url}/sessions/agent", headers={"Authorization": "Bearer someone-else"})
        anonymous = post(f"{url}/sessions/agent")
    assert yes.status_code == 200
    assert yes.json()["value"] == SECRET
    assert no.status_code == 403
    assert no.json() == error("not allowed to mint a client secret", "forbidden")
    if check is async_check:
        assert anonymous.status_code == 401
        assert anonymous.json() == error("log in first", "unauthorized")
    else:
        assert anonymous.status_code == 403
    assert len(api.requests) == 1


def test_authorize_sees_the_preset_name(api: FakeAPI, presets: Path) -> None:
    def staff_only(request: Request) -> bool:
        return not request.path_params["name"].startswith("team/")

    with running(app_for(api, authorize=staff_only)) as url:
        assert post(f"{url}/sessions/agent").status_code == 200
        assert post(f"{url}/sessions/team/support").status_code == 403


def test_a_failing_authorize_hook_is_a_json_500(
    api: FakeAPI, presets: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: Request) -> bool:
        raise RuntimeError("the session store is down")

    with running(app_for(api, authorize=broken)) as url:
        response = post(f"{url}/sessions/agent")
    assert response.status_code == 500
    assert response.json() == error("internal error", "internal_error")
    assert "the session store is down" not in response.text
    assert api.requests == []


# --- CORS --------------------------------------------------------------------------------


def test_cors_for_a_listed_origin(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api, allow_origins=[ALLOWED])) as url:
        response = post(f"{url}/sessions/agent", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-expose-headers"] == "Retry-After, Location"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


def test_cors_blocks_an_origin_that_is_not_listed(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api, allow_origins=[ALLOWED])) as url:
        response = post(f"{url}/sessions/agent", headers={"Origin": OTHER})
        health = httpx.get(f"{url}/healthz", headers={"Origin": OTHER})
    assert response.status_code == 403
    assert response.json() == error(
        "this origin may not request client secrets", "origin_not_allowed"
    )
    assert health.status_code == 403
    for answer in (response, health):
        assert not [h for h in answer.headers if h.startswith("access-control-")]
    assert api.requests == []  # nothing is minted for a page that could not read it


def test_preflight_of_a_listed_origin(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api, allow_origins=[ALLOWED, "https://b.example"])) as url:
        response = httpx.options(
            f"{url}/sessions/agent",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    assert response.status_code == 204
    assert response.content == b""
    assert {k: v for k, v in response.headers.items() if k.startswith("access-control-")} == {
        "access-control-allow-origin": ALLOWED,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "Authorization, Content-Type",
        "access-control-max-age": "600",
    }
    assert api.requests == []


def test_preflight_of_an_origin_that_is_not_listed(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api, allow_origins=[ALLOWED])) as url:
        response = httpx.options(
            f"{url}/sessions/agent",
            headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"},
        )
    assert response.status_code == 403
    assert not [h for h in response.headers if h.startswith("access-control-")]


def test_no_origin_and_same_origin_need_no_cors(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api, allow_origins=[ALLOWED])) as url:
        plain = post(f"{url}/sessions/agent")
        same = post(f"{url}/sessions/agent", headers={"Origin": url})
    for response in (plain, same):
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        assert response.headers["vary"] == "Origin"


def test_cors_with_credentials(api: FakeAPI, presets: Path) -> None:
    with running(app_for(api, allow_origins=[ALLOWED], allow_credentials=True)) as url:
        response = post(f"{url}/sessions/agent", headers={"Origin": ALLOWED})
    assert response.headers["access-control-allow-credentials"] == "true"


def test_without_listed_origins_every_cross_origin_request_is_refused(
    api: FakeAPI, presets: Path
) -> None:
    with running(app_for(api)) as url:
        response = post(f"{url}/sessions/agent", headers={"Origin": ALLOWED})
    assert response.status_code == 403
    assert "vary" not in response.headers


# --- upstream failures -------------------------------------------------------------------


def test_upstream_401_is_502_without_the_key(api: FakeAPI, presets: Path) -> None:
    # The fake quotes the wrong key it was given; nothing of it may reach the browser.
    with running(app_for(api, api_key=WRONG_KEY)) as url:
        response = post(f"{url}/sessions/agent")
    assert response.status_code == 502
    assert response.json() == error("the Realtime API answered 401", "upstream_error")


def test_upstream_429_passes_through_with_retry_after(api: FakeAPI, presets: Path) -> None:
    api.script(
        Reply(
            429,
            error_body("Rate limit reached", "requests", "rate_limit_exceeded"),
            {"Retry-After": "7"},
        ),
        Reply(429, error_body("Slow down", "requests", None), {"retry-after-ms": "1500"}),
        Reply(429, error_body("Slow down", "requests", None)),
    )
    with running(app_for(api)) as url:
        answers = [post(f"{url}/sessions/agent") for _ in range(3)]
    for answer in answers:
        assert answer.status_code == 429
        assert answer.json() == error(
            "the Realtime API is rate limiting requests; retry later", "rate_limited"
        )
    assert [a.headers.get("retry-after") for a in answers] == ["7", "2", None]


@pytest.mark.parametrize("status", [500, 502, 503, 400, 403])
def test_other_upstream_statuses_are_502(api: FakeAPI, presets: Path, status: int) -> None:
    api.script(Reply(status, error_body(f"echo {CANARY_KEY}", "server_error", None)))
    with running(app_for(api)) as url:
        response = post(f"{url}/sessions/agent")
    assert response.status_code == 502
    assert response.json() == error(f"the Realtime API answered {status}", "upstream_error")
    assert "retry-after" not in response.headers


def test_upstream_timeout_is_504(api: FakeAPI, presets: Path) -> None:
    api.script(Reply(delay=5))
    with running(app_for(api, timeout=0.3)) as url:
        started = time.monotonic()
        response = post(f"{url}/sessions/agent")
        took = time.monotonic() - started
    assert response.status_code == 504
    assert response.json() == error("the Realtime API did not answer in time", "upstream_timeout")
    assert took < 3


def test_dropped_upstream_connection_is_502(api: FakeAPI, presets: Path) -> None:
    api.script(Reply(drop=True))
    with running(app_for(api)) as url:
        response = post(f"{url}/sessions/agent")
    assert response.status_code == 502
    assert response.json() == error("could not reach the Realtime API", "upstream_unreachable")


def test_unreachable_upstream_is_502(presets: Path) -> None:
    closed = free_socket()  # bound, never listening: connections are refused
    base_url = f"http://127.0.0.1:{closed.getsockname()[1]}/v1"
    app = create_app(api_key=CANARY_KEY, base_url=base_url, max_retries=0)
    with running(app) as url:
        response = post(f"{url}/sessions/agent")
    closed.close()
    assert response.status_code == 502
    assert response.json() == error("could not reach the Realtime API", "upstream_unreachable")


def test_an_upstream_answer_without_a_secret_is_502(api: FakeAPI, presets: Path) -> None:
    api.script(Reply(200, {"id": "sess_1"}))
    with running(app_for(api)) as url:
        response = post(f"{url}/sessions/agent")
    assert response.status_code == 502
    assert response.json() == error(
        "the Realtime API sent a response without a client secret", "upstream_error"
    )


def test_upstream_errors_are_retried_by_the_shared_client(api: FakeAPI, presets: Path) -> None:
    api.script(Reply(503, error_body("busy", "server_error", None), {"Retry-After": "0.01"}))
    with running(app_for(api, max_retries=1)) as url:
        response = post(f"{url}/sessions/agent")
    assert response.status_code == 200
    assert len(api.requests) == 2


# --- load, logs, lifetime ----------------------------------------------------------------


def test_fifty_concurrent_requests_are_all_served_in_bounded_time(
    api: FakeAPI, presets: Path
) -> None:
    # Each upstream answer takes 0.2 s: one after the other, 50 would take 10 s.
    api.script(*[Reply(delay=0.2) for _ in range(50)])

    async def burst(url: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(timeout=20, limits=limits) as client:
            names = ["agent", "team/support"] * 25
            return await asyncio.gather(*(client.post(f"{url}/sessions/{n}") for n in names))

    with running(app_for(api)) as url:
        started = time.monotonic()
        responses = asyncio.run(burst(url))
        took = time.monotonic() - started
    assert [r.status_code for r in responses] == [200] * 50
    secrets = [r.json().get("value") or r.json()["client_secret"]["value"] for r in responses]
    assert secrets == [SECRET] * 50
    assert len(api.requests) == 50
    assert took < 5, f"50 concurrent requests took {took:.1f} s"


def test_logs_never_hold_the_key_or_the_secret(
    api: FakeAPI, presets: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    api.script(
        Reply(),
        Reply(500, error_body(f"upstream echoes {CANARY_KEY} and {SECRET}", "server_error", None)),
        Reply(429, error_body(f"key {CANARY_KEY}", "requests", None), {"Retry-After": "3"}),
    )
    with running(app_for(api, allow_origins=[ALLOWED])) as url:
        answers = [post(f"{url}/sessions/agent", headers={"Origin": ALLOWED}) for _ in range(3)]
        answers.append(post(f"{url}/sessions/team/support"))
        answers.append(post(f"{url}/sessions/agent", headers={"Origin": OTHER}))
    assert [a.status_code for a in answers] == [200, 502, 429, 200, 403]
    assert SECRET in answers[0].text  # the canary is really there to be leaked
    assert CANARY_KEY not in caplog.text
    assert SECRET not in caplog.text
    for answer in answers[1:3]:
        assert CANARY_KEY not in answer.text
        assert SECRET not in answer.text
    access = [
        r
        for r in caplog.records
        if r.name == "realtime_config.server" and r.levelno == logging.INFO
    ]
    assert [r.getMessage().rsplit(" duration_ms=", 1)[0] for r in access] == [
        "serving 2 presets: agent, team/support",
        f"POST /sessions/agent 200 preset=agent upstream_request_id=req_fake_123 origin={ALLOWED}",
        f"POST /sessions/agent 502 preset=agent upstream_request_id=req_fake_123 origin={ALLOWED}",
        f"POST /sessions/agent 429 preset=agent upstream_request_id=req_fake_123 origin={ALLOWED}",
        "POST /sessions/team/support 200 preset=team/support upstream_request_id=req_fake_123",
        f"POST /sessions/agent 403 origin={OTHER}",
    ]
    first = access[1]
    assert (first.method, first.path, first.status, first.preset) == (
        "POST",
        "/sessions/agent",
        200,
        "agent",
    )  # type: ignore[attr-defined]
    assert first.upstream_request_id == "req_fake_123"  # type: ignore[attr-defined]
    assert isinstance(first.duration_ms, float)  # type: ignore[attr-defined]
    assert first.origin == ALLOWED  # type: ignore[attr-defined]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[0].startswith("preset agent: 500 Internal Server Error from POST ")
    assert "[redacted]" in warnings[0]


def test_log_lines_escape_control_characters(
    api: FakeAPI, presets: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="realtime_config.server")
    with running(app_for(api)) as url:
        post(f"{url}/sessions/a%0Afake%20entry")
    (line,) = [r.getMessage() for r in caplog.records if "/sessions/a" in r.getMessage()]
    assert line.startswith("POST /sessions/a\\nfake entry 404 duration_ms=")


def test_one_shared_client_closed_at_shutdown_and_renewed_at_start_up(
    api: FakeAPI, presets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[AsyncRealtimeClient] = []
    real_aclose = AsyncRealtimeClient.aclose

    async def spy(self: AsyncRealtimeClient) -> None:
        closed.append(self)
        await real_aclose(self)

    monkeypatch.setattr(AsyncRealtimeClient, "aclose", spy)
    app = app_for(api)
    with running(app) as url:
        for _ in range(3):
            assert post(f"{url}/sessions/agent").status_code == 200
    assert len(closed) == 1
    with running(app) as url:  # the same app started again gets a fresh client
        assert post(f"{url}/sessions/agent").status_code == 200
    assert len(closed) == 2
    assert closed[0] is not closed[1]


def test_mounted_in_a_host_app_that_runs_its_lifespan(
    api: FakeAPI, presets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.routing import Mount

    closed: list[AsyncRealtimeClient] = []
    real_aclose = AsyncRealtimeClient.aclose

    async def spy(self: AsyncRealtimeClient) -> None:
        closed.append(self)
        await real_aclose(self)

    monkeypatch.setattr(AsyncRealtimeClient, "aclose", spy)
    secrets = app_for(api)
    # Starlette runs no lifespan of a mounted app: the host passes it on, as the README says.
    host = Starlette(
        routes=[Mount("/realtime", app=secrets)], lifespan=secrets.router.lifespan_context
    )
    with running(host) as url:
        response = post(f"{url}/realtime/sessions/agent")
        missing = post(f"{url}/realtime/sessions/nope")
    assert response.status_code == 200
    assert missing.json() == error("no preset named 'nope'", "not_found")
    assert len(closed) == 1


# --- start-up ----------------------------------------------------------------------------


def test_start_up_refuses_an_invalid_preset_with_its_diagnostics(
    api: FakeAPI, presets: Path
) -> None:
    bad = write(presets / "presets" / "bad.toml", 'model = "gpt-realtime-1.5"\ntemperature = 5\n')
    broken = write(presets / "presets" / "broken.toml", "model = \n")
    expected = check_files([bad, broken], root=presets)
    assert [d.file for d in expected] == ["presets/bad.toml", "presets/broken.toml"]
    with pytest.raises(PresetError) as caught:
        app_for(api)
    assert caught.value.diagnostics == tuple(expected)


UPDATE = 'preset.target = "session.update"\nmodel = "gpt-realtime-1.5"\n'


def test_start_up_refuses_a_named_preset_that_cannot_mint(api: FakeAPI, presets: Path) -> None:
    write(presets / "presets" / "update.toml", UPDATE)
    with pytest.raises(PresetError) as caught:
        app_for(api, presets=["presets/agent.toml", "presets/update.toml"])
    assert str(caught.value) == (
        "presets/update.toml:1:17: error: cannot be served: "
        "preset.target session.update does not mint a client secret over HTTP"
    )


def test_discovered_presets_that_cannot_mint_are_left_out(api: FakeAPI, presets: Path) -> None:
    write(presets / "presets" / "update.toml", UPDATE)
    app = app_for(api)
    assert [p.name for p in app.state.presets] == ["agent", "team/support"]
    assert [str(w) for w in app.state.warnings] == [
        "presets/update.toml:1:17: warning: "
        "preset.target session.update does not mint a client secret over HTTP: not served"
    ]
    with running(app) as url:
        assert post(f"{url}/sessions/update").status_code == 404


def test_start_up_refuses_a_preset_outside_presets(api: FakeAPI, presets: Path) -> None:
    write(presets / "elsewhere.toml", AGENT)
    with pytest.raises(PresetError) as caught:
        app_for(api, presets=["elsewhere.toml", "presets/agent.toml"])
    assert str(caught.value) == (
        "elsewhere.toml:1:1: error: not under presets/: a served preset is named by its path there"
    )


def test_start_up_needs_presets_a_key_and_real_origins(api: FakeAPI, project: Path) -> None:
    with pytest.raises(
        ServeConfigError, match=r"^no presets to serve: presets has no \.toml file$"
    ):
        app_for(api)
    write(project / "presets" / "agent.toml", AGENT)
    with pytest.raises(
        ServeConfigError, match=r"^no presets to serve: the list of presets is empty$"
    ):
        app_for(api, presets=[])
    with pytest.raises(MissingAPIKeyError) as missing:
        create_app(base_url=api.base_url)
    assert str(missing.value) == "no API key: none was given and OPENAI_API_KEY is not set"
    for origin in ("*", "http://app.example/", "app.example", "https://a.example/path"):
        with pytest.raises(ServeConfigError) as caught:
            app_for(api, allow_origins=[origin])
        assert str(caught.value) == (
            f"{origin!r} is not an origin: expected scheme://host[:port] without a path, "
            "such as https://app.example.com"
        )


def test_a_project_folder_given_as_root(
    api: FakeAPI, presets: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    os.chdir(tmp_path_factory.mktemp("elsewhere"))
    app = app_for(api, root=presets)
    assert [p.name for p in app.state.presets] == ["agent", "team/support"]


# --- the serve command -------------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str | None] | None = None) -> Any:
    return CliRunner().invoke(main, ["serve", *args], env=env or {})


def test_serve_exits_1_with_the_diagnostics_of_an_invalid_preset(presets: Path) -> None:
    bad = write(presets / "presets" / "bad.toml", 'model = "gpt-realtime-1.5"\ntemperature = 5\n')
    expected = [str(d) for d in check_files([bad], root=presets)]
    assert expected[0].startswith("presets/bad.toml:2:")
    result = run_cli(env={"OPENAI_API_KEY": CANARY_KEY})
    assert (result.exit_code, result.output) == (1, "\n".join(expected) + "\n")
    write(presets / "presets" / "update.toml", UPDATE)
    result = run_cli("presets/update.toml", env={"OPENAI_API_KEY": CANARY_KEY})
    assert (result.exit_code, result.output) == (
        1,
        "presets/update.toml:1:17: error: cannot be served: "
        "preset.target session.update does not mint a client secret over HTTP\n",
    )


def test_serve_without_a_key_or_with_a_bad_origin(presets: Path) -> None:
    result = run_cli()
    assert (result.exit_code, result.output) == (
        1,
        "realtime-config: error: no API key: none was given and OPENAI_API_KEY is not set\n",
    )
    result = run_cli("--allow-origin", "*", env={"OPENAI_API_KEY": CANARY_KEY})
    assert result.exit_code == 1
    assert result.output.startswith("realtime-config: error: '*' is not an origin: ")


@pytest.mark.parametrize("missing", ["starlette", "uvicorn"])
def test_serve_without_the_extra_names_it(presets: Path, missing: str) -> None:
    probe = (
        f"import sys; sys.modules[{missing!r}] = None\n"  # as if it were not installed
        "from realtime_config.cli import main\n"
        "main(['serve'])\n"
    )
    env = {**os.environ, "OPENAI_API_KEY": CANARY_KEY}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        cwd=presets,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "realtime-config: error: serve needs the serve extra: "
        "pip install 'realtime-config[serve]'\n",
    )


def test_importing_the_package_never_imports_starlette() -> None:
    probe = (
        "import sys, realtime_config\n"
        "before = 'starlette' in sys.modules or 'realtime_config.serve._app' in sys.modules\n"
        "realtime_config.create_app\n"
        "print(before, 'starlette' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "False True\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_shuts_down_cleanly_on_a_signal(api: FakeAPI, presets: Path, sig: int) -> None:
    write(presets / "presets" / "update.toml", UPDATE)
    with serve_process(presets, api, "--allow-origin", ALLOWED) as (process, url):
        minted = post(f"{url}/sessions/team/support", headers={"Origin": ALLOWED})
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert minted.status_code == 200
    assert minted.json()["value"] == SECRET
    assert "Traceback" not in stderr
    assert "Aborted" not in stderr
    assert stderr.startswith(
        "presets/update.toml:1:17: warning: "
        "preset.target session.update does not mint a client secret over HTTP: not served\n"
    )
    assert "INFO:     serving 2 presets: agent, team/support\n" in stderr
    assert "Uvicorn running on http://127.0.0.1:" in stderr
    assert "INFO:     POST /sessions/team/support 200 preset=team/support" in stderr
    assert stderr.rstrip().endswith(f"Finished server process [{process.pid}]")
    assert CANARY_KEY not in stderr
    assert SECRET not in stderr


def test_serve_mints_from_the_shipped_ga_preset(api: FakeAPI) -> None:
    """The issue's 'done when': the shipped GA preset, an allowed Origin, another refused."""
    preset = PROJECT / "presets" / "assistant.toml"
    assert preset.is_file(), "presets/assistant.toml is not shipped yet"
    with serve_process(PROJECT, api, "presets/assistant.toml", "--allow-origin", ALLOWED) as (
        process,
        url,
    ):
        allowed = post(f"{url}/sessions/assistant", headers={"Origin": ALLOWED})
        refused = post(f"{url}/sessions/assistant", headers={"Origin": OTHER})
        listing = httpx.get(f"{url}/presets").json()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    body = allowed.json()
    assert (body["value"], body["expires_at"]) == (SECRET, EXPIRES_AT)
    assert body["session"]["type"] == "realtime"
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert [(p["name"], p["target"]) for p in listing["presets"]] == [
        ("assistant", "client_secrets")
    ]
    assert [r.path for r in api.requests] == ["/v1/realtime/client_secrets"]
    assert json.loads(api.requests[0].body)["session"]["type"] == "realtime"


def test_the_fastapi_example_mints_only_for_a_logged_in_user(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    path = PROJECT / "examples" / "fastapi_app.py"
    spec = importlib.util.spec_from_file_location("fastapi_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    with running(example.app) as url, httpx.Client(base_url=url, timeout=10) as browser:
        page = browser.get("/")
        script = browser.get("/demo.js")
        anonymous = browser.post("/sessions/assistant")
        anonymous_list = browser.get("/presets")
        browser.get("/login", params={"user": "ada"}, follow_redirects=True)
        minted = browser.post("/sessions/assistant")
        listing = browser.get("/presets")
    assert page.status_code == 200
    assert '<button id="start" type="button" disabled>Start</button>' in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert anonymous.status_code == anonymous_list.status_code == 401
    assert anonymous.json() == error("log in first", "unauthorized")
    assert minted.status_code == 200
    assert minted.json()["value"] == SECRET
    assert [p["name"] for p in listing.json()["presets"]] == ["assistant"]
    assert [r.path for r in api.requests] == ["/v1/realtime/client_secrets"]


# --- at the edges: start-up refusals, odd Origin and Host headers, serve run in-process ---

ASH = 'voice = "ash"\n'
SIP = 'type = "realtime"\npreset.target = "calls.accept"\n'


def app_named(api: FakeAPI, presets: Any = None, **options: Any) -> Starlette:
    """The app for the presets named (all under presets/ for None)."""
    return create_app(presets, api_key=CANARY_KEY, base_url=api.base_url, max_retries=0, **options)


def raw_request(address: tuple[str, int], request: bytes) -> bytes:
    """Send bytes as they are (no client adds a Host header) and read the whole answer."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# --- start-up ------------------------------------------------------------------------------


def test_one_preset_may_be_named_by_a_single_path(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "agent.toml", ASH)
    app = app_named(api, "presets/agent.toml")
    assert [(p.name, p.target) for p in app.state.presets] == [("agent", "sessions")]


def test_a_named_preset_whose_target_mints_nothing_is_refused(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "sip.toml", SIP)
    with pytest.raises(PresetError) as caught:
        app_named(api, ["presets/sip.toml"])
    assert str(caught.value) == (
        "presets/sip.toml:2:17: error: cannot be served: "
        "preset.target calls.accept does not mint a client secret over HTTP"
    )


def test_when_no_discovered_preset_mints_there_is_nothing_to_serve(
    api: FakeAPI, project: Path
) -> None:
    write(project / "presets" / "sip.toml", SIP)
    with pytest.raises(ServeConfigError) as caught:
        app_named(api)
    assert str(caught.value) == "no presets to serve: none of them mints a client secret"


def test_two_files_served_under_one_name_are_refused(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "agent.toml", ASH)
    write(project / "presets" / "agent.preset", ASH)  # any suffix names the same preset
    with pytest.raises(PresetError) as caught:
        app_named(api, ["presets/agent.toml", "presets/agent.preset"])
    assert str(caught.value) == "presets/agent.preset:1:1: error: another preset is served as agent"


def test_the_same_file_named_twice_is_served_once(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "agent.toml", ASH)
    app = app_named(api, ["presets/agent.toml", "presets/../presets/agent.toml"])
    assert [p.name for p in app.state.presets] == ["agent"]


# --- Origin and Host ----------------------------------------------------------------------


REFUSED = b'{"error":{"message":"this origin may not request client secrets","type":"origin_not_allowed"}}'
INVALID_HOST = b'{"error":{"message":"this host name is not served here","type":"invalid_host"}}'


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        # An HTTP/1.0 request may name no Host: no allowed host, so nothing is served.
        (b"Origin: http://127.0.0.1\r\n", b"HTTP/1.1 400 Bad Request", INVALID_HOST),
        # The Host is served, the Origin is not a URL at all: not the app's own origin.
        (
            b"Host: 127.0.0.1:{port}\r\nOrigin: http://[127.0.0.1\r\n",
            b"HTTP/1.1 403 Forbidden",
            REFUSED,
        ),
    ],
    ids=["no-host", "broken-origin"],
)
def test_an_origin_that_cannot_be_the_apps_own_is_refused(
    api: FakeAPI, project: Path, headers: bytes, status: bytes, body: bytes
) -> None:
    write(project / "presets" / "agent.toml", ASH)
    with serving(app_named(api, allow_origins=[ALLOWED])) as address:
        headers = headers.replace(b"{port}", str(address[1]).encode())
        answer = raw_request(
            address, b"POST /sessions/agent HTTP/1.0\r\n" + headers + b"Content-Length: 0\r\n\r\n"
        )
    head, _, got = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == status
    assert got == body
    assert api.requests == []


# --- realtime-config serve, in this process -------------------------------------------------


def test_serve_mints_then_stops_cleanly_on_sigterm(
    api: FakeAPI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command itself, in the main thread: uvicorn's signal handlers are put in place
    by serve, and SIGTERM is sent only once the service answers, while they are."""
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    write(project / "presets" / "agent.toml", ASH)
    write(project / "presets" / "sip.toml", SIP)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    minted: list[httpx.Response] = []

    def client() -> None:
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        minted.append(httpx.post(f"{url}/sessions/agent", timeout=10))
                        return
                except httpx.TransportError:
                    time.sleep(0.05)
        finally:
            # Only while serve's own handler is in place: a default SIGTERM would end pytest.
            if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=client)
    thread.start()
    try:
        result = CliRunner().invoke(
            main,
            ["serve", "--port", str(port), "--base-url", api.base_url, "--max-retries", "0"],
        )
    finally:
        thread.join(30)
    assert result.exception is None, result.exc_info
    assert result.exit_code == 0, result.stderr
    assert [r.status_code for r in minted] == [200]
    assert minted[0].json()["value"] == SECRET
    assert result.stderr.startswith(
        "presets/sip.toml:2:17: warning: "
        "preset.target calls.accept does not mint a client secret over HTTP: not served\n"
    )
    assert "INFO:     serving 1 preset: agent\n" in result.stderr
    assert "INFO:     POST /sessions/agent 200 preset=agent" in result.stderr
    assert CANARY_KEY not in result.stderr
    assert SECRET not in result.stderr
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # serve put it back
