"""The answers of errors: one JSON shape, and what a browser learns of an upstream failure.

Error bodies are always ``{"error": {"message", "type"}}``; they never carry the API key,
the upstream's own message or a traceback.
"""

from __future__ import annotations

import math
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from realtime_config._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ResponseTooLargeError,
)


def error_response(
    status: int, message: str, type_: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape: ``{"error": {"message", "type"}}``."""
    return JSONResponse(
        {"error": {"message": message, "type": type_}}, status_code=status, headers=headers
    )


def upstream_error(error: APIError, wanted: str = "a client secret") -> Response:
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


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405, and an ``authorize`` hook's HTTPException, as JSON."""
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code,
        str(exc.detail),
        _STATUS_TYPES.get(exc.status_code, "http_error"),
        dict(exc.headers or {}),
    )


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug (ours or the hook's): a JSON 500; the traceback goes to the server's log only."""
    return error_response(500, "internal error", "internal_error")
