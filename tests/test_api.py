"""The public API is small and pinned: what __all__ lists is exactly what is exported."""

from __future__ import annotations

import realtime_config


def test_all_lists_exactly_the_public_names() -> None:
    """(Its order is checked by ruff's RUF022.)"""
    public = {name for name in dir(realtime_config) if not name.startswith("_")}
    assert len(realtime_config.__all__) == len(set(realtime_config.__all__))
    assert set(realtime_config.__all__) - {"__version__"} == public - {
        "cli",  # the command line module, importable but not part of the API
    }


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert realtime_config.__version__ == version("realtime-config")
