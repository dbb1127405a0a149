"""``realtime-config serve`` from start to stop, as a real process on 127.0.0.1: failures to
listen, uvicorn-level bad requests answered in JSON, a graceful shutdown that cuts what is
left with 503 JSON and no traceback; and which presets a project serves (no bare bases).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from realtime_config import create_app
from tests.conftest import write
from tests.fake_api import CANARY_KEY, SECRET, FakeAPI, Reply
from tests.serving import environment, free_socket, serve_process, serving

AGENT = 'type = "realtime"\nmodel = "gpt-realtime"\n'
SHUTTING_DOWN = {
    "error": {"message": "the server is shutting down; retry", "type": "shutting_down"}
}
BAD_REQUEST = b'{"error":{"message":"invalid HTTP request","type":"bad_request"}}'

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def presets(project: Path) -> Path:
    write(project / "presets" / "agent.toml", AGENT)
    return project


def in_flight(url: str, answers: list[httpx.Response]) -> threading.Thread:
    """A mint request sent in a thread; its answer lands in ``answers``."""

    def send() -> None:
        answers.append(httpx.post(f"{url}/sessions/agent", timeout=60))

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def wait_for_request(api: FakeAPI, count: int = 1) -> None:
    deadline = time.monotonic() + 10
    while len(api.requests) < count:
        assert time.monotonic() < deadline, "the request never reached the fake upstream"
        time.sleep(0.01)


# --- graceful shutdown ----------------------------------------------------------------------


def test_sigterm_cuts_a_request_past_the_grace_period_with_503_json(
    api: FakeAPI, presets: Path
) -> None:
    api.script(Reply(delay=30))
    answers: list[httpx.Response] = []
    with serve_process(presets, api, "--graceful-timeout", "1") as (process, url):
        thread = in_flight(url, answers)
        wait_for_request(api)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
        took = time.monotonic() - signalled
        thread.join(10)
    assert process.returncode == 0, stderr
    assert [a.status_code for a in answers] == [503]
    assert answers[0].json() == SHUTTING_DOWN
    assert answers[0].headers["content-type"] == "application/json"
    assert 0.9 < took < 4
    assert "Traceback" not in stderr
    assert "CancelledError" not in stderr
    assert "Cancel " not in stderr  # uvicorn never had to cancel a task itself
    assert "POST /sessions/agent 503 preset=agent" in stderr


def test_sigterm_lets_a_request_within_the_grace_period_finish(api: FakeAPI, presets: Path) -> None:
    api.script(Reply(delay=1.0))
    answers: list[httpx.Response] = []
    with serve_process(presets, api, "--graceful-timeout", "10") as (process, url):
        thread = in_flight(url, answers)
        wait_for_request(api)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        thread.join(10)
    assert process.returncode == 0, stderr
    assert [a.status_code for a in answers] == [200]
    assert answers[0].json()["value"] == SECRET
    assert "Traceback" not in stderr
    # The listening socket was closed at once: a new connection is refused.
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# --- requests uvicorn refuses itself ---------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"POST /sessions/agent HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    ],
    ids=["garbage-request-line", "two-hosts", "oversized-header"],
)
def test_a_request_uvicorn_refuses_is_answered_400_json(
    api: FakeAPI, presets: Path, request_bytes: bytes
) -> None:
    with serve_process(presets, api) as (process, url):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            # In two parts, as a large header arrives: h11 judges what is still incomplete.
            conn.sendall(request_bytes[:40000])
            time.sleep(0.3)
            with contextlib.suppress(OSError):  # already refused and closed
                conn.sendall(request_bytes[40000:])
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 400 Bad Request"
    assert b"content-type: application/json" in lines
    assert body == BAD_REQUEST
    assert api.requests == []
    assert "Traceback" not in stderr


# --- failures to listen -----------------------------------------------------------------------


def run_serve(cwd: Path, *args: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "realtime_config", "serve", *args],
        cwd=cwd,
        env=environment(None),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **options,  # type: ignore[call-overload]
    )


def test_a_port_in_use_exits_1_before_any_preset_is_loaded(project: Path) -> None:
    write(project / "presets" / "broken.toml", "model = = 1\n")  # would be an error if loaded
    with free_socket() as taken:
        taken.listen()
        port = taken.getsockname()[1]
        done = run_serve(project, "--port", str(port))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"realtime-config: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_a_host_that_does_not_resolve_exits_1(project: Path) -> None:
    done = run_serve(project, "--host", "no-such-host.invalid", "--port", "8123")
    assert done.returncode == 1
    assert re.fullmatch(
        r"realtime-config: error: cannot listen on no-such-host\.invalid:8123: [^\n]+\n",
        done.stderr,
    ), done.stderr


def test_an_address_not_on_this_machine_exits_1(project: Path) -> None:
    done = run_serve(project, "--host", "192.0.2.1", "--port", "8123")  # TEST-NET-1
    assert done.returncode == 1
    assert done.stderr == (
        "realtime-config: error: cannot listen on 192.0.2.1:8123: Cannot assign requested address\n"
    )


def test_a_privileged_port_without_the_privilege_exits_1(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to become a user without the privilege")
    # listen_socket is private: the command line's bind, asked directly so that the child,
    # without the privilege, needs no project, key or presets to reach it.
    code = (
        "from realtime_config.serve._lifecycle import listen_socket\n"
        "from realtime_config import ServeConfigError\n"
        "try:\n    listen_socket('127.0.0.1', 80)\n"
        "except ServeConfigError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        cwd=tmp_path.anchor,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout == "cannot listen on 127.0.0.1:80: Permission denied\n", done.stderr


def test_invalid_presets_still_exit_1_with_their_diagnostics(project: Path) -> None:
    write(project / "presets" / "broken.toml", 'type = "realtime"\nmodel = 3\n')
    with free_socket() as probe:
        port = probe.getsockname()[1]
    done = run_serve(project, "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.startswith("presets/broken.toml:2:9: error: ")
    # The socket bound first was released: the port is free again.
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


# --- which presets are served ---------------------------------------------------------------


def test_a_base_only_extended_by_others_is_neither_listed_nor_served(
    api: FakeAPI, project: Path
) -> None:
    write(project / "presets" / "base.toml", 'type = "realtime"\nmodel = "gpt-realtime"\n')
    write(
        project / "presets" / "agent.toml", 'preset.extends = "base.toml"\ninstructions = "Hi."\n'
    )
    write(project / "presets" / "team" / "lead.toml", 'preset.extends = "../agent.toml"\n')
    app = create_app(api_key=CANARY_KEY, base_url=api.base_url, max_retries=0)
    with serving(app) as (host, port):
        listing = httpx.get(f"http://{host}:{port}/presets").json()
        base = httpx.post(f"http://{host}:{port}/sessions/base")
        base_call = httpx.post(
            f"http://{host}:{port}/calls/base",
            content=b"v=0\r\n",
            headers={"Content-Type": "application/sdp"},
        )
        lead = httpx.post(f"http://{host}:{port}/sessions/team/lead")
    # agent is a base of team/lead, and base of agent: only the leaf is served.
    assert [p["name"] for p in listing["presets"]] == ["team/lead"]
    assert base.status_code == base_call.status_code == 404
    assert base.json() == {"error": {"message": "no preset named 'base'", "type": "not_found"}}
    assert lead.status_code == 200
    assert [r.path for r in api.requests] == ["/v1/realtime/client_secrets"]


def test_a_base_named_on_the_command_line_is_served(api: FakeAPI, project: Path) -> None:
    write(project / "presets" / "base.toml", 'type = "realtime"\nmodel = "gpt-realtime"\n')
    write(project / "presets" / "agent.toml", 'preset.extends = "base.toml"\n')
    app = create_app(
        ["presets/base.toml", "presets/agent.toml"],
        api_key=CANARY_KEY,
        base_url=api.base_url,
    )
    assert [p.name for p in app.state.presets] == ["agent", "base"]


def test_a_base_that_is_incomplete_alone_does_not_stop_start_up(
    api: FakeAPI, project: Path
) -> None:
    """A base may leave out what each preset that extends it adds (here: the model)."""
    write(project / "presets" / "base.toml", 'type = "realtime"\ninstructions = "Be brief."\n')
    write(
        project / "presets" / "agent.toml", 'preset.extends = "base.toml"\nmodel = "gpt-realtime"\n'
    )
    app = create_app(api_key=CANARY_KEY, base_url=api.base_url)
    assert [p.name for p in app.state.presets] == ["agent"]


def test_in_process_a_cut_is_503_json_and_a_bad_request_400_json(
    api: FakeAPI, presets: Path
) -> None:
    """The server ``run`` builds, run in a thread of this process: its own 400s are JSON, and
    when its grace period ends the request still in flight gets 503 JSON."""
    # Private: the uvicorn server ``run`` builds, run in a thread here (no public call
    # returns it without also blocking on signals of the main thread).
    from realtime_config.serve._lifecycle import listen_socket, uvicorn_server

    app = create_app(api_key=CANARY_KEY, base_url=api.base_url, max_retries=0)
    sock = listen_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn_server(app, host="127.0.0.1", port=port, graceful_timeout=0.5)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    answers: list[httpx.Response] = []
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"NOT HTTP\r\n\r\n")
            refused = b""
            while chunk := conn.recv(65536):  # until the server closes: head and body
                refused += chunk
        api.script(Reply(delay=30))
        request = in_flight(f"http://127.0.0.1:{port}", answers)
        wait_for_request(api)
        server.should_exit = True
        request.join(15)
    finally:
        server.should_exit = True
        thread.join(20)
    assert not thread.is_alive()
    assert refused.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert refused.endswith(b"\r\n\r\n" + BAD_REQUEST)
    assert [a.status_code for a in answers] == [503]
    assert answers[0].json() == SHUTTING_DOWN
