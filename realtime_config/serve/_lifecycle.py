"""Listening and shutting down: the bound socket, uvicorn as ``serve`` runs it, and the drain
that answers requests cut by a shutdown with 503 JSON."""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

import anyio
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtime_config._errors import ServeConfigError
from realtime_config.serve._responses import error_response

if TYPE_CHECKING:
    import uvicorn

DEFAULT_GRACE: Final = 10.0
"""Seconds in-flight requests have to finish on SIGINT/SIGTERM before they are cut (503)."""


class Draining:
    """The switch that cuts in-flight requests when a graceful shutdown's time is up.

    ``run`` flips it after the grace period; every request still running is then cancelled
    and answered 503 JSON (when it has not started answering), instead of being killed by
    the server with a text/plain 500 and a traceback in the log.
    """

    def __init__(self) -> None:
        self.is_cut = False
        self._event: anyio.Event | None = None

    def event(self) -> anyio.Event:
        if self._event is None:  # made on first use, inside the server's event loop
            self._event = anyio.Event()
            if self.is_cut:
                self._event.set()
        return self._event

    def reset(self) -> None:
        """Serving (again): at each start-up, in the event loop that will serve."""
        self.is_cut = False
        self._event = None

    def cut(self) -> None:
        self.is_cut = True
        if self._event is not None:
            self._event.set()


class Drain:
    """Run each request so that a cut ends it with 503 JSON, never a traceback."""

    def __init__(self, app: ASGIApp, *, draining: Draining) -> None:
        self.app = app
        self.draining = draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def noting(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        cut = self.draining.event()
        failure: Exception | None = None
        if not cut.is_set():
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    await cut.wait()
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                try:
                    await self.app(scope, receive, noting)
                    finished = True
                except Exception as error:  # raised below as it is, not in an ExceptionGroup
                    failure = error
                group.cancel_scope.cancel()
        if failure is not None:
            raise failure
        if not finished and not started:
            response = error_response(
                503, "the server is shutting down; retry", "shutting_down", {"Connection": "close"}
            )
            await response(scope, receive, send)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, ready for ``run``; ServeConfigError if it cannot be.

    Bound before the presets are loaded, so that a port in use, a privileged port or a host
    that does not resolve is said at once, in one line.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ServeConfigError(f"cannot listen on {_address(host, port)}: {reason}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        reason = error.strerror or str(error)
        raise ServeConfigError(f"cannot listen on {_address(host, port)}: {reason}") from None
    return sock


_BAD_REQUEST_BODY: Final = json.dumps(
    {"error": {"message": "invalid HTTP request", "type": "bad_request"}}, separators=(",", ":")
).encode()


def run(
    app: Starlette,
    *,
    host: str,
    port: int,
    sock: socket.socket | None = None,
    graceful_timeout: float = DEFAULT_GRACE,
) -> None:
    """Serve ``app`` with uvicorn until SIGINT or SIGTERM, then shut down gracefully.

    On a signal it stops accepting, gives in-flight requests ``graceful_timeout`` seconds,
    then cuts those left with 503 JSON. A request uvicorn itself refuses (a garbage request
    line, an oversized header) is answered 400 JSON too. uvicorn's own access log is off:
    the app's (``realtime_config.server``) says more and carries no secret.
    """
    server = uvicorn_server(app, host=host, port=port, graceful_timeout=graceful_timeout)
    server.run(sockets=[sock] if sock is not None else None)


def uvicorn_server(
    app: Starlette, *, host: str, port: int, graceful_timeout: float = DEFAULT_GRACE
) -> uvicorn.Server:
    """The uvicorn server ``run`` runs: JSON for its own 400s, our grace period, no signals
    re-raised after a clean shutdown."""
    import asyncio
    import copy
    import signal
    import threading

    import h11
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG
    from uvicorn.protocols.http.h11_impl import H11Protocol

    draining: Draining = app.state.draining

    class JsonErrorsProtocol(H11Protocol):
        def send_400_response(self, msg: str) -> None:
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_BAD_REQUEST_BODY)).encode()),
                (b"connection", b"close"),
            ]
            for event in (
                h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                h11.Data(data=_BAD_REQUEST_BODY),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event) or b"")
            self.transport.close()

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal after its graceful shutdown, which turns SIGINT
            # into a KeyboardInterrupt traceback and SIGTERM into death by signal. The
            # shutdown was clean, so the process ends normally, with exit status 0.
            if threading.current_thread() is not threading.main_thread():
                yield  # only the main thread can take signals
                return
            signals = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if sockets and self.started:  # uvicorn says where only for sockets it bound
                self._log_started_message(sockets)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # The grace period is ours: when it is up, the app answers what is left 503;
            # uvicorn's own (which cancels tasks, with a traceback) comes only after that.
            timer = asyncio.get_running_loop().call_later(graceful_timeout, draining.cut)
            try:
                await super().shutdown(sockets)
            finally:
                timer.cancel()

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["realtime_config"] = {"handlers": ["default"], "level": "INFO"}
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=JsonErrorsProtocol,
        log_config=log_config,
        access_log=False,
        lifespan="on",
        server_header=False,
        # The scheme and client address are the connection's own: no X-Forwarded-* header
        # may make an http request look https (same-origin is judged from the scheme).
        proxy_headers=False,
        timeout_graceful_shutdown=math.ceil(graceful_timeout) + 5,
    )
    return Server(config)
