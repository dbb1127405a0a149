"""What the client sends and what it gives back: the prepared request and each kind of result.

Plain frozen records with no HTTP in them: a prepared request is safe to print (the key is
redacted), and a result's secret is left out of its repr, so that logging one logs no key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeAlias, TypeVar

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import ClientConfigError


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
    response JSON as parsed, ``content`` its bytes exactly as received (empty when the
    session was not read from an answer).
    """

    target: str
    client_secret: ClientSecret
    session: dict[str, Any] = field(repr=False)
    raw: dict[str, Any] = field(repr=False)
    request_id: str | None = None
    content: bytes = field(default=b"", repr=False, compare=False)

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


Result: TypeAlias = "CreatedSession | AcceptedCall | CreatedCall"
"""What a successful request gives, by the target's response kind."""


_Kind = TypeVar("_Kind", CreatedSession, AcceptedCall, CreatedCall)


def result_of(result: Result, kind: type[_Kind]) -> _Kind:
    """``result`` when it is of ``kind``; ClientConfigError when the target answers another."""
    if not isinstance(result, kind):
        what = {CreatedSession: "creates no session", AcceptedCall: "accepts no call"}
        raise ClientConfigError(f"target {result.target} {what.get(kind, 'places no WebRTC call')}")
    return result


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
