"""A faster TOML parse with tomllib's answers: the mypyc-compiled tomli, when installed.

tomllib is pure Python: it is most of the time a batch of presets takes. tomli is the same
parser (tomllib was made from it), and its binary wheels are compiled by mypyc, about twice
as fast. Its versions 2.1 to 2.3 parse TOML 1.0 by the same rules as the tomllib of Python
3.11 to 3.13; a test parses generated documents, valid and broken, with both and requires the
same table or a failure from both. Any failure goes back to tomllib, so every error is
tomllib's own, word for word; a build that is not compiled, or a version of another TOML
edition, is not used at all.
"""

from __future__ import annotations

import datetime
import functools
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from realtime_config._errors import PresetError
from realtime_config._loader import (
    Document,
    _too_deep,
    json_form_diagnostics,
    parse_toml,
    read_text,
)

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


def parse(text: str, display: str) -> dict[str, Any]:
    """``parse_toml``'s answer, from the compiled parser when it is there and succeeds."""
    loads = compiled_loads()
    if loads is not None and _too_deep(text) is None:
        try:
            return loads(text)
        except Exception:  # tomllib below gives the answer, and the words of any error
            pass
    return parse_toml(text, display)


def read_document(path: Path, display: str) -> Document:
    """``Loader._read_document`` with :func:`parse`: the same Document or PresetError."""
    text = read_text(path, display)
    document = Document(path, display, text, parse(text, display))
    if _has_values_without_json_form(document.table):  # rare: then the located diagnostics
        problems = json_form_diagnostics(document)
        if problems:
            raise PresetError(problems)
    return document


def _has_values_without_json_form(table: dict[str, Any]) -> bool:
    """Whether any value below ``table`` is a date, a time or a non-finite float: what
    json_form_diagnostics looks for, without building a key path for every value."""
    stack: list[Any] = [table]
    while stack:
        node = stack.pop()
        for value in node.values() if isinstance(node, dict) else node:
            if isinstance(value, (dict, list)):
                stack.append(value)
            elif isinstance(value, (datetime.date, datetime.time)) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                return True
    return False
