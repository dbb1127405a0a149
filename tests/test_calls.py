"""The WebRTC call path: target ``calls``, ``create_call``, ``submit --sdp`` and serve's
``POST /calls/{name}``, against the loopback fake; and the request compared with the one the
official ``openai`` package's own ``client.realtime.calls.create`` sends to the same fake.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request

from realtime_config import (
    APIResponseError,
    AsyncRealtimeClient,
    ClientConfigError,
    CreatedCall,
    RealtimeClient,
    compile_preset,
    create_app,
    load_preset,
)
from realtime_config.cli import main
from tests.conftest import PROJECT, write
from tests.fake_api import ANSWER_SDP, CANARY_KEY, FakeAPI, Reply, error_body
from tests.serving import serving

OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n"
)
ASSISTANT = PROJECT / "presets" / "assistant.toml"
ALLOWED = "http://app.example.test:3000"

pytestmark = pytest.mark.usefixtures("clean_env")


def compiled_session() -> bytes:
    done = CliRunner().invoke(main, ["compile", str(ASSISTANT), "-t", "calls", "--compact"])
    assert done.exit_code == 0, done.output
    return done.stdout_bytes


# --- the client --------------------------------------------------------------------------


def test_create_call_sends_the_offer_and_the_session_and_reads_the_answer(api: FakeAPI) -> None:
    preset = load_preset(ASSISTANT)
    with RealtimeClient(api_key=CANARY_KEY, base_url=api.base_url, max_retries=0) as client:
        call = client.create_call(preset, OFFER)
    assert call == CreatedCall(
        target="calls", sdp=ANSWER_SDP, call_id="rtc_fake_001", request_id="req_fake_123"
    )
    [request] = api.requests
    assert (request.method, request.path) == ("POST", "/v1/realtime/calls")
    assert request.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert request.headers["accept"] == "application/sdp"
    assert request.parts() == [
        ("sdp", "application/sdp", OFFER.encode()),
        ("session", "application/json", compiled_session()),
    ]


def test_the_async_twin_places_the_same_call(api: FakeAPI) -> None:
    async def place() -> CreatedCall:
        async with AsyncRealtimeClient(api_key=CANARY_KEY, base_url=api.base_url) as client:
            return await client.create_call(load_preset(ASSISTANT), OFFER)

    call = asyncio.run(place())
    assert (call.sdp, call.call_id) == (ANSWER_SDP, "rtc_fake_001")
    assert api.requests[0].call_session() == json.loads(compiled_session())


def test_the_request_is_the_one_the_official_sdk_sends(api: FakeAPI) -> None:
    """openai's own ``client.realtime.calls.create`` and ours, recorded by the same fake."""
    openai = pytest.importorskip("openai", reason="the test extra installs openai")
    session = json.loads(compiled_session())
    api.user_agent = ""  # the SDK says OpenAI/Python
    sdk = openai.OpenAI(api_key=CANARY_KEY, base_url=api.base_url, max_retries=0)
    answer = sdk.realtime.calls.create(sdp=OFFER, session=session)
    with RealtimeClient(api_key=CANARY_KEY, base_url=api.base_url, max_retries=0) as client:
        ours = client.send_payload(session, target="calls", sdp=OFFER)
    assert isinstance(ours, CreatedCall)
    theirs, mine = api.requests
    assert answer.text == ours.sdp == ANSWER_SDP
    assert (mine.method, mine.path) == (theirs.method, theirs.path)
    for header in ("accept", "authorization"):
        assert mine.headers[header] == theirs.headers[header]
    assert (
        mine.headers["content-type"].split(";")[0] == theirs.headers["content-type"].split(";")[0]
    )
    # The same parts, in the same order, with the same types and the same bytes.
    assert mine.parts() == theirs.parts()
    assert [name for name, _, _ in theirs.parts()] == ["sdp", "session"]


