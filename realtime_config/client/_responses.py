"""Reading answers: the size cap, the result of a success, and the error of each failure.

The one place where httpx's exceptions are caught and translated into the family of
``_errors``. Every text built here goes through the key's redaction, is one line, and
counts the attempts made.
"""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Final, TypeAlias

from realtime_config._errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ResponseTooLargeError,
    status_error_class,
)
from realtime_config.client._models import (
    AcceptedCall,
    ClientSecret,
    CreatedCall,
    CreatedSession,
    PreparedRequest,
    Result,
)
from realtime_config.client._retry import (
    Failure,
    backoff,
    finite_float,
    retry_after_seconds,
    status_wait,
)
from realtime_config.client._urls import CALL_ID, redact

if TYPE_CHECKING:
    import httpx

    from realtime_config.client._config import Settings

_BETA_UNAVAILABLE_HINT: Final = (
    "the beta endpoint /realtime/sessions is not available on this server; "
    "its GA successor is target client_secrets"
)
_PREVIEW_CHARS: Final = 200
_YEAR_10000: Final = 253_402_300_800  # datetime cannot go further
_TIMEOUT_PHASES: Final = {
    "ConnectTimeout": ("connect", "could not connect"),
    "ReadTimeout": ("read", "no response"),
    "WriteTimeout": ("write", "could not send the body"),
    "PoolTimeout": ("pool", "no free connection"),
}


class _TooLarge(Exception):
    """An answer over the size cap, found while reading it (its response, when known)."""

    def __init__(self, response: httpx.Response | None) -> None:
        super().__init__("response over the size cap")
        self.response = response


Answer: TypeAlias = "tuple[httpx.Response, bytes] | httpx.HTTPError | _TooLarge"
"""What one attempt came to: a response and its whole body, an httpx error, or a cap hit."""


def check_length(response: httpx.Response, cap: int) -> None:
    """Refuse an answer whose announced length is over the cap before reading any of it."""
    length = finite_float(response.headers.get("content-length", ""))
    if length is not None and length > cap:
        raise _TooLarge(response)


def take(body: bytearray, chunk: bytes, cap: int, ends: float) -> None:
    """Add a chunk to the body: over the cap, or past the deadline, the attempt ends.

    The sockets keep the deadline themselves; this check also holds a transport passed in
    (which this package did not build) to it, between chunks.
    """
    import httpx

    if len(body) + len(chunk) > cap:
        raise _TooLarge(None)
    body += chunk
    if time.monotonic() > ends:
        raise httpx.ReadTimeout("the attempt's deadline has passed")


def outcome_of(
    request: PreparedRequest, answer: Answer, retries_taken: int, settings: Settings
) -> Result | Failure:
    """What one attempt came to: its result, or the failure (with its wait, if retried)."""
    import httpx

    if isinstance(answer, _TooLarge):
        return _too_large(request, answer, retries_taken + 1, settings)
    if isinstance(answer, httpx.HTTPError):
        return _after_exception(request, answer, retries_taken, settings)
    response, body = answer
    status = response.status_code
    request_id = response.headers.get("x-request-id")
    request_id = redact(request_id, settings.api_key) if request_id else None
    if 200 <= status < 300:
        return _parse_success(
            request, response, body, request_id, attempts=retries_taken + 1, settings=settings
        )
    delay, note = status_wait(
        status, response.headers, retries_taken, rate_limited=settings.retry_rate_limited
    )
    error = _status_error(
        request,
        response,
        body,
        request_id,
        note=note,
        attempts=retries_taken + 1,
        settings=settings,
    )
    return Failure(error, None, delay)


