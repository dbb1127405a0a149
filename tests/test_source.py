"""Tests of realtime_config._source: where keys and values of a TOML document are written."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import timedelta, timezone
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

# A public call shows a position only as a diagnostic's line and column: the locator's
# contract (key and value spans of any path, in any text) and its scanner are tested here.
from realtime_config._keys import KeyPath
from realtime_config._source import KeyLocator, Located, Position, _Node, _Scanner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Spot = tuple[tuple[int, int], tuple[int, int]]


def _lookup(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def spot(text: str, path: KeyPath) -> Spot:
    """``((key line, key column), (value line, value column))`` of ``path``.

    Also checks that the text is TOML and that tomllib has ``path`` in it, so the expected
    paths below are the ones tomllib produces.
    """
    _lookup(tomllib.loads(text), path)
    found = KeyLocator(text).find(path)
    assert found is not None, path
    return (found.key.line, found.key.column), (found.value.line, found.value.column)


def doc(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --- tables, dotted keys, inline tables -------------------------------------------------------


def test_key_under_table_header() -> None:
    text = doc("[turn_detection]", "threshold = 0.6")
    assert spot(text, ("turn_detection",)) == ((1, 2), (1, 2))
    assert spot(text, ("turn_detection", "threshold")) == ((2, 1), (2, 13))


def test_header_with_spaces_and_dotted_name() -> None:
    text = doc("[ turn_detection . vad ]", "x = 1")
    assert spot(text, ("turn_detection",)) == ((1, 3), (1, 3))
    assert spot(text, ("turn_detection", "vad")) == ((1, 20), (1, 20))
    assert spot(text, ("turn_detection", "vad", "x")) == ((2, 1), (2, 5))


def test_dotted_key_at_top_level() -> None:
    text = doc("turn_detection.threshold = 0.6")
    assert spot(text, ("turn_detection",)) == ((1, 1), (1, 1))
    assert spot(text, ("turn_detection", "threshold")) == ((1, 16), (1, 28))


def test_inline_table() -> None:
    text = doc("turn_detection = { threshold = 0.6 }")
    assert spot(text, ("turn_detection",)) == ((1, 1), (1, 18))
    assert spot(text, ("turn_detection", "threshold")) == ((1, 20), (1, 32))


def test_dotted_key_under_table_header() -> None:
    text = doc("[turn_detection]", "x.y = 1")
    assert spot(text, ("turn_detection", "x")) == ((2, 1), (2, 1))
    assert spot(text, ("turn_detection", "x", "y")) == ((2, 3), (2, 7))


def test_implicit_tables_first_occurrence_wins() -> None:
    text = doc("a.b.c = 1", "a.b.d = 2", "a.e = 3")
    assert spot(text, ("a",)) == ((1, 1), (1, 1))
    assert spot(text, ("a", "b")) == ((1, 3), (1, 3))
    assert spot(text, ("a", "b", "c")) == ((1, 5), (1, 9))
    assert spot(text, ("a", "b", "d")) == ((2, 5), (2, 9))
    assert spot(text, ("a", "e")) == ((3, 3), (3, 7))


def test_explicit_header_wins_over_earlier_implicit_table() -> None:
    text = doc("[a.b]", "x = 1", "[a]", "y = 2")
    assert spot(text, ("a",)) == ((3, 2), (3, 2))
    assert spot(text, ("a", "b")) == ((1, 4), (1, 4))
    assert spot(text, ("a", "y")) == ((4, 1), (4, 5))


def test_dotted_keys_inside_inline_table() -> None:
    text = doc("t = { a.b = 1, a.c = { d = 2 } }")
    assert spot(text, ("t", "a")) == ((1, 7), (1, 7))
    assert spot(text, ("t", "a", "b")) == ((1, 9), (1, 13))
    assert spot(text, ("t", "a", "c")) == ((1, 18), (1, 22))
    assert spot(text, ("t", "a", "c", "d")) == ((1, 24), (1, 28))


# --- arrays of tables ---------------------------------------------------------------------

TOOLS = doc(
    "[[tools]]",
    'name = "a"',
    "",
    "[[tools]]",
    'name = "b"',
    "",
    "[tools.parameters]",
    'type = "object"',
)


def test_array_of_tables_entries_point_at_their_header_name() -> None:
    assert spot(TOOLS, ("tools",)) == ((1, 3), (1, 3))
    assert spot(TOOLS, ("tools", 0)) == ((1, 3), (1, 3))
    assert spot(TOOLS, ("tools", 0, "name")) == ((2, 1), (2, 8))
    assert spot(TOOLS, ("tools", 1)) == ((4, 3), (4, 3))
    assert spot(TOOLS, ("tools", 1, "name")) == ((5, 1), (5, 8))


def test_sub_table_belongs_to_latest_array_entry() -> None:
    assert spot(TOOLS, ("tools", 1, "parameters")) == ((7, 8), (7, 8))
    assert spot(TOOLS, ("tools", 1, "parameters", "type")) == ((8, 1), (8, 8))
    assert KeyLocator(TOOLS).find(("tools", 0, "parameters")) is None
    assert KeyLocator(TOOLS).find(("tools", 2)) is None


def test_nested_arrays_of_tables() -> None:
    text = doc(
        "[[a]]",
        "[[a.b]]",
        "x = 1",
        "[[a.b]]",
        "x = 2",
        "[[ a ]]",
        "[[a.b]]",
        "[a.b.c]",
        "y = 3",
    )
    assert spot(text, ("a", 0)) == ((1, 3), (1, 3))
    assert spot(text, ("a", 0, "b")) == ((2, 5), (2, 5))
    assert spot(text, ("a", 0, "b", 0)) == ((2, 5), (2, 5))
    assert spot(text, ("a", 0, "b", 0, "x")) == ((3, 1), (3, 5))
    assert spot(text, ("a", 0, "b", 1)) == ((4, 5), (4, 5))
    assert spot(text, ("a", 0, "b", 1, "x")) == ((5, 1), (5, 5))
    assert spot(text, ("a", 1)) == ((6, 4), (6, 4))
    assert spot(text, ("a", 1, "b")) == ((7, 5), (7, 5))
    assert spot(text, ("a", 1, "b", 0)) == ((7, 5), (7, 5))
    assert spot(text, ("a", 1, "b", 0, "c")) == ((8, 6), (8, 6))
    assert spot(text, ("a", 1, "b", 0, "c", "y")) == ((9, 1), (9, 5))


# --- inline arrays ------------------------------------------------------------------------


def test_inline_array_elements() -> None:
    text = doc('modalities = ["audio", "txt"]')
    assert spot(text, ("modalities",)) == ((1, 1), (1, 14))
    assert spot(text, ("modalities", 0)) == ((1, 15), (1, 15))
    assert spot(text, ("modalities", 1)) == ((1, 24), (1, 24))


def test_inline_tables_and_arrays_nested_in_arrays() -> None:
    text = doc('tools = [{name = "a"}, {name = "b", args = [1, [2, 3]]}]')
    assert spot(text, ("tools", 0)) == ((1, 10), (1, 10))
    assert spot(text, ("tools", 0, "name")) == ((1, 11), (1, 18))
    assert spot(text, ("tools", 1)) == ((1, 24), (1, 24))
    assert spot(text, ("tools", 1, "name")) == ((1, 25), (1, 32))
    assert spot(text, ("tools", 1, "args")) == ((1, 37), (1, 44))
    assert spot(text, ("tools", 1, "args", 1)) == ((1, 48), (1, 48))
    assert spot(text, ("tools", 1, "args", 1, 1)) == ((1, 52), (1, 52))


def test_multi_line_array_with_comments_and_trailing_commas() -> None:
    text = doc(
        "voices = [   # comment [x] = 1",
        '  "alloy",   # , "fake"',
        '  # "commented",',
        '  [ "a", ],',
        "]",
        "after = 1",
    )
    assert spot(text, ("voices", 0)) == ((2, 3), (2, 3))
    assert spot(text, ("voices", 1)) == ((4, 3), (4, 3))
    assert spot(text, ("voices", 1, 0)) == ((4, 5), (4, 5))
    assert spot(text, ("after",)) == ((6, 1), (6, 9))
    assert KeyLocator(text).find(("voices", 2)) is None


def test_empty_array_and_inline_table() -> None:
    text = doc("a = []", "b = {}", "c = [ ]", "d = 1")
    assert spot(text, ("a",)) == ((1, 1), (1, 5))
    assert spot(text, ("b",)) == ((2, 1), (2, 5))
    assert spot(text, ("d",)) == ((4, 1), (4, 5))
    assert KeyLocator(text).find(("a", 0)) is None


# --- keys -------------------------------------------------------------------------------


def test_quoted_keys() -> None:
    text = doc(
        r'"a\u0062" = 1',
        "'lit.eral' = 2",
        'a . "b c" . d = 3',
        '"" = 4',
        r'"é\"x" = 5',
        r"'c:\dir' = 6",
    )
    assert spot(text, ("ab",)) == ((1, 1), (1, 13))
    assert spot(text, ("lit.eral",)) == ((2, 1), (2, 14))
    assert spot(text, ("a", "b c")) == ((3, 5), (3, 5))
    assert spot(text, ("a", "b c", "d")) == ((3, 13), (3, 17))
    assert spot(text, ("",)) == ((4, 1), (4, 6))
    assert spot(text, ('é"x',)) == ((5, 1), (5, 10))
    assert spot(text, ("c:\\dir",)) == ((6, 1), (6, 12))


def test_quoted_keys_in_headers() -> None:
    text = doc('["a.b"]', "x = 1", "[ 'q' . \"r\\tq\" ]", "y = 2")
    assert spot(text, ("a.b",)) == ((1, 2), (1, 2))
    assert spot(text, ("a.b", "x")) == ((2, 1), (2, 5))
    assert spot(text, ("q", "r\tq")) == ((3, 9), (3, 9))
    assert spot(text, ("q", "r\tq", "y")) == ((4, 1), (4, 5))


# --- everything that must be skipped correctly ---------------------------------------------


def test_multi_line_strings_before_keys() -> None:
    text = doc(
        's = """',
        "a = 1",
        "[fake]",
        '""""',
        't = """x\\',
        '   y"""',
        "u = '''",
        "[[fake]] '''''",
        r'v = """\\"""',
        r'w = """a\"""b"""',
        r'x = "a\"b # [c] = 1"',
        "y = 'c:\\' # '",
        "real = 1",
    )
    data = tomllib.loads(text)
    assert data["s"] == 'a = 1\n[fake]\n"'
    assert data["u"] == "[[fake]] ''"
    assert data["w"] == 'a"""b'
    assert spot(text, ("s",)) == ((1, 1), (1, 5))
    assert spot(text, ("t",)) == ((5, 1), (5, 5))
    assert spot(text, ("u",)) == ((7, 1), (7, 5))
    assert spot(text, ("v",)) == ((9, 1), (9, 5))
    assert spot(text, ("w",)) == ((10, 1), (10, 5))
    assert spot(text, ("x",)) == ((11, 1), (11, 5))
    assert spot(text, ("y",)) == ((12, 1), (12, 5))
    assert spot(text, ("real",)) == ((13, 1), (13, 8))
    assert KeyLocator(text).find(("fake",)) is None
    assert KeyLocator(text).find(("a",)) is None