def test_a_call_needs_an_offer_and_only_calls_takes_one(api: FakeAPI) -> None:
    preset = load_preset(ASSISTANT)
    with RealtimeClient(api_key=CANARY_KEY, base_url=api.base_url) as client:
        with pytest.raises(ClientConfigError) as no_offer:
            client.prepare_preset(preset, target="calls")
        with pytest.raises(ClientConfigError) as misplaced:
            client.prepare_preset(preset, target="client_secrets", sdp=OFFER)
    assert str(no_offer.value) == "target calls needs the SDP offer of the call"
    assert str(misplaced.value) == "target client_secrets takes no SDP offer"
    assert api.requests == []


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(201, b"<html>oops</html>", {"Content-Type": "text/html"}), "without an SDP answer"),
        (
            Reply(201, None, {"Location": "/v1/realtime/calls/rtc%2F..%2Fx"}),
            "with a Location that names no call id",
        ),
    ],
    ids=["not-sdp", "bad-location"],
)
def test_an_answer_that_is_not_an_sdp_answer_is_an_error(
    api: FakeAPI, reply: Reply, message: str
) -> None:
    api.script(reply)
    client = RealtimeClient(api_key=CANARY_KEY, base_url=api.base_url, max_retries=0)
    with client, pytest.raises(APIResponseError, match=message) as caught:
        client.create_call(load_preset(ASSISTANT), OFFER)
    assert type(caught.value) is APIResponseError


# --- submit --sdp ---------------------------------------------------------------------------


def submit(api: FakeAPI, *args: str) -> Any:
    env = {"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": api.base_url, "NO_COLOR": "1"}
    return CliRunner().invoke(main, ["submit", str(ASSISTANT), *args], env=env)


def test_submit_sdp_prints_the_answer_and_json_adds_the_call_id(
    api: FakeAPI, tmp_path: Path
) -> None:
    offer = write(tmp_path / "offer.sdp", OFFER)
    text = submit(api, "--sdp", str(offer))
    as_json = submit(api, "--sdp", str(offer), "--format", "json")
    assert (text.exit_code, text.stdout_bytes, text.stderr) == (0, ANSWER_SDP.encode(), "")
    assert json.loads(as_json.stdout) == {
        "target": "calls",
        "call_id": "rtc_fake_002",
        "sdp": ANSWER_SDP,
        "request_id": "req_fake_123",
    }


def test_submit_sdp_dry_run_prints_the_multipart_without_the_key(
    api: FakeAPI, tmp_path: Path
) -> None:
    offer = write(tmp_path / "offer.sdp", OFFER)
    first = submit(api, "--sdp", str(offer), "--dry-run")
    again = submit(api, "--sdp", str(offer), "--dry-run")
    assert first.exit_code == 0
    assert first.stdout == again.stdout  # the boundary comes from the content
    head, _, body = first.stdout.partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == f"POST {api.base_url}/realtime/calls"
    assert "Authorization: Bearer [redacted]" in lines
    assert "Accept: application/sdp" in lines
    assert any(line.startswith("Content-Type: multipart/form-data; boundary=") for line in lines)
    assert CANARY_KEY not in first.stdout
    assert 'name="sdp"' in body and 'name="session"' in body
    assert api.requests == []


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--target", "sessions"], 2, "Error: --sdp goes with --target calls, not sessions"),
        (["--call-id", "rtc_1"], 2, "Error: --sdp goes with --target calls, not calls.accept"),
    ],
)
def test_submit_sdp_with_another_target_is_a_usage_error(
    api: FakeAPI, tmp_path: Path, args: list[str], status: int, message: str
) -> None:
    offer = write(tmp_path / "offer.sdp", OFFER)
    result = submit(api, "--sdp", str(offer), *args)
    assert result.exit_code == status
    assert result.stderr.rstrip().endswith(message)


def test_submit_sdp_refuses_an_offer_that_is_not_sdp(api: FakeAPI, tmp_path: Path) -> None:
    html = write(tmp_path / "offer.html", "<html>")
    missing = tmp_path / "missing.sdp"
    not_sdp = submit(api, "--sdp", str(html))
    absent = submit(api, "--sdp", str(missing))
    assert (not_sdp.exit_code, not_sdp.stderr) == (
        1,
        f"realtime-config: error: the SDP offer {html} is not SDP: it must start with v=0\n",
    )
    assert (absent.exit_code, absent.stderr) == (
        1,
        f"realtime-config: error: cannot read the SDP offer {missing}: No such file or directory\n",
    )
    assert api.requests == []


# --- serve: POST /calls/{name} ----------------------------------------------------------------


