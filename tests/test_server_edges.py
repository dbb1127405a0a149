"""The client-secret service at its edges: start-up refusals, odd Origin and Host headers, and
``realtime-config serve`` run in this process until a SIGTERM.

Servers listen on 127.0.0.1 only; the upstream is the loopback fake of tests/fake_api.py.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from realtime_config import PresetError, ServeConfigError, create_app
from realtime_config.cli import main
from tests.conftest import write
from tests.fake_api import CANARY_KEY, SECRET, FakeAPI
from tests.serving import free_socket, serving

AGENT = 'voice = "ash"\n'
SIP = 'type = "realtime"\npreset.target = "calls.accept"\n'
ALLOWED = "http://app.example.test:3000"

pytestmark = pytest.mark.usefixtures("clean_env")


def app_for(api: FakeAPI, presets: Any = None, **options: Any) -> Starlette:
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
    write(project / "presets" / "agent.toml", AGENT)
    app = app_for(api, "presets/agent.toml")
    assert [(p.name, p.target) for p in app.state.presets] == [("agent", "sessions")]


def test_a_named_preset_whose_target_mints_nothing_is_refused(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "sip.toml", SIP)
    with pytest.raises(PresetError) as caught:
        app_for(api, ["presets/sip.toml"])
    assert str(caught.value) == (
        "presets/sip.toml:2:17: error: cannot be served: "
        "preset.target calls.accept does not mint a client secret over HTTP"
    )


def test_when_no_discovered_preset_mints_there_is_nothing_to_serve(
    api: FakeAPI, project: Path
) -> None:
    write(project / "presets" / "sip.toml", SIP)
    with pytest.raises(ServeConfigError) as caught:
        app_for(api)
    assert str(caught.value) == "no presets to serve: none of them mints a client secret"


def test_two_files_served_under_one_name_are_refused(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "agent.toml", AGENT)
    write(project / "presets" / "agent.preset", AGENT)  # any suffix names the same preset
    with pytest.raises(PresetError) as caught:
        app_for(api, ["presets/agent.toml", "presets/agent.preset"])
    assert str(caught.value) == "presets/agent.preset:1:1: error: another preset is served as agent"


def test_the_same_file_named_twice_is_served_once(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "agent.toml", AGENT)
    app = app_for(api, ["presets/agent.toml", "presets/../presets/agent.toml"])
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
    write(project / "presets" / "agent.toml", AGENT)
    with serving(app_for(api, allow_origins=[ALLOWED])) as address:
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
    write(project / "presets" / "agent.toml", AGENT)
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