def test_multi_line_string_ends_only_at_unescaped_closing_quotes() -> None:
    text = doc(
        r'w = """a\"""',
        "fake = 1",
        '"""',
        r'arr = ["""x"""", """y""""", """\"""", ' + "'''z''''', 3, " + '"""',
        '"""]',
        "real = 1",
    )
    assert tomllib.loads(text)["arr"] == ['x"', 'y""', '"', "z''", 3, ""]
    assert KeyLocator(text).find(("fake",)) is None
    columns = [8, 18, 29, 39, 50, 53]
    for index, column in enumerate(columns):
        assert spot(text, ("arr", index)) == ((4, column), (4, column))
    assert spot(text, ("real",)) == ((6, 1), (6, 8))


def test_comments_and_strings_with_brackets() -> None:
    text = doc(
        "# [not.a.table]",
        "# [[not.an.array]]",
        'key = "v" # [also.not] = 1',
        's = "# [x] = 1"',
        "[real] # [fake]",
        "x = 1 # y = 2",
    )
    locator = KeyLocator(text)
    assert spot(text, ("key",)) == ((3, 1), (3, 7))
    assert spot(text, ("s",)) == ((4, 1), (4, 5))
    assert spot(text, ("real",)) == ((5, 2), (5, 2))
    assert spot(text, ("real", "x")) == ((6, 1), (6, 5))
    for missing in [("not",), ("also",), ("x",), ("fake",), ("real", "y")]:
        assert locator.find(missing) is None


