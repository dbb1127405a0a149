"""Recursive ``$ref`` in a function tool's parameters: found through any chain of local
pointers, never for a pointer that is not recursive (into an array, escaped, remote,
dangling)."""

from __future__ import annotations

from pathlib import Path

from realtime_config import check_files
from tests.conftest import write

TOOL = '[[tools]]\ntype = "function"\nname = "f"\ndescription = "d"\n[tools.parameters]\ntype = "object"\n'


def lines(path: Path) -> list[str]:
    return [str(d) for d in check_files([path])]


def test_a_cycle_through_two_definitions_is_found_at_the_first_reference_into_it(
    project: Path,
) -> None:
    path = write(
        project / "p.toml",
        TOOL
        + 'properties = { x = { "$ref" = "#/$defs/a" } }\n'
        + '[tools.parameters."$defs"]\n'
        + 'a = { type = "object", properties = { b = { "$ref" = "#/$defs/b" } } }\n'
        + 'b = { type = "object", properties = { a = { "$ref" = "#/$defs/a" } } }\n',
    )
    assert lines(path) == [
        'p.toml:7:31: warning: tools[0].parameters.properties.x."$ref": "#/$defs/a" makes the '
        "parameters recursive: it refers to a schema that contains it, so the arguments have "
        "no depth limit"
    ]


def test_a_chain_of_references_that_ends_is_no_warning(project: Path) -> None:
    path = write(
        project / "p.toml",
        TOOL
        + 'properties = { x = { "$ref" = "#/$defs/a" }, y = { "$ref" = "#/$defs/b" } }\n'
        + '[tools.parameters."$defs"]\n'
        + 'a = { type = "object", properties = { b = { "$ref" = "#/$defs/b" } } }\n'
        + 'b = { type = "string" }\n',
    )
    assert lines(path) == []


def test_pointers_into_arrays_escaped_remote_or_dangling_are_not_recursive(project: Path) -> None:
    """None of these is recursive; the two local pointers that name nothing get a warning."""
    path = write(
        project / "p.toml",
        TOOL
        + "properties = { "
        + 'y = { "$ref" = "#/prefixItems/0" }, '
        + 'z = { "$ref" = "#/$defs/a~1b~0c" }, '
        + 'w = { "$ref" = "https://example.com/s.json" }, '
        + 'v = { "$ref" = "#/$defs/missing" }, '
        + 'u = { "$ref" = "#/prefixItems/7" } }\n'
        + 'prefixItems = [{ type = "string" }]\n'
        + '[tools.parameters."$defs"]\n'
        + '"a/b~c" = { type = "string" }\n',
    )
    assert lines(path) == [
        'p.toml:7:150: warning: tools[0].parameters.properties.v."$ref": "#/$defs/missing" '
        "points at nothing in the parameters",
        'p.toml:7:186: warning: tools[0].parameters.properties.u."$ref": "#/prefixItems/7" '
        "points at nothing in the parameters",
    ]
