"""HTTP clients that submit a compiled payload and mint an ephemeral client secret.

httpx, the compiler and the loader are imported only when a client is built or a request
is made, so that ``import realtime_config`` stays cheap for ``validate`` and ``compile``.
The sync and async clients share everything but the call on the wire and the sleeping:
settings, request preparation, the retry decision, the parsing of responses and the errors
live in ``_ClientBase``. Each failed attempt builds its error once, numbered, and that error
is what is logged before a retry or raised when none is left.
"""

from __future__ import annotations

import abc
import email.utils
import functools
import json
import logging
import math
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Generic, TypeAlias, TypeVar
from urllib.parse import quote, unquote

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ClientConfigError,
    MissingAPIKeyError,
    ResponseTooLargeError,
    status_error_class,
)
from realtime_config._version import __version__

if TYPE_CHECKING:
    import ssl

    import httpx

    from realtime_config.preset._model import Preset

__all__ = [
    "AcceptedCall",
    "AsyncRealtimeClient",
    "ClientSecret",
    "CreatedCall",
    "CreatedSession",
    "PreparedRequest",
    "RealtimeClient",
]

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
# Minting a key takes well under a second; 30 s leaves room for a slow proxy or a busy
# region without letting a hung connection block a backend's request handler for the
# SDK's 600 s. It is the deadline of a whole attempt, connect to last byte.
DEFAULT_TIMEOUT: Final = 30.0
# A client secret or an SDP answer is a few kilobytes; a megabyte is generous, and bounds
# what any upstream can make this process hold.
DEFAULT_MAX_RESPONSE_BYTES: Final = 1024 * 1024
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# As in openai-python >= 2.52: a server that asks for a longer wait is not retried at all.
MAX_RETRY_AFTER: Final = 120.0

_CALL_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,200}")
"""What a SIP call id may be: it goes into the request path, so nothing that could change it."""

PROVIDERS: Final = ("openai", "azure")
"""Where requests go: OpenAI's API, or an Azure OpenAI resource's v1 API (same GA bodies)."""

AZURE_API_PATH: Final = "/openai/v1"
"""The v1 API of an Azure OpenAI resource, below its endpoint (no api-version needed)."""

REDACTED: Final = "[redacted]"
"""What stands in for the API key wherever a request is shown (``--dry-run``)."""

_RETRY_STATUSES: Final = frozenset({408, 409, 429})
_BODY_HEADERS: Final = frozenset({"Content-Type", "Accept"})
"""The headers a prepared request decides (a multipart offer); the client decides the rest."""
_BETA_UNAVAILABLE_HINT: Final = (
    "the beta endpoint /realtime/sessions is not available on this server; "
    "its GA successor is target client_secrets"
)
_PREVIEW_CHARS: Final = 200
_YEAR_10000: Final = 253_402_300_800  # datetime cannot go further

logger = logging.getLogger("realtime_config")


@dataclass(frozen=True)
class ClientSecret:
    """The ephemeral key a browser or phone uses to open a Realtime session.

    ``value`` is left out of the repr so that logging a result does not log a live key.
    """

    value: str = field(repr=False)
    expires_at: int

    @property
    def expires_at_datetime(self) -> datetime:
        """The expiry as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires_at, tz=timezone.utc)

    @property
    def expires_at_iso(self) -> str:
        """The expiry as ISO-8601 UTC, e.g. ``2026-05-01T12:00:00Z``."""
        return self.expires_at_datetime.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CreatedSession:
    """A session created by either endpoint, parsed into one shape.

    ``session`` is the session object without the secret: the response's ``session`` for
    ``client_secrets``, the response minus ``client_secret`` for ``sessions``. ``raw`` is the
    response JSON exactly as received.
    """

    target: str
    client_secret: ClientSecret
    session: dict[str, Any] = field(repr=False)
    raw: dict[str, Any] = field(repr=False)
    request_id: str | None = None

    @property
    def session_id(self) -> str | None:
        """The session's ``id`` (``sess_...``) when the server gave one."""
        value = self.session.get("id")
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict[str, Any]:
        """The same JSON shape for both targets: ``target``, ``client_secret``, ``session``."""
        return {
            "target": self.target,
            "client_secret": {
                "value": self.client_secret.value,
                "expires_at": self.client_secret.expires_at,
            },
            "session": self.session,
        }

    def as_json(self) -> str:
        """``to_dict()`` as indented JSON with a trailing newline (``submit --format json``)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def as_text(self) -> str:
        """The secret and its expiry, one per line (``submit --format text``)."""
        secret = self.client_secret
        return (
            f"client_secret: {secret.value}\n"
            f"expires_at: {secret.expires_at_iso} (unix {secret.expires_at})\n"
        )


@dataclass(frozen=True)
class AcceptedCall:
    """A SIP call accepted with a preset's session (target ``calls.accept``, an empty 200)."""

    target: str
    url: str
    request_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``target``, ``accepted``, ``request_id``: the JSON of ``submit --format json``."""
        return {"target": self.target, "accepted": True, "request_id": self.request_id}

    def as_json(self) -> str:
        """``to_dict()`` as indented JSON with a trailing newline."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def as_text(self) -> str:
        """One line saying the call was accepted."""
        return "call accepted\n"


@dataclass(frozen=True)
class CreatedCall:
    """A WebRTC call placed for an SDP offer (target ``calls``): the SDP answer and the call id.

    ``call_id`` is read from the answer's ``Location`` header (``rtc_...``); None when the
    server sent none.
    """

    target: str
    sdp: str = field(repr=False)
    call_id: str | None
    request_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``target``, ``call_id``, ``sdp``, ``request_id``: ``submit --format json``."""
        return {
            "target": self.target,
            "call_id": self.call_id,
            "sdp": self.sdp,
            "request_id": self.request_id,
        }

    def as_json(self) -> str:
        """``to_dict()`` as indented JSON with a trailing newline."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def as_text(self) -> str:
        """The SDP answer, as the browser's ``setRemoteDescription`` takes it."""
        return self.sdp if self.sdp.endswith("\n") else self.sdp + "\n"