@pytest.fixture
def presets(project: Path) -> Path:
    write(project / "presets" / "agent.toml", 'type = "realtime"\nmodel = "gpt-realtime"\n')
    write(project / "presets" / "captions.toml", 'type = "transcription"\n')
    return project


def app_for(api: FakeAPI, **options: Any) -> Starlette:
    settings: dict[str, Any] = {"api_key": CANARY_KEY, "base_url": api.base_url, "max_retries": 0}
    settings.update(options)
    return create_app(**settings)


def offer_to(
    address: tuple[str, int],
    name: str = "agent",
    body: bytes = OFFER.encode(),
    content_type: str | None = "application/sdp",
    **headers: str,
) -> httpx.Response:
    host, port = address
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if content_type is not None:
        sent["Content-Type"] = content_type
    return httpx.post(f"http://{host}:{port}/calls/{name}", content=body, headers=sent, timeout=10)


def test_serve_places_the_call_and_answers_201_with_the_sdp(api: FakeAPI, presets: Path) -> None:
    with serving(app_for(api)) as address:
        response = offer_to(address)
        listing = httpx.get(f"http://{address[0]}:{address[1]}/presets").json()
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/sdp"
    assert response.headers["location"] == "/calls/agent/rtc_fake_001"
    assert response.headers["cache-control"] == "no-store"
    assert response.text == ANSWER_SDP
    [request] = api.requests
    assert request.path == "/v1/realtime/calls"
    assert request.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert request.parts()[0] == ("sdp", "application/sdp", OFFER.encode())
    expected = compile_preset(load_preset(presets / "presets" / "agent.toml"), "calls")
    assert request.call_session() == expected
    assert [(p["name"], p["calls"]) for p in listing["presets"]] == [
        ("agent", True),
        ("captions", False),
    ]


def test_the_offer_charset_parameter_is_accepted(api: FakeAPI, presets: Path) -> None:
    with serving(app_for(api)) as address:
        response = offer_to(address, content_type="application/SDP; charset=utf-8")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("content_type", "body", "answer"),
    [
        ("text/plain", OFFER.encode(), (415, "unsupported_media_type")),
        ("application/json", b'{"sdp": "v=0"}', (415, "unsupported_media_type")),
        (None, OFFER.encode(), (415, "unsupported_media_type")),
        ("application/sdp", b"v=0\r\n" + b"a=x\r\n" * 13108, (413, "payload_too_large")),
        ("application/sdp", b"\xff\xfe", (400, "bad_request")),
        ("application/sdp", b"  ", (400, "bad_request")),
    ],
    ids=["text", "json", "none", "over-64-KiB", "not-utf8", "empty"],
)
def test_a_bad_offer_is_refused_and_nothing_is_placed(
    api: FakeAPI,
    presets: Path,
    content_type: str | None,
    body: bytes,
    answer: tuple[int, str],
) -> None:
    with serving(app_for(api)) as address:
        response = offer_to(address, body=body, content_type=content_type)
    assert (response.status_code, response.json()["error"]["type"]) == answer
    assert api.requests == []


