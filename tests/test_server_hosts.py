"""Which Host and Origin the service trusts: DNS rebinding, wrong schemes, foreign names.

Each case is sent to uvicorn really listening on 127.0.0.1 with the loopback fake upstream,
and each refusal is checked to have minted nothing (the fake saw no request).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from realtime_config import ServeConfigError
from tests.conftest import run_cli, write
from tests.fake_api import SECRET, FakeAPI
from tests.serving import app_for, serving

AGENT = 'type = "realtime"\nmodel = "gpt-realtime"\n'
ALLOWED = "http://app.example.test:3000"
INVALID_HOST = {"error": {"message": "this host name is not served here", "type": "invalid_host"}}
ORIGIN_REFUSED = {
    "error": {
        "message": "this origin may not request client secrets",
        "type": "origin_not_allowed",
    }
}

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def presets(project: Path) -> Path:
    write(project / "presets" / "agent.toml", AGENT)
    return project


@pytest.fixture
def served(api: FakeAPI, presets: Path) -> Iterator[tuple[str, int]]:
    """The app, with an allowed cross origin listed, on a free port of 127.0.0.1."""
    with serving(app_for(api, allow_origins=[ALLOWED])) as address:
        yield address


def mint(
    address: tuple[str, int], headers: dict[str, str], path: str = "/sessions/agent"
) -> httpx.Response:
    """POST to the app on its real address, with these Host and Origin headers."""
    host, port = address
    return httpx.post(f"http://{host}:{port}{path}", headers=headers, timeout=10)


def raw(address: tuple[str, int], head: bytes) -> tuple[bytes, bytes]:
    """Send a request's bytes as they are; the status line and the body of the answer."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(head + b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    top, _, body = answer.partition(b"\r\n\r\n")
    return top.split(b"\r\n")[0], body


# --- DNS rebinding: a foreign Host mints nothing, whatever the Origin ---------------------


@pytest.mark.parametrize(
    "headers",
    [
        # The review's attack: evil.example rebinds to 127.0.0.1; the browser sends both.
        {"Host": "evil.example:{port}", "Origin": "http://evil.example:{port}"},
        {"Host": "evil.example:{port}"},
        {"Host": "evil.example"},
        # An allowed origin does not make a foreign Host acceptable.
        {"Host": "evil.example:{port}", "Origin": ALLOWED},
        # Names that only look local.
        {"Host": "localhost.evil.example:{port}"},
        {"Host": "127.0.0.1.nip.io:{port}"},
        {"Host": "localhost.:{port}"},
        # A loopback name on another port: another service's origin.
        {"Host": "127.0.0.1:1"},
        {"Host": "localhost"},
        # Not a host at all.
        {"Host": "127.0.0.1:99999"},
        {"Host": "127.0.0.1:{port}/x"},
        {"Host": "user@127.0.0.1:{port}"},
        {"Host": ""},
    ],
    ids=lambda h: " ".join(f"{k}={v}" for k, v in h.items()) or "none",
)
def test_a_foreign_host_is_400_and_mints_nothing(
    api: FakeAPI, served: tuple[str, int], headers: dict[str, str]
) -> None:
    port = served[1]
    filled = {k: v.replace("{port}", str(port)) for k, v in headers.items()}
    response = mint(served, filled)
    assert response.status_code == 400
    assert response.json() == INVALID_HOST
    assert "access-control-allow-origin" not in response.headers
    assert api.requests == []


