"""URLs and redaction: the base URL's checks, a target's URL, and keeping keys out of text.

Messages built here go to terminals, CI logs and error trackers: they never show a password,
a query string or a key, even when a URL is malformed.
"""

from __future__ import annotations

import json
import re
from typing import Final
from urllib.parse import quote, unquote

from realtime_config._errors import ClientConfigError

REDACTED: Final = "[redacted]"
"""What stands in for the API key wherever a request is shown (``--dry-run``)."""

CALL_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,200}")
"""What a call id may be: it goes into the request path, so nothing that could change it."""

# What an OpenAI secret looks like: an API key (sk-, sk-proj-...) or a minted ephemeral key.
_SECRET_LOOKING: Final = re.compile(r"(?<![A-Za-z0-9])(?:sk-|ek_)[A-Za-z0-9_-]{16,}")


def check_base_url(base_url: str, api_key: str | None) -> str:
    """The base URL without its trailing slash, or ClientConfigError."""
    import httpx

    shown = shown_url(base_url, api_key)
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


def shown_url(url: str, api_key: str | None) -> str:
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


def redact(text: str, key: str | None) -> str:
    """``text`` with the key replaced, in every form an echo of it takes."""
    # A server may echo the key in an error message; so may a proxy's error page, or a
    # request id header. Keys of any length are replaced.
    if key:
        for form in sorted({key, quote(key, safe=""), json.dumps(key)[1:-1]}, key=len)[::-1]:
            text = text.replace(form, REDACTED)
    return text


def target_url(base_url: str, target: str, *, call_id: str | None = None) -> str:
    """The URL a target posts to, its path parameters filled in.

    UnknownTargetError for a name the registry lacks; ClientConfigError for a target that
    is no HTTP request (a WebSocket event), or a path parameter missing, extra or malformed.
    """
    from realtime_config.compiling._targets import TARGETS, get_target

    registered = get_target(target)
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
        if not CALL_ID.fullmatch(call_id):
            raise ClientConfigError(
                f"call id {call_id!r} is not an id: letters, digits, _ and - only"
            )
        path = path.replace("{call_id}", call_id)
    elif call_id is not None:
        raise ClientConfigError(f"target {target} takes no call id")
    return base_url + path