def test_an_offer_of_exactly_64_kib_is_taken_and_a_streamed_larger_one_is_413(
    api: FakeAPI, presets: Path
) -> None:
    exact = OFFER.encode() + b"a=x" * ((64 * 1024 - len(OFFER)) // 3)
    exact += b" " * (64 * 1024 - len(exact))
    assert len(exact) == 64 * 1024

    def chunks() -> Any:  # no Content-Length: the app must count as it reads
        yield OFFER.encode()
        for _ in range(100):
            yield b"a=x" * 1000 + b"\r\n"

    with serving(app_for(api)) as address:
        taken = offer_to(address, body=exact)
        host, port = address
        streamed = httpx.post(
            f"http://{host}:{port}/calls/agent",
            content=chunks(),
            headers={"Content-Type": "application/sdp"},
            timeout=10,
        )
    assert taken.status_code == 201
    assert streamed.status_code == 413
    assert streamed.json() == {
        "error": {"message": "the offer is larger than 64 KiB", "type": "payload_too_large"}
    }
    assert len(api.requests) == 1


def test_a_preset_that_cannot_place_a_call_is_404(api: FakeAPI, presets: Path) -> None:
    with serving(app_for(api)) as address:
        transcription = offer_to(address, name="captions")
        unknown = offer_to(address, name="nope")
    assert transcription.status_code == unknown.status_code == 404
    assert transcription.json() == {
        "error": {"message": "preset 'captions' cannot place a WebRTC call", "type": "not_found"}
    }
    assert unknown.json() == {"error": {"message": "no preset named 'nope'", "type": "not_found"}}
    assert api.requests == []


def test_host_origin_and_authorize_rules_apply(api: FakeAPI, presets: Path) -> None:
    def staff(request: Request) -> bool:
        return request.headers.get("authorization") == "Bearer staff"

    with serving(app_for(api, allow_origins=[ALLOWED], authorize=staff)) as address:
        port = address[1]
        foreign_host = offer_to(address, Host=f"evil.example:{port}", Authorization="Bearer staff")
        foreign_origin = offer_to(
            address, Origin="http://evil.example", Authorization="Bearer staff"
        )
        wrong_scheme = offer_to(
            address, Origin=f"https://127.0.0.1:{port}", Authorization="Bearer staff"
        )
        anonymous = offer_to(address)
        allowed = offer_to(address, Origin=ALLOWED, Authorization="Bearer staff")
    assert foreign_host.status_code == 400
    assert foreign_origin.status_code == wrong_scheme.status_code == 403
    assert anonymous.status_code == 403
    assert anonymous.json() == {
        "error": {"message": "not allowed to place a call", "type": "forbidden"}
    }
    assert allowed.status_code == 201
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert allowed.headers["access-control-expose-headers"] == "Retry-After, Location"
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("reply", "status", "error_type"),
    [
        (
            Reply(429, error_body("slow", "requests", None), {"Retry-After": "4"}),
            429,
            "rate_limited",
        ),
        (
            Reply(401, error_body(f"bad key {CANARY_KEY}", "invalid_request_error", None)),
            502,
            "upstream_error",
        ),
        (Reply(201, b"not sdp", {"Content-Type": "application/sdp"}), 502, "upstream_error"),
        (Reply(delay=5), 504, "upstream_timeout"),
    ],
    ids=["429", "401", "not-sdp", "slow"],
)
def test_upstream_failures_of_a_call_are_json(
    api: FakeAPI, presets: Path, reply: Reply, status: int, error_type: str
) -> None:
    api.script(reply)
    retries = 2 if status == 429 else 0  # a 429 is passed on at once whatever the retries
    with serving(app_for(api, timeout=0.5, max_retries=retries)) as address:
        response = offer_to(address)
    assert response.status_code == status
    assert response.json()["error"]["type"] == error_type
    assert CANARY_KEY not in response.text
    if status == 429:
        assert response.headers["retry-after"] == "4"
        assert len(api.requests) == 1


def test_a_preset_whose_target_is_calls_is_served_for_calls_only(
    api: FakeAPI, project: Path
) -> None:
    write(
        project / "presets" / "webrtc.toml",
        'type = "realtime"\nmodel = "gpt-realtime"\npreset.target = "calls"\n',
    )
    with serving(app_for(api)) as address:
        host, port = address
        call = offer_to(address, name="webrtc")
        mint = httpx.post(f"http://{host}:{port}/sessions/webrtc", timeout=10)
        listing = httpx.get(f"http://{host}:{port}/presets").json()
    assert call.status_code == 201
    assert mint.status_code == 404
    assert mint.json() == {
        "error": {"message": "preset 'webrtc' mints no client secret", "type": "not_found"}
    }
    assert listing["presets"] == [
        {"name": "webrtc", "description": None, "target": "calls", "calls": True}
    ]
    assert [r.path for r in api.requests] == ["/v1/realtime/calls"]


def test_the_location_of_a_preset_with_any_name_is_a_valid_header(
    api: FakeAPI, project: Path
) -> None:
    write(
        project / "presets" / "équipe" / "café bar.toml",
        'type = "realtime"\nmodel = "gpt-realtime"\n',
    )
    with serving(app_for(api)) as address:
        response = offer_to(address, name="%C3%A9quipe/caf%C3%A9%20bar")
    assert response.status_code == 201
    assert response.headers["location"] == "/calls/%C3%A9quipe/caf%C3%A9%20bar/rtc_fake_001"
