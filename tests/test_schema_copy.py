"""A project's copy of the schema: `new` writes it, `validate` tells a stale one, `schema --write`
refreshes it."""

from __future__ import annotations

import json
from pathlib import Path

from realtime_config import load_schema
from realtime_config._schema import schema_text
from tests.conftest import run_cli as run
from tests.conftest import write
from tests.test_taplo import lint

COPY = "schema/realtime-session.schema.json"
HEADER = "#:schema ../schema/realtime-session.schema.json"
STALE = (
    "presets/agent.toml:1:10: warning: stale schema copy schema/realtime-session.schema.json: "
    "it differs from the schema of this version; "
    "run `realtime-config schema --write schema/realtime-session.schema.json`\n"
)


def older_copy() -> str:
    """This schema as an older version would have it: the same $id, one field fewer."""
    schema = json.loads(schema_text())
    del schema["$defs"]["realtime"]["properties"]["tracing"]
    return json.dumps(schema, indent=2) + "\n"


def agent(project: Path) -> Path:
    return write(project / "presets" / "agent.toml", f'{HEADER}\ntype = "realtime"\n')


def test_new_writes_the_schema_copy_its_header_names(project: Path) -> None:
    assert run("new", "support") == (
        0,
        "created schema/realtime-session.schema.json\ncreated presets/support.toml\n",
        "",
    )
    preset = project / "presets" / "support.toml"
    header = preset.read_text(encoding="utf-8").splitlines()[0]
    assert header == HEADER
    named = preset.parent / header.removeprefix("#:schema ")
    assert named.read_text(encoding="utf-8") == schema_text()
    assert lint(str(preset), cwd=project)[0] == 0
    assert run("validate", "presets/support.toml") == (0, "1 preset valid\n", "")


def test_new_keeps_the_copy_the_project_has(project: Path) -> None:
    old = write(project / COPY, older_copy())
    assert run("new", "support") == (0, "created presets/support.toml\n", "")
    assert old.read_text(encoding="utf-8") == older_copy()


def test_validate_warns_at_the_header_of_a_preset_naming_a_stale_copy(project: Path) -> None:
    write(project / COPY, older_copy())
    agent(project)
    assert run("validate", "presets/agent.toml") == (
        0,
        STALE,
        "1 preset checked: 0 error(s), 1 warning(s)\n",
    )
    assert run("validate", "--strict", "presets/agent.toml")[0] == 1


def test_schema_write_refreshes_the_copy_and_the_warning_goes(project: Path) -> None:
    write(project / COPY, older_copy())
    agent(project)
    assert run("schema", "--write", COPY) == (0, f"wrote {COPY}\n", "")
    assert (project / COPY).read_text(encoding="utf-8") == schema_text()
    assert run("validate", "presets/agent.toml") == (0, "1 preset valid\n", "")
    assert run("schema", "--write", COPY) == (0, f"up to date: {COPY}\n", "")


def test_no_warning_for_a_header_naming_anything_but_a_copy(project: Path) -> None:
    other = {"$id": "https://example.com/mine.json", "type": "object"}
    write(project / "schema" / "mine.json", json.dumps(other))
    headers = [
        "#:schema ../schema/mine.json",
        "#:schema ../schema/missing.json",
        f"#:schema {load_schema()['$id']}",
        "# no header",
    ]
    for number, header in enumerate(headers):
        write(project / "presets" / f"p{number}.toml", f'{header}\ntype = "realtime"\n')
    assert run("validate") == (0, "4 presets valid\n", "")


def test_schema_write_keeps_a_file_that_is_no_copy_unless_forced(project: Path) -> None:
    mine = write(project / "schema" / "mine.json", '{"$id": "https://example.com/mine.json"}')
    assert run("schema", "--write", "schema/mine.json") == (
        1,
        "",
        "realtime-config: error: schema/mine.json: already exists; use --force to overwrite it\n",
    )
    assert mine.read_text(encoding="utf-8") == '{"$id": "https://example.com/mine.json"}'
    assert run("schema", "--write", "schema/mine.json", "--force") == (
        0,
        "wrote schema/mine.json\n",
        "",
    )
    assert mine.read_text(encoding="utf-8") == schema_text()


def test_schema_write_into_a_missing_folder_and_with_path(project: Path) -> None:
    code, out, err = run("schema", "--write", "nowhere/copy.json")
    assert (code, out) == (1, "")
    assert err.startswith("realtime-config: error: nowhere/copy.json: ")
    code, out, err = run("schema", "--path", "--write", COPY)
    assert (code, out) == (2, "")
    assert err.endswith("Error: --path and --write: pick one\n")
    assert not (project / "schema").exists()


def test_a_file_uri_header_naming_a_stale_copy_warns_too(project: Path) -> None:
    copy = write(project / COPY, older_copy())
    write(project / "presets" / "agent.toml", f'#:schema {copy.as_uri()}\ntype = "realtime"\n')
    code, out, _ = run("validate", "presets/agent.toml")
    assert (code, out) == (0, STALE)
