"""The exception family: every error realtime-config raises derives from RealtimeConfigError.

Every class lives in this module, and every one is exported by ``realtime_config``:

* RealtimeConfigError ........ the base: catch it to catch every error of the library
  * PresetError .............. a preset cannot be loaded, validated or compiled (diagnostics)
  * UnknownTargetError ....... a target name the target registry does not have (a ValueError)
  * UnknownFieldError ........ ``explain`` asked about a field the schema does not have
  * PresetNameError .......... the name given to ``new`` is not a simple file name (a ValueError)
  * StarterError ............. the base of ``new --from`` cannot be extended by the new preset
  * OutputFileError .......... an output file cannot be written, or must not be overwritten
  * CommitError .............. a write of several files failed or was interrupted: none changed
  * SnapshotError ............ the snapshots cannot be laid out (no presets, or a shared file)
  * ServeConfigError ......... ``create_app`` cannot start as configured (a ValueError)
  * ClientConfigError ........ a client cannot be used as configured, before any request
    * MissingAPIKeyError ..... no API key given and ``OPENAI_API_KEY`` unset
  * APIError ................. a request to the API failed (one line, never the key)
    * APIConnectionError ..... no HTTP response arrived: the connection failed or dropped
      * APITimeoutError ...... connecting, sending or waiting took too long
    * APIResponseError ....... a success whose body is not the documented JSON shape
      * ResponseTooLargeError  an answer larger than the client's size cap (never held whole)
    * APIStatusError ......... an error status (4xx, 5xx or an unexpected 3xx)
      * BadRequestError ...... 400 Bad Request or 422 Unprocessable Entity
      * AuthenticationError .. 401 Unauthorized
      * PermissionDeniedError  403 Forbidden
      * NotFoundError ........ 404 Not Found
      * ConflictError ........ 409 Conflict, once the retries are spent
      * RateLimitError ....... 429 Too Many Requests, once the retries are spent
      * ServerError .......... a 5xx status, once the retries are spent

This module is a leaf: it imports only the diagnostics, so that catching an error never
costs the import of the stage that raises it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from realtime_config._diagnostics import Diagnostic


class RealtimeConfigError(Exception):
    """Base class of every error raised by realtime-config."""


class PresetError(RealtimeConfigError):
    """Raised when a preset cannot be loaded, validated or compiled.

    Carries every problem found as located diagnostics; ``str()`` prints them one per line.
    """

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @property
    def file(self) -> str:
        return self.diagnostics[0].file if self.diagnostics else ""

    @property
    def line(self) -> int:
        return self.diagnostics[0].line if self.diagnostics else 0

    @property
    def column(self) -> int:
        return self.diagnostics[0].column if self.diagnostics else 0

    @property
    def key(self) -> str:
        return self.diagnostics[0].key if self.diagnostics else ""


class UnknownTargetError(RealtimeConfigError, ValueError):
    """Raised when a compile or submit target is not one of the registry's targets."""

    def __init__(self, target: str, known: Sequence[str]) -> None:
        self.target = target
        self.known = tuple(known)
        super().__init__(f"unknown target {target!r}; expected one of {', '.join(known)}")


class UnknownFieldError(RealtimeConfigError):
    """Raised when ``explain`` is asked about a field the schema does not have."""

    def __init__(self, name: str, suggestion: str | None) -> None:
        self.name = name
        self.suggestion = suggestion
        hint = f"; did you mean `{suggestion}`?" if suggestion else ""
        super().__init__(f"unknown field `{name}`{hint}")


class PresetNameError(RealtimeConfigError, ValueError):
    """Raised when the name given to ``new`` is not a simple file name."""


class StarterError(RealtimeConfigError):
    """Raised when the base preset of ``new --from`` cannot be extended by the new preset."""


# --- Errors of writing files (_files, _commit, authoring._snapshots) --------------------------

OutputProblem = Literal[
    "exists",
    "input",
    "directory",
    "not-regular",
    "no-folder",
    "folder",
    "unwritable",
    "outside",
    "hard-link",
    "read-only",
    "journal",
]

_OUTPUT_MESSAGES: dict[OutputProblem, str] = {
    "exists": "already exists",
    "input": "is {detail}; refusing to overwrite it",
    "directory": "is a directory",
    "not-regular": "is a {detail}, not a regular file; refusing to write to it",
    "no-folder": "cannot write: folder {detail} does not exist",
    "folder": "cannot create its folder: {detail}",
    "unwritable": "cannot write: {detail}",
    "outside": "leads outside the project root through {detail}; refusing to write through it",
    "hard-link": "has {detail} names (hard links), and another may lie outside the project "
    "root; refusing to write it",
    "read-only": "is read-only; refusing to replace it",
    "journal": "is the journal of an interrupted write, but {detail}; check the files it "
    "names, then remove it",
}


class OutputFileError(RealtimeConfigError):
    """Raised when an output file cannot be written, or would overwrite a file it must not.

    ``reason`` says which: ``exists`` (and overwriting was not allowed), ``input`` (a file
    the output is made from), ``directory``, ``not-regular`` (a device, FIFO or socket),
    ``no-folder``, ``folder`` (its folder cannot be made), ``unwritable`` (the system
    refused), ``outside`` (a file the command found leads out of the project root through a
    symlink), ``hard-link`` (a file the command found has other names), ``read-only`` (its
    mode forbids writing, as a shell's ``>`` would refuse) or ``journal`` (the journal an
    interrupted write left cannot be used); ``detail`` holds the specifics.
    The message states facts only: a command line adds its remedy (such as a ``--force``
    flag).
    """

    def __init__(self, path: Path, reason: OutputProblem, detail: str = "") -> None:
        self.path = path
        self.reason: OutputProblem = reason
        self.detail = detail
        super().__init__(f"{path}: {_OUTPUT_MESSAGES[reason].format(detail=detail)}")