_Result: TypeAlias = "CreatedSession | AcceptedCall | CreatedCall"
"""What a successful request gives, by the target's response kind."""


def _created(result: _Result) -> CreatedSession:
    if not isinstance(result, CreatedSession):
        raise ClientConfigError(f"target {result.target} creates no session: use accept_call")
    return result


def _placed(result: _Result) -> CreatedCall:
    if not isinstance(result, CreatedCall):
        raise ClientConfigError(f"target {result.target} places no WebRTC call")
    return result


def multipart_offer(sdp: str, session: bytes) -> tuple[str, bytes]:
    """The ``multipart/form-data`` body of ``POST /realtime/calls``: its content type and bytes.

    The parts, in the official SDK's order: ``sdp`` (application/sdp) and ``session`` (the
    compiled session, application/json). The boundary is derived from the content, so that
    the same offer gives the same bytes (``--dry-run`` is reproducible), and is checked not
    to occur in it.
    """
    import hashlib

    offer = sdp.encode("utf-8")
    digest = hashlib.sha256(offer + b"\0" + session).hexdigest()
    boundary = f"realtime-config-{digest[:32]}"
    while boundary.encode() in offer or boundary.encode() in session:
        boundary += "x"
    parts = [("sdp", "application/sdp", offer), ("session", "application/json", session)]
    body = b""
    for name, content_type, data in parts:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _accepted(result: _Result) -> AcceptedCall:
    if not isinstance(result, AcceptedCall):
        raise ClientConfigError(f"target {result.target} accepts no call")
    return result


def _takes_offer(target: str) -> bool:
    """Whether a target's body is the session part of a multipart form with an SDP offer."""
    from realtime_config.compiling._targets import TARGETS

    registered = TARGETS.get(target)
    return registered is not None and registered.response == "sdp_answer"


def _response_of(request: PreparedRequest) -> str | None:
    """How the answer to a request is read, from the target registry."""
    from realtime_config.compiling._targets import TARGETS

    registered = TARGETS.get(request.target)
    return registered.response if registered is not None else None


