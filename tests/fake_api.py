"""A fake of the Realtime session endpoints, served on 127.0.0.1 by the tests themselves.

It checks what a well-behaved client must send (method, path, headers, a JSON object
body), records every request, and answers as the real API does: the created session, or
401 for a wrong key. Tests script other answers in advance with ``FakeAPI.script``: any
status and body, a reply slower than the client's timeout, or a dropped connection.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CANARY_KEY = "sk-canary-DO-NOT-LEAK-1234567890"
"""The key the fake accepts; tests assert it never shows up anywhere."""

SECRET = "ek_fake_0123456789abcdef"
EXPIRES_AT = 1767225600  # 2026-01-01T00:00:00Z
PATHS = {
    "/v1/realtime/sessions": "sessions",
    "/v1/realtime/client_secrets": "client_secrets",
    "/v1/realtime/translations/client_secrets": "translations.client_secrets",
    "/v1/realtime/calls": "calls",
}
CALL_ACCEPT = re.compile(r"/v1/realtime/calls/[A-Za-z0-9_-]+/accept")
"""SIP calls.accept: the API answers 200 with an empty body."""


AZURE_PREFIX = "/openai"
"""An Azure OpenAI resource serves the same v1 paths below /openai (/openai/v1/realtime/...)."""

AD_TOKEN = "eyJ-canary-entra-token-DO-NOT-LEAK-0987654321"
"""The Microsoft Entra token the Azure fake accepts as a bearer."""


def target_of(path: str, *, azure: bool = False) -> str | None:
    """The endpoint a request path names, as the target registry spells it."""
    if azure:
        if not path.startswith(AZURE_PREFIX + "/"):
            return None
        path = path.removeprefix(AZURE_PREFIX)
    if CALL_ACCEPT.fullmatch(path):
        return "calls.accept"
    return PATHS.get(path)


ANSWER_SDP = (
    "v=0\r\no=- 4242 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
)
"""The fake's SDP answer when no ``answer_call`` peer is set: SDP, but no peer behind it."""


