"""The ASGI service of DESIGN section 9: it mints client secrets from the project's presets.

Everything that can fail because of a preset happens once, in ``create_app``: each preset is
loaded, validated and compiled into a ready request. Serving a request only looks its name
up in that table and sends the prepared bytes, so a request can neither change a preset nor
name a file. The app is built on Starlette, which is imported here and only here:
``import realtime_config`` never pays for it.

Middleware, outermost first: the access log (one record per request, with the preset, the
status, the upstream request id and the duration), then the host check (a ``Host`` that is not
an allowed host is refused before anything else: DNS rebinding), then CORS (listed origins
only; same-origin is judged from the allowed hosts and the served scheme, never from the
request's own ``Host``), then Starlette's routing. Error bodies are always
``{"error": {"message", "type"}}``; they never carry the API key, the upstream's own message
or a traceback.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

try:
    import anyio
    from starlette.applications import Starlette
    from starlette.datastructures import Headers, MutableHeaders
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ModuleNotFoundError as error:  # pragma: no cover - the extra is installed in tests
    raise ModuleNotFoundError(
        f"serving client secrets needs {(error.name or '').partition('.')[0]}: "
        "install realtime-config[serve]",
        name=error.name,
    ) from error

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ClientConfigError,
    MissingAPIKeyError,
    PresetError,
    ResponseTooLargeError,
    ServeConfigError,
)
from realtime_config._project import display_path, find_root, project_presets
from realtime_config.checking._compose import CheckedLoader as Loader
from realtime_config.client._client import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    REDACTED,
    AsyncRealtimeClient,
    CreatedCall,
    CreatedSession,
    PreparedRequest,
)
from realtime_config.compiling._targets import TARGETS
from realtime_config.preset._model import Preset

if TYPE_CHECKING:
    import httpx
    import uvicorn

__all__ = [
    "Authorize",
    "Draining",
    "HostPolicy",
    "ServedPreset",
    "create_app",
    "listen_socket",
    "run",
]

Authorize = Callable[[Request], "bool | Awaitable[bool]"]
"""The host app's check: truthy to mint, falsy for 403; raise HTTPException(401) to say 401."""

MINTING_TARGETS: Final = frozenset(
    target.name
    for target in TARGETS.values()
    if target.response in ("client_secret", "beta_session")
)
"""The targets whose response carries a client secret (from the registry: client_secrets,
sessions, translations.client_secrets); every other one is refused."""
CALL_TARGET: Final = "calls"
"""The target of ``POST /calls/{name}``: a WebRTC call placed for the browser's SDP offer."""

ALLOWED_METHODS: Final = "GET, POST"
ALLOWED_HEADERS: Final = "Authorization, Content-Type"
MAX_OFFER_BYTES: Final = 64 * 1024
"""The largest SDP offer taken: a browser's is a few kilobytes."""
DEFAULT_GRACE: Final = 10.0
"""Seconds in-flight requests have to finish on SIGINT/SIGTERM before they are cut (503)."""
PREFLIGHT_MAX_AGE: Final = "600"
_LOG_FIELDS: Final = "realtime_config.log"  # the scope key the handlers fill for the access log
_NAME_CHARS_SHOWN: Final = 100
_SECRET_VALUE = re.compile(r"\bek_[A-Za-z0-9_-]+")
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#@\s]+")

logger = logging.getLogger("realtime_config.server")


