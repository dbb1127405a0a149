"""The client's settings and their checks: provider, credential, base URL, headers and bounds.

Everything here runs once, when a client is built, and raises ClientConfigError before any
request: a setting that cannot work is said at once, never on the first call. The checked
settings are one frozen record, ``Settings``, that the sync and async shells share.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from realtime_config._errors import ClientConfigError
from realtime_config.client._urls import check_base_url

if TYPE_CHECKING:
    import ssl

    import httpx

    from realtime_config._diagnostics import Diagnostic

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

PROVIDERS: Final = ("openai", "azure")
"""Where requests go: OpenAI's API, or an Azure OpenAI resource's v1 API (same GA bodies)."""

AZURE_API_PATH: Final = "/openai/v1"
"""The v1 API of an Azure OpenAI resource, below its endpoint (no api-version needed)."""


@dataclass(frozen=True)
class Connection:
    """The provider's settings: where to post, with which credential in which header."""

    provider: str
    base_url: str | None
    credential: str | None
    header: str
    """``Authorization`` (sent as ``Bearer <credential>``) or ``api-key`` (Azure's key)."""


@dataclass(frozen=True)
class Settings:
    """A client's checked settings: everything but its httpx client and its sleep."""

    provider: str
    base_url: str
    api_key: str | None
    auth_header: str
    organization: str | None
    project: str | None
    max_retries: int
    timeout: httpx.Timeout
    deadline: float
    """Seconds each attempt may take, connect to last byte."""
    total_timeout: float
    """Seconds the whole call may take, every attempt and every wait between them."""
    max_response_bytes: int
    retry_rate_limited: bool


def checked_settings(
    *,
    api_key: str | None,
    base_url: str | None,
    organization: str | None,
    project: str | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int,
    total_timeout: float | None,
    max_response_bytes: int,
    retry_rate_limited: bool,
    provider: str | None,
    azure_ad_token: str | None,
) -> Settings:
    """The settings given, completed from the environment and checked; ClientConfigError."""
    connection = provider_connection(provider, api_key, azure_ad_token, base_url)
    key: str | None = connection.credential or None
    if key is not None and not header_safe(key):
        raise ClientConfigError(
            "the API key contains spaces or characters that an HTTP header cannot carry"
        )
    checked_url = check_base_url(connection.base_url or DEFAULT_BASE_URL, key)
    openai = connection.provider == "openai"  # an Azure resource has no organization or project
    organization = organization or (env("OPENAI_ORG_ID") if openai else None)
    project = project or (env("OPENAI_PROJECT_ID") if openai else None)
    for label, value in (("organization", organization), ("project", project)):
        if value is not None and not header_safe(value):
            raise ClientConfigError(f"the {label} id {value!r} is not a valid header value")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ClientConfigError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
    checked_timeout = check_timeout(timeout)
    deadline = deadline_of(checked_timeout)
    total = positive(
        "total_timeout", deadline * (max_retries + 1) if total_timeout is None else total_timeout
    )
    if (
        isinstance(max_response_bytes, bool)
        or not isinstance(max_response_bytes, int)
        or max_response_bytes < 1
    ):
        raise ClientConfigError(
            f"max_response_bytes must be a whole number >= 1, not {max_response_bytes!r}"
        )
    return Settings(
        provider=connection.provider,
        base_url=checked_url,
        api_key=key,
        auth_header=connection.header,
        organization=organization,
        project=project,
        max_retries=max_retries,
        timeout=checked_timeout,
        deadline=deadline,
        total_timeout=total,
        max_response_bytes=max_response_bytes,
        retry_rate_limited=retry_rate_limited,
    )


