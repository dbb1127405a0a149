"""A loopback fake of the Realtime API for the framework captures: the WebSocket, and the
HTTP endpoint that accepts a SIP call.

The WebSocket side is the `websockets` package's asyncio server (openai-agents and pipecat
connect with it themselves, so the `frameworks` extra always has it). It answers the way the
API does, so far as a framework needs to get to the point where it configures its session:
`session.created` on connect, `session.updated` for each `session.update`. A legacy Azure URL
(one with `api-version`) gets the beta shapes. Everything a client sends is recorded.

The HTTP side is the standard library's threading server; it records each POST body. Both
listen on 127.0.0.1 only, on a port the system picks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
QUIET_SECONDS = 0.4
"""How long no client message must arrive before a capture counts the client as settled."""
SETTLE_TIMEOUT = 15.0

_GA_SESSION: dict[str, Any] = {
    "type": "realtime",
    "object": "realtime.session",
    "id": "sess_fake",
    "model": "gpt-realtime",
    "output_modalities": ["audio"],
    "instructions": "",
    "tools": [],
    "tool_choice": "auto",
    "max_output_tokens": "inf",
    "tracing": None,
    "prompt": None,
    "expires_at": 0,
    "audio": {
        "input": {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": None,
            "noise_reduction": None,
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 200,
                "idle_timeout_ms": None,
                "create_response": True,
                "interrupt_response": True,
            },
        },
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1.0},
    },
    "include": None,
}
"""A session object as the GA API returns it, with the API's defaults."""

_BETA_SESSION: dict[str, Any] = {
    "object": "realtime.session",
    "id": "sess_fake",
    "model": "gpt-4o-realtime-preview",
    "modalities": ["audio", "text"],
    "instructions": "",
    "voice": "alloy",
    "input_audio_format": "pcm16",
    "output_audio_format": "pcm16",
    "input_audio_transcription": None,
    "turn_detection": {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
    },
    "tools": [],
    "tool_choice": "auto",
    "temperature": 0.8,
    "max_response_output_tokens": "inf",
}
"""A session object as the beta API (and Azure's dated API versions) returns it."""


@dataclass
class Connection:
    """One WebSocket a client opened: where to, which header names it sent, what it said."""

    path: str
    query: dict[str, list[str]]
    header_names: list[str]
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def beta(self) -> bool:
        return "api-version" in self.query


class FakeRealtime:
    """The fake WebSocket API. Start it with :func:`serve_websocket`."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.port = 0
        self._last_message = time.monotonic()
        self._ids = itertools.count(1)

    @property
    def ws_url(self) -> str:
        """The socket's URL, as a client of the GA API would name it."""
        return f"ws://{HOST}:{self.port}/v1/realtime"

    @property
    def http_url(self) -> str:
        """The API's base URL in HTTP form (LiveKit derives the socket's URL from it)."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        """An Azure OpenAI resource's endpoint, as `AZURE_OPENAI_ENDPOINT` holds it."""
        return f"http://{HOST}:{self.port}"

    def messages(self) -> list[dict[str, Any]]:
        """Every message of every connection, in the order the connections were opened."""
        return [message for connection in self.connections for message in connection.messages]

    def updates(self) -> int:
        """How many `session.update` events the clients sent."""
        return sum(message.get("type") == "session.update" for message in self.messages())

    async def settle(self, *, updates: int) -> None:
        """Wait until the clients sent ``updates`` `session.update` events, and then nothing
        for a quiet spell (so that a later one would be caught too)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            quiet = time.monotonic() - self._last_message >= QUIET_SECONDS
            if quiet and self.updates() >= updates:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(
            f"the client sent {self.updates()} session.update event(s) in "
            f"{SETTLE_TIMEOUT:.0f} s, expected at least {updates}"
        )

    def _event(self, kind: str, **fields: Any) -> str:
        return json.dumps({"type": kind, "event_id": f"event_fake_{next(self._ids)}", **fields})

    async def handle(self, websocket: Any) -> None:
        """Serve one client: answer as the API does and record what it sends. A message that
        is not JSON fails the capture: no framework sends one."""
        from websockets.exceptions import ConnectionClosed

        request = websocket.request
        parts = urlsplit(request.path)
        connection = Connection(
            path=parts.path,
            query=parse_qs(parts.query),
            header_names=sorted({name.lower() for name in request.headers}),
        )
        self.connections.append(connection)
        self._last_message = time.monotonic()
        session = dict(_BETA_SESSION if connection.beta else _GA_SESSION)
        await websocket.send(self._event("session.created", session=session))
        with contextlib.suppress(ConnectionClosed):
            async for raw in websocket:
                if not isinstance(raw, str):
                    continue
                message = json.loads(raw)
                connection.messages.append(message)
                self._last_message = time.monotonic()
                await self._answer(websocket, message, session)

    async def _answer(
        self, websocket: Any, message: dict[str, Any], session: dict[str, Any]
    ) -> None:
        kind = message.get("type")
        if kind == "session.update":
            await websocket.send(self._event("session.updated", session=session))
        elif kind == "conversation.item.create":
            item = dict(message.get("item") or {})
            item.setdefault("id", f"item_fake_{next(self._ids)}")
            await websocket.send(
                self._event(
                    "conversation.item.added",
                    previous_item_id=message.get("previous_item_id"),
                    item=item,
                )
            )


@contextlib.asynccontextmanager
async def serve_websocket() -> AsyncIterator[FakeRealtime]:
    """Run the fake WebSocket API on 127.0.0.1 for the length of the block."""
    from websockets.asyncio.server import serve

    fake = FakeRealtime()
    async with serve(fake.handle, HOST, 0) as server:
        fake.port = next(iter(server.sockets)).getsockname()[1]
        yield fake


@dataclass
class Post:
    """One HTTP request the fake API received."""

    path: str
    header_names: list[str]
    body: bytes


@contextlib.contextmanager
def serve_http() -> Iterator[tuple[str, list[Post]]]:
    """Run an HTTP fake of the API on 127.0.0.1: every POST is recorded and answered 200 `{}`.
    Yields the base URL (`.../v1`) and the list the requests land in."""
    posts: list[Post] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 1 << 20))
            posts.append(Post(self.path, sorted({n.lower() for n in self.headers}), body))
            answer = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the capture reports what it recorded, not each request."""

    server = ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/v1", posts
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
