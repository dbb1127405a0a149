"""The service in a real browser: Debian's headless Chromium against the app on 127.0.0.1.

CORS: the app (the shipped presets/assistant.toml, the loopback fake upstream) listens on one
loopback port; a harness page that fetches a secret is served from two others, one listed
with ``allow_origins`` and one not, so that CORS is enforced by the browser itself. Chromium
runs ``--dump-dom`` with a virtual time budget, which lets the fetch finish before the DOM is
printed; the harness writes the outcome into the DOM.

The demo page (``serve --demo``), end to end: Chromium with a fake microphone, driven over the
DevTools protocol (tests/chromium.py), clicks Start; the app relays the offer to the fake API,
whose answer comes from a real WebRTC peer on 127.0.0.1 (aiortc, tests/webrtc_peer.py) that
opens the data channel and sends ``session.created``. A screenshot of the page is kept in
``artifacts/`` (git-ignored), for a person to look at.
"""

from __future__ import annotations

import html
import json
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

from realtime_config import compile_preset, create_app, load_preset
from tests.chromium import chromium_page
from tests.conftest import PROJECT
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI, Reply, error_body, serve
from tests.test_server import running
from tests.webrtc_peer import LoopbackPeer, loopback_peer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT / "artifacts"
"""Where the demo's screenshot goes (git-ignored; .ci/run names it at the end)."""
HARNESS = """\
<!doctype html>
<meta charset="utf-8">
<pre id="result">pending</pre>
<script type="module">
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  const init = token ? { headers: { Authorization: `Bearer ${token}` } } : {};
  const out = document.getElementById("result");
  try {
    const response = await fetch(`${params.get("backend")}/sessions/assistant`, { method: "POST", ...init });
    const body = await response.json();
    if (!response.ok) {
      const retry = response.headers.get("Retry-After");
      throw new Error(body.error.message + (retry ? ` (retry after ${retry} s)` : ""));
    }
    out.textContent = `secret ${body.value} expires_at ${body.expires_at} ${body.session.type}`;
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
    """The harness page, served on a free port of 127.0.0.1."""
    files = {"/check.html": ("text/html", HARNESS.encode())}

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


# --- the demo page, end to end --------------------------------------------------------------

STATE = "document.body?.dataset.state"
DONE = f"['connected', 'failed'].includes({STATE}) && document.getElementById('status').textContent"
STEPS = (
    "[...document.querySelectorAll('#steps li')].map((li) => `${li.dataset.step}:${li.className}`)"
)


@pytest.fixture
def peer() -> Iterator[LoopbackPeer]:
    pytest.importorskip("aiortc", reason="the test extra installs aiortc")
    with loopback_peer() as running_peer:
        yield running_peer


def demo_app(api: FakeAPI, **options: Any) -> Any:
    return create_app(
        ["presets/assistant.toml", "presets/transcription.toml"],
        root=PROJECT,
        demo=True,
        api_key=CANARY_KEY,
        base_url=api.base_url,
        max_retries=0,
        **options,
    )


def test_the_demo_page_connects_through_the_backend_end_to_end(
    chromium: Path, api: FakeAPI, peer: LoopbackPeer, tmp_path: Path
) -> None:
    api.answer_call = peer.answer
    with running(demo_app(api)) as backend, chromium_page(tmp_path / "profile") as page:
        page.open(f"{backend}/")
        assert page.wait_for(f"{STATE} === 'ready'")
        # Only the presets that can place a call are offered (not the transcription one).
        options = page.evaluate(
            "[...document.querySelectorAll('#preset option')].map((o) => o.value)"
        )
        page.evaluate("document.getElementById('start').click()")
        status = page.wait_for(DONE, timeout=40)
        level = page.wait_for("document.getElementById('level').value", timeout=10)
        steps = page.evaluate(STEPS)
        logged = page.evaluate(
            "[...document.querySelectorAll('#log li')].map((li) => li.querySelector('pre').textContent)"
        )
        page.evaluate("document.querySelector('#log details').open = true")
        page.screenshot(ARTIFACTS / "demo-connected.png")
        page.evaluate("document.getElementById('start').click()")  # stop
        stopped = page.wait_for(
            f"{STATE} === 'ready' && document.getElementById('status').textContent"
        )
    assert options == ["assistant"]
    assert status == "connected (call rtc_fake_001): speak"
    assert steps == ["microphone:done", "offer:done", "answer:done", "connected:done"]
    assert 0 < level <= 1  # the fake microphone's tone
    assert stopped == "stopped"
    # The event log holds the peer's session.created with the preset's compiled session.
    expected = compile_preset(load_preset(PROJECT / "presets" / "assistant.toml"), "calls")
    assert [json.loads(text) for text in logged] == [
        {"type": "session.created", "event_id": "event_fake_1", "session": expected}
    ]
    [request] = api.requests
    assert request.path == "/v1/realtime/calls"
    assert request.call_session() == expected
    assert (ARTIFACTS / "demo-connected.png").read_bytes().startswith(b"\x89PNG")


def test_the_demo_page_says_which_step_failed_and_why(
    chromium: Path, api: FakeAPI, tmp_path: Path
) -> None:
    api.script(Reply(429, error_body("Rate limit", "requests", None), {"Retry-After": "7"}))
    with running(demo_app(api)) as backend, chromium_page(tmp_path / "profile") as page:
        page.open(f"{backend}/")
        assert page.wait_for(f"{STATE} === 'ready'")
        page.evaluate("document.getElementById('start').click()")
        status = page.wait_for(DONE, timeout=40)
        steps = page.evaluate(STEPS)
        button = page.evaluate("document.getElementById('start').textContent")
    assert status == (
        "failed at answer: the Realtime API is rate limiting requests; retry later (retry after 7 s)"
    )
    assert steps == ["microphone:done", "offer:done", "answer:failed", "connected:"]
    assert button == "Start"


def test_the_demo_page_says_when_it_may_not_list_presets(
    chromium: Path, api: FakeAPI, tmp_path: Path
) -> None:
    app = demo_app(api, authorize=lambda request: False)
    with running(app) as backend, chromium_page(tmp_path / "profile") as page:
        page.open(f"{backend}/")
        status = page.wait_for(DONE, timeout=20)
    assert status == "cannot list the presets: not allowed to list the presets"


def test_the_demo_is_served_only_when_asked(api: FakeAPI) -> None:
    import httpx

    with (
        running(demo_app(api)) as demo,
        running(
            create_app(
                ["presets/assistant.toml"], root=PROJECT, api_key=CANARY_KEY, base_url=api.base_url
            )
        ) as plain,
    ):
        page = httpx.get(f"{demo}/")
        script = httpx.get(f"{demo}/demo.js")
        absent = httpx.get(f"{plain}/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="demo.js"></script>' in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert "api.openai.com" not in page.text + script.text  # every URL is this server's
    assert absent.status_code == 404
