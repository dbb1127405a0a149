"""The authoring commands: ``new``, ``import``, ``migrate``, ``explain``, ``diff`` and
``schema``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from realtime_config._diagnostics import printable
from realtime_config._errors import PresetError, RealtimeConfigError
from realtime_config.cli._options import (
    INPUT_FILE,
    TARGET_CHOICE,
    drop_unsupported_option,
    root_option,
)
from realtime_config.cli._shell import (
    exit_2_on_failure,
    exit_status,
    fail,
    fail_and_stop,
    print_failure,
    print_warnings,
    repair_interrupted,
    report_errors,
    report_written,
)

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from realtime_config.authoring._migrate import Migration


@click.command("new")
@click.argument("name")
@click.option(
    "--from",
    "base",
    type=click.Path(dir_okay=False, path_type=Path, readable=False),
    help="A preset for the new one to extend (preset.extends).",
)
@click.option("--force", is_flag=True, help="Overwrite presets/NAME.toml if it exists.")
@click.option(
    "--transcription",
    is_flag=True,
    help='A GA transcription session (type = "transcription").',
)
@click.option(
    "--translation",
    is_flag=True,
    help='A translation session (type = "translation", gpt-realtime-translate).',
)
@click.option(
    "--beta",
    is_flag=True,
    help="A beta preset (the fields of POST /v1/realtime/sessions).",
)
@report_errors
def new_command(
    name: str, base: Path | None, force: bool, transcription: bool, translation: bool, beta: bool
) -> None:
    """Write a starter preset at presets/NAME.toml of the project.

    A GA realtime preset (type = "realtime") unless --transcription, --translation or
    --beta says otherwise; it lists every session field with its server default, commented
    out. With --from, the starter extends that preset and lists the fields of its dialect.
    """
    from realtime_config._errors import PresetNameError
    from realtime_config._project import find_root
    from realtime_config._schema_copy import PROJECT_COPY
    from realtime_config.authoring._starter import DEFAULT_DIALECT, new_preset

    chosen = [
        flag
        for flag, on in (
            ("transcription", transcription),
            ("translation", translation),
            ("beta", beta),
        )
        if on
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"--{chosen[0]} and --{chosen[1]}: a preset has one dialect")
    dialect = chosen[0] if chosen else None
    if base is not None and dialect is not None:
        raise click.UsageError(f"--{dialect} and --from: the base preset sets the dialect")
    copy = find_root(Path.cwd()) / PROJECT_COPY
    had_copy = copy.exists() or copy.is_symlink()
    try:
        path = new_preset(name, base=base, overwrite=force, dialect=dialect or DEFAULT_DIALECT)
    except PresetNameError as error:
        raise click.BadParameter(str(error), param_hint="'NAME'") from None
    report_written("created", [copy, path] if not had_copy and copy.is_file() else [path])


@click.command("import")
@click.argument("payload", type=INPUT_FILE)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the preset to this file (atomically) instead of stdout.",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option(
    "--drop-unknown",
    is_flag=True,
    help="Leave out keys this version's schema does not know (a warning for each).",
)
@report_errors
def import_command(payload: Path, output: Path | None, force: bool, drop_unknown: bool) -> None:
    """Turn PAYLOAD.json into a TOML preset of its own dialect.

    PAYLOAD is a request body (client_secrets, calls.accept, or the beta sessions body), a
    client_secrets response, a session object as the API returns it, or a session.created,
    session.updated or session.update event. A GA shape gives a GA preset, a beta one a beta
    preset; read-only keys such as id, value and event_id are dropped and named.
    """
    from realtime_config._files import write_atomic
    from realtime_config.authoring._importer import import_file

    try:
        imported = import_file(payload, destination=output, drop_unknown=drop_unknown)
    except PresetError as error:
        print_failure(error.diagnostics, "unknown-key")
    if output is None:
        click.echo(imported.text, nl=False)
    else:
        write_atomic(
            output, imported.text, overwrite=force, protected=[(payload, "the payload itself")]
        )
    if imported.dropped:
        click.echo(f"dropped read-only keys: {', '.join(imported.dropped)}", err=True)
    print_warnings(imported.warnings)


@click.command("migrate")
@click.argument("presets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the GA preset to this file (atomically); one PRESET only.",
)
@click.option("--in-place", is_flag=True, help="Rewrite each PRESET as its GA form.")
@click.option(
    "--drop-unsupported",
    is_flag=True,
    help="Leave out the fields GA does not have, such as temperature (warning for each).",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a preset would change.")
@root_option
def migrate_command(
    presets: tuple[Path, ...],
    output: Path | None,
    in_place: bool,
    drop_unsupported: bool,
    check: bool,
    root: Path | None,
) -> None:
    """Rewrite beta PRESETs as GA presets with the same client_secrets body.

    Comments, blank lines and preset.* settings are kept; give every file of an extends
    chain. One PRESET alone is printed to stdout unless -o or --in-place is given. Nothing
    is written when any preset fails, and --in-place writes every file or none: a failure
    or an interrupt puts the originals back (after a kill -9, the next run does).
    """
    from realtime_config.authoring._migrate import migrate_presets, migration_root

    if output is not None and (in_place or len(presets) != 1):
        raise click.UsageError("-o/--output takes one PRESET and no --in-place")
    if not (output or in_place or check) and len(presets) != 1:
        raise click.UsageError("several PRESETs need --in-place (or --check)")
    try:
        repair_interrupted(migration_root(presets, root), not in_place, "migrate --in-place")
    except RealtimeConfigError as error:
        fail(str(error))
    try:
        migrations = migrate_presets(presets, root=root, drop_unsupported=drop_unsupported)
    except PresetError as error:
        print_failure(error.diagnostics, "migrate-unsupported", errors_only=False)
    for migration in migrations:
        print_warnings(migration.warnings)
    chosen = {"check": check, "output": output is not None, "in-place": in_place}
    mode = next((name for name, given in chosen.items() if given), "stdout")
    try:
        _MIGRATE_MODES[mode](migrations, output, presets, root)
    except RealtimeConfigError as error:
        fail_and_stop(error)


def _migrate_check(migrations: list[Migration], *_: Any) -> None:
    """``migrate --check``: name each preset that would change; exit status 1 if any would."""
    stale = [m for m in migrations if m.changed]
    for migration in stale:
        click.echo(f"would migrate {printable(migration.display)}")
    if stale:
        exit_status(1)
    click.echo("every preset is already GA")


def _migrate_to_file(
    migrations: list[Migration], output: Path, presets: tuple[Path, ...], _root: Path | None
) -> None:
    """``migrate -o FILE``: the one preset's GA form, written atomically."""
    from realtime_config.authoring._migrate import write_migration

    write_migration(migrations[0], output, presets)