@dataclass(frozen=True)
class PreparedRequest:
    """A request ready for ``send``, safe to print: the key is redacted in ``headers``.

    ``body`` holds the exact bytes that go on the wire; ``warnings`` are the compiler's
    (a field left out by ``drop_unsupported``), for the caller to show.
    """

    target: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    warnings: tuple[Diagnostic, ...] = ()

    def as_text(self) -> str:
        """The request as an HTTP message: request line, headers, blank line, body."""
        lines = [f"{self.method} {self.url}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return "\n".join(lines) + "\n\n" + self.body.decode("utf-8") + "\n"


@dataclass(frozen=True)
class _Failure:
    """A failed attempt: its error, what caused it, and the wait before a retry (None: none).

    The error is built with the attempt's number, so its text already counts the attempts.
    """

    error: APIError
    cause: BaseException | None = None
    delay: float | None = None


class _TooLarge(Exception):
    """An answer over the size cap, found while reading it (its response, when known)."""

    def __init__(self, response: httpx.Response | None) -> None:
        super().__init__("response over the size cap")
        self.response = response


_Answer: TypeAlias = "tuple[httpx.Response, bytes] | httpx.HTTPError | _TooLarge"
"""What one attempt came to: a response and its whole body, an httpx error, or a cap hit."""


def _deadline_of(timeout: httpx.Timeout) -> float:
    """An attempt's deadline: a number's own value, else the longest phase of an httpx.Timeout."""
    phases = [t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t]
    return max(phases, default=DEFAULT_TIMEOUT)


def _positive(name: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
        if math.isfinite(seconds) and seconds > 0:
            return seconds
    raise ClientConfigError(f"{name} must be a number of seconds > 0, not {value!r}")


def retry_delay(retries_taken: int, rand: float) -> float:
    """The backoff before the next retry, as openai-python computes it (``rand`` in [0, 1))."""
    # The exponent is bounded so that a huge max_retries cannot overflow the float.
    backoff = INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 16)
    return min(backoff, MAX_RETRY_DELAY) * (1.0 - 0.25 * rand)


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a response asks for via ``retry-after-ms`` or ``Retry-After``, if any.

    ``Retry-After`` may be seconds or an HTTP-date (compared with ``now``, unix time).
    Unparseable, non-finite or negative values count as absent.
    """
    seconds: float | None = None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _float(millis)
        if seconds is not None:
            seconds /= 1000.0
    if seconds is None:
        value = headers.get("retry-after")
        if value is None:
            return None
        seconds = _float(value)
        if seconds is None:
            try:
                when = email.utils.parsedate_to_datetime(value.strip())
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when.tzinfo is None:  # "-0000" dates: the RFC says they are UTC
                when = when.replace(tzinfo=timezone.utc)
            seconds = when.timestamp() - now
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _one_line(text: str, limit: int | None = None) -> str:
    line = " ".join(text.split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return line


def _header_safe(value: str) -> bool:
    # Visible ASCII only: anything else makes httpx or h11 raise, quoting the value.
    return bool(value) and all("!" <= ch <= "~" for ch in value)


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _verify() -> ssl.SSLContext:
    """httpx's default certificate-verifying context, shared by the clients this module builds."""
    cert_file, cert_dir = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    try:
        return _ssl_context(cert_file, cert_dir)
    except OSError as exc:  # ssl.SSLError is an OSError too
        where = f"SSL_CERT_FILE={cert_file}" if cert_file else f"SSL_CERT_DIR={cert_dir}"
        raise ClientConfigError(f"cannot load the CA certificates of {where}: {exc}") from exc


@functools.lru_cache(maxsize=4)
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # Building a context reads the whole CA bundle (some 25 ms); a backend that makes a
    # client per request would pay that every time. Keyed on the variables httpx reads,
    # so that changing them still takes effect.
    import httpx

    return httpx.create_ssl_context()


_Http = TypeVar("_Http", bound="httpx.Client | httpx.AsyncClient")
_Transport = TypeVar("_Transport", bound="httpx.BaseTransport | httpx.AsyncBaseTransport")
_Sleep = TypeVar("_Sleep", bound=Callable[[float], object])


@dataclass(frozen=True)
class _Connection:
    """The provider's settings: where to post, with which credential in which header."""

    provider: str
    base_url: str | None
    credential: str | None
    header: str
    """``Authorization`` (sent as ``Bearer <credential>``) or ``api-key`` (Azure's key)."""


def _connection(
    provider: str | None, api_key: str | None, azure_ad_token: str | None, base_url: str | None
) -> _Connection:
    """The provider asked for, else Azure when ``AZURE_OPENAI_ENDPOINT`` is set and no OpenAI
    base URL is; its base URL and credential from the arguments, else the environment."""
    if provider is None:
        azure = _env("AZURE_OPENAI_ENDPOINT") and not (base_url or _env("OPENAI_BASE_URL"))
        provider = "azure" if azure else "openai"
    if provider not in PROVIDERS:
        raise ClientConfigError(f"unknown provider {provider!r}; expected openai or azure")
    if provider == "openai":
        if azure_ad_token is not None:
            raise ClientConfigError("an Azure AD token is for provider azure, not openai")
        key = api_key if api_key is not None else _env("OPENAI_API_KEY")
        return _Connection(provider, base_url or _env("OPENAI_BASE_URL"), key, "Authorization")
    if api_key is not None and azure_ad_token is not None:
        raise ClientConfigError("pass an Azure API key or an Azure AD token, not both")
    if api_key is None and azure_ad_token is None:
        # As the official SDK does: with no credential given, the token wins over the key.
        azure_ad_token = _env("AZURE_OPENAI_AD_TOKEN")
        api_key = None if azure_ad_token else _env("AZURE_OPENAI_API_KEY")
    if base_url is None:
        endpoint = _env("AZURE_OPENAI_ENDPOINT")
        if endpoint is None:
            raise ClientConfigError(
                "provider azure needs the resource's endpoint: set AZURE_OPENAI_ENDPOINT "
                "(https://RESOURCE.openai.azure.com) or pass a base URL"
            )
        base_url = endpoint.rstrip("/") + AZURE_API_PATH
    if azure_ad_token:
        return _Connection(provider, base_url, azure_ad_token, "Authorization")
    return _Connection(provider, base_url, api_key, "api-key")


class _ClientBase(abc.ABC, Generic[_Http, _Transport, _Sleep]):
    """Everything both clients share: settings, requests, the retry decision and the errors.

    A subclass adds only what blocks or awaits: its httpx client (``_new_http``), the call
    on the wire (``send``), its default sleep and its way of closing.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        total_timeout: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry_rate_limited: bool = True,
        http_client: _Http | None = None,
        transport: _Transport | None = None,
        sleep: _Sleep | None = None,
        provider: str | None = None,
        azure_ad_token: str | None = None,
    ) -> None:
        connection = _connection(provider, api_key, azure_ad_token, base_url)
        self.provider = connection.provider
        self._auth_header = connection.header
        self._api_key: str | None = connection.credential or None
        if self._api_key is not None and not _header_safe(self._api_key):
            raise ClientConfigError(
                "the API key contains spaces or characters that an HTTP header cannot carry"
            )
        self.base_url = _check_base_url(connection.base_url or DEFAULT_BASE_URL, self._api_key)
        openai = self.provider == "openai"  # an Azure resource has no organization or project
        self.organization = organization or (_env("OPENAI_ORG_ID") if openai else None)
        self.project = project or (_env("OPENAI_PROJECT_ID") if openai else None)
        for label, value in (("organization", self.organization), ("project", self.project)):
            if value is not None and not _header_safe(value):
                raise ClientConfigError(f"the {label} id {value!r} is not a valid header value")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ClientConfigError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
        self.max_retries = max_retries
        self.timeout = self._check_timeout(timeout)
        self.deadline = _deadline_of(self.timeout)
        """Seconds each attempt may take, connect to last byte."""
        self.total_timeout = _positive(
            "total_timeout",
            self.deadline * (max_retries + 1) if total_timeout is None else total_timeout,
        )
        """Seconds the whole call may take, every attempt and every wait between them."""
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise ClientConfigError(
                f"max_response_bytes must be a whole number >= 1, not {max_response_bytes!r}"
            )
        self.max_response_bytes = max_response_bytes
        self.retry_rate_limited = retry_rate_limited
        if http_client is not None and transport is not None:
            raise ClientConfigError("pass http_client or transport, not both")
        self._owns_http = http_client is None
        if http_client is None:
            http_client = self._new_http(transport, _verify() if transport is None else True)
        self._http: _Http = http_client
        self._sleep: _Sleep = sleep if sleep is not None else self._default_sleep()

    @abc.abstractmethod
    def _new_http(self, transport: _Transport | None, verify: ssl.SSLContext | bool) -> _Http:
        """The httpx client made when none is passed in, closed with this client."""

    @staticmethod
    @abc.abstractmethod
    def _default_sleep() -> _Sleep:
        """How to wait between attempts when no ``sleep`` is passed in."""

    @staticmethod
    def _check_timeout(timeout: object) -> httpx.Timeout:
        import httpx

        if timeout is None:
            return httpx.Timeout(DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
        if isinstance(timeout, httpx.Timeout):
            return timeout
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
            seconds = float(timeout)
            if math.isfinite(seconds) and seconds > 0:
                # A number is the deadline of an attempt (kept by every socket operation),
                # and never lengthens the 5 s connect timeout: an unreachable host should
                # fail fast whatever the deadline.
                return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))
        raise ClientConfigError(
            f"timeout must be a number of seconds > 0 or an httpx.Timeout, not {timeout!r}"
        )

    @property
    def has_api_key(self) -> bool:
        """Whether a credential was given or found in the environment (``OPENAI_API_KEY``;
        on Azure ``AZURE_OPENAI_AD_TOKEN`` or ``AZURE_OPENAI_API_KEY``)."""
        return self._api_key is not None

    def relevant_warnings(self, warnings: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
        """The warnings that hold for this provider: on Azure a model field names a
        deployment (``x-deployment``), so an unknown model id is no warning there."""
        if self.provider != "azure":
            return tuple(warnings)
        return tuple(w for w in warnings if not (w.rule == "unknown-value" and _deployment(w.key)))

    def __repr__(self) -> str:
        key = "set" if self._api_key else "missing"
        return (
            f"{type(self).__name__}(provider={self.provider!r}, base_url={self.base_url!r}, "
            f"organization={self.organization!r}, project={self.project!r}, "
            f"api_key=<{key}>, max_retries={self.max_retries})"
        )

    def endpoint(self, target: str, *, call_id: str | None = None) -> str:
        """The URL a target posts to; raise ClientConfigError for one that cannot be posted.

        ``call_id`` fills the path of ``calls.accept`` (``/realtime/calls/{call_id}/accept``).
        """
        from realtime_config.compiling._targets import TARGETS

        registered = TARGETS.get(target)
        if registered is None:
            raise ClientConfigError(
                f"unknown target {target!r}; expected one of: "
                f"{', '.join(t.name for t in TARGETS.values() if t.endpoint)}"
            )
        if registered.endpoint is None:
            posted = " or ".join(f"--target {t.name}" for t in TARGETS.values() if t.endpoint)
            raise ClientConfigError(
                f"target {target} is a WebSocket client event, not an HTTP request: "
                f"send it over the Realtime WebSocket, or submit with {posted}"
            )
        path = registered.endpoint
        if "call_id" in registered.path_parameters:
            if call_id is None:
                raise ClientConfigError(f"target {target} needs the id of the call to accept")
            if not _CALL_ID.fullmatch(call_id):
                raise ClientConfigError(
                    f"call id {call_id!r} is not an id: letters, digits, _ and - only"
                )
            path = path.replace("{call_id}", call_id)
        elif call_id is not None:
            raise ClientConfigError(f"target {target} takes no call id")
        return self.base_url + path

    def _headers(self, *, redact: bool) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        if self._api_key is not None:
            shown = REDACTED if redact else self._api_key
            bearer = self._auth_header == "Authorization"
            headers.append((self._auth_header, f"Bearer {shown}" if bearer else shown))
        headers += [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("User-Agent", f"realtime-config/{__version__}"),
        ]
        if self.organization:
            headers.append(("OpenAI-Organization", self.organization))
        if self.project:
            headers.append(("OpenAI-Project", self.project))
        return headers

    def prepare_request(
        self,
        source: Mapping[str, Any] | Preset,
        *,
        target: str | None = None,
        drop_unsupported: bool = False,
        call_id: str | None = None,
        sdp: str | None = None,
    ) -> PreparedRequest:
        """The request for ``source``, compiled but not sent (``--dry-run``); needs no key.

        ``source`` is a compiled payload, sent as is (to ``sessions`` unless ``target`` says
        otherwise), or a loaded preset, compiled for ``target`` (default: the preset's own
        target, else its dialect's: ``client_secrets`` for GA presets, ``sessions`` for beta
        ones), leaving out unsupported fields if ``drop_unsupported``. ``call_id`` is the SIP
        call that target ``calls.accept`` accepts; ``sdp`` the browser's offer that target
        ``calls`` sends with the session.
        """
        from realtime_config.compiling._compile import dumps_payload
        from realtime_config.compiling._targets import chosen_target, compile_preset_with_warnings
        from realtime_config.preset._model import Preset

        warnings: list[Diagnostic] = []
        if isinstance(source, Mapping):
            chosen = target or "sessions"
            url = self.endpoint(chosen, call_id=call_id)
            payload: Mapping[str, Any] = source
        elif isinstance(source, Preset):
            chosen = target or chosen_target(source).name
            url = self.endpoint(chosen, call_id=call_id)
            payload, warnings = compile_preset_with_warnings(
                source, chosen, drop_unsupported=drop_unsupported
            )
        else:
            raise TypeError(f"expected a compiled payload or a Preset, not {type(source).__name__}")
        body = dumps_payload(payload, compact=True).encode("utf-8")
        headers = self._headers(redact=True)
        if _takes_offer(chosen):
            if sdp is None:
                raise ClientConfigError(f"target {chosen} needs the SDP offer of the call")
            content_type, body = multipart_offer(sdp, body)
            replaced = {"Content-Type": content_type, "Accept": "application/sdp"}
            headers = [(name, replaced.get(name, value)) for name, value in headers]
        elif sdp is not None:
            raise ClientConfigError(f"target {chosen} takes no SDP offer")
        return PreparedRequest(chosen, "POST", url, tuple(headers), body, tuple(warnings))

    def _send_headers(self) -> list[tuple[str, str]]:
        """The headers to really send, key included; the check that one was given."""
        if self._api_key is None:
            where = (
                "the AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN environment variable"
                if self.provider == "azure"
                else "the OPENAI_API_KEY environment variable"
            )
            raise MissingAPIKeyError(f"no API key: set {where} (nothing was sent)")
        return self._headers(redact=False)

    def _session_request(
        self, source: Mapping[str, Any] | Preset, target: str | None, drop_unsupported: bool
    ) -> PreparedRequest:
        """The request of ``create_session``."""
        self._send_headers()  # no key: fail before compiling anything
        return self.prepare_request(source, target=target, drop_unsupported=drop_unsupported)

    def _call_request(
        self, source: Mapping[str, Any] | Preset, call_id: str, drop_unsupported: bool
    ) -> PreparedRequest:
        """The request of ``accept_call``."""
        self._send_headers()
        return self.prepare_request(
            source, target="calls.accept", drop_unsupported=drop_unsupported, call_id=call_id
        )

    def _offer_request(
        self, source: Mapping[str, Any] | Preset, sdp: str, drop_unsupported: bool
    ) -> PreparedRequest:
        """The request of ``create_call``: a mapping is the compiled session itself."""
        self._send_headers()
        return self.prepare_request(
            source, target="calls", drop_unsupported=drop_unsupported, sdp=sdp
        )

    def _wire(self, request: PreparedRequest, headers: list[tuple[str, str]]) -> httpx.Request:
        """One attempt's httpx request, built anew each time as ``httpx.Client.request`` does.

        The body is asked for uncompressed: the size cap counts the bytes held, and a small
        compressed chunk can inflate past any cap in one decode.
        """
        own = {name: value for name, value in request.headers if name in _BODY_HEADERS}
        sent = [(name, own.get(name, value)) for name, value in headers]
        return self._http.build_request(
            request.method,
            request.url,
            content=request.body,
            headers=[*sent, ("Accept-Encoding", "identity")],
            timeout=self.timeout,
        )

    # --- outcomes: each attempt ends in a result, a wait before the next, or its error -----

    def _check_length(self, response: httpx.Response) -> None:
        """Refuse an answer whose announced length is over the cap before reading any of it."""
        length = _float(response.headers.get("content-length", ""))
        if length is not None and length > self.max_response_bytes:
            raise _TooLarge(response)

    def _take(self, body: bytearray, chunk: bytes, ends: float) -> None:
        """Add a chunk to the body: over the cap, or past the deadline, the attempt ends.

        The sockets keep the deadline themselves; this check also holds a transport passed
        in (which this module did not build) to it, between chunks.
        """
        import httpx

        if len(body) + len(chunk) > self.max_response_bytes:
            raise _TooLarge(None)
        body += chunk
        if time.monotonic() > ends:
            raise httpx.ReadTimeout("the attempt's deadline has passed")

    def _outcome(
        self,
        request: PreparedRequest,
        answer: _Answer,
        retries_taken: int,
        call_ends: float,
    ) -> _Result | float:
        """What one attempt came to: the result, or the seconds to wait before the next one.

        Raises the attempt's error when it is not retried, the retries are spent, or the
        wait would end past the call's overall bound.
        """
        import httpx

        outcome: _Result | _Failure
        if isinstance(answer, _TooLarge):
            outcome = self._too_large(request, answer, retries_taken + 1)
        elif isinstance(answer, httpx.HTTPError):
            outcome = self._after_exception(request, answer, retries_taken)
        else:
            outcome = self._after_response(request, *answer, retries_taken)
        if not isinstance(outcome, _Failure):
            return outcome
        return self._retry_or_raise(outcome, retries_taken, call_ends)

    def _too_large(self, request: PreparedRequest, exc: _TooLarge, attempts: int) -> _Failure:
        response = exc.response
        status = f" {response.status_code} {_phrase(response.status_code)}" if response else ""
        text = (
            f"invalid response from {request.method} {request.url}:{status} larger than the "
            f"{self.max_response_bytes}-byte cap; read no further"
        )
        error = ResponseTooLargeError(
            self._redact(_one_line(text)),
            method=request.method,
            url=request.url,
            status_code=response.status_code if response else None,
            request_id=None,
            attempts=attempts,
        )
        return _Failure(error)

    def _redact(self, text: str) -> str:
        # A server may echo the key in an error message; so may a proxy's error page, or a
        # request id header. Keys of any length are replaced, in the forms an echo takes.
        key = self._api_key
        if key:
            for form in sorted({key, quote(key, safe=""), json.dumps(key)[1:-1]}, key=len)[::-1]:
                text = text.replace(form, REDACTED)
        return text

    def _backoff(self, retries_taken: int) -> float:
        return retry_delay(retries_taken, random.random())

    def _after_exception(
        self, request: PreparedRequest, exc: httpx.HTTPError, retries_taken: int
    ) -> _Failure:
        """Translate an httpx exception: the one place where they are caught."""
        import httpx

        method, url, attempts = request.method, request.url, retries_taken + 1
        if isinstance(exc, httpx.TimeoutException):
            phase, what = _TIMEOUT_PHASES.get(type(exc).__name__, _TIMEOUT_PHASES["ReadTimeout"])
            limit = getattr(self.timeout, phase, None)
            if phase == "connect" and limit is not None and limit < self.deadline:
                within = f"within the {limit:g} s connect timeout"
            else:
                what = "no complete response" if phase != "connect" else what
                within = f"within the {self.deadline:g} s deadline"
            text = self._redact(f"timeout from {method} {url}: {what} {within}".rstrip())
            timeout_error = APITimeoutError(
                text + _attempts(attempts), method=method, url=url, attempts=attempts
            )
            return _Failure(timeout_error, exc, self._backoff(retries_taken))

        detail = self._redact(_one_line(str(exc))) or type(exc).__name__
        if isinstance(exc, httpx.DecodingError):
            decoding_error = APIResponseError(
                f"invalid response from {method} {url}: cannot decode the body: {detail}",
                method=method,
                url=url,
                status_code=None,
                request_id=None,
                attempts=attempts,
            )
            return _Failure(decoding_error, exc)

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
        return _Failure(connection_error, exc, self._backoff(retries_taken) if retry else None)

    def _after_response(
        self, request: PreparedRequest, response: httpx.Response, body: bytes, retries_taken: int
    ) -> _Result | _Failure:
        status = response.status_code
        request_id = response.headers.get("x-request-id")
        request_id = self._redact(request_id) if request_id else None
        if 200 <= status < 300:
            return self._parse_success(request, response, body, request_id, retries_taken + 1)
        delay: float | None = None
        note = ""
        retried = _RETRY_STATUSES if self.retry_rate_limited else _RETRY_STATUSES - {429}
        if status in retried or status >= 500:
            asked = retry_after_seconds(response.headers, time.time())
            if asked is None or asked == 0:
                delay = self._backoff(retries_taken)
            elif asked <= MAX_RETRY_AFTER:
                delay = asked
            else:
                note = (
                    f"; the server asks to retry after {asked:.0f} s, longer than the "
                    f"{MAX_RETRY_AFTER:.0f} s this client waits"
                )
        error = self._status_error(
            request, response, body, request_id, note=note, attempts=retries_taken + 1
        )
        return _Failure(error, None, delay)

    def _status_error(
        self,
        request: PreparedRequest,
        response: httpx.Response,
        body: bytes,
        request_id: str | None,
        *,
        note: str,
        attempts: int,
    ) -> APIStatusError:
        status = response.status_code
        error_type, code, param, message = self._error_fields(body)
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
        if _response_of(request) == "beta_session" and (
            status == 404 or code == "beta_api_shape_disabled"
        ):
            text += f"; {_BETA_UNAVAILABLE_HINT}"
        text = self._redact(_one_line(text + note))
        request_id = self._redact(request_id) if request_id else None
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

    def _error_fields(self, content: bytes) -> tuple[str | None, str | None, str | None, str]:
        """``type, code, param, message`` of an error body, whatever its shape."""
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            preview = _one_line(content.decode("utf-8", "replace"), _PREVIEW_CHARS)
            message = f"non-JSON response body: {preview}" if preview else "empty response body"
            return None, None, None, self._redact(message)
        error = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(error, str) and error.strip():
            return None, None, None, self._redact(_one_line(error))
        if not isinstance(error, dict):
            return None, None, None, self._redact(f"unexpected error body: {_preview(error)}")

        def text(key: str) -> str | None:
            value = error.get(key)
            if value is None or isinstance(value, (dict, list)):
                return None
            return self._redact(_one_line(str(value))) or None

        message = text("message") or self._redact(f"no error message in: {_preview(error)}")
        return text("type"), text("code"), text("param"), message

    def _parse_success(
        self,
        request: PreparedRequest,
        response: httpx.Response,
        body: bytes,
        request_id: str | None,
        attempts: int,
    ) -> _Result | _Failure:
        method, url, status = request.method, request.url, response.status_code

        def invalid(problem: str) -> _Failure:
            text = f"invalid response from {method} {url}: {status} {_phrase(status)} {problem}"
            if request_id:
                text += f" (request id {request_id})"
            return _Failure(
                APIResponseError(
                    self._redact(_one_line(text)),
                    method=method,
                    url=url,
                    status_code=status,
                    request_id=request_id,
                    attempts=attempts,
                )
            )

        kind = _response_of(request)
        if kind == "empty":
            return AcceptedCall(target=request.target, url=request.url, request_id=request_id)
        if kind == "sdp_answer":
            try:
                answer = body.decode("utf-8")
            except UnicodeDecodeError:
                return invalid("with a body that is not UTF-8 text")
            if not answer.startswith("v="):
                return invalid("without an SDP answer")
            location = response.headers.get("location")
            call_id = location.rstrip("/").rpartition("/")[2] if location else None
            if call_id is not None and not _CALL_ID.fullmatch(call_id):
                return invalid("with a Location that names no call id")
            return CreatedCall(
                target=request.target, sdp=answer, call_id=call_id, request_id=request_id
            )
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            # Not chained: the decode error holds the whole body, which may hold anything.
            return invalid("with a body that is not JSON")
        if not isinstance(data, dict):
            return invalid("with JSON that is not an object")
        if kind == "beta_session":
            where = "client_secret."
            secret = data.get("client_secret")
            session = {k: v for k, v in data.items() if k != "client_secret"}
            if not isinstance(secret, dict):
                return invalid("without a client_secret object")
        else:
            where = ""
            secret = data
            maybe_session = data.get("session")
            if not isinstance(maybe_session, dict):
                return invalid("without a session object")
            session = maybe_session
        value = secret.get("value")
        if not isinstance(value, str) or not value:
            return invalid(f"without a {where}value string")
        expires_at = secret.get("expires_at")
        if isinstance(expires_at, bool) or not isinstance(expires_at, int):
            return invalid(f"without a {where}expires_at integer")
        if not 0 <= expires_at < _YEAR_10000:
            return invalid(f"with {where}expires_at {expires_at}, not a unix time")
        return CreatedSession(
            target=request.target,
            client_secret=ClientSecret(value=value, expires_at=expires_at),
            session=session,
            raw=data,
            request_id=request_id,
        )

    def _retry_or_raise(self, failure: _Failure, retries_taken: int, call_ends: float) -> float:
        """The wait before the next attempt; raise the error when there is none.

        A wait that would end past the call's overall bound (``total_timeout``) is none:
        the next attempt could not have its deadline.
        """
        if failure.delay is None or retries_taken >= self.max_retries:
            raise failure.error from failure.cause
        if time.monotonic() + failure.delay >= call_ends:
            logger.info(
                "not retrying: a wait of %.2f s would pass the %g s bound of the whole call",
                failure.delay,
                self.total_timeout,
            )
            raise failure.error from failure.cause
        logger.info(
            "retrying in %.2f s (retry %d of %d) after: %s",
            failure.delay,
            retries_taken + 1,
            self.max_retries,
            failure.error,
        )
        return failure.delay


_TIMEOUT_PHASES: Final = {
    "ConnectTimeout": ("connect", "could not connect"),
    "ReadTimeout": ("read", "no response"),
    "WriteTimeout": ("write", "could not send the body"),
    "PoolTimeout": ("pool", "no free connection"),
}


# What an OpenAI secret looks like: an API key (sk-, sk-proj-...) or a minted ephemeral key.
_SECRET_LOOKING: Final = re.compile(r"(?<![A-Za-z0-9])(?:sk-|ek_)[A-Za-z0-9_-]{16,}")


def _deployment(key: str) -> bool:
    """Whether a diagnostic's key is a model field that names an Azure deployment."""
    from realtime_config._schema import DIALECTS, field_schema

    path = tuple(key.split("."))
    return any((field_schema(path, d) or {}).get("x-deployment") for d in DIALECTS)


def _check_base_url(base_url: str, api_key: str | None) -> str:
    """The base URL without its trailing slash, or ClientConfigError.

    Its messages never show a password, a query string or a key, even when the URL is
    malformed: they go to terminals, CI logs and error trackers.
    """
    import httpx

    shown = _shown_url(base_url, api_key)
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError):
        # Not chained, and httpx's reason left out: both may quote the URL whole.
        raise ClientConfigError(f"invalid base URL {shown!r}: not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ClientConfigError(
            f"invalid base URL {shown!r}: expected http:// or https:// and a host"
        )
    if url.userinfo or "@" in _authority(base_url):
        raise ClientConfigError("the base URL must not hold a user name or password")
    for mark, part in (("?", "a query string"), ("#", "a fragment")):
        if mark in base_url:
            raise ClientConfigError(
                f"invalid base URL {shown!r}: it must not have {part} ({mark}...); "
                "endpoint paths such as /realtime/sessions are appended to it"
            )
    path = unquote(url.path)
    if (api_key and api_key in unquote(base_url)) or _SECRET_LOOKING.search(path):
        raise ClientConfigError(
            "the base URL's path holds what looks like an API key; "
            "a key is sent only in the Authorization header"
        )
    return base_url.rstrip("/")


