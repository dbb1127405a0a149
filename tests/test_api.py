"""The public API is small and pinned: what __all__ lists is exactly what is exported."""

from __future__ import annotations

import subprocess
import sys

import pytest

import realtime_config


def test_all_lists_exactly_the_public_names() -> None:
    """(Its order is checked by ruff's RUF022.)"""
    public = {name for name in dir(realtime_config) if not name.startswith("_")}
    public -= {"annotations", "TYPE_CHECKING", "Any"}
    assert len(realtime_config.__all__) == len(set(realtime_config.__all__))
    assert set(realtime_config.__all__) - {"__version__"} == public - {
        "cli",  # the command line module, importable but not part of the API
    }


@pytest.mark.parametrize("name", realtime_config.__all__)
def test_every_listed_name_resolves(name: str) -> None:
    assert getattr(realtime_config, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        realtime_config.nope  # noqa: B018


def test_the_client_is_imported_only_when_asked_for() -> None:
    probe = (
        "import sys, realtime_config\n"
        "before = 'realtime_config._client' in sys.modules\n"
        "realtime_config.RealtimeClient\n"
        "print(before, 'realtime_config._client' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "False True\n"


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert realtime_config.__version__ == version("realtime-config")
