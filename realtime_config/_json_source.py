"""Reading JSON text with the preset's limits: an integer is never converted past 64 bits.

``json.loads`` converts every integer literal with ``int()``, which refuses more than 4300
digits (Python's int/str conversion limit) with a ValueError that names no position. Here a
literal longer than any 64-bit integer becomes a stand-in just past the range, so that the
range check that presets get (``json_form_diagnostics``) reports it, located at its key.
"""

from __future__ import annotations

import json
from typing import Any

_LONGEST = len(str(-(2**63)))
"""No 64-bit integer is written with more characters than this (sign included)."""


def _parse_int(literal: str) -> int:
    if len(literal) <= _LONGEST:
        return int(literal)
    return -(2**63) - 1 if literal.startswith("-") else 2**63


def loads_json(text: str, **options: Any) -> Any:
    """``json.loads(text, **options)``, with integers too long for 64 bits kept out of range."""
    return json.loads(text, parse_int=_parse_int, **options)