class CommitError(RealtimeConfigError):
    """Raised when a write of several files (``migrate --in-place``, ``compile --out-dir``)
    fails or is interrupted: every file was put back as it was before the write began.

    ``cause`` is the OutputFileError of the file that could not be written, or None when a
    signal interrupted the write (``signum`` then names it). With ``repaired`` false the
    originals could not all be put back: the next run of the command restores them.
    """

    def __init__(
        self,
        cause: OutputFileError | None,
        *,
        signum: int | None = None,
        repaired: bool = True,
        detail: str = "",
    ) -> None:
        self.cause = cause
        self.signum = signum
        self.repaired = repaired
        if cause is not None:
            what = str(cause)
        else:
            import signal

            name = signal.Signals(signum).name if signum is not None else "a signal"
            what = f"interrupted by {name}"
        if repaired:
            outcome = "nothing was changed"
        else:
            outcome = (
                f"the originals could not all be put back ({detail}); the next run restores them"
            )
        super().__init__(f"{what}; {outcome}")


class SnapshotError(RealtimeConfigError):
    """Raised when the snapshots cannot be laid out: no presets, or two share a snapshot file."""


# --- Errors of the HTTP client (realtime_config.client) ------------------------------------------


class ClientConfigError(RealtimeConfigError, ValueError):
    """Raised before any request when the client cannot be used as configured.

    For example a base URL that is not http(s), a timeout that is not positive, a header
    value HTTP cannot carry, or a target that cannot be submitted (``session.update``).
    """


class MissingAPIKeyError(ClientConfigError):
    """Raised before any request when no API key was given and ``OPENAI_API_KEY`` is unset."""


class ServeConfigError(RealtimeConfigError, ValueError):
    """Raised by ``create_app`` when the service cannot start as configured.

    For example no preset to serve, or an allowed origin that is not ``scheme://host[:port]``.
    Problems of a preset itself are PresetErrors.
    """


class APIError(RealtimeConfigError):
    """Base class of the errors raised when a request to the API fails.

    ``method`` and ``url`` name the request; ``attempts`` counts the tries made, retries
    included. ``str()`` is always one line and never contains the API key.
    """

    def __init__(self, text: str, *, method: str, url: str, attempts: int = 1) -> None:
        super().__init__(text)
        self.method = method
        self.url = url
        self.attempts = attempts


class APIConnectionError(APIError):
    """Raised when no HTTP response arrived: the connection failed or was dropped."""


class APITimeoutError(APIConnectionError):
    """Raised when connecting, sending or waiting for the response took too long."""


class APIResponseError(APIError):
    """Raised when a successful response's body is not the documented JSON shape.

    A 200 that is not JSON, or whose JSON lacks the client secret, is this error; so is a
    body that cannot be decoded (a broken gzip stream), whose ``status_code`` is None.
    """

    def __init__(
        self,
        text: str,
        *,
        method: str,
        url: str,
        status_code: int | None,
        request_id: str | None,
        attempts: int = 1,
    ) -> None:
        super().__init__(text, method=method, url=url, attempts=attempts)
        self.status_code = status_code
        self.request_id = request_id


class ResponseTooLargeError(APIResponseError):
    """Raised when an answer is larger than the client's ``max_response_bytes``.

    The body is read no further than the cap, so no upstream can grow the caller's memory.
    """


class APIStatusError(APIError):
    """Raised when the API answers with an error status (4xx or 5xx, or an unexpected 3xx).

    Carries the status and the fields of the API's error body: ``type``, ``code``,
    ``param`` and ``message`` (``None`` when the body does not say), and the request id
    from the ``x-request-id`` header. ``retry_after`` is the wait in seconds that the
    response asked for (``Retry-After`` or ``retry-after-ms``), None when it did not.
    """

    def __init__(
        self,
        text: str,
        *,
        method: str,
        url: str,
        status_code: int,
        type: str | None,
        code: str | None,
        param: str | None,
        message: str,
        request_id: str | None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(text, method=method, url=url, attempts=attempts)
        self.status_code = status_code
        self.type = type
        self.code = code
        self.param = param
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """Raised on 400 Bad Request and 422 Unprocessable Entity: the API rejected the body."""


class AuthenticationError(APIStatusError):
    """Raised on 401 Unauthorized: the API key is wrong, revoked or missing."""


class PermissionDeniedError(APIStatusError):
    """Raised on 403 Forbidden: the key may not use this model, project or region."""


class NotFoundError(APIStatusError):
    """Raised on 404 Not Found, e.g. a server without the beta ``/realtime/sessions``."""


class ConflictError(APIStatusError):
    """Raised on 409 Conflict, once the retries are spent."""


class RateLimitError(APIStatusError):
    """Raised on 429 Too Many Requests, once the retries are spent."""


class ServerError(APIStatusError):
    """Raised on a 5xx status, once the retries are spent."""


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The APIStatusError subclass for an HTTP error status."""
    if status_code in (400, 422):
        return BadRequestError
    if status_code >= 500:
        return ServerError
    return {
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        409: ConflictError,
        429: RateLimitError,
    }.get(status_code, APIStatusError)
