"""The compiled tomli gives tomllib's answers: the same table, or a failure from both.

``_fastparse.loads`` parses with the mypyc-compiled tomli when it is installed (about twice as
fast as the pure-Python tomllib) and hands any failure to tomllib, for tomllib's own
exception. That is only right if the two never disagree on what is valid TOML and what it
means: these tests parse the presets, the invalid cases and generated mutations of them with
both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

# Private: the law compares the compiled parser with tomllib, which no public call tells apart.
from realtime_config.preset import _fastparse
from tests.conftest import PROJECT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

SOURCES = sorted(
    path
    for path in [*PROJECT.glob("presets/**/*.toml"), *PROJECT.glob("tests/cases/**/*.toml")]
    if path.is_file()
)

compiled = _fastparse.compiled_loads()
needs_compiled = pytest.mark.skipif(
    compiled is None, reason="no compiled tomli 2.1-2.3 on this platform: tomllib alone parses"
)


def both(text: str) -> tuple[object, object]:
    """What tomllib and the compiled parser make of ``text``: a table, or "error"."""
    assert compiled is not None
    answers: list[object] = []
    for loads in (tomllib.loads, compiled):
        try:
            answers.append(loads(text))
        except Exception:  # which error does not matter: tomllib words it
            answers.append("error")
    return answers[0], answers[1]


def test_the_compiled_parser_is_used_where_it_is_installed() -> None:
    import tomli  # a dependency on every Python

    built = str(tomli._parser.__file__).endswith(".so")
    assert (compiled is not None) == (built and tomli.__version__ < "2.4")


def test_the_sources_are_found() -> None:
    assert len(SOURCES) >= 20


@needs_compiled
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_preset_and_case_parses_alike(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", "replace")
    first, second = both(text)
    assert first == second or repr(first) == repr(second)  # nan is not equal to itself
    assert type(first) is type(second)


TOML_PIECES = st.sampled_from(
    [
        *"[]{}=,.\"'#\n \t\\+-_:0123456789eE",
        *["'''", '"""', "\r\n", "inf", "nan", "true", "0x1F", "1_000", "a.b", "\\u00e9"],
        *["1979-05-27T07:32:00Z", "07:32:00", "\x7f", "\x00"],
    ]
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    """A preset or case with a few pieces of TOML syntax inserted, deleted or replaced."""
    text = SOURCES[draw(st.integers(0, len(SOURCES) - 1))].read_text(
        encoding="utf-8", errors="replace"
    )
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        piece = draw(TOML_PIECES) if draw(st.booleans()) else ""
        text = text[:at] + piece + text[at + cut :]
    return text


@needs_compiled
@settings(max_examples=1500, deadline=None)
@given(mutated_documents())
@example("a = {b = 1, }\n")  # a trailing comma in an inline table: TOML 1.1 only
@example('a = "\\x41"\n')  # \x escapes: TOML 1.1 only
@example("a = 07:32\n")  # a time without seconds: TOML 1.1 only
@example("a = {\nb = 1}\n")  # a newline in an inline table: TOML 1.1 only
def test_mutated_documents_parse_alike(text: str) -> None:
    first, second = both(text)
    assert first == second or repr(first) == repr(second)  # nan is not equal to itself
    assert type(first) is type(second)


@settings(max_examples=300, deadline=None)
@given(mutated_documents())
@example("a = [" * 70 + "]" * 70 + "\n")  # deep nesting: the parse_toml refuses it first
@example("a = " + "1" * 5000 + "\n")  # past int()'s digit limit: a ValueError, not a decode error
@example("seconds = nan\n")  # nan is not equal to itself: the answers are compared by repr
def test_loads_gives_tomllib_answer_and_its_exception(text: str) -> None:
    """Tables are equal; a failure is tomllib's own exception, type and words."""
    try:
        expected: object = tomllib.loads(text)
    except Exception as error:  # the exception itself is the answer
        expected = (type(error), str(error))
    try:
        found: object = _fastparse.loads(text)
    except Exception as error:  # the exception itself is the answer
        found = (type(error), str(error))
    assert found == expected or repr(found) == repr(expected)  # nan is not equal to itself
