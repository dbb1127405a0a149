"""``serve``: the ASGI app that mints client secrets from a project's presets.

    >>> from realtime_config.serve import create_app
    >>> app = create_app(presets=["presets/assistant.toml"], allow_origins=["https://app.example"])

Importing this package needs the ``serve`` extra (Starlette); ``import realtime_config`` never
does. The check is made here, once: every module of the package runs after it.
"""

try:
    import anyio  # noqa: F401
    import starlette  # noqa: F401
except ModuleNotFoundError as error:  # pragma: no cover - the extra is installed in tests
    raise ModuleNotFoundError(
        f"serving client secrets needs {(error.name or '').partition('.')[0]}: "
        "install realtime-config[serve]",
        name=error.name,
    ) from error

from realtime_config.serve._app import create_app

__all__ = ["create_app"]