def _migrate_in_place(
    migrations: list[Migration], _output: Any, _presets: Any, root: Path | None
) -> None:
    """``migrate --in-place``: every file or none, then the files rewritten."""
    from realtime_config._commit import signals_held
    from realtime_config.authoring._migrate import write_migrations

    with signals_held():  # a signal after the last write waits for the report
        written = write_migrations(migrations, root=root)
        report_written("rewrote", [m.path for m in written])


def _migrate_to_stdout(migrations: list[Migration], *_: Any) -> None:
    """``migrate PRESET``: the one preset's GA form on standard output."""
    click.echo(migrations[0].text, nl=False)


_MIGRATE_MODES: dict[str, Callable[..., None]] = {
    "check": _migrate_check,
    "output": _migrate_to_file,
    "in-place": _migrate_in_place,
    "stdout": _migrate_to_stdout,
}
"""What ``migrate`` does with the migrated presets, by the option that chose it (the first
given of --check, -o and --in-place; else standard output)."""


def complete_field(
    context: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The field names ``explain`` knows that start with what is typed, in the chosen dialect
    (``--dialect``), else in every dialect."""
    from click.shell_completion import CompletionItem

    from realtime_config._schema import DIALECTS
    from realtime_config.authoring._explain import fields

    chosen = context.params.get("dialect")
    names = {
        field.name for dialect in ([chosen] if chosen else DIALECTS) for field in fields(dialect)
    }
    return [CompletionItem(name) for name in sorted(names) if name.startswith(incomplete)]


@click.command("explain")
@click.argument("field", required=False, shell_complete=complete_field)
@click.option(
    "--dialect",
    type=click.Choice(["realtime", "transcription", "translation", "beta"]),
    help="Which preset dialect: a GA realtime, transcription or translation session, or "
    "beta. Default: "
    "the GA realtime field of that name, else the beta one.",
)
@report_errors
def explain_command(field: str | None, dialect: str | None) -> None:
    """Explain a field of the preset format, or list every field.

    FIELD is a dotted key: audio.input.turn_detection.threshold, tools[].name (or
    tools.name). Shown: its type, allowed values, server default, how it is sent, its
    name in the other dialect, and its description, all read from the schema. Without
    FIELD, a table of every field of the dialect (GA realtime unless --dialect says).
    """
    import shutil

    from realtime_config.authoring._explain import DEFAULT_DIALECT, explain_field, field_table

    width = min(max(shutil.get_terminal_size((100, 24)).columns, 60), 100)
    text = (
        field_table(width=width, dialect=dialect or DEFAULT_DIALECT)
        if field is None
        else explain_field(field, dialect=dialect).text(width)
    )
    click.echo(text, nl=False)


@click.command("diff")
@click.argument("old", type=INPUT_FILE)
@click.argument("new", type=INPUT_FILE)
@click.option(
    "--target",
    "-t",
    type=TARGET_CHOICE,
    help="Endpoint to compile both for [default: each preset's preset.target, else "
    "client_secrets for GA presets and sessions for beta ones].",
)
@drop_unsupported_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one `+`, `-` or `~` line per dotted key; json: a list of changes for tools.",
)
@root_option
@exit_2_on_failure
def diff_command(
    old: Path,
    new: Path,
    target: str | None,
    drop_unsupported: bool,
    output_format: str,
    root: Path | None,
) -> None:
    """Show how two presets' compiled payloads differ, key by key.

    One line per dotted key of NEW's payload against OLD's: `~ key: old -> new`,
    `+ key: new`, `- key: old`. Arrays of tables (tools) are compared element by element,
    by index. Exit status, as diff(1): 0 identical payloads (nothing printed), 1 they
    differ, 2 a preset cannot be compiled or a usage error.
    """
    from realtime_config.authoring._diff import diff_presets

    try:
        diff = diff_presets(old, new, target=target, root=root, drop_unsupported=drop_unsupported)
    except PresetError as error:
        print_warnings(error.diagnostics)
        exit_status(2)
    except RealtimeConfigError as error:
        click.echo(f"realtime-config: error: {error}", err=True)
        exit_status(2)
    print_warnings(diff.warnings)
    click.echo(diff.to_json() if output_format == "json" else str(diff), nl=False)
    exit_status(1 if diff.changes else 0)


@click.command("schema")
@click.option("--path", "show_path", is_flag=True, help="Print where the installed schema file is.")
@click.option(
    "--write",
    "copy",
    type=click.Path(path_type=Path),
    help="Write the installed schema to this file (a project's copy for editors).",
)
@click.option(
    "--force", is_flag=True, help="With --write: overwrite a file that is no schema copy."
)
@report_errors
def schema_command(show_path: bool, copy: Path | None, force: bool) -> None:
    """Print the JSON Schema of presets (or, with --path, where it is installed).

    --write PATH writes it to a file instead: a file that already holds it is left alone,
    an older copy of it is replaced, anything else is kept unless --force.
    """
    from realtime_config._project import display_path
    from realtime_config._schema import schema_path, schema_text

    if show_path and copy is not None:
        raise click.UsageError("--path and --write: pick one")
    if show_path:
        click.echo(str(schema_path()))
    elif copy is not None:
        from realtime_config._schema_copy import write_schema_copy

        changed = write_schema_copy(copy, overwrite=force)
        click.echo(f"{'wrote' if changed else 'up to date:'} {display_path(copy.absolute())}")
    else:
        click.echo(schema_text(), nl=False)
