"""The nesting bound of the pre-parse check is a true bound: it never hides an overflow.

Private on purpose: the law is about the bound that decides whether the full scan runs, which
no public call can show (a preset's diagnostics are the same either way, when it holds).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from realtime_config._source import nesting_overflow
from realtime_config.preset._parse import _STRINGS_AND_COMMENTS, MAX_DEPTH, _structural

FRAGMENTS = st.sampled_from(
    [
        "a",
        ".",
        "[",
        "]",
        "{",
        "}",
        "[[",
        "]]",
        " = ",
        "\n",
        '"',
        "'",
        '"""',
        "'''",
        "#",
        "\\",
        "1.5",
        "x.y",
        '"q.r"',
        "'s.t'",
        ", ",
    ]
)


@given(st.lists(FRAGMENTS, max_size=400).map("".join))
def test_a_text_whose_bound_is_below_the_limit_never_overflows(text: str) -> None:
    bare = _STRINGS_AND_COMMENTS.sub("", text)
    if _structural(bare) < MAX_DEPTH:
        assert nesting_overflow(text, MAX_DEPTH) is None