@pytest.mark.parametrize("path", ["/presets", "/healthz", "/sessions/agent"])
def test_every_route_and_the_preflight_check_the_host_first(
    api: FakeAPI, served: tuple[str, int], path: str
) -> None:
    headers = {"Host": "evil.example", "Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    host, port = served
    preflight = httpx.options(f"http://{host}:{port}{path}", headers=headers, timeout=10)
    get = httpx.get(f"http://{host}:{port}{path}", headers={"Host": "evil.example"}, timeout=10)
    for response in (preflight, get):
        assert response.status_code == 400
        assert response.json() == INVALID_HOST
    assert api.requests == []


def test_no_host_is_400_json_and_two_hosts_400(api: FakeAPI, served: tuple[str, int]) -> None:
    no_host = raw(served, b"POST /sessions/agent HTTP/1.0\r\n")  # HTTP/1.0 need not send one
    two = f"POST /sessions/agent HTTP/1.1\r\nHost: 127.0.0.1:{served[1]}\r\nHost: evil.example\r\n"
    two_hosts = raw(served, two.encode())
    assert no_host == (
        b"HTTP/1.1 400 Bad Request",
        b'{"error":{"message":"this host name is not served here","type":"invalid_host"}}',
    )
    # h11 refuses two Host headers before any app sees them (serve's run answers it in JSON).
    assert two_hosts[0] == b"HTTP/1.1 400 Bad Request"
    assert api.requests == []


# --- the app's own names -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_the_loopback_names_with_the_port_are_served(
    api: FakeAPI, served: tuple[str, int], name: str
) -> None:
    response = mint(served, {"Host": f"{name}:{served[1]}"})
    assert response.status_code == 200
    assert response.json()["value"] == SECRET


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
def test_an_origin_of_an_allowed_host_and_the_served_scheme_is_the_apps_own(
    api: FakeAPI, served: tuple[str, int], name: str
) -> None:
    origin = f"http://{name}:{served[1]}"
    response = mint(served, {"Host": f"127.0.0.1:{served[1]}", "Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers  # same origin: no CORS


@pytest.mark.parametrize(
    "origin",
    [
        "https://127.0.0.1:{port}",  # the server serves http: another origin
        "https://localhost:{port}",
        "ws://127.0.0.1:{port}",
        "http://127.0.0.1:1",
        "http://127.0.0.1",
        "http://evil.example:{port}",
        "http://[127.0.0.1",
        "null",
    ],
)
def test_a_wrong_scheme_port_or_name_in_origin_is_not_same_origin(
    api: FakeAPI, served: tuple[str, int], origin: str
) -> None:
    port = served[1]
    response = mint(
        served, {"Host": f"127.0.0.1:{port}", "Origin": origin.replace("{port}", str(port))}
    )
    assert response.status_code == 403
    assert response.json() == ORIGIN_REFUSED
    assert api.requests == []


def test_an_origin_equal_to_a_foreign_host_is_not_same_origin(
    api: FakeAPI, served: tuple[str, int]
) -> None:
    """What the old check accepted: Origin netloc == Host. The Host check comes first."""
    port = served[1]
    response = mint(
        served, {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    )
    assert response.status_code == 400
    assert api.requests == []


# --- a deployment's own names ------------------------------------------------------------


def test_allowed_hosts_add_names_for_a_proxy(api: FakeAPI, presets: Path) -> None:
    app = app_for(api, allowed_hosts=["App.Example.test", "api.example.test:8443"])
    with serving(app) as address:
        port = address[1]
        any_port = mint(address, {"Host": "app.example.test:1234"})
        named_port = mint(address, {"Host": "api.example.test:8443"})
        other_port = mint(address, {"Host": "api.example.test:8444"})
        own_origin = mint(
            address, {"Host": "app.example.test", "Origin": "http://app.example.test"}
        )
        wrong_scheme = mint(
            address, {"Host": "app.example.test", "Origin": "https://app.example.test"}
        )
        loopback = mint(address, {"Host": f"localhost:{port}"})
    assert [r.status_code for r in (any_port, named_port, other_port)] == [200, 200, 400]
    assert own_origin.status_code == 200
    assert wrong_scheme.status_code == 403
    assert loopback.status_code == 200
    assert len(api.requests) == 4


@pytest.mark.parametrize(
    "entry", ["", "*", "http://app.example", "app.example/x", "a b", "h:70000"]
)
def test_an_allowed_host_that_is_not_a_host_is_refused(
    api: FakeAPI, presets: Path, entry: str
) -> None:
    with pytest.raises(ServeConfigError) as caught:
        app_for(api, allowed_hosts=[entry])
    assert str(caught.value) == (
        f"{entry!r} is not a host: expected a name or address, with an optional :port, "
        "such as app.example.com or 10.0.0.5:8000"
    )


def test_serve_takes_allow_host(presets: Path) -> None:
    code, out, err = run_cli("serve", "--allow-host", "http://x", "--port", "0")
    assert (code, out) == (1, "")
    assert err.endswith(
        "realtime-config: error: 'http://x' is not a host: expected a name or address, with "
        "an optional :port, such as app.example.com or 10.0.0.5:8000\n"
    )
