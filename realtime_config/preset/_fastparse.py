"""``tomllib.loads`` with the same answers, from the mypyc-compiled tomli when installed.

tomllib is pure Python, and parsing is the largest single cost of checking a preset. tomli is
the same parser (tomllib was made from it), and its binary wheels are compiled by mypyc,
about twice as fast. Its versions 2.1 to 2.3 parse TOML 1.0 by the same rules as the tomllib
of Python 3.11 to 3.13; the tests parse the presets, the invalid cases and generated
mutations of them with both and require the same table or a failure from both. Any failure
is handed to tomllib, so every exception (and so every error message) is tomllib's own; a
build that is not compiled, or a version of another TOML edition, is not used at all.

A leaf module: the standard library and tomli only.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

Loads = Callable[[str], dict[str, Any]]


@functools.cache
def compiled_loads() -> Loads | None:
    """``tomli.loads`` when tomli is a compiled build of a TOML 1.0 version, else None."""
    if sys.version_info < (3, 11):  # pragma: no cover - there tomllib *is* tomli
        return None
    try:
        import tomli
        from tomli import _parser
    except ImportError:
        return None
    version = tuple(int(part) for part in tomli.__version__.split(".")[:2] if part.isdigit())
    compiled = str(getattr(_parser, "__file__", "")).endswith((".so", ".pyd"))
    if not compiled or not (2, 1) <= version < (2, 4):
        return None
    loads: Loads = tomli.loads
    return loads


def loads(text: str) -> dict[str, Any]:
    """What ``tomllib.loads(text)`` returns, or the exception it raises: the compiled parser
    answers when it succeeds, tomllib itself when it fails."""
    fast = compiled_loads()
    if fast is not None:
        try:
            return fast(text)
        except Exception:  # tomllib below gives the answer, and the words of any error
            pass
    if sys.version_info >= (3, 11):  # imported here: a valid preset never needs it
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib.loads(text)
