"""Requests: the headers a client sends, a body prepared for its target, and each attempt's
httpx request.

A prepared request shows the key redacted (``--dry-run`` prints it); the real headers are
made only to send, and only when a key was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from realtime_config._errors import ClientConfigError, MissingAPIKeyError
from realtime_config._version import __version__
from realtime_config.client._models import PreparedRequest, multipart_offer
from realtime_config.client._urls import REDACTED

if TYPE_CHECKING:
    import httpx

    from realtime_config._diagnostics import Diagnostic
    from realtime_config.client._config import Settings

_BODY_HEADERS = frozenset({"Content-Type", "Accept"})
"""The headers a prepared request decides (a multipart offer); the client decides the rest."""


def request_headers(settings: Settings, *, redact: bool) -> list[tuple[str, str]]:
    """The headers of every request; the key shown as ``[redacted]`` when ``redact``."""
    headers: list[tuple[str, str]] = []
    if settings.api_key is not None:
        shown = REDACTED if redact else settings.api_key
        bearer = settings.auth_header == "Authorization"
        headers.append((settings.auth_header, f"Bearer {shown}" if bearer else shown))
    headers += [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
        ("User-Agent", f"realtime-config/{__version__}"),
    ]
    if settings.organization:
        headers.append(("OpenAI-Organization", settings.organization))
    if settings.project:
        headers.append(("OpenAI-Project", settings.project))
    return headers


def send_headers(settings: Settings) -> list[tuple[str, str]]:
    """The headers to really send, key included; MissingAPIKeyError when none was given."""
    if settings.api_key is None:
        where = (
            "the AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN environment variable"
            if settings.provider == "azure"
            else "the OPENAI_API_KEY environment variable"
        )
        raise MissingAPIKeyError(f"no API key: set {where} (nothing was sent)")
    return request_headers(settings, redact=False)


def prepared(
    settings: Settings,
    target: str,
    url: str,
    payload: Mapping[str, Any],
    *,
    sdp: str | None,
    warnings: tuple[Diagnostic, ...] = (),
) -> PreparedRequest:
    """The request posting ``payload`` to ``target``'s ``url``: JSON, or with the SDP offer a
    multipart form when the target answers with an SDP answer."""
    from realtime_config.compiling._compile import dumps_payload
    from realtime_config.compiling._targets import get_target

    body = dumps_payload(payload, compact=True).encode("utf-8")
    headers = request_headers(settings, redact=True)
    if get_target(target).response == "sdp_answer":
        if sdp is None:
            raise ClientConfigError(f"target {target} needs the SDP offer of the call")
        content_type, body = multipart_offer(sdp, body)
        replaced = {"Content-Type": content_type, "Accept": "application/sdp"}
        headers = [(name, replaced.get(name, value)) for name, value in headers]
    elif sdp is not None:
        raise ClientConfigError(f"target {target} takes no SDP offer")
    return PreparedRequest(target, "POST", url, tuple(headers), body, warnings)


def wire(
    http: httpx.Client | httpx.AsyncClient,
    request: PreparedRequest,
    headers: list[tuple[str, str]],
    timeout: httpx.Timeout,
) -> httpx.Request:
    """One attempt's httpx request, built anew each time as ``httpx.Client.request`` does.

    The body is asked for uncompressed: the size cap counts the bytes held, and a small
    compressed chunk can inflate past any cap in one decode.
    """
    own = {name: value for name, value in request.headers if name in _BODY_HEADERS}
    sent = [(name, own.get(name, value)) for name, value in headers]
    return http.build_request(
        request.method,
        request.url,
        content=request.body,
        headers=[*sent, ("Accept-Encoding", "identity")],
        timeout=timeout,
    )
