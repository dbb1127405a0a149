"""`realtime-config diff A B` and ``diff_presets``: how two presets' compiled payloads differ,
as dotted keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_config import Change, PresetDiff, PresetError, diff_presets, dumps_payload

# The comparison's laws hold for any JSON (1 against 1.0, keys no schema has): diff_presets
# only compares payloads compiled from valid presets, so these feed the comparison directly.
from realtime_config.authoring._diff import diff_payloads
from realtime_config.cli import main
from tests.conftest import BETA_CASES, PRESETS, write


def text_of(changes: list[Change]) -> str:
    """The changes one per line, as ``diff`` prints them."""
    return str(PresetDiff(tuple(changes)))


def json_of(changes: list[Change]) -> str:
    """The changes as ``diff --format json`` prints them."""
    return PresetDiff(tuple(changes)).to_json()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


OLD = """\
voice = "ash"
speed = 1.1
[turn_detection]
threshold = 0.5
[[tools]]
name = "lookup"
"""

NEW = """\
voice = "ash"
modalities = ["text", "audio"]
[turn_detection]
threshold = 0.6
[[tools]]
name = "lookup"
description = "Find a booking."
[[tools]]
name = "cancel"
"""


def test_diff_prints_changed_added_and_removed_keys(project: Path) -> None:
    old = write(project / "old.toml", OLD)
    new = write(project / "new.toml", NEW)
    assert run("diff", str(old), str(new)) == (
        1,
        '~ modalities: ["audio", "text"] -> ["text", "audio"]\n'
        "~ turn_detection.threshold: 0.5 -> 0.6\n"
        '+ tools[0].description: "Find a booking."\n'
        '+ tools[1]: {"type": "function", "name": "cancel"}\n'
        "- speed: 1.1\n",
        "",
    )


def test_diff_of_identical_payloads_prints_nothing_and_exits_0(project: Path) -> None:
    old = write(project / "old.toml", OLD)
    same = write(project / "same.toml", "# the same session, written otherwise\n" + OLD)
    assert run("diff", str(old), str(same)) == (0, "", "")
    assert run("diff", str(old), str(same), "--format", "json") == (0, "[]\n", "")


def test_diff_as_json(project: Path) -> None:
    old = write(project / "old.toml", OLD)
    new = write(project / "new.toml", NEW)
    code, out, err = run("diff", "--format", "json", str(old), str(new))
    assert (code, err) == (1, "")
    assert json.loads(out) == [
        {"op": "changed", "path": "modalities", "old": ["audio", "text"], "new": ["text", "audio"]},
        {"op": "changed", "path": "turn_detection.threshold", "old": 0.5, "new": 0.6},
        {"op": "added", "path": "tools[0].description", "new": "Find a booking."},
        {"op": "added", "path": "tools[1]", "new": {"type": "function", "name": "cancel"}},
        {"op": "removed", "path": "speed", "old": 1.1},
    ]


def test_diff_of_shipped_presets() -> None:
    base = str(PRESETS / "phone-support.toml")
    forced = str(BETA_CASES / "phone-support-forced-lookup.toml")
    assert run("diff", base, forced) == (
        1,
        '~ tool_choice: "auto" -> {"type": "function", "name": "lookup_booking"}\n',
        "",
    )


def test_diff_honours_the_target(project: Path) -> None:
    old = write(project / "old.toml", OLD)
    new = write(project / "new.toml", 'preset.target = "sessions"\n' + OLD.replace("1.1", "1.2"))
    assert run("diff", str(old), str(new), "--target", "beta.session.update") == (
        1,
        "~ session.speed: 1.1 -> 1.2\n",
        "",
    )
    assert run("diff", str(old), str(new)) == (1, "~ speed: 1.1 -> 1.2\n", "")


def test_diff_of_each_own_target(project: Path) -> None:
    old = write(project / "old.toml", 'voice = "ash"\n')
    new = write(project / "new.toml", 'voice = "ash"\npreset.target = "beta.session.update"\n')
    assert run("diff", str(old), str(new)) == (
        1,
        '- modalities: ["audio", "text"]\n'
        '- voice: "ash"\n'
        '+ type: "session.update"\n'
        '+ session: {"voice": "ash"}\n',
        "",
    )


def test_diff_drops_unsupported_fields_only_when_asked(project: Path) -> None:
    old = write(project / "old.toml", 'voice = "ash"\ntemperature = 0.8\n')
    new = write(project / "new.toml", 'voice = "cedar"\n')
    code, out, err = run("diff", "-t", "client_secrets", str(old), str(new))
    assert (code, out) == (2, "")
    assert err.startswith("old.toml:2:1: error: temperature is not supported by target")
    code, out, err = run("diff", "-t", "client_secrets", "--drop-unsupported", str(old), str(new))
    assert (code, out) == (1, '~ session.audio.output.voice: "ash" -> "cedar"\n')
    assert err.startswith("old.toml:2:1: warning: temperature is not supported by target")


def test_diff_of_a_broken_preset_is_exit_2_with_its_diagnostics(project: Path) -> None:
    good = write(project / "good.toml", OLD)
    bad = write(project / "bad.toml", "speed = 9\n")
    assert run("diff", str(good), str(bad)) == (
        2,
        "",
        "bad.toml:1:9: error: speed: 9 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)\n",
    )
    assert run("diff", str(bad), "missing.toml") == (
        2,
        "",
        "bad.toml:1:9: error: speed: 9 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)\n"
        "missing.toml:1:1: error: no such file\n",
    )


def test_diff_prints_warnings_on_stderr(project: Path) -> None:
    old = write(project / "old.toml", 'voice = "marine"\n')
    new = write(project / "new.toml", 'voice = "marin"\n')
    assert run("diff", str(old), str(new)) == (
        1,
        '~ voice: "marine" -> "marin"\n',
        "old.toml:1:9: warning: voice `marine` is not a known voice; did you mean `marin`?\n",
    )


def test_diff_usage_error_is_exit_2() -> None:
    code, _, err = run("diff", "only-one.toml")
    assert code == 2
    assert "Missing argument 'NEW'" in err


# --- The function: diff_presets ------------------------------------------------------------


def test_diff_presets_returns_the_changes_as_data(project: Path) -> None:
    old = write(project / "old.toml", OLD)
    new = write(project / "new.toml", NEW)
    found = diff_presets(old, new)
    assert [(c.kind, c.key) for c in found.changes] == [
        ("changed", "modalities"),
        ("changed", "turn_detection.threshold"),
        ("added", "tools[0].description"),
        ("added", "tools[1]"),
        ("removed", "speed"),
    ]
    assert (found.changes[1].old, found.changes[1].new) == (0.5, 0.6)
    assert found.warnings == ()
    assert str(found) == run("diff", str(old), str(new))[1]
    assert found.to_json() == run("diff", "--format", "json", str(old), str(new))[1]
    assert diff_presets(old, old).changes == ()


def test_diff_presets_compiles_for_the_target_and_keeps_the_warnings(project: Path) -> None:
    old = write(project / "old.toml", 'voice = "marine"\ntemperature = 0.8\n')
    new = write(project / "new.toml", 'voice = "marin"\n')
    found = diff_presets(old, new, target="client_secrets", drop_unsupported=True)
    assert str(found) == '~ session.audio.output.voice: "marine" -> "marin"\n'
    assert [(d.severity, d.rule) for d in found.warnings] == [
        ("warning", "unknown-value"),
        ("warning", "target-unsupported"),
    ]


def test_diff_presets_raises_the_problems_of_both_presets(project: Path) -> None:
    bad = write(project / "bad.toml", "speed = 9\n")
    with pytest.raises(PresetError) as caught:
        diff_presets(bad, project / "missing.toml", root=project)
    assert [str(d) for d in caught.value.diagnostics] == [
        "bad.toml:1:9: error: speed: 9 is greater than the maximum of 1.5 (allowed: 0.25 to 1.5)",
        "missing.toml:1:1: error: no such file",
    ]


def test_numbers_differ_by_json_type() -> None:
    assert [str(c) for c in diff_payloads({"a": 1}, {"a": 1.0})] == ["~ a: 1 -> 1.0"]
    assert [str(c) for c in diff_payloads({"a": True}, {"a": 1})] == ["~ a: true -> 1"]
    assert [str(c) for c in diff_payloads({"a": 0.0}, {"a": -0.0})] == ["~ a: 0.0 -> -0.0"]
    assert diff_payloads({"a": [1, "x"]}, {"a": [1, "x"]}) == []


def test_tables_are_compared_key_by_key_and_key_order_counts() -> None:
    old = {"tools": [{"parameters": {"a": 1, "b": {"c": 2}}}]}
    new = {"tools": [{"parameters": {"b": {"c": 3}, "a": 1}}]}
    changes = diff_payloads(old, new)
    assert changes == [
        Change("changed", ("tools", 0, "parameters", "b", "c"), 2, 3),
        Change("reordered", ("tools", 0, "parameters"), ["a", "b"], ["b", "a"]),
    ]
    assert text_of(changes) == (
        "~ tools[0].parameters.b.c: 2 -> 3\n"
        '~ tools[0].parameters: key order ["a", "b"] -> ["b", "a"]\n'
    )
    assert json.loads(json_of(changes))[1] == {
        "op": "reordered",
        "path": "tools[0].parameters",
        "old": ["a", "b"],
        "new": ["b", "a"],
    }


def test_a_reordered_payload_is_named_as_such() -> None:
    assert text_of(diff_payloads({"a": 1, "b": 2}, {"b": 2, "a": 1})) == (
        '~ (payload): key order ["a", "b"] -> ["b", "a"]\n'
    )


def test_arrays_of_tables_are_compared_by_index() -> None:
    old = {"tools": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    new = {"tools": [{"name": "a"}, {"name": "c"}]}
    assert text_of(diff_payloads(old, new)) == (
        '~ tools[1].name: "b" -> "c"\n- tools[2]: {"name": "c"}\n'
    )


def test_a_value_changing_kind_is_one_change() -> None:
    assert text_of(diff_payloads({"t": False}, {"t": {"type": "x"}})) == (
        '~ t: false -> {"type": "x"}\n'
    )
    assert text_of(diff_payloads({"t": None}, {"t": [{"a": 1}]})) == ('~ t: null -> [{"a": 1}]\n')


def test_removed_keys_keep_their_place() -> None:
    old = {"a": 1, "b": 2, "c": 3, "d": 4}
    new = {"a": 1, "c": 3, "e": 5}
    assert text_of(diff_payloads(old, new)) == "- b: 2\n- d: 4\n+ e: 5\n"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2, allow_nan=False).map(lambda f: round(f, 1))
    | st.sampled_from(["", "a", "b"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), json_values, max_size=4)


@settings(max_examples=300, deadline=None)
@given(payloads, payloads)
def test_no_changes_exactly_when_the_bytes_are_identical(old: Any, new: Any) -> None:
    changes = diff_payloads(old, new)
    assert (changes == []) == (dumps_payload(old) == dumps_payload(new))
    assert diff_payloads(old, old) == []
    assert all(change.path or change.kind == "reordered" for change in changes)
