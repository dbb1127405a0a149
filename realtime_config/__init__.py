"""realtime-config: TOML presets of OpenAI Realtime sessions, compiled into exact request bodies.

    >>> import realtime_config
    >>> preset = realtime_config.load_preset("presets/phone-support.toml")
    >>> body = realtime_config.compile_preset(preset)
    >>> realtime_config.dumps_payload(body, compact=True)

The HTTP clients are imported on first use, so that validating presets (a pre-commit hook's
job) never pays for the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realtime_config._checks import check_files, check_preset
from realtime_config._compile import dumps_payload
from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientConfigError,
    ConflictError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    PresetError,
    RateLimitError,
    RealtimeConfigError,
    ServeConfigError,
    ServerError,
    UnknownTargetError,
)
from realtime_config._loader import Preset, load_preset
from realtime_config._schema import load_schema, schema_path
from realtime_config._targets import (
    TARGETS,
    Target,
    compile_preset,
    compile_preset_with_warnings,
)
from realtime_config._version import __version__

if TYPE_CHECKING:
    from realtime_config._cache import PresetCache
    from realtime_config._client import (
        AcceptedCall,
        AsyncRealtimeClient,
        ClientSecret,
        CreatedSession,
        PreparedRequest,
        RealtimeClient,
    )
    from realtime_config._server import create_app

_CLIENT_NAMES = frozenset(
    {
        "AcceptedCall",
        "AsyncRealtimeClient",
        "ClientSecret",
        "CreatedSession",
        "PreparedRequest",
        "RealtimeClient",
    }
)
_SERVER_NAMES = frozenset({"create_app"})
_CACHE_NAMES = frozenset({"PresetCache"})


def __getattr__(name: str) -> Any:
    """Import the client module when one of its names is first asked for."""
    if name in _CLIENT_NAMES:
        from realtime_config import _client

        return getattr(_client, name)
    if name in _SERVER_NAMES:  # Starlette, from the serve extra, only when asked for
        from realtime_config import _server

        return getattr(_server, name)
    if name in _CACHE_NAMES:  # a backend's cache: not paid for by the CLI
        from realtime_config import _cache

        return getattr(_cache, name)
    raise AttributeError(f"module 'realtime_config' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _CLIENT_NAMES | _SERVER_NAMES | _CACHE_NAMES)


__all__ = [
    "TARGETS",
    "AcceptedCall",
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncRealtimeClient",
    "AuthenticationError",
    "BadRequestError",
    "ClientConfigError",
    "ClientSecret",
    "ConflictError",
    "CreatedSession",
    "Diagnostic",
    "MissingAPIKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreparedRequest",
    "Preset",
    "PresetCache",
    "PresetError",
    "RateLimitError",
    "RealtimeClient",
    "RealtimeConfigError",
    "ServeConfigError",
    "ServerError",
    "Target",
    "UnknownTargetError",
    "__version__",
    "check_files",
    "check_preset",
    "compile_preset",
    "compile_preset_with_warnings",
    "create_app",
    "dumps_payload",
    "load_preset",
    "load_schema",
    "schema_path",
]
