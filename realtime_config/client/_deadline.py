"""A deadline for a whole HTTP attempt, kept by every socket operation of the attempt.

httpx bounds each phase (connect, each read, each write) and restarts the clock on every
byte, so an upstream that trickles one byte a second holds a request for ever. The client
sets the attempt's deadline (a ``time.monotonic()`` instant) in a context variable for the
attempt; the network streams made here shorten each operation's timeout to what is left of
it, and fail at once when nothing is left. A context variable follows the attempt through
threads of its own and asyncio tasks alike, and a pooled connection reused by a later request
reads that request's deadline, not the one it was opened under.

httpx takes no network backend of its own choosing, so ``deadline_transport`` puts one into
the connection pool of the transport it builds (a private attribute of httpx and httpcore,
stable since httpx 0.18; the trickle tests fail if it ever stops working).
"""

from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpcore

if TYPE_CHECKING:
    import ssl

    import httpx

DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "realtime_config_deadline", default=None
)
"""The ``time.monotonic()`` instant the current attempt must end by, or None (no deadline)."""


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the deadline; ``error`` when nothing is."""
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the attempt's deadline has passed")
    return left if timeout is None else min(timeout, left)


def remaining() -> float:
    """Seconds left before the current attempt's deadline (inf without one)."""
    deadline = DEADLINE.get()
    return math.inf if deadline is None else deadline - time.monotonic()


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        stream = await self._backend.connect_tcp(host, port, left, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._backend.connect_unix_socket(path, left, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def deadline_transport(verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    """httpx's own transport, its sockets keeping the attempt's deadline."""
    import httpx

    transport = httpx.HTTPTransport(verify=verify)
    pool = transport._pool
    if not isinstance(pool, httpcore.ConnectionPool):  # pragma: no cover - httpx changed
        raise TypeError(f"httpx's transport pool is a {type(pool).__name__}")
    pool._network_backend = _Backend(pool._network_backend)
    return transport


def async_deadline_transport(verify: ssl.SSLContext | bool) -> httpx.AsyncHTTPTransport:
    """httpx's own async transport, its sockets keeping the attempt's deadline."""
    import httpx

    transport = httpx.AsyncHTTPTransport(verify=verify)
    pool = transport._pool
    if not isinstance(pool, httpcore.AsyncConnectionPool):  # pragma: no cover - httpx changed
        raise TypeError(f"httpx's transport pool is a {type(pool).__name__}")
    pool._network_backend = _AsyncBackend(pool._network_backend)
    return transport
