"""The public API is small and pinned: what __all__ lists is exactly what is exported."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys

import click
import pytest

import realtime_config
from tests.conftest import PROJECT

PACKAGE = PROJECT / "realtime_config"


def test_all_lists_exactly_the_public_names() -> None:
    """(Its order is checked by ruff's RUF022.)"""
    public = {name for name in dir(realtime_config) if not name.startswith("_")}
    public -= {"annotations", "TYPE_CHECKING", "Any"}
    assert len(realtime_config.__all__) == len(set(realtime_config.__all__))
    folders = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert (
        set(realtime_config.__all__) - {"__version__"}
        == public
        - folders
        - {
            "create_app",  # kept importable for old callers; the serve extra's API is realtime_config.serve
        }
    )


def test_the_star_import_works_without_the_serve_extra() -> None:
    """``from realtime_config import *`` needs nothing beyond the runtime dependencies."""
    probe = (
        "import sys\n"
        "class Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('starlette', 'uvicorn'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "from realtime_config import *\n"
        "print(sorted(k for k in dir() if not k.startswith('_'))[:3])\n"
        "try:\n"
        "    import realtime_config.serve\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert (
        done.stdout
        == "['APIConnectionError', 'APIError', 'APIResponseError']\nserving client secrets needs starlette: install realtime-config[serve]\n"
    )


def test_serve_exports_create_app() -> None:
    from realtime_config.serve import create_app

    assert create_app is realtime_config.create_app


@pytest.mark.parametrize("name", realtime_config.__all__)
def test_every_listed_name_resolves(name: str) -> None:
    assert getattr(realtime_config, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        realtime_config.nope  # noqa: B018


def test_the_client_is_imported_only_when_asked_for() -> None:
    probe = (
        "import sys, realtime_config\n"
        "before = 'realtime_config.client._client' in sys.modules\n"
        "realtime_config.RealtimeClient\n"
        "print(before, 'realtime_config.client._client' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "False True\n"


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert realtime_config.__version__ == version("realtime-config")


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class a module of the package defines, by ``module.name``."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(realtime_config.__path__, "realtime_config."):
        if info.name == "realtime_config.__main__":  # importing it runs the command line
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
            ):
                found[f"{info.name}.{name}"] = value
    assert "realtime_config._errors.RealtimeConfigError" in found  # the walk saw the package
    return found


def test_every_exception_is_defined_in_errors_and_exported() -> None:
    """A user finds what to catch in one module, and imports it from the package.

    Click exceptions are the command line's own: click shows them and exits, so no caller of
    the library meets one.
    """
    classes = exception_classes()
    public = {
        where: cls
        for where, cls in classes.items()
        if not cls.__name__.startswith("_") and not issubclass(cls, click.ClickException)
    }
    assert [where for where in public if not where.startswith("realtime_config._errors.")] == []
    for cls in public.values():
        assert issubclass(cls, realtime_config.RealtimeConfigError), cls
        assert getattr(realtime_config, cls.__name__) is cls
    exported = {
        name
        for name in realtime_config.__all__
        if inspect.isclass(value := getattr(realtime_config, name))
        and issubclass(value, BaseException)
    }
    assert exported == {cls.__name__ for cls in public.values()}


def test_private_exceptions_are_signals_not_members_of_the_family() -> None:
    """An underscored exception is caught where it is raised: it is never one a user meets."""
    private = [cls for cls in exception_classes().values() if cls.__name__.startswith("_")]
    assert [cls for cls in private if issubclass(cls, realtime_config.RealtimeConfigError)] == []


def test_the_errors_docstring_draws_the_whole_tree() -> None:
    """Each class once, under the class it derives from, as httpx's _exceptions.py draws it."""
    # The drawing is the private module's docstring, and the family its classes.
    from realtime_config import _errors

    drawn: dict[str, str | None] = {}
    parents: list[tuple[int, str]] = []
    for indent, name in re.findall(r"^( *)\* (\w+)", _errors.__doc__ or "", re.MULTILINE):
        while parents and parents[-1][0] >= len(indent):
            parents.pop()
        assert name not in drawn, f"{name} is drawn twice"
        drawn[name] = parents[-1][1] if parents else None
        parents.append((len(indent), name))
    family = {
        cls.__name__: cls
        for cls in vars(_errors).values()
        if inspect.isclass(cls) and issubclass(cls, realtime_config.RealtimeConfigError)
    }
    expected = {
        name: None if cls is realtime_config.RealtimeConfigError else cls.__bases__[0].__name__
        for name, cls in family.items()
    }
    assert drawn == expected
