"""The official ``openai`` package sends a compiled body byte for byte, as docs/sdk.md says.

``client.realtime.client_secrets.create(**body)`` (sync and async) and
``client.realtime.calls.accept(call_id, **session)`` post to a loopback server started here;
the bytes it receives must be the compact JSON that ``submit`` would send.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest

import realtime_config
from tests.conftest import PRESETS, ga_presets, preset_name, write

SECRET = "ek_sdk_0123456789abcdef"


class Recorder(ThreadingHTTPServer):
    """A loopback endpoint that keeps each request's path and body and answers a secret."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[str, bytes]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, body))
        if self.path.endswith("/accept"):
            data = b""  # calls.accept answers an empty 200
        else:
            session = json.loads(body).get("session", {})
            reply = {"value": SECRET, "expires_at": 1767225600, "session": session}
            data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def sdk(recorder: Recorder) -> Iterator[Any]:
    client = openai.OpenAI(api_key="sk-test-key", base_url=recorder.base_url, max_retries=0)
    yield client
    client.close()


def _sent_by_sdk(
    sdk: Any, recorder: Recorder, body: dict[str, Any], target: str = "client_secrets"
) -> bytes:
    """What the SDK's ``client_secrets.create(**body)`` sends: of a translation session's
    resource (``realtime.translations``) for that target, else of ``realtime``."""
    translation = target == "translations.client_secrets"
    resource = sdk.realtime.translations if translation else sdk.realtime
    created = resource.client_secrets.create(**body)
    assert created.value == SECRET
    path, sent = recorder.received[-1]
    assert path == f"/v1/realtime/{'translations/' if translation else ''}client_secrets"
    return sent


@pytest.mark.parametrize(
    "path",
    [p for p in ga_presets() if realtime_config.load_preset(p).dialect != "translation"],
    ids=preset_name,
)
def test_the_sdk_sends_the_compiled_bytes(path: Path, sdk: Any, recorder: Recorder) -> None:
    body = realtime_config.compile_preset(realtime_config.load_preset(path), "client_secrets")
    wire = realtime_config.dumps_payload(body, compact=True).encode("utf-8")
    assert _sent_by_sdk(sdk, recorder, body) == wire


@pytest.mark.parametrize(
    "path",
    [p for p in ga_presets() if realtime_config.load_preset(p).dialect == "translation"],
    ids=preset_name,
)
def test_the_sdk_sends_a_translation_body_as_the_same_json(
    path: Path, sdk: Any, recorder: Recorder
) -> None:
    """The same JSON, not the same bytes: the SDK writes ``session`` before ``expires_after``
    (its parameters' order), where the official schema and ``submit`` put it last."""
    target = "translations.client_secrets"
    body = realtime_config.compile_preset(realtime_config.load_preset(path), target)
    wire = realtime_config.dumps_payload(body, compact=True).encode("utf-8")
    sent = _sent_by_sdk(sdk, recorder, body, target)
    assert json.loads(sent) == json.loads(wire)
    assert list(json.loads(sent)) == ["session", "expires_after"]
    assert list(json.loads(wire)) == ["expires_after", "session"]


def test_non_ascii_and_numbers_survive_the_sdk(project: Path, sdk: Any, recorder: Recorder) -> None:
    preset = write(
        project / "presets" / "grüße.toml",
        'type = "realtime"\n'
        'instructions = "Grüß Gott! Antworte kurz — auf Deutsch. 🚆"\n'
        "[audio.output]\nspeed = 1.05\n"
        '[audio.input.turn_detection]\ntype = "server_vad"\nthreshold = 0.5\n'
        "[expires_after]\nseconds = 600\n",
    )
    body = realtime_config.compile_preset(realtime_config.load_preset(preset))
    wire = realtime_config.dumps_payload(body, compact=True).encode("utf-8")
    assert "Grüß".encode() in wire
    assert _sent_by_sdk(sdk, recorder, body) == wire


def test_the_async_sdk_sends_the_compiled_bytes(recorder: Recorder) -> None:
    preset = realtime_config.load_preset(PRESETS / "assistant.toml")
    body = realtime_config.compile_preset(preset, "client_secrets")

    async def mint() -> None:
        async with openai.AsyncOpenAI(
            api_key="sk-test-key", base_url=recorder.base_url, max_retries=0
        ) as client:
            created = await client.realtime.client_secrets.create(**body)
            assert created.value == SECRET

    asyncio.run(mint())
    assert recorder.received[-1] == (
        "/v1/realtime/client_secrets",
        realtime_config.dumps_payload(body, compact=True).encode("utf-8"),
    )


def test_the_sdk_accepts_a_call_with_the_compiled_session(sdk: Any, recorder: Recorder) -> None:
    preset = realtime_config.load_preset(PRESETS / "phone-agent.toml")
    session = realtime_config.compile_preset(preset, "calls.accept")
    sdk.realtime.calls.accept("rtc_42", **session)
    path, sent = recorder.received[-1]
    assert path == "/v1/realtime/calls/rtc_42/accept"
    # The same JSON, but not the same bytes: accept() lists its named parameters in its own
    # order (model first), as docs/sdk.md says.
    assert json.loads(sent) == session
    assert sent != realtime_config.dumps_payload(session, compact=True).encode("utf-8")