def _authority(url: str) -> str:
    """The ``user:pass@host:port`` part of a URL, read without parsing it."""
    rest = url.split("://", 1)[1] if "://" in url else url
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def _shown_url(url: str, api_key: str | None) -> str:
    """A URL as error messages may show it: user info, query, fragment and keys left out."""
    if api_key and api_key in unquote(url):
        return REDACTED
    authority = _authority(url)
    if "@" in authority:
        url = url.replace(authority, f"{REDACTED}@{authority.rsplit('@', 1)[1]}", 1)
    for mark in "?#":
        if mark in url:
            url = url.split(mark, 1)[0] + mark + REDACTED
    return _SECRET_LOOKING.sub(REDACTED, url)


def _attempts(attempts: int) -> str:
    return f" (after {attempts} attempts)" if attempts > 1 else ""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _preview(value: object) -> str:
    return _one_line(json.dumps(value, ensure_ascii=False), _PREVIEW_CHARS)


class RealtimeClient(_ClientBase["httpx.Client", "httpx.BaseTransport", Callable[[float], object]]):
    """Mints ephemeral client secrets and places calls from compiled payloads or presets.

    Settings not given are read from ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
    ``OPENAI_ORG_ID`` and ``OPENAI_PROJECT_ID``. ``provider="azure"`` (the default when
    ``AZURE_OPENAI_ENDPOINT`` is set and no OpenAI base URL is) posts to
    ``{AZURE_OPENAI_ENDPOINT}/openai/v1`` with the key in an ``api-key`` header
    (``AZURE_OPENAI_API_KEY``), or a Microsoft Entra token as a bearer (``azure_ad_token``,
    ``AZURE_OPENAI_AD_TOKEN``, which wins when neither is given). ``timeout`` is the deadline
    of each attempt in seconds, connect to last byte (connecting itself capped at 5 s), or an
    ``httpx.Timeout`` (its longest phase is the deadline); the default is 30 s.
    ``total_timeout`` bounds the whole call, retries and waits included (default: timeout x
    (max_retries + 1)); ``max_response_bytes`` caps an answer (default 1 MiB, never held
    whole); ``retry_rate_limited=False`` raises a 429 at once instead of waiting. Pass
    ``http_client`` or ``transport`` for proxies or tests; a client passed in is used as is
    (its timeout is overridden per request, the deadline checked between chunks only) and
    never closed here. ``sleep`` waits between attempts (default ``time.sleep``).
    """

    def _new_http(
        self, transport: httpx.BaseTransport | None, verify: ssl.SSLContext | bool
    ) -> httpx.Client:
        import httpx

        if transport is None:
            from realtime_config.client._deadline import deadline_transport

            transport = deadline_transport(verify)
        return httpx.Client(transport=transport, timeout=self.timeout, verify=verify)

    @staticmethod
    def _default_sleep() -> Callable[[float], object]:
        return time.sleep

    def __enter__(self) -> RealtimeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections, unless the httpx client was passed in."""
        if self._owns_http:
            self._http.close()

    def create_session(
        self,
        source: Mapping[str, Any] | Preset,
        *,
        target: str | None = None,
        drop_unsupported: bool = False,
    ) -> CreatedSession:
        """Post ``source`` to the target's endpoint and return the created session.

        ``source`` is a compiled payload (a mapping, sent as is, to ``sessions`` unless
        ``target`` says otherwise) or a loaded preset (compiled as ``prepare_request``
        does). Raises an APIError subclass once the retries are spent.
        """
        return _created(self.send(self._session_request(source, target, drop_unsupported)))

    def accept_call(
        self, source: Mapping[str, Any] | Preset, *, call_id: str, drop_unsupported: bool = False
    ) -> AcceptedCall:
        """Accept the incoming SIP call ``call_id`` with ``source``'s session (``calls.accept``)."""
        return _accepted(self.send(self._call_request(source, call_id, drop_unsupported)))

    def create_call(
        self, source: Mapping[str, Any] | Preset, sdp: str, *, drop_unsupported: bool = False
    ) -> CreatedCall:
        """Place a WebRTC call for the SDP offer ``sdp`` with ``source``'s session (``calls``).

        Returns the SDP answer and the call id; the API key stays here, never in a browser.
        """
        return _placed(self.send(self._offer_request(source, sdp, drop_unsupported)))

    def send(self, request: PreparedRequest) -> _Result:
        """Send a prepared request, with retries, and parse its answer."""
        headers, retries_taken = self._send_headers(), 0
        call_ends = time.monotonic() + self.total_timeout
        while True:
            answer = self._attempt(
                request, headers, min(time.monotonic() + self.deadline, call_ends)
            )
            outcome = self._outcome(request, answer, retries_taken, call_ends)
            if not isinstance(outcome, float):
                return outcome
            self._sleep(outcome)
            retries_taken += 1

    def _attempt(
        self, request: PreparedRequest, headers: list[tuple[str, str]], ends: float
    ) -> _Answer:
        """One attempt, its socket operations held to ``ends``; the body read up to the cap."""
        import httpx

        from realtime_config.client._deadline import DEADLINE

        token = DEADLINE.set(ends)
        try:
            response = self._http.send(self._wire(request, headers), stream=True)
            try:
                body = bytearray()
                self._check_length(response)
                for chunk in response.iter_bytes():
                    self._take(body, chunk, ends)
                return response, bytes(body)
            finally:
                response.close()
        except (httpx.HTTPError, _TooLarge) as exc:
            return exc
        finally:
            DEADLINE.reset(token)