def provider_connection(
    provider: str | None, api_key: str | None, azure_ad_token: str | None, base_url: str | None
) -> Connection:
    """The provider asked for, else Azure when ``AZURE_OPENAI_ENDPOINT`` is set and no OpenAI
    base URL is; its base URL and credential from the arguments, else the environment."""
    if provider is None:
        azure = env("AZURE_OPENAI_ENDPOINT") and not (base_url or env("OPENAI_BASE_URL"))
        provider = "azure" if azure else "openai"
    if provider not in PROVIDERS:
        raise ClientConfigError(f"unknown provider {provider!r}; expected openai or azure")
    if provider == "openai":
        if azure_ad_token is not None:
            raise ClientConfigError("an Azure AD token is for provider azure, not openai")
        key = api_key if api_key is not None else env("OPENAI_API_KEY")
        return Connection(provider, base_url or env("OPENAI_BASE_URL"), key, "Authorization")
    if api_key is not None and azure_ad_token is not None:
        raise ClientConfigError("pass an Azure API key or an Azure AD token, not both")
    if api_key is None and azure_ad_token is None:
        # As the official SDK does: with no credential given, the token wins over the key.
        azure_ad_token = env("AZURE_OPENAI_AD_TOKEN")
        api_key = None if azure_ad_token else env("AZURE_OPENAI_API_KEY")
    if base_url is None:
        endpoint = env("AZURE_OPENAI_ENDPOINT")
        if endpoint is None:
            raise ClientConfigError(
                "provider azure needs the resource's endpoint: set AZURE_OPENAI_ENDPOINT "
                "(https://RESOURCE.openai.azure.com) or pass a base URL"
            )
        base_url = endpoint.rstrip("/") + AZURE_API_PATH
    if azure_ad_token:
        return Connection(provider, base_url, azure_ad_token, "Authorization")
    return Connection(provider, base_url, api_key, "api-key")


def check_timeout(timeout: object) -> httpx.Timeout:
    """``timeout`` as an httpx.Timeout: a number is the deadline of an attempt."""
    import httpx

    if timeout is None:
        return httpx.Timeout(DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
        if math.isfinite(seconds) and seconds > 0:
            # A number is the deadline of an attempt (kept by every socket operation), and
            # never lengthens the 5 s connect timeout: an unreachable host should fail fast
            # whatever the deadline.
            return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))
    raise ClientConfigError(
        f"timeout must be a number of seconds > 0 or an httpx.Timeout, not {timeout!r}"
    )


def deadline_of(timeout: httpx.Timeout) -> float:
    """An attempt's deadline: a number's own value, else the longest phase of an httpx.Timeout."""
    phases = [t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t]
    return max(phases, default=DEFAULT_TIMEOUT)


def positive(name: str, value: object) -> float:
    """``value`` as seconds > 0, or ClientConfigError naming the setting."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
        if math.isfinite(seconds) and seconds > 0:
            return seconds
    raise ClientConfigError(f"{name} must be a number of seconds > 0, not {value!r}")


def provider_warnings(provider: str, warnings: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """The warnings that hold for the provider: on Azure a model field names a deployment
    (``x-deployment``), so an unknown model id is no warning there."""
    if provider != "azure":
        return tuple(warnings)
    return tuple(w for w in warnings if not (w.rule == "unknown-value" and _deployment(w.key)))


def _deployment(key: str) -> bool:
    """Whether a diagnostic's key is a model field that names an Azure deployment."""
    from realtime_config._schema import DIALECTS, field_schema

    path = tuple(key.split("."))
    return any((field_schema(path, d) or {}).get("x-deployment") for d in DIALECTS)


def header_safe(value: str) -> bool:
    """Whether an HTTP header can carry ``value`` as it is."""
    # Visible ASCII only: anything else makes httpx or h11 raise, quoting the value.
    return bool(value) and all("!" <= ch <= "~" for ch in value)


def env(name: str) -> str | None:
    """An environment variable's value; an empty one counts as unset."""
    return os.environ.get(name) or None


def verify() -> ssl.SSLContext:
    """httpx's default certificate-verifying context, shared by the clients this package builds."""
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