def test_crlf_line_endings() -> None:
    text = '[a]\r\nb = 1\r\nc = [\r\n  1,\r\n  2,\r\n]\r\nd = """x\r\ny"""\r\ne = 2\r\n'
    assert spot(text, ("a", "b")) == ((2, 1), (2, 5))
    assert spot(text, ("a", "c", 1)) == ((5, 3), (5, 3))
    assert spot(text, ("a", "d")) == ((7, 1), (7, 5))
    assert spot(text, ("a", "e")) == ((9, 1), (9, 5))


def test_tabs_and_indentation() -> None:
    text = "\t[t]\n\tk\t=\t1\n  [[u]]\n    v = 2\n"
    assert spot(text, ("t",)) == ((1, 3), (1, 3))
    assert spot(text, ("t", "k")) == ((2, 2), (2, 6))
    assert spot(text, ("u", 0)) == ((3, 5), (3, 5))
    assert spot(text, ("u", 0, "v")) == ((4, 5), (4, 9))


def test_columns_count_characters_not_bytes() -> None:
    text = doc(
        'name = "héllo 世界"  # ü',
        '"ключ" = { "é" = 1, b = 2 }',
        'x = ["日本", "語"]',
        'y = ["😀", 2]',
    )
    assert spot(text, ("ключ",)) == ((2, 1), (2, 10))
    assert spot(text, ("ключ", "é")) == ((2, 12), (2, 18))
    assert spot(text, ("ключ", "b")) == ((2, 21), (2, 25))
    assert spot(text, ("x", 1)) == ((3, 12), (3, 12))
    assert spot(text, ("y", 1)) == ((4, 11), (4, 11))