@dataclass(frozen=True)
class ServedPreset:
    """A preset as served: its name under ``presets/``, its target, its ready mint request
    (None when it only places calls) and its compiled call session (None when it cannot)."""

    name: str
    path: Path
    target: str
    description: str | None
    request: PreparedRequest | None = field(repr=False)
    warnings: tuple[Diagnostic, ...] = ()
    call_session: dict[str, Any] | None = field(default=None, repr=False)

    def listing(self) -> dict[str, Any]:
        """The entry of ``GET /presets``: ``calls`` says whether ``/calls/{name}`` serves it."""
        return {
            "name": self.name,
            "description": self.description,
            "target": self.target,
            "calls": self.call_session is not None,
        }


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
    origins = frozenset(_checked_origin(origin) for origin in allow_origins)
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
    served, skipped = _load(presets, root, client)
    service = _Service(served, client, client_settings, authorize)

    draining = Draining()

    @asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        draining.reset()
        service.open()
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

    routes = [
        Route("/sessions/{name:path}", service.mint, methods=["POST"]),
        Route("/calls/{name:path}", service.call, methods=["POST"]),
        Route("/presets", service.list_presets, methods=["GET"]),
        Route("/healthz", service.healthz, methods=["GET"]),
    ]
    if demo:
        routes += [
            Route("/", _demo_file("index.html"), methods=["GET"]),
            Route("/demo.js", _demo_file("demo.js"), methods=["GET"]),
        ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(_AccessLog),
            Middleware(_HostCheck, hosts=hosts),
            Middleware(_Cors, origins=origins, credentials=allow_credentials, hosts=hosts),
            Middleware(_Drain, draining=draining),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
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


def _checked_origin(origin: str) -> str:
    """``origin`` as browsers send it (lower case), or a ServeConfigError."""
    normal = origin.strip().lower()
    if not _ORIGIN.fullmatch(normal):
        raise ServeConfigError(
            f"{origin!r} is not an origin: expected scheme://host[:port] without a path, "
            "such as https://app.example.com"
        )
    return normal


def _load(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None,
    root: str | os.PathLike[str] | None,
    client: AsyncRealtimeClient,
) -> tuple[dict[str, ServedPreset], list[Diagnostic]]:
    """Every preset loaded, validated and compiled, by name, and the warnings of those left
    out; a PresetError lists every problem.

    Of the presets found under ``presets/`` (none named), a base that another one extends
    is neither listed nor served: it is a part, not a session.
    """
    base = Path(root).resolve() if root is not None else None
    discovered = paths is None
    files = _preset_files(paths, base)
    loader = Loader(base)
    problems: dict[Path, list[Diagnostic]] = {}
    loaded: list[tuple[str, Path, Preset]] = []
    for file in files:
        resolved = file.resolve()
        name = _served_name(file, base)
        if isinstance(name, Diagnostic):
            problems.setdefault(resolved, []).append(name)
            continue
        try:
            loaded.append((name, resolved, loader.load(file)))
        except PresetError as error:
            problems.setdefault(resolved, []).extend(error.diagnostics)
    bases: set[Path] = set()
    if discovered:
        bases = {Path(f).resolve() for _, _, p in loaded for f in p.source_files[1:]}
    skipped: list[Diagnostic] = []
    served: dict[str, ServedPreset] = {}
    for name, path, preset in loaded:
        if path in bases:
            continue
        try:
            entry = _served(name, path, preset, client)
        except PresetError as error:
            problems.setdefault(path, []).extend(error.diagnostics)
            continue
        except ClientConfigError as error:
            entry = str(error)
        if isinstance(entry, str):
            # Named presets must all be served; of the discovered ones, those that cannot
            # (a SIP calls.accept preset) are left out, with a warning.
            found = _unmintable(preset, entry, discovered=discovered)
            if discovered:
                skipped.append(found)
            else:
                problems.setdefault(path, []).append(found)
            continue
        if name in served and served[name].path != path:
            display = display_path(preset.path)
            problems.setdefault(path, []).append(
                Diagnostic(display, 1, 1, "error", "serve", f"another preset is served as {name}")
            )
            continue
        served[name] = entry
    found_problems = [d for path, found in problems.items() if path not in bases for d in found]
    if found_problems:
        raise PresetError(found_problems)
    if not served:
        raise ServeConfigError("no presets to serve: none of them mints a client secret")
    return dict(sorted(served.items())), skipped


def _served_name(file: Path, base: Path | None) -> str | Diagnostic:
    """A preset's name, its path under ``presets/`` without the suffix; or why it has none."""
    resolved = file.resolve()
    folder = (base or find_root(resolved.parent)) / "presets"
    try:
        return resolved.relative_to(folder.resolve()).with_suffix("").as_posix()
    except ValueError:
        display = display_path(resolved if not file.is_absolute() else file)
        reason = f"not under {display_path(folder)}/: a served preset is named by its path there"
        return Diagnostic(display, 1, 1, "error", "serve", reason)


def _preset_files(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None, base: Path | None
) -> list[Path]:
    """The files named, or those found under the project's ``presets/``; never none."""
    if paths is None:
        folder, files = project_presets(base)
        if not files:
            raise ServeConfigError(f"no presets to serve: {display_path(folder)} has no .toml file")
        return list(files)
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    if not paths:
        raise ServeConfigError("no presets to serve: the list of presets is empty")
    return [Path(path) for path in paths]


def _served(
    name: str, path: Path, preset: Preset, client: AsyncRealtimeClient
) -> ServedPreset | str:
    """How a preset is served: its mint request and its call's session, or why it cannot be.

    Its own target decides: a minting one is served at ``/sessions/{name}`` and, when the
    preset compiles for ``calls``, at ``/calls/{name}`` too; ``calls`` only there.
    """
    from realtime_config.compiling._targets import chosen_target, compile_preset

    target = chosen_target(preset).name
    if target not in (*MINTING_TARGETS, CALL_TARGET):
        return f"target {target} mints no client secret"
    request = client.prepare_request(preset) if target in MINTING_TARGETS else None
    try:
        session: dict[str, Any] | None = compile_preset(preset, CALL_TARGET)
    except PresetError:
        if request is None:
            raise
        session = None  # a transcription preset, a beta one with GA-less fields: no calls
    return ServedPreset(
        name,
        path,
        target,
        preset.description,
        request,
        preset.warnings + (request.warnings if request else ()),
        session,
    )


def _unmintable(preset: Preset, reason: str, *, discovered: bool) -> Diagnostic:
    """A preset whose default target does not mint a client secret over HTTP.

    An error when the preset was named, a warning (it is left out) when it was discovered.
    """
    target = preset.target
    if target:
        reason = f"preset.target {target} does not mint a client secret over HTTP"
    severity: Severity = "warning" if discovered else "error"
    message = f"{reason}: not served" if discovered else f"cannot be served: {reason}"
    if target:
        return preset.diagnostic(
            ("preset", "target"), "serve", message, severity=severity, anchor="value"
        )
    return Diagnostic(display_path(preset.path), 1, 1, severity, "serve", message)


class _Service:
    """The routes' state: the served presets, the shared client and the host's check."""

    def __init__(
        self,
        presets: dict[str, ServedPreset],
        client: AsyncRealtimeClient,
        client_settings: dict[str, Any],
        authorize: Authorize | None,
    ) -> None:
        self.presets = presets
        self._client: AsyncRealtimeClient | None = client
        self._client_settings = client_settings
        self._authorize = authorize

    def open(self) -> AsyncRealtimeClient:
        """The shared client; a new one after a shutdown closed the last.

        A host app that mounts this one without passing its lifespan on still gets a
        client, on the first request (Starlette runs no lifespan of a mounted app).
        """
        if self._client is None:
            self._client = AsyncRealtimeClient(**self._client_settings)
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def mint(self, request: Request) -> Response:
        name = request.path_params["name"]
        fields = _log_fields(request.scope)
        fields["preset"] = name
        refused = await self._refused(request, "mint a client secret")
        if refused is not None:
            return refused
        served = self.presets.get(name)
        if served is None or served.request is None:
            return _no_preset(name, served, "mints no client secret")
        try:
            created = await self.open().send(served.request)
        except APIError as error:
            fields["upstream_request_id"] = getattr(error, "request_id", None)
            # str(error) never holds the key; an upstream message might echo a secret.
            logger.warning("preset %s: %s", name, _SECRET_VALUE.sub(REDACTED, str(error)))
            return _upstream_error(error)
        fields["upstream_request_id"] = created.request_id
        # Only minting targets are served (start-up checks), so this is a created session.
        assert isinstance(created, CreatedSession)
        # Only the documented fields, whatever else the upstream added; a live secret, so
        # no cache may keep it.
        secret = created.client_secret
        relayed = {
            "value": secret.value,
            "expires_at": secret.expires_at,
            "session": created.session,
        }
        return JSONResponse(relayed, headers={"Cache-Control": "no-store"})

    async def call(self, request: Request) -> Response:
        """Place a WebRTC call for the browser's SDP offer; 201 with the SDP answer."""
        name = request.path_params["name"]
        fields = _log_fields(request.scope)
        fields["preset"] = name
        refused = await self._refused(request, "place a call")
        if refused is not None:
            return refused
        served = self.presets.get(name)
        if served is None or served.call_session is None:
            return _no_preset(name, served, "cannot place a WebRTC call")
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/sdp":
            return error_response(
                415,
                "the offer must be sent as Content-Type: application/sdp",
                "unsupported_media_type",
            )
        offer = await _body_within(request, MAX_OFFER_BYTES)
        if offer is None:
            return error_response(
                413, f"the offer is larger than {MAX_OFFER_BYTES // 1024} KiB", "payload_too_large"
            )
        try:
            sdp = offer.decode("utf-8")
        except UnicodeDecodeError:
            return error_response(400, "the offer is not UTF-8 text", "bad_request")
        if not sdp.strip():
            return error_response(400, "the offer is empty", "bad_request")
        client = self.open()
        try:
            placed = await client.send(
                client.prepare_request(served.call_session, target=CALL_TARGET, sdp=sdp)
            )
        except APIError as error:
            fields["upstream_request_id"] = getattr(error, "request_id", None)
            logger.warning("preset %s: %s", name, _SECRET_VALUE.sub(REDACTED, str(error)))
            return _upstream_error(error, wanted="an SDP answer")
        fields["upstream_request_id"] = placed.request_id
        assert isinstance(placed, CreatedCall)
        headers = {"Cache-Control": "no-store"}
        if placed.call_id is not None:
            # A header is Latin-1: a preset's name may be anything its file name is.
            headers["Location"] = f"/calls/{quote(name)}/{placed.call_id}"
        return Response(placed.sdp, status_code=201, media_type="application/sdp", headers=headers)

    async def _refused(self, request: Request, what: str) -> Response | None:
        """The ``authorize`` hook's answer: None to go on, else the 403 to send."""
        if self._authorize is None:
            return None
        verdict = self._authorize(request)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if not verdict:
            return error_response(403, f"not allowed to {what}", "forbidden")
        return None

    async def list_presets(self, request: Request) -> Response:
        refused = await self._refused(request, "list the presets")
        if refused is not None:
            return refused
        return JSONResponse({"presets": [p.listing() for p in self.presets.values()]})

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "presets": len(self.presets)})


