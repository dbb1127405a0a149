"""What a capture scenario is, shared by the framework drivers and the capture script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.frameworks.fake_realtime import FakeRealtime


@dataclass(frozen=True)
class Captured:
    """A request body a framework sent, the realtime-config target that names its shape, and
    how it travelled (the socket's path and which credential header, or the HTTP request)."""

    target: str
    payload: dict[str, Any]
    via: str


@dataclass(frozen=True)
class Scenario:
    """One configuration of a framework: a name (the fixtures' stem), what it configures, and
    the coroutine that drives the framework against the fake. The `session.update` events the
    fake receives are captured on their own; ``drive`` returns what travels another way (a
    SIP accept body)."""

    name: str
    configures: str
    drive: Callable[[FakeRealtime], Awaitable[list[Captured]]]
