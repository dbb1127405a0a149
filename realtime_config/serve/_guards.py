"""Which hosts and origins this app answers: the guards that run before any route.

A ``Host`` that is not an allowed host is refused before anything else (DNS rebinding), and
CORS answers listed origins only; same-origin is judged from the allowed hosts and the served
scheme, never from the request's own ``Host``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtime_config._errors import ServeConfigError
from realtime_config.serve._responses import error_response

ALLOWED_METHODS: Final = "GET, POST"
ALLOWED_HEADERS: Final = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE: Final = "600"
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#@\s]+")


def checked_origin(origin: str) -> str:
    """``origin`` as browsers send it (lower case), or a ServeConfigError."""
    normal = origin.strip().lower()
    if not _ORIGIN.fullmatch(normal):
        raise ServeConfigError(
            f"{origin!r} is not an origin: expected scheme://host[:port] without a path, "
            "such as https://app.example.com"
        )
    return normal


class Cors:
    """CORS for the listed origins only, preflights included.

    A request without ``Origin``, or from the app's own origin, passes untouched. A listed
    origin gets ``Access-Control-Allow-Origin`` (a preflight is answered here, 204). Any other
    origin is refused with a 403 and no CORS headers: the browser blocks the page from reading
    it, and nothing is minted for a page that could not read the secret anyway.
    """

    def __init__(
        self, app: ASGIApp, *, origins: frozenset[str], credentials: bool, hosts: HostPolicy
    ) -> None:
        self.app = app
        self.origins = origins
        self.credentials = credentials
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or (
            origin.lower() not in self.origins and self.hosts.is_own_origin(origin, scope)
        ):
            await self.app(scope, receive, self._with_vary(send))
            return
        if origin.lower() not in self.origins:
            response = error_response(
                403, "this origin may not request client secrets", "origin_not_allowed"
            )
            await response(scope, receive, send)
            return
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if self.credentials:
            cors["Access-Control-Allow-Credentials"] = "true"
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            cors["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            cors["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            cors["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
            await Response(status_code=204, headers=cors)(scope, receive, send)
            return
        cors["Access-Control-Expose-Headers"] = "Retry-After, Location"

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in cors.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _with_vary(self, send: Send) -> Send:
        """``send``, adding ``Vary: Origin`` when origins are listed (the answer depends on it)."""
        if not self.origins:
            return send

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        return send_with_vary


_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}
LOOPBACK_NAMES: Final = ("127.0.0.1", "localhost", "[::1]")
"""Names that always mean this machine: a page elsewhere cannot make a browser send them."""
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>[0-9]{1,5}))?")


def _split_host(text: str) -> tuple[str, int | None] | None:
    """``name[:port]`` (IPv6 in brackets) as a lower-case name and a port, or None."""
    found = _HOST.fullmatch(text)
    if found is None:
        return None
    port = int(found["port"]) if found["port"] is not None else None
    if port is not None and port > 65535:
        return None
    return found["name"].lower(), port


def _address_name(address: str) -> str:
    """An IP address as it appears in a ``Host`` header: IPv6 in brackets."""
    return f"[{address}]" if ":" in address else address.lower()


class HostPolicy:
    """Which ``Host`` names this app answers, and so which origins are its own.

    Always: the loopback names and the address the connection came in on (the socket's own,
    from the ASGI ``server``, never from a header), with the port it came in on. Besides:
    ``allowed`` names, each ``name`` (any port) or ``name:port``. A DNS-rebinding page sends
    its own name as ``Host``, so it is never one of these unless a deployment listed it.
    """

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.extra: set[tuple[str, int | None]] = set()
        for entry in allowed:
            split = _split_host(entry.strip())
            if split is None or not entry.strip():
                raise ServeConfigError(
                    f"{entry!r} is not a host: expected a name or address, with an optional "
                    ":port, such as app.example.com or 10.0.0.5:8000"
                )
            self.extra.add(split)

    def allows(self, name: str, port: int, scope: Scope) -> bool:
        """Whether ``name:port`` (a ``Host`` or an origin's) is one of this app's hosts."""
        if (name, None) in self.extra or (name, port) in self.extra:
            return True
        server = scope.get("server")
        if not server:
            return name in LOOPBACK_NAMES  # no socket to compare the port with
        address, server_port = server[0], server[1]
        if server_port is None:  # a Unix socket: the port is not part of it
            return name in LOOPBACK_NAMES
        return port == server_port and (
            name in LOOPBACK_NAMES or name == _address_name(str(address))
        )

    def allows_host_header(self, scope: Scope) -> bool:
        """Whether the request's ``Host`` header names one of this app's hosts."""
        values = [v for k, v in scope.get("headers", ()) if k == b"host"]
        if len(values) != 1:
            return False  # none (HTTP/1.0), or two that could disagree
        split = _split_host(values[0].decode("latin-1"))
        if split is None:
            return False
        name, port = split
        default = _DEFAULT_PORTS.get(scope.get("scheme", "http"), 80)
        return self.allows(name, default if port is None else port, scope)

    def is_own_origin(self, origin: str, scope: Scope) -> bool:
        """Whether ``origin`` is this app's own: the scheme it really serves, an allowed host.

        The request's ``Host`` plays no part: a rebinding page controls it.
        """
        scheme, sep, rest = origin.strip().lower().partition("://")
        if not sep or scheme != scope.get("scheme", "http"):
            return False
        split = _split_host(rest)
        if split is None:
            return False
        name, port = split
        return self.allows(name, _DEFAULT_PORTS.get(scheme, 80) if port is None else port, scope)


class HostCheck:
    """Refuse a request whose ``Host`` is not an allowed host: 400 JSON, before anything else."""

    def __init__(self, app: ASGIApp, *, hosts: HostPolicy) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.hosts.allows_host_header(scope):
            response = error_response(400, "this host name is not served here", "invalid_host")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
