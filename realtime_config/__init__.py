"""realtime-config: TOML presets of OpenAI Realtime sessions, compiled into exact request bodies.

    >>> import realtime_config
    >>> preset = realtime_config.load_preset("presets/phone-support.toml")
    >>> body = realtime_config.compile_preset(preset)
    >>> realtime_config.dumps_payload(body, compact=True)
    >>> realtime_config.loads_preset('model = "gpt-realtime"', path="presets/draft.toml")
    >>> realtime_config.explain_field("audio.output.voice").facts

Every name is imported on first use, so that validating presets (a pre-commit hook's job)
never pays for the HTTP stack, and ``import realtime_config`` for nothing it does not use.
"""

from __future__ import annotations

import sys as _sys

from realtime_config._version import __version__

TYPE_CHECKING = False  # as typing's, without importing typing (a third of a bare start-up)
if TYPE_CHECKING:
    from typing import Any

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
        CommitError,
        ConflictError,
        MissingAPIKeyError,
        NotFoundError,
        OutputFileError,
        PermissionDeniedError,
        PresetError,
        PresetNameError,
        RateLimitError,
        RealtimeConfigError,
        ResponseTooLargeError,
        ServeConfigError,
        ServerError,
        SnapshotError,
        StarterError,
        UnknownFieldError,
        UnknownTargetError,
    )
    from realtime_config._schema import load_schema, schema_path
    from realtime_config.authoring._diff import Change, PresetDiff, diff_presets
    from realtime_config.authoring._explain import FieldFacts, explain_field
    from realtime_config.authoring._importer import ImportedPreset, import_payload
    from realtime_config.authoring._migrate import Migration, migrate_presets, migrate_text
    from realtime_config.checking._compose import load_preset, loads_preset
    from realtime_config.client._client import (
        AcceptedCall,
        AsyncRealtimeClient,
        ClientSecret,
        CreatedCall,
        CreatedSession,
        PreparedRequest,
        RealtimeClient,
    )
    from realtime_config.compiling._batch import check_files, check_preset
    from realtime_config.compiling._cache import PresetCache
    from realtime_config.compiling._compile import dumps_payload
    from realtime_config.compiling._targets import (
        TARGETS,
        Target,
        compile_preset,
        compile_preset_with_warnings,
    )
    from realtime_config.preset._model import Preset
    from realtime_config.serve._app import create_app as create_app

_MODULE_OF: dict[str, str] = {
    **dict.fromkeys(["check_files", "check_preset"], "compiling._batch"),
    **dict.fromkeys(["dumps_payload"], "compiling._compile"),
    **dict.fromkeys(["Diagnostic"], "_diagnostics"),
    **dict.fromkeys(
        [
            *["APIConnectionError", "APIError", "APIResponseError", "APIStatusError"],
            *["APITimeoutError", "AuthenticationError", "BadRequestError", "ClientConfigError"],
            *["CommitError"],
            *["ConflictError", "MissingAPIKeyError", "NotFoundError", "PermissionDeniedError"],
            *["PresetError", "RateLimitError", "RealtimeConfigError", "ServeConfigError"],
            *["ServerError", "UnknownTargetError", "UnknownFieldError", "PresetNameError"],
            *["StarterError", "OutputFileError", "SnapshotError", "ResponseTooLargeError"],
        ],
        "_errors",
    ),
    **dict.fromkeys(["load_preset", "loads_preset"], "checking._compose"),
    # Authoring: a payload imported, beta presets migrated, two presets diffed, a field explained.
    **dict.fromkeys(["Change", "PresetDiff", "diff_presets"], "authoring._diff"),
    **dict.fromkeys(["FieldFacts", "explain_field"], "authoring._explain"),
    **dict.fromkeys(["ImportedPreset", "import_payload"], "authoring._importer"),
    **dict.fromkeys(["Migration", "migrate_presets", "migrate_text"], "authoring._migrate"),
    **dict.fromkeys(["Preset"], "preset._model"),
    **dict.fromkeys(["load_schema", "schema_path"], "_schema"),
    **dict.fromkeys(
        ["TARGETS", "Target", "compile_preset", "compile_preset_with_warnings"],
        "compiling._targets",
    ),
    # The HTTP clients, the serve app (Starlette, from the serve extra) and a backend's cache.
    **dict.fromkeys(
        [
            *[
                "AcceptedCall",
                "AsyncRealtimeClient",
                "ClientSecret",
                "CreatedSession",
                "CreatedCall",
            ],
            *["PreparedRequest", "RealtimeClient"],
        ],
        "client._client",
    ),
    # Kept for compatibility, outside __all__: the serve extra lives in realtime_config.serve.
    **dict.fromkeys(["create_app"], "serve._app"),
    **dict.fromkeys(["PresetCache"], "compiling._cache"),
}
"""Where each public name lives. Every one is imported on first use (PEP 562), so that
``import realtime_config`` costs next to nothing, the command line imports only what its
command needs, and validating presets (a pre-commit hook's job) never pays for the HTTP
stack."""


def __getattr__(name: str) -> Any:
    """Import the module of a public name when the name is first asked for."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'realtime_config' has no attribute {name!r}")
    __import__(f"realtime_config.{module}")  # importlib itself would cost an import
    value = getattr(_sys.modules[f"realtime_config.{module}"], name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _MODULE_OF.keys())


__all__ = [
    "TARGETS",
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AcceptedCall",
    "AsyncRealtimeClient",
    "AuthenticationError",
    "BadRequestError",
    "Change",
    "ClientConfigError",
    "ClientSecret",
    "CommitError",
    "ConflictError",
    "CreatedCall",
    "CreatedSession",
    "Diagnostic",
    "FieldFacts",
    "ImportedPreset",
    "Migration",
    "MissingAPIKeyError",
    "NotFoundError",
    "OutputFileError",
    "PermissionDeniedError",
    "PreparedRequest",
    "Preset",
    "PresetCache",
    "PresetDiff",
    "PresetError",
    "PresetNameError",
    "RateLimitError",
    "RealtimeClient",
    "RealtimeConfigError",
    "ResponseTooLargeError",
    "ServeConfigError",
    "ServerError",
    "SnapshotError",
    "StarterError",
    "Target",
    "UnknownFieldError",
    "UnknownTargetError",
    "__version__",
    "check_files",
    "check_preset",
    "compile_preset",
    "compile_preset_with_warnings",
    "diff_presets",
    "dumps_payload",
    "explain_field",
    "import_payload",
    "load_preset",
    "load_schema",
    "loads_preset",
    "migrate_presets",
    "migrate_text",
    "schema_path",
]
