"""Serving for one test, on a free port of 127.0.0.1 (never another address): an app under
uvicorn in this process, or `realtime-config serve` as a process of its own."""

from __future__ import annotations

import os
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
import uvicorn
from starlette.applications import Starlette

from realtime_config.serve import create_app
from tests.fake_api import CANARY_KEY, FakeAPI


def free_socket() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1, not yet listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app: Any) -> Iterator[tuple[str, int]]:
    """Serve ``app`` with uvicorn (lifespan on) until the block ends; yield its host and port."""
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped during start-up"
            assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
            time.sleep(0.01)
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not shut down within 15 s"


def app_for(api: FakeAPI, **options: Any) -> Starlette:
    """The serve app against the fake ``api``, with its key and no retries, and ``options``."""
    settings: dict[str, Any] = {"api_key": CANARY_KEY, "base_url": api.base_url, "max_retries": 0}
    settings.update(options)
    return create_app(**settings)


def serve_command(port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "realtime_config", "serve", "--port", str(port), *args]


def environment(api: FakeAPI | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=CANARY_KEY, NO_COLOR="1")
    if api is not None:
        env["OPENAI_BASE_URL"] = api.base_url
    return env


@contextmanager
def serve_process(
    cwd: Path, api: FakeAPI, *args: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``realtime-config serve`` on a free loopback port, once it answers /healthz."""
    with free_socket() as probe:
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        serve_command(port, *args), cwd=cwd, env=environment(api), stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer within 20 s"
            time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
