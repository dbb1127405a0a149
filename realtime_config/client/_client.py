"""The sync and async HTTP clients, over one base that holds what they share.

Split as httpx splits its client: the settings and their checks live in ``_config``, URLs and
redaction in ``_urls``, requests and results in ``_models``, the reading of answers and the
errors in ``_responses``, the retry policy in ``_retry``, the deadline of an attempt in
``_deadline``. ``BaseClient`` prepares requests (compiling a preset for a named target) and
decides each attempt's outcome; a shell adds only what blocks or awaits: its httpx client,
the call on the wire, its sleep and its way of closing.

Entry points say what they send, never guessing from the argument's type: ``create_secret``
(a preset, for its default target or a named minting one), ``accept_call`` and
``create_call`` (a preset's session for a SIP call or a WebRTC offer), ``send_payload`` (a
compiled body, to a named target). httpx, the compiler and the loader are imported only when
a client is built or a request is made, so that ``import realtime_config`` stays cheap.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from realtime_config._errors import ClientConfigError
from realtime_config.client._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    PROVIDERS,
    checked_settings,
    provider_warnings,
    verify,
)
from realtime_config.client._models import (
    AcceptedCall,
    ClientSecret,
    CreatedCall,
    CreatedSession,
    PreparedRequest,
    Result,
    result_of,
)
from realtime_config.client._requests import prepared, send_headers, wire
from realtime_config.client._responses import Answer, _TooLarge, check_length, outcome_of, take
from realtime_config.client._retry import (
    MAX_RETRY_AFTER,
    Failure,
    next_wait,
    retry_after_seconds,
    retry_delay,
)
from realtime_config.client._urls import REDACTED, target_url

if TYPE_CHECKING:
    import ssl

    import httpx

    from realtime_config._diagnostics import Diagnostic
    from realtime_config.client._config import Settings
    from realtime_config.preset._model import Preset

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_RETRY_AFTER",
    "PROVIDERS",
    "REDACTED",
    "AcceptedCall",
    "AsyncRealtimeClient",
    "BaseClient",
    "ClientSecret",
    "CreatedCall",
    "CreatedSession",
    "PreparedRequest",
    "RealtimeClient",
    "retry_after_seconds",
    "retry_delay",
]

_NEEDS_TARGET = "a compiled payload goes to a named target: pass target=, such as client_secrets"
"""Nothing is sent to an endpoint the caller did not name (DESIGN 8)."""

_Http = TypeVar("_Http", bound="httpx.Client | httpx.AsyncClient")
_Transport = TypeVar("_Transport", bound="httpx.BaseTransport | httpx.AsyncBaseTransport")
_Sleep = TypeVar("_Sleep", bound=Callable[[float], object])


class BaseClient(abc.ABC, Generic[_Http, _Transport, _Sleep]):
    """What both clients share: settings, the preparation of requests, each attempt's outcome.

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
        self._settings: Settings = checked_settings(
            api_key=api_key,
            base_url=base_url,
            organization=organization,
            project=project,
            timeout=timeout,
            max_retries=max_retries,
            total_timeout=total_timeout,
            max_response_bytes=max_response_bytes,
            retry_rate_limited=retry_rate_limited,
            provider=provider,
            azure_ad_token=azure_ad_token,
        )
        if http_client is not None and transport is not None:
            raise ClientConfigError("pass http_client or transport, not both")
        self._owns_http = http_client is None
        if http_client is None:
            http_client = self._new_http(transport, verify() if transport is None else True)
        self._http: _Http = http_client
        self._sleep: _Sleep = sleep if sleep is not None else self._default_sleep()

    @abc.abstractmethod
    def _new_http(self, transport: _Transport | None, verify: ssl.SSLContext | bool) -> _Http:
        """The httpx client made when none is passed in, closed with this client."""

    @staticmethod
    @abc.abstractmethod
    def _default_sleep() -> _Sleep:
        """How to wait between attempts when no ``sleep`` is passed in."""

    # --- settings, as checked when the client was built ----------------------------------

    @property
    def provider(self) -> str:
        """``openai`` or ``azure``."""
        return self._settings.provider

    @property
    def base_url(self) -> str:
        """The URL the targets' endpoint paths are appended to, without a trailing slash."""
        return self._settings.base_url

    @property
    def organization(self) -> str | None:
        return self._settings.organization

    @property
    def project(self) -> str | None:
        return self._settings.project

    @property
    def max_retries(self) -> int:
        return self._settings.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._settings.timeout

    @property
    def deadline(self) -> float:
        """Seconds each attempt may take, connect to last byte."""
        return self._settings.deadline

    @property
    def total_timeout(self) -> float:
        """Seconds the whole call may take, every attempt and every wait between them."""
        return self._settings.total_timeout

    @property
    def max_response_bytes(self) -> int:
        return self._settings.max_response_bytes

    @property
    def retry_rate_limited(self) -> bool:
        return self._settings.retry_rate_limited

    @property
    def has_api_key(self) -> bool:
        """Whether a credential was given or found in the environment (``OPENAI_API_KEY``;
        on Azure ``AZURE_OPENAI_AD_TOKEN`` or ``AZURE_OPENAI_API_KEY``)."""
        return self._settings.api_key is not None

    def relevant_warnings(self, warnings: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
        """The warnings that hold for this provider: on Azure a model field names a
        deployment (``x-deployment``), so an unknown model id is no warning there."""
        return provider_warnings(self.provider, warnings)

    def __repr__(self) -> str:
        key = "set" if self.has_api_key else "missing"
        return (
            f"{type(self).__name__}(provider={self.provider!r}, base_url={self.base_url!r}, "
            f"organization={self.organization!r}, project={self.project!r}, "
            f"api_key=<{key}>, max_retries={self.max_retries})"
        )

    def endpoint(self, target: str, *, call_id: str | None = None) -> str:
        """The URL a target posts to; UnknownTargetError for a name the registry lacks,
        ClientConfigError for a target that cannot be posted.

        ``call_id`` fills the path of ``calls.accept`` (``/realtime/calls/{call_id}/accept``).
        """
        return target_url(self.base_url, target, call_id=call_id)

    # --- requests: prepared (and shown by --dry-run) before anything is sent -------------

    def prepare_preset(
        self,
        preset: Preset,
        *,
        target: str | None = None,
        drop_unsupported: bool = False,
        call_id: str | None = None,
        sdp: str | None = None,
    ) -> PreparedRequest:
        """The request for a loaded preset, compiled but not sent (``--dry-run``); needs no key.

        Compiled for ``target`` (default: the preset's own target, else its dialect's:
        ``client_secrets`` for GA presets, ``sessions`` for beta ones), leaving out
        unsupported fields if ``drop_unsupported``. ``call_id`` is the SIP call that
        ``calls.accept`` accepts; ``sdp`` the browser's offer that ``calls`` sends with it.
        """
        from realtime_config.compiling._targets import chosen_target, compile_preset_with_warnings

        chosen = chosen_target(preset, target).name
        url = self.endpoint(chosen, call_id=call_id)
        payload, warnings = compile_preset_with_warnings(
            preset, chosen, drop_unsupported=drop_unsupported
        )
        return prepared(self._settings, chosen, url, payload, sdp=sdp, warnings=tuple(warnings))

    def prepare_payload(
        self,
        body: Mapping[str, Any],
        *,
        target: str,
        call_id: str | None = None,
        sdp: str | None = None,
    ) -> PreparedRequest:
        """The request that posts a compiled body, as it is, to the named ``target``."""
        if not isinstance(target, str):
            raise ClientConfigError(_NEEDS_TARGET)
        url = self.endpoint(target, call_id=call_id)
        return prepared(self._settings, target, url, body, sdp=sdp)

    def prepare_request(
        self,
        source: Mapping[str, Any] | Preset,
        *,
        target: str | None = None,
        drop_unsupported: bool = False,
        call_id: str | None = None,
        sdp: str | None = None,
    ) -> PreparedRequest:
        """``prepare_preset`` for a Preset, ``prepare_payload`` for a compiled body.

        Kept for the callers of 0.1; a compiled body now needs a named ``target``.
        """
        if isinstance(source, Mapping):
            if target is None:
                raise ClientConfigError(_NEEDS_TARGET)
            return self.prepare_payload(source, target=target, call_id=call_id, sdp=sdp)
        return self.prepare_preset(
            source, target=target, drop_unsupported=drop_unsupported, call_id=call_id, sdp=sdp
        )

    def _send_headers(self) -> list[tuple[str, str]]:
        """The headers to really send, key included; the check that one was given."""
        return send_headers(self._settings)

    def _secret_request(
        self, preset: Preset, target: str | None, drop_unsupported: bool
    ) -> PreparedRequest:
        """The request of ``create_secret``: the target named, else the preset's, must mint."""
        from realtime_config.compiling._targets import chosen_target, minting_targets

        self._send_headers()  # no key: fail before compiling anything
        chosen = chosen_target(preset, target)
        if not chosen.mints:
            names = ", ".join(t.name for t in minting_targets())
            raise ClientConfigError(
                f"target {chosen.name} mints no client secret; expected one of: {names}"
            )
        return self.prepare_preset(preset, target=chosen.name, drop_unsupported=drop_unsupported)

    def _call_request(
        self, preset: Preset, call_id: str, drop_unsupported: bool
    ) -> PreparedRequest:
        """The request of ``accept_call``: the target whose path takes the call id."""
        from realtime_config.compiling._targets import target_taking

        self._send_headers()
        target = target_taking("call_id").name
        return self.prepare_preset(
            preset, target=target, drop_unsupported=drop_unsupported, call_id=call_id
        )

    def _offer_request(self, preset: Preset, sdp: str, drop_unsupported: bool) -> PreparedRequest:
        """The request of ``create_call``: the target answered with an SDP answer."""
        from realtime_config.compiling._targets import target_answering

        self._send_headers()
        target = target_answering("sdp_answer").name
        return self.prepare_preset(
            preset, target=target, drop_unsupported=drop_unsupported, sdp=sdp
        )

    def _payload_request(
        self, body: Mapping[str, Any], target: str, call_id: str | None, sdp: str | None
    ) -> PreparedRequest:
        """The request of ``send_payload``."""
        self._send_headers()
        return self.prepare_payload(body, target=target, call_id=call_id, sdp=sdp)

    def _legacy_request(
        self, source: Mapping[str, Any] | Preset, target: str | None, drop_unsupported: bool
    ) -> PreparedRequest:
        """The request of ``create_session``, kept from 0.1."""
        self._send_headers()
        return self.prepare_request(source, target=target, drop_unsupported=drop_unsupported)

    # --- each attempt ends in a result, a wait before the next, or its error -------------

    def _wire(self, request: PreparedRequest, headers: list[tuple[str, str]]) -> httpx.Request:
        return wire(self._http, request, headers, self.timeout)

    def _check_length(self, response: httpx.Response) -> None:
        check_length(response, self._settings.max_response_bytes)

    def _take(self, body: bytearray, chunk: bytes, ends: float) -> None:
        take(body, chunk, self._settings.max_response_bytes, ends)

    def _outcome(
        self, request: PreparedRequest, answer: Answer, retries_taken: int, call_ends: float
    ) -> Result | float:
        """What one attempt came to: the result, or the seconds to wait before the next one.

        Raises the attempt's error when it is not retried, the retries are spent, or the
        wait would end past the call's overall bound.
        """
        outcome = outcome_of(request, answer, retries_taken, self._settings)
        if not isinstance(outcome, Failure):
            return outcome
        settings = self._settings
        return next_wait(
            outcome, retries_taken, settings.max_retries, call_ends, settings.total_timeout
        )


class RealtimeClient(BaseClient["httpx.Client", "httpx.BaseTransport", Callable[[float], object]]):
    """Mints ephemeral client secrets and places calls for presets or compiled bodies.

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

    def create_secret(
        self, preset: Preset, target: str | None = None, *, drop_unsupported: bool = False
    ) -> CreatedSession:
        """Mint a client secret for ``preset``: its default target, or the minting ``target``.

        Raises an APIError subclass once the retries are spent.
        """
        return result_of(
            self.send(self._secret_request(preset, target, drop_unsupported)), CreatedSession
        )

    def accept_call(
        self, preset: Preset, call_id: str, *, drop_unsupported: bool = False
    ) -> AcceptedCall:
        """Accept the incoming SIP call ``call_id`` with ``preset``'s session (``calls.accept``)."""
        return result_of(
            self.send(self._call_request(preset, call_id, drop_unsupported)), AcceptedCall
        )

    def create_call(
        self, preset: Preset, sdp: str, *, drop_unsupported: bool = False
    ) -> CreatedCall:
        """Place a WebRTC call for the SDP offer ``sdp`` with ``preset``'s session (``calls``).

        Returns the SDP answer and the call id; the API key stays here, never in a browser.
        """
        return result_of(self.send(self._offer_request(preset, sdp, drop_unsupported)), CreatedCall)

    def send_payload(
        self,
        body: Mapping[str, Any],
        *,
        target: str,
        call_id: str | None = None,
        sdp: str | None = None,
    ) -> Result:
        """Post a compiled body, as it is, to the named ``target``; its result."""
        return self.send(self._payload_request(body, target, call_id, sdp))

    def create_session(
        self,
        source: Mapping[str, Any] | Preset,
        *,
        target: str | None = None,
        drop_unsupported: bool = False,
    ) -> CreatedSession:
        """``create_secret`` for a Preset, ``send_payload`` for a compiled body (0.1's name)."""
        return result_of(
            self.send(self._legacy_request(source, target, drop_unsupported)), CreatedSession
        )

    def send(self, request: PreparedRequest) -> Result:
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
    ) -> Answer:
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
    BaseClient[
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

    async def create_secret(
        self, preset: Preset, target: str | None = None, *, drop_unsupported: bool = False
    ) -> CreatedSession:
        """Mint a client secret for ``preset``: its default target, or the minting ``target``."""
        return result_of(
            await self.send(self._secret_request(preset, target, drop_unsupported)), CreatedSession
        )

    async def accept_call(
        self, preset: Preset, call_id: str, *, drop_unsupported: bool = False
    ) -> AcceptedCall:
        """Accept the incoming SIP call ``call_id`` with ``preset``'s session (``calls.accept``)."""
        return result_of(
            await self.send(self._call_request(preset, call_id, drop_unsupported)), AcceptedCall
        )

    async def create_call(
        self, preset: Preset, sdp: str, *, drop_unsupported: bool = False
    ) -> CreatedCall:
        """Place a WebRTC call for the SDP offer ``sdp`` with ``preset``'s session (``calls``)."""
        return result_of(
            await self.send(self._offer_request(preset, sdp, drop_unsupported)), CreatedCall
        )

    async def send_payload(
        self,
        body: Mapping[str, Any],
        *,
        target: str,
        call_id: str | None = None,
        sdp: str | None = None,
    ) -> Result:
        """Post a compiled body, as it is, to the named ``target``; its result."""
        return await self.send(self._payload_request(body, target, call_id, sdp))

    async def create_session(
        self,
        source: Mapping[str, Any] | Preset,
        *,
        target: str | None = None,
        drop_unsupported: bool = False,
    ) -> CreatedSession:
        """``create_secret`` for a Preset, ``send_payload`` for a compiled body (0.1's name)."""
        return result_of(
            await self.send(self._legacy_request(source, target, drop_unsupported)), CreatedSession
        )

    async def send(self, request: PreparedRequest) -> Result:
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
    ) -> Answer:
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
