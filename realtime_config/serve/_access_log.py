"""The access log: one record per HTTP request, with the preset, the status, the upstream
request id and the duration, and no secret."""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LOG_FIELDS: Final = "realtime_config.log"  # the scope key the handlers fill for the access log

logger = logging.getLogger("realtime_config.server")


def log_fields(scope: Scope) -> dict[str, Any]:
    fields: dict[str, Any] = scope.setdefault(_LOG_FIELDS, {})
    return fields


def _printable(text: str, limit: int = 200) -> str:
    """A client-chosen string made safe for one log line (no control characters)."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AccessLog:
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
        fields = log_fields(scope)
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
