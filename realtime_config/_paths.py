"""Key paths: how a location inside a preset is written for people (``tools[0].name``)."""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_key(key: str) -> str:
    """One key as TOML writes it: bare when it can be, quoted otherwise."""
    if _BARE_KEY.fullmatch(key):
        return key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def format_path(path: KeyPath) -> str:
    """A key path as dotted TOML keys with array indexes: ``tools[1].parameters``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + format_key(part)
    return text
