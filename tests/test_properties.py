"""Laws over many inputs: validate never crashes, whatever the bytes; loading fails only cleanly."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_config import (
    TARGETS,
    PresetError,
    check_files,
    compile_preset,
    load_preset,
    load_schema,
)
from tests.conftest import PRESETS, shipped_presets

SHIPPED_TEXTS = {p.relative_to(PRESETS).as_posix(): p.read_text("utf-8") for p in shipped_presets()}
FIELDS = [
    *load_schema()["$defs"]["beta"]["properties"],
    "turn_detection.threshold",
    "tools",
    "unknown",
]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def project_copy() -> Iterator[Path]:
    """A throwaway project holding the shipped presets (bases and instructions included)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text("", encoding="utf-8")
        shutil.copytree(PRESETS, root / "presets")
        yield root


def assert_checks_cleanly(root: Path, path: Path) -> None:
    diagnostics = check_files([path], root=root)
    for diagnostic in diagnostics:
        assert diagnostic.line >= 1
        assert diagnostic.column >= 1
        assert "\n" not in diagnostic.message
    try:
        preset = load_preset(path, root=root)
    except PresetError as error:
        assert any(d.is_error for d in error.diagnostics)
        assert any(d.is_error for d in diagnostics)
        return
    assert not any(d.is_error for d in diagnostics)
    for target in TARGETS:
        try:
            compile_preset(preset, target, drop_unsupported=True)
        except PresetError as error:  # only a target that cannot carry the session at all
            assert [d.rule for d in error.diagnostics] == ["target-refused"], target


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes_never_crash_validate(data: bytes) -> None:
    with project_copy() as root:
        path = root / "presets" / "fuzz.toml"
        path.write_bytes(data)
        assert_checks_cleanly(root, path)


@st.composite
def mutated_presets(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(SHIPPED_TEXTS)))
    text = SHIPPED_TEXTS[name]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["delete", "insert", "replace", "duplicate-line", "swap-lines"])
        )
        position = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)) :]
        elif kind == "insert":
            snippet = draw(
                st.text(alphabet=st.sampled_from(list("[]{}=\",.'#\n \\xtf01e-+:")), max_size=8)
                | st.sampled_from(FIELDS).map(lambda f: f"\n{f} = ")
            )
            text = text[:position] + snippet + text[position:]
        elif kind == "replace":
            # A text file holds no lone surrogate (random bytes are the test above).
            character = draw(st.characters(exclude_categories=["Cs"]))
            text = text[:position] + character + text[position + 1 :]
        else:
            lines = text.split("\n")
            first = draw(st.integers(0, len(lines) - 1))
            second = draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate-line":
                lines.insert(second, lines[first])
            else:
                lines[first], lines[second] = lines[second], lines[first]
            text = "\n".join(lines)
    return name, text


@SETTINGS
@given(mutated_presets())
def test_mutated_presets_never_crash(case: tuple[str, str]) -> None:
    name, text = case
    with project_copy() as root:
        path = root / "presets" / name
        path.write_text(text, encoding="utf-8", newline="")
        assert_checks_cleanly(root, path)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.dates()
    | st.times()
)
toml_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars.filter(lambda v: v is not None),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


@SETTINGS
@given(st.dictionaries(st.sampled_from(FIELDS), toml_values, max_size=6))
def test_well_formed_toml_of_any_shape_never_crashes(table: dict[str, Any]) -> None:
    with project_copy() as root:
        path = root / "presets" / "shape.toml"
        path.write_text(tomli_w.dumps(table), encoding="utf-8")
        assert_checks_cleanly(root, path)
