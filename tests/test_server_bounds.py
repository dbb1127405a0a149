"""serve's bounds: the client's deadline and size cap as 504 and 502 JSON, a 429 passed on at
once, only the documented fields of a secret relayed, and /presets behind ``authorize``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from tests.conftest import write
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI, Reply, error_body
from tests.serving import app_for, serving

AGENT = 'type = "realtime"\nmodel = "gpt-realtime"\n'
MIB = 1024 * 1024

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def presets(project: Path) -> Path:
    write(project / "presets" / "agent.toml", AGENT)
    return project


def mint(app: Starlette) -> tuple[httpx.Response, float]:
    with serving(app) as (host, port):
        started = time.monotonic()
        response = httpx.post(f"http://{host}:{port}/sessions/agent", timeout=30)
        return response, time.monotonic() - started


def test_a_trickling_upstream_is_504_at_the_deadline(api: FakeAPI, presets: Path) -> None:
    api.script(Reply(trickle=0.2))
    response, took = mint(app_for(api, timeout=1.5))
    assert response.status_code == 504
    assert response.json() == {
        "error": {"message": "the Realtime API did not answer in time", "type": "upstream_timeout"}
    }
    assert 1.4 < took < 2.5


@pytest.mark.parametrize("announce", [True, False], ids=["content-length", "until-close"])
def test_an_oversized_upstream_answer_is_502(api: FakeAPI, presets: Path, announce: bool) -> None:
    api.script(Reply(size=200 * MIB, announce=announce))
    response, took = mint(app_for(api))
    assert response.status_code == 502
    assert response.json() == {
        "error": {
            "message": "the Realtime API sent an answer larger than this service takes",
            "type": "upstream_error",
        }
    }
    assert took < 5


def test_the_cap_is_settable(api: FakeAPI, presets: Path) -> None:
    response, _ = mint(app_for(api, max_response_bytes=100))
    assert response.status_code == 502


def test_a_429_passes_at_once_whatever_max_retries(api: FakeAPI, presets: Path) -> None:
    api.script(Reply(429, error_body("slow down", "requests", None), {"Retry-After": "3"}))
    response, took = mint(app_for(api, max_retries=2))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert took < 2.5  # no sleeping through the Retry-After
    assert len(api.requests) == 1


def test_only_the_documented_fields_of_a_secret_are_relayed(api: FakeAPI, presets: Path) -> None:
    upstream = {
        "value": SECRET,
        "expires_at": EXPIRES_AT,
        "session": {"type": "realtime", "id": "sess_1"},
        "internal_routing": "cell-42",
        "api_key_hint": CANARY_KEY[:8],
    }
    api.script(Reply(200, upstream))
    response, _ = mint(app_for(api))
    assert response.json() == {
        "value": SECRET,
        "expires_at": EXPIRES_AT,
        "session": {"type": "realtime", "id": "sess_1"},
    }


def test_an_answer_of_only_the_documented_fields_is_relayed_byte_for_byte(
    api: FakeAPI, presets: Path
) -> None:
    # As the API sends it: indented, its own key order, non-ASCII as is.
    upstream = (
        f'{{\n  "session": {{"type": "realtime", "instructions": "Grüß Gott"}},\n'
        f'  "value": "{SECRET}",\n  "expires_at": {EXPIRES_AT}\n}}\n'
    ).encode()
    api.script(Reply(200, upstream, {"Content-Type": "application/json"}))
    response, _ = mint(app_for(api))
    assert response.status_code == 200
    assert response.content == upstream
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"


def test_an_answer_in_another_encoding_is_rebuilt_as_utf8(api: FakeAPI, presets: Path) -> None:
    # JSON's encoding detection reads UTF-16 too: those bytes are no UTF-8 to relay.
    fields = {"value": SECRET, "expires_at": EXPIRES_AT, "session": {"instructions": "Grüß"}}
    api.script(Reply(200, json.dumps(fields).encode("utf-16-le")))
    response, _ = mint(app_for(api))
    assert response.status_code == 200
    assert response.content == json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def test_presets_are_listed_only_for_whom_authorize_allows(api: FakeAPI, presets: Path) -> None:
    def staff(request: Request) -> bool:
        return request.headers.get("authorization") == "Bearer staff"

    with serving(app_for(api, authorize=staff)) as (host, port):
        anonymous = httpx.get(f"http://{host}:{port}/presets")
        staff_list = httpx.get(
            f"http://{host}:{port}/presets", headers={"Authorization": "Bearer staff"}
        )
        health = httpx.get(f"http://{host}:{port}/healthz")
    assert anonymous.status_code == 403
    assert anonymous.json() == {
        "error": {"message": "not allowed to list the presets", "type": "forbidden"}
    }
    assert [p["name"] for p in staff_list.json()["presets"]] == ["agent"]
    assert health.status_code == 200  # a load balancer's probe carries no login


def test_a_failing_hook_logs_its_own_exception_once(
    api: FakeAPI, presets: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The shutdown guard around each request re-raises a failure as it is, not wrapped in an
    ExceptionGroup, so the server log shows the hook's own error."""

    def broken(request: Request) -> bool:
        raise RuntimeError("the session store is down")

    response, _ = mint(app_for(api, authorize=broken))
    assert response.status_code == 500
    failures = [r for r in caplog.records if r.exc_info]
    assert [type(r.exc_info[1]).__name__ for r in failures if r.exc_info] == ["RuntimeError"]