def _too_large(
    request: PreparedRequest, exc: _TooLarge, attempts: int, settings: Settings
) -> Failure:
    response = exc.response
    status = f" {response.status_code} {_phrase(response.status_code)}" if response else ""
    text = (
        f"invalid response from {request.method} {request.url}:{status} larger than the "
        f"{settings.max_response_bytes}-byte cap; read no further"
    )
    error = ResponseTooLargeError(
        redact(_one_line(text), settings.api_key),
        method=request.method,
        url=request.url,
        status_code=response.status_code if response else None,
        request_id=None,
        attempts=attempts,
    )
    return Failure(error)


def _after_exception(
    request: PreparedRequest, exc: httpx.HTTPError, retries_taken: int, settings: Settings
) -> Failure:
    """Translate an httpx exception: the one place where they are caught."""
    import httpx

    method, url, attempts, key = request.method, request.url, retries_taken + 1, settings.api_key
    if isinstance(exc, httpx.TimeoutException):
        phase, what = _TIMEOUT_PHASES.get(type(exc).__name__, _TIMEOUT_PHASES["ReadTimeout"])
        limit = getattr(settings.timeout, phase, None)
        if phase == "connect" and limit is not None and limit < settings.deadline:
            within = f"within the {limit:g} s connect timeout"
        else:
            what = "no complete response" if phase != "connect" else what
            within = f"within the {settings.deadline:g} s deadline"
        text = redact(f"timeout from {method} {url}: {what} {within}".rstrip(), key)
        timeout_error = APITimeoutError(
            text + _attempts(attempts), method=method, url=url, attempts=attempts
        )
        return Failure(timeout_error, exc, backoff(retries_taken))

    detail = redact(_one_line(str(exc)), key) or type(exc).__name__
    if isinstance(exc, httpx.DecodingError):
        decoding_error = APIResponseError(
            f"invalid response from {method} {url}: cannot decode the body: {detail}",
            method=method,
            url=url,
            status_code=None,
            request_id=None,
            attempts=attempts,
        )
        return Failure(decoding_error, exc)

    connection_error = APIConnectionError(
        f"connection error from {method} {url}: {detail}" + _attempts(attempts),
        method=method,
        url=url,
        attempts=attempts,
    )
    # Our own side's mistakes (a URL scheme, a malformed request) would fail again.
    retry = isinstance(exc, httpx.TransportError) and not isinstance(
        exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
    )
    return Failure(connection_error, exc, backoff(retries_taken) if retry else None)


def _status_error(
    request: PreparedRequest,
    response: httpx.Response,
    body: bytes,
    request_id: str | None,
    *,
    note: str,
    attempts: int,
    settings: Settings,
) -> APIStatusError:
    status, key = response.status_code, settings.api_key
    error_type, code, param, message = error_fields(body, key)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = _one_line(response.reason_phrase) or "Error"
    label = code or error_type
    text = f"{status} {phrase} from {request.method} {request.url}: "
    text += f"{label}: {message}" if label else message
    extras = [f"param {param}"] if param else []
    if request_id:
        extras.append(f"request id {request_id}")
    if extras:
        text += f" ({', '.join(extras)})"
    if _kind(request) == "beta_session" and (status == 404 or code == "beta_api_shape_disabled"):
        text += f"; {_BETA_UNAVAILABLE_HINT}"
    text = redact(_one_line(text + note), key)
    return status_error_class(status)(
        text + _attempts(attempts),
        method=request.method,
        url=request.url,
        status_code=status,
        type=error_type,
        code=code,
        param=param,
        message=message,
        request_id=request_id,
        attempts=attempts,
        retry_after=retry_after_seconds(response.headers, time.time()),
    )