def multipart_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body: name, content type, data; in order.

    Written from RFC 7578, so that the requests of this client and of the official SDK are
    read by the same, third, parser.
    """
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise ValueError(f"not multipart/form-data: {content_type!r}")
    found = re.search(r'boundary="?([^";]+)"?', params)
    if not found:
        raise ValueError("no boundary")
    delimiter = b"--" + found.group(1).encode()
    chunks = body.split(delimiter)
    if chunks[0] not in (b"", b"\r\n") or not chunks[-1].startswith(b"--"):
        raise ValueError("not framed by the boundary")
    parts = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise ValueError("a part not framed by CRLF")
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without headers")
        headers = {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = re.fullmatch(
            r'form-data; name="([^"]+)"', headers.get("content-disposition", "")
        )
        if not disposition:
            raise ValueError(f"bad Content-Disposition {headers.get('content-disposition')!r}")
        parts.append((disposition.group(1), headers.get("content-type"), data))
    return parts


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def parts(self) -> list[tuple[str, str | None, bytes]]:
        return multipart_parts(self.headers.get("content-type", ""), self.body)

    def call_session(self) -> Any:
        """The ``session`` part of a ``/realtime/calls`` request, as JSON."""
        return json.loads({n: d for n, _, d in self.parts()}["session"])


@dataclass(frozen=True)
class Reply:
    """A scripted answer. ``body`` None means the normal success body for the path;
    ``bytes`` are sent as they are, anything else as JSON."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    trickle: float = 0.0
    """Seconds between the bytes of the whole answer (status line and headers included)."""
    size: int = 0
    """A body of this many bytes, made as it is sent (never held whole), instead of ``body``."""
    announce: bool = True
    """Whether a ``size`` body's length is sent (Content-Length) or only its end (close)."""


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> Any:
    """The API's documented error body."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class FakeAPI:
    """The fake server's state: its address, the script, and what it saw."""

    def __init__(self, api_key: str = CANARY_KEY, *, azure: bool = False) -> None:
        self.api_key = api_key
        self.azure = azure
        """Serve as an Azure OpenAI resource: paths below /openai, the key in an api-key
        header (no Authorization) or an Entra token (AD_TOKEN) as the bearer."""
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.user_agent = "realtime-config/"
        """What the user agent of every request must start with."""
        self.answer_call: Callable[[str, dict[str, Any]], str] | None = None
        """Answers a call's SDP offer (given its session) with an SDP answer: a real peer."""

    @property
    def endpoint(self) -> str:
        """The server's origin: what AZURE_OPENAI_ENDPOINT names for the Azure fake."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self.endpoint + (AZURE_PREFIX if self.azure else "") + "/v1"

    def url(self, target: str) -> str:
        return f"{self.base_url}/realtime/{target}"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, then normally again."""
        with self._lock:
            self._script.extend(replies)

    @contextmanager
    def running(self) -> Iterator[FakeAPI]:
        """Serve on an ephemeral port of 127.0.0.1; stop and join every thread on exit."""
        fake = self

        class Server(ThreadingHTTPServer):
            daemon_threads = False  # so that server_close() joins the handler threads
            block_on_close = True
            request_queue_size = 128  # socketserver's 5 resets a burst of concurrent clients

            def handle_error(self, request: Any, client_address: Any) -> None:
                import traceback

                fake.problems.append("handler crashed: " + traceback.format_exc())

        self._server = Server(("127.0.0.1", 0), _handler(self))
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._closing.set()  # wakes slow replies so they finish at once
            self._server.shutdown()
            self._server.server_close()
            thread.join()

    # --- request handling (runs in the server's threads) ---------------------------------

    def _next_reply(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        recorded = Recorded(handler.command, handler.path, headers, body)
        with self._lock:
            self.requests.append(recorded)
        problem = self._check(recorded)
        if problem:
            self.problems.append(problem)
            _send(handler, 400, error_body(problem, "invalid_request_error", "fake_check"))
            return
        if not self._authorized(headers):
            # The real API quotes (part of) the key it was given; this fake quotes all of
            # it, so that the tests prove the client redacts what a server echoes.
            given = headers.get("api-key") or headers.get("authorization", "")
            message = f"Incorrect API key provided: {given.removeprefix('Bearer ')}."
            _send(handler, 401, error_body(message, "invalid_request_error", "invalid_api_key"))
            return
        reply = self._next_reply() or Reply()
        if reply.delay and self._closing.wait(reply.delay):
            return
        if reply.drop:
            handler.close_connection = True
            return
        if reply.size:
            _send_large(handler, reply, self._closing)
            return
        content = reply.body
        if content is None and target_of(recorded.path) == "calls":
            self._answer(handler, recorded, reply)
            return
        if content is None:
            content = self._created(
                target_of(recorded.path, azure=self.azure) or "", recorded.json()
            )
        if reply.trickle:
            _send_trickle(handler, reply, content, self._closing)
            return
        _send(handler, reply.status, content, reply.headers)

    def _authorized(self, headers: dict[str, str]) -> bool:
        bearer = headers.get("authorization")
        if not self.azure:
            return bearer == f"Bearer {self.api_key}" and "api-key" not in headers
        if "api-key" in headers:  # Azure's key header, and then no bearer beside it
            return bearer is None and headers["api-key"] == self.api_key
        return bearer == f"Bearer {AD_TOKEN}"

    def _answer(self, handler: BaseHTTPRequestHandler, recorded: Recorded, reply: Reply) -> None:
        """201 with the SDP answer and the call's URL in Location, as the API does."""
        parts = {name: data for name, _, data in recorded.parts()}
        offer, session = parts["sdp"].decode(), json.loads(parts["session"])
        answer = self.answer_call(offer, session) if self.answer_call else ANSWER_SDP
        headers = {
            "Content-Type": "application/sdp",
            "Location": f"/v1/realtime/calls/rtc_fake_{len(self.requests):03d}",
            **reply.headers,
        }
        _send(handler, 201 if reply.status == 200 else reply.status, answer.encode(), headers)

    def _check(self, recorded: Recorded) -> str | None:
        if recorded.method != "POST":
            return f"expected POST, got {recorded.method}"
        if target_of(recorded.path, azure=self.azure) is None:
            return f"unexpected path {recorded.path}"
        if not recorded.headers.get("user-agent", "").startswith(self.user_agent):
            return f"bad user-agent {recorded.headers.get('user-agent')!r}"
        if target_of(recorded.path) == "calls":
            return _check_call(recorded)
        if recorded.headers.get("content-type") != "application/json":
            return f"bad content-type {recorded.headers.get('content-type')!r}"
        try:
            payload = recorded.json()
        except ValueError:
            return "the body is not JSON"
        if not isinstance(payload, dict):
            return "the body is not a JSON object"
        return None

    def _created(self, target: str, payload: dict[str, Any]) -> Any:
        count = len(self.requests)
        if target == "calls.accept":
            return b""
        if target == "sessions":
            # The request's client_secret (its expiry settings) is not echoed, as in the API.
            echoed = {k: v for k, v in payload.items() if k != "client_secret"}
            return {
                "id": f"sess_{count:03d}",
                "object": "realtime.session",
                **echoed,
                "client_secret": {"value": SECRET, "expires_at": EXPIRES_AT},
            }
        session = payload.get("session", {})
        if target == "translations.client_secrets":  # the request has no type; the answer has
            session = {"type": "translation", **session}
        return {
            "value": SECRET,
            "expires_at": EXPIRES_AT,
            "session": {"object": "realtime.session", "id": f"sess_{count:03d}", **session},
        }


def _check_call(recorded: Recorded) -> str | None:
    """A ``POST /realtime/calls``: multipart with an ``sdp`` and a JSON object ``session``."""
    if recorded.headers.get("accept") != "application/sdp":
        return f"bad accept {recorded.headers.get('accept')!r}"
    try:
        parts = recorded.parts()
    except (ValueError, UnicodeDecodeError) as error:
        return f"bad multipart body: {error}"
    if [(name, kind) for name, kind, _ in parts] != [
        ("sdp", "application/sdp"),
        ("session", "application/json"),
    ]:
        return f"unexpected parts {[(name, kind) for name, kind, _ in parts]}"
    try:
        session = json.loads(parts[1][2])
    except ValueError:
        return "the session part is not JSON"
    if not isinstance(session, dict) or session.get("type") != "realtime":
        return "the session part is not a realtime session object"
    if not parts[0][2].startswith(b"v=0"):
        return "the sdp part is not an SDP offer"
    return None


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    content: Any,
    headers: dict[str, str] | None = None,
) -> None:
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    try:
        handler.send_response(status)
        given = {name.lower(): value for name, value in (headers or {}).items()}
        handler.send_header("Content-Type", given.pop("content-type", "application/json"))
        handler.send_header("Content-Length", str(len(data)))
        extra = {"x-request-id": "req_fake_123"}
        extra.update(given)
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True  # the client gave up (a timeout test): fine


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} Status"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _send_trickle(
    handler: BaseHTTPRequestHandler, reply: Reply, content: Any, closing: threading.Event
) -> None:
    """The whole answer one byte at a time, ``reply.trickle`` seconds apart."""
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
    whole = _head(reply.status, {**headers, **reply.headers}) + data
    handler.close_connection = True
    try:
        for index in range(len(whole)):
            handler.wfile.write(whole[index : index + 1])
            handler.wfile.flush()
            if closing.wait(reply.trickle):
                return
    except (BrokenPipeError, ConnectionResetError):
        return


