"""The ASGI service of DESIGN section 9: it mints client secrets from the project's presets.

``create_app`` puts the rooms together: the presets loaded at start-up (``_presets``), the
routes (``_routes``), the guards of hosts and origins (``_guards``), the access log
(``_access_log``), the drain of a shutdown (``_lifecycle``), the error answers
(``_responses``) and the demo page (``_demo_page``). Starlette is imported by this package
only: ``import realtime_config`` never pays for it.

Middleware, outermost first: the access log (one record per request, with the preset, the
status, the upstream request id and the duration), then the host check (a ``Host`` that is not
an allowed host is refused before anything else: DNS rebinding), then CORS (listed origins
only; same-origin is judged from the allowed hosts and the served scheme, never from the
request's own ``Host``), then the drain, then Starlette's routing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from realtime_config._errors import MissingAPIKeyError
from realtime_config.client._client import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    AsyncRealtimeClient,
)
from realtime_config.serve._access_log import AccessLog
from realtime_config.serve._demo_page import demo_file
from realtime_config.serve._guards import Cors, HostCheck, HostPolicy, checked_origin
from realtime_config.serve._lifecycle import Drain, Draining, listen_socket, run
from realtime_config.serve._presets import ServedPreset, load_served
from realtime_config.serve._responses import http_error, internal_error
from realtime_config.serve._routes import Authorize, Service

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Authorize",
    "Draining",
    "HostPolicy",
    "ServedPreset",
    "create_app",
    # Kept here for the command line of 0.1, which imports them from this module; they
    # live in _lifecycle.
    "listen_socket",
    "run",
]

logger = logging.getLogger("realtime_config.server")


def create_app(
    presets: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    allow_origins: Iterable[str] = (),
    allowed_hosts: Iterable[str] = (),
    allow_credentials: bool = False,
    authorize: Authorize | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    organization: str | None = None,
    project: str | None = None,
    timeout: float | httpx.Timeout | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    demo: bool = False,
    provider: str | None = None,
) -> Starlette:
    """The ASGI app that mints client secrets for ``presets`` (default: all under presets/).

    ``root`` is the project folder (default: the working directory's project root).
    ``allowed_hosts`` are the ``Host`` names (``name`` for any port, ``name:port`` for one)
    served besides the loopback names and the address a request came in on. ``demo``
    serves the demo page at ``/``. ``provider`` is the client's (``openai`` or ``azure``,
    default from the environment). Raises PresetError with every preset's diagnostics,
    ServeConfigError or ClientConfigError.
    """
    origins = frozenset(checked_origin(origin) for origin in allow_origins)
    hosts = HostPolicy(allowed_hosts)
    client_settings: dict[str, Any] = {
        "api_key": api_key,
        "base_url": base_url,
        "organization": organization,
        "project": project,
        "timeout": timeout,
        "max_retries": max_retries,
        "provider": provider,
        "max_response_bytes": max_response_bytes,
        # A 429 goes back to the browser at once, with its Retry-After: the browser can
        # wait, or tell its user, better than a request held open here.
        "retry_rate_limited": False,
    }
    client = AsyncRealtimeClient(**client_settings)
    if not client.has_api_key:
        where = (
            "AZURE_OPENAI_API_KEY and AZURE_OPENAI_AD_TOKEN are"
            if client.provider == "azure"
            else "OPENAI_API_KEY is"
        )
        raise MissingAPIKeyError(f"no API key: none was given and {where} not set")
    served, skipped = load_served(presets, root, client)
    service = Service(served, client, client_settings, authorize)

    draining = Draining()
    app = Starlette(
        routes=_routes(service, demo=demo),
        middleware=[
            Middleware(AccessLog),
            Middleware(HostCheck, hosts=hosts),
            Middleware(Cors, origins=origins, credentials=allow_credentials, hosts=hosts),
            Middleware(Drain, draining=draining),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=_lifespan(service, draining),
    )
    app.router.redirect_slashes = False  # a redirect answers no question here; 404 does
    app.state.presets = tuple(served.values())
    app.state.draining = draining
    # For the host to show: the presets' own warnings, and each preset left out.
    app.state.warnings = tuple(
        sorted(
            [w for p in served.values() for w in client.relevant_warnings(p.warnings)] + skipped,
            key=lambda d: (d.file, d.line, d.column),
        )
    )
    return app


def _routes(service: Service, *, demo: bool) -> list[Route]:
    """The service's routes, and the demo page's when asked for."""
    routes = [
        Route("/sessions/{name:path}", service.mint, methods=["POST"]),
        Route("/calls/{name:path}", service.call, methods=["POST"]),
        Route("/presets", service.list_presets, methods=["GET"]),
        Route("/healthz", service.healthz, methods=["GET"]),
    ]
    if demo:
        routes += [
            Route("/", demo_file("index.html"), methods=["GET"]),
            Route("/demo.js", demo_file("demo.js"), methods=["GET"]),
        ]
    return routes


def _lifespan(
    service: Service, draining: Draining
) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """At each start-up: serving again, the shared client opened; at shutdown, closed."""

    @asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        draining.reset()
        service.open()
        served = service.presets
        logger.info(
            "serving %d preset%s: %s",
            len(served),
            "" if len(served) == 1 else "s",
            ", ".join(served),
        )
        try:
            yield
        finally:
            await service.aclose()

    return lifespan