def _no_preset(name: str, served: ServedPreset | None, why: str) -> Response:
    """The 404 of a name that is not served, or not served by this route."""
    shown = name if len(name) <= _NAME_CHARS_SHOWN else name[:_NAME_CHARS_SHOWN] + "…"
    if served is None:
        return error_response(404, f"no preset named {shown!r}", "not_found")
    return error_response(404, f"preset {shown!r} {why}", "not_found")


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The request's body, or None once it is larger than ``limit`` (read no further)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _demo_file(name: str) -> Callable[[Request], Awaitable[Response]]:
    """A route answering one file of the demo page, read once, from the package."""
    from importlib.resources import files

    data = files("realtime_config.serve").joinpath("_demo", name).read_bytes()
    media_type = "text/html" if name.endswith(".html") else "text/javascript"
    headers = {
        # The page runs its own script only, talks to this origin only, and is never framed.
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
            "connect-src 'self'; media-src 'self' blob: mediastream:; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }

    async def page(request: Request) -> Response:
        return Response(data, media_type=media_type, headers=headers)

    return page


def error_response(
    status: int, message: str, type_: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape: ``{"error": {"message", "type"}}``."""
    return JSONResponse(
        {"error": {"message": message, "type": type_}}, status_code=status, headers=headers
    )


def _upstream_error(error: APIError, wanted: str = "a client secret") -> Response:
    """What the browser learns of a failed upstream call: the kind, never the upstream text."""
    if isinstance(error, APIStatusError) and error.status_code == 429:
        headers = {}
        if error.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(error.retry_after))
        return error_response(
            429, "the Realtime API is rate limiting requests; retry later", "rate_limited", headers
        )
    if isinstance(error, APIStatusError):
        return error_response(
            502, f"the Realtime API answered {error.status_code}", "upstream_error"
        )
    if isinstance(error, APITimeoutError):
        return error_response(504, "the Realtime API did not answer in time", "upstream_timeout")
    if isinstance(error, APIConnectionError):
        return error_response(502, "could not reach the Realtime API", "upstream_unreachable")
    if isinstance(error, ResponseTooLargeError):
        return error_response(
            502, "the Realtime API sent an answer larger than this service takes", "upstream_error"
        )
    if isinstance(error, APIResponseError):
        return error_response(
            502, f"the Realtime API sent a response without {wanted}", "upstream_error"
        )
    return error_response(502, "the Realtime API request failed", "upstream_error")


_STATUS_TYPES: Final = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405, and an ``authorize`` hook's HTTPException, as JSON."""
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code,
        str(exc.detail),
        _STATUS_TYPES.get(exc.status_code, "http_error"),
        dict(exc.headers or {}),
    )


async def _internal_error(request: Request, exc: Exception) -> Response:
    """A bug (ours or the hook's): a JSON 500; the traceback goes to the server's log only."""
    return error_response(500, "internal error", "internal_error")


def _log_fields(scope: Scope) -> dict[str, Any]:
    fields: dict[str, Any] = scope.setdefault(_LOG_FIELDS, {})
    return fields


def _printable(text: str, limit: int = 200) -> str:
    """A client-chosen string made safe for one log line (no control characters)."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _AccessLog:
    """One log record per HTTP request: method, path, status, preset, request id, duration.

    The record's ``extra`` fields (``method``, ``path``, ``status``, ``preset``,
    ``upstream_request_id``, ``duration_ms``, ``origin``) serve JSON log formatters.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        fields = _log_fields(scope)
        status = 500  # what the client gets when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self._log(scope, status, fields, (time.perf_counter() - started) * 1000.0)

    @staticmethod
    def _log(scope: Scope, status: int, fields: dict[str, Any], millis: float) -> None:
        method = scope["method"]
        path = _printable(scope.get("root_path", "") + scope["path"])
        origin = Headers(scope=scope).get("origin")
        preset = fields.get("preset")
        request_id = fields.get("upstream_request_id")
        text = f"{method} {path} {status}"
        if preset is not None:
            text += f" preset={_printable(preset)}"
        if request_id is not None:
            text += f" upstream_request_id={_printable(request_id)}"
        if origin is not None:
            text += f" origin={_printable(origin)}"
        text += f" duration_ms={millis:.1f}"
        logger.info(
            "%s",
            text,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "preset": preset,
                "upstream_request_id": request_id,
                "duration_ms": round(millis, 1),
                "origin": origin,
            },
        )


class _Cors:
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


class _HostCheck:
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


class _Drain:
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