def test_numbers_dates_and_times() -> None:
    text = doc(
        "a = [+1_000, 0x1F, inf, -nan, 1e5, 1979-05-27T07:32:00Z, 07:32:00,"
        " 1979-05-27 07:32:00, true, 1979-05-27]",
        "d = 1979-05-27 07:32:00.999 # comment",
        "o = -0.0e-1",
        "t = false",
        "z = 1979-05-27T00:32:00-07:00",
        "after = 0o17",
    )
    columns = [6, 14, 20, 25, 31, 36, 58, 68, 89, 95]
    for index, column in enumerate(columns):
        assert spot(text, ("a", index)) == ((1, column), (1, column))
    assert spot(text, ("d",)) == ((2, 1), (2, 5))
    assert spot(text, ("o",)) == ((3, 1), (3, 5))
    assert spot(text, ("t",)) == ((4, 1), (4, 5))
    assert spot(text, ("z",)) == ((5, 1), (5, 5))
    assert spot(text, ("after",)) == ((6, 1), (6, 9))


# --- find, locate and the convenience accessors --------------------------------------------


def test_empty_path_is_the_start_of_the_document() -> None:
    start = Located(Position(1, 1), Position(1, 1))
    locator = KeyLocator(TOOLS)
    assert locator.find(()) == start
    assert locator.locate(()) == ((), start)
    assert KeyLocator("").locate(("x",)) == ((), start)


def test_locate_falls_back_to_the_longest_found_prefix() -> None:
    text = doc("[turn_detection]", "threshold = 0.6")
    locator = KeyLocator(text)
    header = Located(Position(1, 2), Position(1, 2))
    assert locator.find(("turn_detection", "nope", "x")) is None
    assert locator.locate(("turn_detection", "nope", "x")) == (("turn_detection",), header)
    assert locator.locate(("turn_detection", "threshold", 0)) == (
        ("turn_detection", "threshold"),
        Located(Position(2, 1), Position(2, 13)),
    )
    assert locator.locate(("unknown",)) == ((), Located(Position(1, 1), Position(1, 1)))
    assert locator.key_position(("turn_detection", "threshold")) == Position(2, 1)
    assert locator.value_position(("turn_detection", "threshold")) == Position(2, 13)
    assert locator.key_position(("turn_detection", "missing")) == Position(1, 2)
    assert locator.value_position(("missing",)) == Position(1, 1)

    tools = KeyLocator(TOOLS)
    assert tools.locate(("tools", 5, "name"))[0] == ("tools",)
    assert tools.locate(("tools", "0"))[0] == ("tools",)  # indices are ints, keys are str


def test_find_is_exact() -> None:
    locator = KeyLocator(doc("a = 1", '"1" = 2', "b = [3]"))
    assert locator.find(("a",)) is not None
    assert locator.find(("a", "x")) is None
    assert locator.find(("1",)) is not None
    assert locator.find((1,)) is None
    assert locator.find(("b", "0")) is None
    assert locator.find(("b", 0)) is not None


