"""The network streams that keep an attempt's deadline: every socket operation gets at most
what is left of it, and none starts once it has passed. (The trickle tests of
test_client_bounds.py show the effect end to end; this pins each operation.)"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpcore
import pytest

# The deadline's backends are private: these tests drive them one socket operation at a
# time, which no public call can do.
from realtime_config.client._deadline import DEADLINE, _AsyncBackend, _Backend, remaining


class Recorder:
    """A stand-in stream and backend: records each timeout it is given."""

    def __init__(self) -> None:
        self.timeouts: list[tuple[str, float | None]] = []

    def note(self, name: str, timeout: float | None) -> None:
        self.timeouts.append((name, timeout))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.note("read", timeout)
        return b"x"

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.note("write", timeout)

    def close(self) -> None:
        self.note("close", None)

    def start_tls(self, ssl_context: Any, server_hostname: Any = None, timeout: Any = None) -> Any:
        self.note("start_tls", timeout)
        return self

    def get_extra_info(self, info: str) -> Any:
        return f"info {info}"

    def connect_tcp(self, host: str, port: int, timeout: Any = None, *rest: Any) -> Any:
        self.note("connect_tcp", timeout)
        return self

    def connect_unix_socket(self, path: str, timeout: Any = None, *rest: Any) -> Any:
        self.note("connect_unix_socket", timeout)
        return self

    def sleep(self, seconds: float) -> None:
        self.note("sleep", seconds)


class AsyncRecorder(Recorder):
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # type: ignore[override]
        return Recorder.read(self, max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # type: ignore[override]
        Recorder.write(self, buffer, timeout)

    async def aclose(self) -> None:
        self.note("aclose", None)

    async def start_tls(
        self, ssl_context: Any, server_hostname: Any = None, timeout: Any = None
    ) -> Any:  # type: ignore[override]
        return Recorder.start_tls(self, ssl_context, server_hostname, timeout)

    async def connect_tcp(self, host: str, port: int, timeout: Any = None, *rest: Any) -> Any:  # type: ignore[override]
        return Recorder.connect_tcp(self, host, port, timeout)

    async def connect_unix_socket(self, path: str, timeout: Any = None, *rest: Any) -> Any:  # type: ignore[override]
        return Recorder.connect_unix_socket(self, path, timeout)

    async def sleep(self, seconds: float) -> None:  # type: ignore[override]
        Recorder.sleep(self, seconds)


def test_without_a_deadline_every_timeout_is_passed_as_given() -> None:
    inner = Recorder()
    stream = _Backend(inner).connect_tcp("h", 1, 5.0)  # type: ignore[arg-type]
    stream.write(b"a", 7.0)
    assert stream.read(1, None) == b"x"
    assert remaining() == float("inf")
    assert inner.timeouts == [("connect_tcp", 5.0), ("write", 7.0), ("read", None)]


def test_each_operation_gets_what_is_left_and_none_starts_after_it() -> None:
    inner = Recorder()
    backend = _Backend(inner)  # type: ignore[arg-type]
    token = DEADLINE.set(time.monotonic() + 2.0)
    try:
        stream = backend.connect_tcp("h", 1, 5.0)
        tls = stream.start_tls(None, "h", 30.0)  # type: ignore[arg-type]
        tls.write(b"a", None)
        tls.read(1, 0.5)  # a shorter phase timeout stays
        unix = backend.connect_unix_socket("/s", None)
        backend.sleep(0.1)
        assert tls.get_extra_info("x") == "info x"
        tls.close()
        unix.close()
    finally:
        DEADLINE.reset(token)
    clamped = dict(inner.timeouts[:3])
    assert all(0 < (clamped[name] or 0) <= 2.0 for name in ("connect_tcp", "start_tls", "write"))
    assert ("read", 0.5) in inner.timeouts
    assert 0 < dict(inner.timeouts)["connect_unix_socket"] <= 2.0  # type: ignore[operator]
    token = DEADLINE.set(time.monotonic() - 0.01)
    try:
        for operation, error in [
            (lambda: stream.read(1, 5.0), httpcore.ReadTimeout),
            (lambda: stream.write(b"a", 5.0), httpcore.WriteTimeout),
            (lambda: backend.connect_tcp("h", 1, 5.0), httpcore.ConnectTimeout),
            (lambda: stream.start_tls(None, "h", 5.0), httpcore.ConnectTimeout),  # type: ignore[arg-type]
        ]:
            with pytest.raises(error, match="the attempt's deadline has passed"):
                operation()
    finally:
        DEADLINE.reset(token)


def test_the_async_streams_keep_it_too() -> None:
    inner = AsyncRecorder()
    backend = _AsyncBackend(inner)  # type: ignore[arg-type]

    async def attempt() -> None:
        token = DEADLINE.set(time.monotonic() + 2.0)
        try:
            stream = await backend.connect_tcp("h", 1, 5.0)
            tls = await stream.start_tls(None, "h", 30.0)  # type: ignore[arg-type]
            await tls.write(b"a", None)
            assert await tls.read(1, None) == b"x"
            await backend.connect_unix_socket("/s", None)
            await backend.sleep(0.1)
            assert tls.get_extra_info("y") == "info y"
            await tls.aclose()
        finally:
            DEADLINE.reset(token)
        token = DEADLINE.set(time.monotonic() - 0.01)
        try:
            with pytest.raises(httpcore.ReadTimeout):
                await stream.read(1, 5.0)
            with pytest.raises(httpcore.WriteTimeout):
                await stream.write(b"a", 5.0)
        finally:
            DEADLINE.reset(token)

    asyncio.run(attempt())
    clamped = [t for name, t in inner.timeouts if name not in ("sleep", "aclose")]
    assert clamped and all(t is not None and 0 < t <= 2.0 for t in clamped)
