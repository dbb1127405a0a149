"""The example page's fetch in a real browser: Debian's headless Chromium against the app.

The app (the shipped presets/assistant.toml, the loopback fake upstream) listens on one
loopback port; the page (examples/browser/) is served from two others, one listed with
``allow_origins`` and one not, so that CORS is enforced by the browser itself. Chromium runs
``--dump-dom`` with a virtual time budget, which lets the page's fetch finish before the DOM
is printed; the harness page writes the outcome into the DOM.
"""

from __future__ import annotations

import html
import logging
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.requests import Request

from realtime_config import create_app
from tests.conftest import PROJECT
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI, Reply, error_body, serve
from tests.test_server import running

CHROMIUM = Path("/usr/bin/chromium")
PAGE = PROJECT / "examples" / "browser"
HARNESS = """\
<!doctype html>
<meta charset="utf-8">
<pre id="result">pending</pre>
<script type="module">
  import { fetchClientSecret } from "./realtime.js";
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  const init = token ? { headers: { Authorization: `Bearer ${token}` } } : {};
  const out = document.getElementById("result");
  try {
    const secret = await fetchClientSecret(params.get("backend"), "assistant", init);
    out.textContent = `secret ${secret.value} expires_at ${secret.expires_at} ${secret.session.type}`;
  } catch (error) {
    out.textContent = `${error.name}: ${error.message}`;
  }
</script>
"""


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    return CHROMIUM


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with serve() as fake:
        yield fake


@contextmanager
def page_origin() -> Iterator[str]:
    """examples/browser/ and the harness page, served on a free port of 127.0.0.1."""
    files = {
        "/index.html": ("text/html", (PAGE / "index.html").read_bytes()),
        "/realtime.js": ("text/javascript", (PAGE / "realtime.js").read_bytes()),
        "/check.html": ("text/html", HARNESS.encode()),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = files.get(self.path.split("?", 1)[0])
            if found is None:
                self.send_error(404)
                return
            content_type, data = found
            self.send_response(200)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def dump_dom(chromium: Path, url: str, profile: Path) -> str:
    """The page's DOM once its scripts and their fetches are done."""
    done = subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def outcome(chromium: Path, page: str, backend: str, tmp_path: Path, token: str = "") -> str:
    query = f"backend={quote(backend, safe='')}" + (f"&token={token}" if token else "")
    dom = dump_dom(chromium, f"{page}/check.html?{query}", tmp_path / f"profile-{len(query)}")
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom
    return html.unescape(found.group(1))


def test_the_listed_origin_gets_a_secret_and_another_is_blocked(
    chromium: Path, api: FakeAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="realtime_config.server")
    with page_origin() as allowed, page_origin() as other:
        app = create_app(
            ["presets/assistant.toml"],
            root=PROJECT,
            allow_origins=[allowed],
            api_key=CANARY_KEY,
            base_url=api.base_url,
            max_retries=0,
        )
        with running(app) as backend:
            got = outcome(chromium, allowed, backend, tmp_path)
            blocked = outcome(chromium, other, backend, tmp_path)
    assert got == f"secret {SECRET} expires_at {EXPIRES_AT} realtime"
    assert blocked == "TypeError: Failed to fetch"
    assert [r.path for r in api.requests] == ["/v1/realtime/client_secrets"]
    lines = [r.getMessage().rsplit(" duration_ms=", 1)[0] for r in caplog.records]
    assert f"POST /sessions/assistant 403 origin={other}" in lines


def test_a_preflighted_request_with_the_apps_token(
    chromium: Path, api: FakeAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An Authorization header makes the browser send a preflight first."""
    caplog.set_level(logging.INFO, logger="realtime_config.server")

    def authorize(request: Request) -> bool:
        return request.headers.get("authorization") == "Bearer app-token-ok"

    with page_origin() as allowed:
        app = create_app(
            ["presets/assistant.toml"],
            root=PROJECT,
            allow_origins=[allowed],
            authorize=authorize,
            api_key=CANARY_KEY,
            base_url=api.base_url,
            max_retries=0,
        )
        with running(app) as backend:
            got = outcome(chromium, allowed, backend, tmp_path, token="app-token-ok")
            refused = outcome(chromium, allowed, backend, tmp_path, token="someone-else")
    assert got == f"secret {SECRET} expires_at {EXPIRES_AT} realtime"
    assert refused == "Error: not allowed to mint a client secret"
    lines = [r.getMessage().rsplit(" duration_ms=", 1)[0] for r in caplog.records]
    assert f"OPTIONS /sessions/assistant 204 origin={allowed}" in lines
    assert len(api.requests) == 1


def test_the_page_reads_retry_after_of_a_429(chromium: Path, api: FakeAPI, tmp_path: Path) -> None:
    api.script(Reply(429, error_body("Rate limit", "requests", None), {"Retry-After": "7"}))
    with page_origin() as allowed:
        app = create_app(
            ["presets/assistant.toml"],
            root=PROJECT,
            allow_origins=[allowed],
            api_key=CANARY_KEY,
            base_url=api.base_url,
            max_retries=0,
        )
        with running(app) as backend:
            got = outcome(chromium, allowed, backend, tmp_path)
    assert got == "Error: the Realtime API is rate limiting requests; retry later (retry after 7 s)"


def test_the_example_page_loads_its_module(chromium: Path, tmp_path: Path) -> None:
    with page_origin() as page:
        dom = dump_dom(chromium, f"{page}/index.html?backend=http://127.0.0.1:8000", tmp_path)
    assert '<p id="status">ready: http://127.0.0.1:8000/sessions/assistant</p>' in dom
