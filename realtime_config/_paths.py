"""Key paths: how a location inside a preset is written for people (``tools[0].name``)."""

from __future__ import annotations

import json
import re

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_key(key: str) -> str:
    """One key as TOML writes it: bare when it can be, else a quoted key with escapes."""
    if _BARE_KEY.fullmatch(key):
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