def error_fields(content: bytes, key: str | None) -> tuple[str | None, str | None, str | None, str]:
    """``type, code, param, message`` of an error body, whatever its shape."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        preview = _one_line(content.decode("utf-8", "replace"), _PREVIEW_CHARS)
        message = f"non-JSON response body: {preview}" if preview else "empty response body"
        return None, None, None, redact(message, key)
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, str) and error.strip():
        return None, None, None, redact(_one_line(error), key)
    if not isinstance(error, dict):
        return None, None, None, redact(f"unexpected error body: {_preview(error)}", key)

    def text(name: str) -> str | None:
        value = error.get(name)
        if value is None or isinstance(value, (dict, list)):
            return None
        return redact(_one_line(str(value)), key) or None

    message = text("message") or redact(f"no error message in: {_preview(error)}", key)
    return text("type"), text("code"), text("param"), message


class _Invalid(Exception):
    """A success whose body is not the documented shape: what is wrong with it."""


def _parse_success(
    request: PreparedRequest,
    response: httpx.Response,
    body: bytes,
    request_id: str | None,
    *,
    attempts: int,
    settings: Settings,
) -> Result | Failure:
    """The result a 2xx answer gives, read as the target's response kind says."""
    try:
        return _result(request, response, body, request_id)
    except _Invalid as problem:
        method, url, status = request.method, request.url, response.status_code
        text = f"invalid response from {method} {url}: {status} {_phrase(status)} {problem}"
        if request_id:
            text += f" (request id {request_id})"
        error = APIResponseError(
            redact(_one_line(text), settings.api_key),
            method=method,
            url=url,
            status_code=status,
            request_id=request_id,
            attempts=attempts,
        )
        return Failure(error)


def _result(
    request: PreparedRequest, response: httpx.Response, body: bytes, request_id: str | None
) -> Result:
    kind = _kind(request)
    if kind == "empty":
        return AcceptedCall(target=request.target, url=request.url, request_id=request_id)
    if kind == "sdp_answer":
        return _sdp_answer(request, response, body, request_id)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        # Not chained: the decode error holds the whole body, which may hold anything.
        raise _Invalid("with a body that is not JSON") from None
    if not isinstance(data, dict):
        raise _Invalid("with JSON that is not an object")
    if kind == "beta_session":
        where = "client_secret."
        secret = data.get("client_secret")
        session = {k: v for k, v in data.items() if k != "client_secret"}
        if not isinstance(secret, dict):
            raise _Invalid("without a client_secret object")
    else:
        where = ""
        secret = data
        maybe_session = data.get("session")
        if not isinstance(maybe_session, dict):
            raise _Invalid("without a session object")
        session = maybe_session
    value = secret.get("value")
    if not isinstance(value, str) or not value:
        raise _Invalid(f"without a {where}value string")
    expires_at = secret.get("expires_at")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        raise _Invalid(f"without a {where}expires_at integer")
    if not 0 <= expires_at < _YEAR_10000:
        raise _Invalid(f"with {where}expires_at {expires_at}, not a unix time")
    return CreatedSession(
        target=request.target,
        client_secret=ClientSecret(value=value, expires_at=expires_at),
        session=session,
        raw=data,
        request_id=request_id,
        content=body,
    )


def _sdp_answer(
    request: PreparedRequest, response: httpx.Response, body: bytes, request_id: str | None
) -> CreatedCall:
    try:
        answer = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid("with a body that is not UTF-8 text") from None
    if not answer.startswith("v="):
        raise _Invalid("without an SDP answer")
    location = response.headers.get("location")
    call_id = location.rstrip("/").rpartition("/")[2] if location else None
    if call_id is not None and not CALL_ID.fullmatch(call_id):
        raise _Invalid("with a Location that names no call id")
    return CreatedCall(target=request.target, sdp=answer, call_id=call_id, request_id=request_id)


def _kind(request: PreparedRequest) -> str | None:
    """How the answer to a request is read, from the target registry."""
    from realtime_config.compiling._targets import TARGETS

    registered = TARGETS.get(request.target)
    return registered.response if registered is not None else None


def _one_line(text: str, limit: int | None = None) -> str:
    line = " ".join(text.split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return line


def _attempts(attempts: int) -> str:
    return f" (after {attempts} attempts)" if attempts > 1 else ""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _preview(value: object) -> str:
    return _one_line(json.dumps(value, ensure_ascii=False), _PREVIEW_CHARS)
