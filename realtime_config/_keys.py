"""Key paths and JSON-like data, as every stage shares them.

A key path names a location inside a preset or payload (``("tools", 0, "name")``) and is
written for people as dotted TOML keys (``tools[0].name``). TOML's bare-key rule is kept
here once: the TOML locator scans keys with it and messages quote every key it refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable
from typing import Any, Final, TypeAlias, TypeVar

KeyPath: TypeAlias = tuple[str | int, ...]
"""A path into a parsed document: table keys are strings, array indices are ints."""

BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
"""A TOML bare key: ASCII letters, digits, ``_`` and ``-``; any other key is quoted."""

_Item = TypeVar("_Item", bound=Hashable)


def format_key(key: str) -> str:
    """One key as TOML writes it: bare when it can be, else a quoted key with escapes."""
    if BARE_KEY.fullmatch(key):
        return key
    return json.dumps(key, ensure_ascii=False)


def format_inline(text: str) -> str:
    """User text for a one-line message: control characters escaped, no quotes added."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def format_path(path: KeyPath) -> str:
    """A key path as dotted TOML keys with array indexes: ``tools[1].parameters``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + format_key(part)
    return text


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-like data (tables and arrays copied, scalars shared)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def dedupe(items: Iterable[_Item]) -> list[_Item]:
    """The items in order, each once (a base shared by two presets reports its problems once)."""
    return list(dict.fromkeys(items))
