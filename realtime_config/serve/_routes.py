"""The routes: mint a client secret, place a WebRTC call, list the presets, say it is ready.

Each route answers from the table built at start-up and the one shared client; an upstream
failure becomes the browser's error by ``_responses.upstream_error``.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from realtime_config._errors import APIError
from realtime_config.client._client import (
    REDACTED,
    AsyncRealtimeClient,
    CreatedCall,
    CreatedSession,
)
from realtime_config.serve._access_log import log_fields
from realtime_config.serve._presets import CALL_TARGET, ServedPreset
from realtime_config.serve._responses import error_response, upstream_error

Authorize = Callable[[Request], "bool | Awaitable[bool]"]
"""The host app's check: truthy to mint, falsy for 403; raise HTTPException(401) to say 401."""

MAX_OFFER_BYTES: Final = 64 * 1024
"""The largest SDP offer taken: a browser's is a few kilobytes."""
_NAME_CHARS_SHOWN: Final = 100
_DOCUMENTED: Final = frozenset({"value", "expires_at", "session"})
"""The fields of a client secret that are relayed to the browser."""
_SECRET_VALUE = re.compile(r"\bek_[A-Za-z0-9_-]+")

logger = logging.getLogger("realtime_config.server")


class Service:
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
        served = await self._served(
            request,
            "mint a client secret",
            lambda s: s.request is not None,
            "mints no client secret",
        )
        if isinstance(served, Response):
            return served
        assert served.request is not None  # what _served checked
        fields = log_fields(request.scope)
        try:
            created = await self.open().send(served.request)
        except APIError as error:
            return _failed_upstream(fields, error, "a client secret")
        fields["upstream_request_id"] = created.request_id
        # Only minting targets are served (start-up checks), so this is a created session.
        assert isinstance(created, CreatedSession)
        # A live secret: no cache may keep it.
        return Response(
            relayed_secret(created),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def call(self, request: Request) -> Response:
        """Place a WebRTC call for the browser's SDP offer; 201 with the SDP answer."""
        served = await self._served(
            request,
            "place a call",
            lambda s: s.call_session is not None,
            "cannot place a WebRTC call",
        )
        if isinstance(served, Response):
            return served
        assert served.call_session is not None  # what _served checked
        fields = log_fields(request.scope)
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
            placed = await client.send_payload(served.call_session, target=CALL_TARGET, sdp=sdp)
        except APIError as error:
            return _failed_upstream(fields, error, "an SDP answer")
        fields["upstream_request_id"] = placed.request_id
        assert isinstance(placed, CreatedCall)
        headers = {"Cache-Control": "no-store"}
        if placed.call_id is not None:
            # A header is Latin-1: a preset's name may be anything its file name is.
            headers["Location"] = f"/calls/{quote(request.path_params['name'])}/{placed.call_id}"
        return Response(placed.sdp, status_code=201, media_type="application/sdp", headers=headers)

    async def _served(
        self,
        request: Request,
        action: str,
        servable: Callable[[ServedPreset], bool],
        why: str,
    ) -> ServedPreset | Response:
        """The preset a route acts on, named in its access log line, once ``authorize``
        allowed ``action``; else the response to send (403, or 404: ``why`` it cannot)."""
        name = request.path_params["name"]
        log_fields(request.scope)["preset"] = name
        refused = await self._refused(request, action)
        if refused is not None:
            return refused
        served = self.presets.get(name)
        if served is None or not servable(served):
            return _no_preset(name, served, why)
        return served

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


def relayed_secret(created: CreatedSession) -> bytes:
    """The documented fields of a minted secret (``value``, ``expires_at``, ``session``), as
    JSON bytes, whatever else the upstream added.

    When the answer holds exactly those fields (the GA endpoints' answer), its own bytes are
    relayed: parsed once by the client, never re-serialised. A body the client's parse read
    as UTF-8 (it opens with ``{`` and no NUL follows: JSON's encoding detection) is UTF-8.
    Any other answer (the beta shape, an extra field) is rebuilt from the parsed fields.
    """
    content = created.content
    if created.raw.keys() == _DOCUMENTED and content[:1] == b"{" and content[1:2] != b"\0":
        return content
    secret = created.client_secret
    relayed = {"value": secret.value, "expires_at": secret.expires_at, "session": created.session}
    return json.dumps(relayed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _failed_upstream(fields: dict[str, Any], error: APIError, wanted: str) -> Response:
    """The browser's error for a failed upstream call, logged with the upstream's request id
    (``str(error)`` never holds the key; an upstream message might echo a secret)."""
    fields["upstream_request_id"] = getattr(error, "request_id", None)
    logger.warning("preset %s: %s", fields["preset"], _SECRET_VALUE.sub(REDACTED, str(error)))
    return upstream_error(error, wanted=wanted)


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