# --- properties -------------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_keys = st.text(max_size=6)
_scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.dates(),
    st.times(),
    st.datetimes(
        timezones=st.sampled_from([None, timezone.utc, timezone(timedelta(hours=-7, minutes=-30))])
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)
_documents = st.dictionaries(_keys, _values, max_size=6)


def _paths(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _char_at(lines: list[str], position: Position) -> str:
    return lines[position.line - 1][position.column - 1 :]


@settings(deadline=None, max_examples=300)
@given(_documents, st.booleans())
def test_every_path_of_a_dumped_document_is_found(data: dict[str, Any], multiline: bool) -> None:
    text = tomli_w.dumps(data, multiline_strings=multiline)
    loaded = tomllib.loads(text)
    locator = KeyLocator(text)
    lines = text.split("\n")
    for path, value in _paths(loaded):
        located = locator.find(path)
        assert located is not None, (path, text)
        assert locator.locate(path) == (path, located)
        if not path:
            continue
        key_text = _char_at(lines, located.key)
        if isinstance(path[-1], str):
            if _BARE.fullmatch(path[-1]):
                assert key_text.startswith(path[-1]), (path, text)
            else:
                assert key_text[:1] in "\"'", (path, text)
        value_text = _char_at(lines, located.value)
        if isinstance(value, bool):
            assert value_text.startswith(str(value).lower()), (path, text)
        elif isinstance(value, (int, float)):
            assert value_text[:1] in "+-0123456789in", (path, text)
        elif isinstance(value, str):
            assert value_text[:1] in "\"'", (path, text)
        elif not isinstance(value, (dict, list)):  # dates and times
            assert value_text[:1].isdigit(), (path, text)


_toml_ish = st.text(alphabet=st.sampled_from(list("[]{}\"'=.,#\n\r\t \\abu1-:é")))
_any_paths = st.lists(st.one_of(st.text(max_size=3), st.integers(-1, 3)), max_size=4)


@given(st.one_of(st.text(), _toml_ish), _any_paths)
def test_never_raises_on_arbitrary_text(text: str, path: list[str | int]) -> None:
    # The scanner itself, without the safety net of KeyLocator, must not raise either.
    _Scanner(text, _Node(0, 0, 0, True)).run()
    locator = KeyLocator(text)
    prefix, located = locator.locate(tuple(path))
    assert prefix == tuple(path[: len(prefix)])
    assert located.key.line >= 1
    assert located.key.column >= 1


@pytest.mark.parametrize(
    "text",
    [
        "a = [",
        'a = "',
        'a = """',
        "a = '''x''",
        "[[",
        "[a",
        "[[a]",
        "a = {",
        "a = { b = ",
        "a = { = 1 }",
        "a = [1, }, ]]",
        "a = { b = [1 }",
        "a.",
        "a =",
        '"a\\',
        '"\\U0011FFFF" = 1',
        "= = =",
        "[a]\n[[a]]\n[a.b]\n[[a.b.c]]",
        "\\",
        "\r\r\n",
    ],
)
def test_never_raises_on_malformed_text(text: str) -> None:
    _Scanner(text, _Node(0, 0, 0, True)).run()
    KeyLocator(text).locate(("a", 0, "b"))


def test_deep_nesting_does_not_recurse() -> None:
    depth = 100_000
    text = "a = " + "[" * depth + "]" * depth
    locator = KeyLocator(text)
    assert spot_of(locator, ("a",)) == ((1, 1), (1, 5))
    assert spot_of(locator, ("a", 0, 0)) == ((1, 7), (1, 7))
    prefix, _ = locator.locate(("a", *[0] * depth))
    assert 100 < len(prefix) < depth
    KeyLocator("a = " + "{b = " * depth + "}" * depth)
    KeyLocator("a." * depth + "b = 1")
    KeyLocator("[" + "a." * depth + "b]")


def test_a_document_over_a_mebibyte_is_located_to_its_last_key() -> None:
    text = "".join(
        f'[t{i}]\nkey_{i} = "value {i}"  # comment\nn.m = [1, 2, {{a = 3}}]\n'
        for i in range(16_000)
    )
    assert len(text) > 1_000_000
    locator = KeyLocator(text)
    assert spot_of(locator, ("t15999", "n", "m", 2, "a")) == ((48_000, 15), (48_000, 19))


def spot_of(locator: KeyLocator, path: KeyPath) -> Spot:
    found = locator.find(path)
    assert found is not None, path
    return (found.key.line, found.key.column), (found.value.line, found.value.column)