class AsyncRealtimeClient(
    _ClientBase[
        "httpx.AsyncClient", "httpx.AsyncBaseTransport", Callable[[float], Awaitable[object]]
    ]
):
    """The asyncio twin of RealtimeClient: same settings, same retries, same errors.

    ``sleep`` is awaited between attempts (default ``asyncio.sleep``).
    """

    def _new_http(
        self, transport: httpx.AsyncBaseTransport | None, verify: ssl.SSLContext | bool
    ) -> httpx.AsyncClient:
        import httpx

        if transport is None:
            from realtime_config.client._deadline import async_deadline_transport

            transport = async_deadline_transport(verify)
        return httpx.AsyncClient(transport=transport, timeout=self.timeout, verify=verify)

    @staticmethod
    def _default_sleep() -> Callable[[float], Awaitable[object]]:
        import asyncio

        return asyncio.sleep

    async def __aenter__(self) -> AsyncRealtimeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections, unless the httpx client was passed in."""
        if self._owns_http:
            await self._http.aclose()

    async def create_session(
        self,
        source: Mapping[str, Any] | Preset,
        *,
        target: str | None = None,
        drop_unsupported: bool = False,
    ) -> CreatedSession:
        """Post ``source`` to the target's endpoint and return the created session."""
        return _created(await self.send(self._session_request(source, target, drop_unsupported)))

    async def accept_call(
        self, source: Mapping[str, Any] | Preset, *, call_id: str, drop_unsupported: bool = False
    ) -> AcceptedCall:
        """Accept the incoming SIP call ``call_id`` with ``source``'s session (``calls.accept``)."""
        return _accepted(await self.send(self._call_request(source, call_id, drop_unsupported)))

    async def create_call(
        self, source: Mapping[str, Any] | Preset, sdp: str, *, drop_unsupported: bool = False
    ) -> CreatedCall:
        """Place a WebRTC call for the SDP offer ``sdp`` with ``source``'s session (``calls``)."""
        return _placed(await self.send(self._offer_request(source, sdp, drop_unsupported)))

    async def send(self, request: PreparedRequest) -> _Result:
        """Send a prepared request, with retries, and parse its answer."""
        headers, retries_taken = self._send_headers(), 0
        call_ends = time.monotonic() + self.total_timeout
        while True:
            ends = min(time.monotonic() + self.deadline, call_ends)
            answer = await self._attempt(request, headers, ends)
            outcome = self._outcome(request, answer, retries_taken, call_ends)
            if not isinstance(outcome, float):
                return outcome
            await self._sleep(outcome)
            retries_taken += 1

    async def _attempt(
        self, request: PreparedRequest, headers: list[tuple[str, str]], ends: float
    ) -> _Answer:
        """One attempt, its socket operations held to ``ends``; the body read up to the cap."""
        import httpx

        from realtime_config.client._deadline import DEADLINE

        token = DEADLINE.set(ends)
        try:
            response = await self._http.send(self._wire(request, headers), stream=True)
            try:
                body = bytearray()
                self._check_length(response)
                async for chunk in response.aiter_bytes():
                    self._take(body, chunk, ends)
                return response, bytes(body)
            finally:
                await response.aclose()
        except (httpx.HTTPError, _TooLarge) as exc:
            return exc
        finally:
            DEADLINE.reset(token)
