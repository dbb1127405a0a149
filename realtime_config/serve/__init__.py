"""``serve``: the ASGI app that mints client secrets from a project's presets.

    >>> from realtime_config.serve import create_app
    >>> app = create_app(presets=["presets/assistant.toml"], allow_origins=["https://app.example"])

Importing this module needs the ``serve`` extra (Starlette); ``import realtime_config`` never
does.
"""

from realtime_config.serve._app import create_app

__all__ = ["create_app"]