def _send_large(handler: BaseHTTPRequestHandler, reply: Reply, closing: threading.Event) -> None:
    """A ``reply.size``-byte JSON string body, written 64 KiB at a time as it is made."""
    headers = {"Content-Type": "application/json", **reply.headers}
    if reply.announce:
        headers["Content-Length"] = str(reply.size)
    handler.close_connection = True
    chunk = b"x" * 65536
    try:
        handler.wfile.write(_head(reply.status, headers) + b'"')
        sent = 1
        while sent < reply.size - 1 and not closing.is_set():
            part = chunk[: reply.size - 1 - sent]
            handler.wfile.write(part)
            sent += len(part)
        handler.wfile.write(b'"')
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        return


def _handler(fake: FakeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so retries reuse pooled connections
        timeout = 5  # an idle kept-alive connection cannot hold up shutdown for longer

        def do_POST(self) -> None:
            fake.handle(self)

        do_GET = do_PUT = do_DELETE = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests read fake.requests instead

    return Handler


@contextmanager
def serve(api_key: str = CANARY_KEY, *, azure: bool = False) -> Iterator[FakeAPI]:
    """A running fake; on exit, fail if it saw a request a real client must not send."""
    with FakeAPI(api_key, azure=azure).running() as fake:
        yield fake
    assert not fake.problems, fake.problems
