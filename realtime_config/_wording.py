"""How values and choices are put into words in diagnostics: TOML's words, not JSON's."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any


def suggest(word: str, candidates: Iterable[str]) -> str:
    """``; did you mean `x`?`` for the closest candidate, or an empty string."""
    import difflib  # only when a suggestion is made: 7 ms of start-up otherwise

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def describe_value(value: Any) -> str:
    """A value as TOML would show it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def kind_of(value: Any) -> str:
    """The TOML kind of a value, with its article: a string, an integer, a table..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


TYPE_WORDS = {
    "object": "a table",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}


def type_words(json_types: Any) -> str:
    """JSON Schema type names in TOML words: ``["string", "array"]`` -> a string or an array."""
    return join_alternatives([TYPE_WORDS.get(t, str(t)) for t in _as_list(json_types)])


def join_alternatives(words: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    unique = list(dict.fromkeys(words))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " or " + unique[-1]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]
