"""The command line: click commands that turn options into one library call and an exit status.

Exit status: 0 all good, 1 a preset or a request failed, 2 a usage error (click's own).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from realtime_config._errors import PresetError, RealtimeConfigError
from realtime_config._version import __version__

if TYPE_CHECKING:
    from realtime_config._diagnostics import Diagnostic

F = TypeVar("F", bound=Callable[..., Any])


class _TargetChoice(click.Choice[str]):
    """The target names, read from the registry when an option first needs them: building
    the commands (``--version``, ``--help`` of another command) does not import it."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from realtime_config._targets import TARGETS

        return tuple(TARGETS)

    @choices.setter
    def choices(self, _value: tuple[str, ...]) -> None:
        """click.Choice sets its choices when built: these are the registry's."""


TARGET_CHOICE = _TargetChoice()


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class CommandError(click.ClickException):
    """A failed command: one line on stderr, ``realtime-config: error: ...``, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"realtime-config: error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    """Stop the command with a one-line error and exit status 1 (click prints it)."""
    raise CommandError(message)


def exit_status(code: int) -> NoReturn:
    """End a command that printed its own report, with its exit status."""
    raise click.exceptions.Exit(code)


def report_errors(command: F) -> F:
    """Turn any RealtimeConfigError into its diagnostics on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PresetError as error:
            from realtime_config._diagnostics import format_text

            color = use_color(sys.stderr)
            for diagnostic in remedied(error.diagnostics):
                click.echo(format_text(diagnostic, color=color), err=True, color=color)
            exit_status(1)
        except RealtimeConfigError as error:
            fail(with_remedy(error))

    return wrapper  # type: ignore[return-value]


OUTPUT_REMEDIES = {"exists": "use --force to overwrite it"}
"""What the command line adds to a library OutputFileError of each reason: its own flags."""

DIAGNOSTIC_REMEDIES = {"target-unsupported": "remove it or use --drop-unsupported"}
"""What the command line adds to an error diagnostic of each rule, where one of its flags helps."""


def remedied(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics, each error followed by this command line's remedy, if it has one."""
    import dataclasses

    found = []
    for diagnostic in diagnostics:
        remedy = DIAGNOSTIC_REMEDIES.get(diagnostic.rule) if diagnostic.is_error else None
        message = f"{diagnostic.message}; {remedy}" if remedy else diagnostic.message
        found.append(dataclasses.replace(diagnostic, message=message) if remedy else diagnostic)
    return found


def with_remedy(error: RealtimeConfigError) -> str:
    """The error's text, followed by what to do about it on this command line, if anything."""
    from realtime_config._errors import OutputFileError

    remedy = OUTPUT_REMEDIES.get(error.reason) if isinstance(error, OutputFileError) else None
    return f"{error}; {remedy}" if remedy else str(error)


def exit_2_on_failure(command: F) -> F:
    """``diff``'s contract, as diff(1)'s: status 1 means "they differ", so a failure is 2.

    Whatever fails (a preset, a write to a full disk or a closed pipe, an interrupt, a bug)
    must not read as "the payloads differ" to a script.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code: int | None = None
            try:
                result = command(*args, **kwargs)
            except click.exceptions.Exit as done:  # the command's own status: 0 or 1
                code = done.exit_code
            sys.stdout.flush()  # a full disk or a closed pipe fails here, not at exit
        except click.ClickException as error:
            error.show()
        except PresetError as error:
            print_warnings(error.diagnostics)
        except RealtimeConfigError as error:
            click.echo(f"realtime-config: error: {with_remedy(error)}", err=True)
        except OSError as error:
            _drop_stdout()
            click.echo(
                f"realtime-config: error: cannot write the output: {error.strerror}", err=True
            )
        except KeyboardInterrupt:
            click.echo("Aborted!", err=True)
        except Exception:  # a bug: show it, but keep the exit status's meaning
            import traceback

            traceback.print_exc()
        else:
            if code is not None:
                exit_status(code)
            return result
        exit_status(2)

    return wrapper  # type: ignore[return-value]


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit cannot fail again."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (click's test runner)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)


def print_warnings(warnings: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    from realtime_config._diagnostics import format_text

    color = use_color(sys.stderr)
    for warning in remedied(warnings):
        click.echo(format_text(warning, color=color), err=True, color=color)


INPUT_FILE = click.Path(path_type=Path, readable=False)
"""A file the library reads: its own diagnostic (``permission denied``, exit 1, the other
files still checked) replaces click's usage error for an unreadable file."""

root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project root that extends and instructions_file may not leave "
    "(default: the nearest folder with .git or pyproject.toml).",
)


def client_options(command: F) -> F:
    """The HTTP client's settings, for every command that talks to the API (submit, serve)."""
    for option in reversed(
        [
            click.option(
                "--base-url",
                metavar="URL",
                help="API base URL [default: $OPENAI_BASE_URL, else https://api.openai.com/v1].",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0, min_open=True),
                metavar="SECONDS",
                help="Seconds each attempt at a request may take, connect to last byte; "
                "connecting waits 5 s at most, and all attempts together (retries and their "
                "waits) take at most (max-retries + 1) times this [default: 30].",
            ),
            click.option(
                "--max-retries",
                type=click.IntRange(min=0),
                default=2,
                show_default=True,
                help="Retries after a connection error, a timeout, 408, 409, 429 or 5xx.",
            ),
        ]
    ):
        command = option(command)
    return command


drop_unsupported_option = click.option(
    "--drop-unsupported",
    is_flag=True,
    help="Leave out the fields the target does not have (warning for each) instead of failing.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="realtime-config")
def main() -> None:
    """Compile TOML presets of OpenAI Realtime sessions into exact API request payloads."""


@main.command("compile")
@click.argument("presets", nargs=-1, type=INPUT_FILE)
@click.option(
    "--target",
    "-t",
    type=TARGET_CHOICE,
    help="Endpoint to compile for [default: preset.target, else sessions].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the payload to this file (atomically) instead of stdout.",
)
@click.option(
    "--compact",
    is_flag=True,
    help="Compact JSON, exactly the bytes sent on the wire (no trailing newline).",
)
@drop_unsupported_option
@click.option(
    "--out-dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the snapshot DIR/<name>.json of PRESETS (default: every preset under presets/).",
)
@click.option(
    "--check",
    is_flag=True,
    help="With --out-dir: write nothing; fail if a snapshot is missing, stale or orphaned.",
)
@root_option
@report_errors
def compile_command(
    presets: tuple[Path, ...],
    target: str | None,
    output: Path | None,
    compact: bool,
    drop_unsupported: bool,
    out_dir: Path | None,
    check: bool,
    root: Path | None,
) -> None:
    """Compile PRESET into the JSON body of the target's request.

    With --out-dir, write (or --check) the compiled snapshot of every preset instead.
    """
    from realtime_config._compile import dumps_payload
    from realtime_config._files import write_atomic
    from realtime_config._loader import load_preset
    from realtime_config._targets import compile_preset_with_warnings

    if out_dir is not None or check:
        compile_snapshots(presets, out_dir, check, target, output, compact, drop_unsupported, root)
        return
    if len(presets) != 1:
        raise click.UsageError("compile takes exactly one PRESET")
    preset = load_preset(presets[0], root=root)
    print_warnings(preset.warnings)
    payload, dropped = compile_preset_with_warnings(
        preset, target, drop_unsupported=drop_unsupported
    )
    print_warnings(dropped)
    text = dumps_payload(payload, compact=compact)
    if output is None:
        click.echo(text, nl=False)
        return
    made_from = "a file the preset is made from (a base it extends or its instructions file)"
    protected = [(presets[0], "the preset itself")]
    write_atomic(output, text, protected=protected + [(p, made_from) for p in preset.source_files])


@main.command("validate")
@click.argument("files", nargs=-1, type=INPUT_FILE)
@click.option(
    "--target", "-t", type=TARGET_CHOICE, help="Also report fields this target does not support."
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for GitHub Actions annotations.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when every preset is valid.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=0,
    help="Check files in this many processes [default: one per idle CPU for 200 or more "
    "files, except under pre-commit, which runs parallel batches itself].",
)
@root_option
def validate_command(
    files: tuple[Path, ...],
    target: str | None,
    strict: bool,
    output_format: str,
    quiet: bool,
    jobs: int,
    root: Path | None,
) -> None:
    """Check presets: FILES, or every preset under the project's presets/ folder.

    Exit status 0 when all are valid, 1 when a problem is found (a warning only with
    --strict), 2 for a usage error.
    """
    from realtime_config._batch import check_files, default_jobs
    from realtime_config._project import project_presets

    paths = list(files)
    if not paths:
        folder, paths = project_presets(root)
        if not paths:
            fail(f"no presets found: {folder} holds no .toml files")
    jobs = jobs or default_jobs(len(paths))
    diagnostics = remedied(check_files(paths, root=root, target=target, jobs=jobs))
    color = use_color(sys.stdout)
    from realtime_config._report import REPORTERS, failed

    report = REPORTERS[output_format](diagnostics, len(paths), quiet=quiet, color=color)
    for line in report.out:
        click.echo(line, color=color)
    for line in report.err:
        click.echo(line, err=True)
    exit_status(1 if failed(diagnostics, strict=strict) else 0)


@main.command("schema")
@click.option("--path", "show_path", is_flag=True, help="Print where the installed schema file is.")
def schema_command(show_path: bool) -> None:
    """Print the JSON Schema of presets (or, with --path, where it is installed)."""
    from realtime_config._schema import schema_path, schema_text

    if show_path:
        click.echo(str(schema_path()))
    else:
        click.echo(schema_text(), nl=False)


# --- submit --------------------------------------------------------------------------


@main.command("submit")
@click.argument("preset", type=INPUT_FILE)
@click.option(
    "--target",
    "-t",
    type=TARGET_CHOICE,
    help="Endpoint to post to [default: preset.target, else client_secrets for GA presets "
    "and sessions for beta ones]; the session.update events cannot be submitted.",
)
@click.option(
    "--call-id",
    metavar="ID",
    help="The incoming SIP call to accept (target calls.accept, which it implies).",
)
@click.option(
    "--sdp",
    "sdp_file",
    type=INPUT_FILE,
    metavar="OFFER.sdp",
    help="Place a WebRTC call for this SDP offer (target calls, which it implies); prints "
    "the SDP answer (--format json adds the call id).",
)
@client_options
@drop_unsupported_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the request (key redacted) instead of sending it; needs no API key.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "text"]),
    help="json: the created session (the default); text: the client secret and its expiry. "
    "With --sdp, text (the default) is the SDP answer and json adds the call id.",
)
@root_option
@report_errors
def submit_command(
    preset: Path,
    target: str | None,
    call_id: str | None,
    sdp_file: Path | None,
    base_url: str | None,
    timeout: float | None,
    max_retries: int,
    drop_unsupported: bool,
    dry_run: bool,
    output_format: str | None,
    root: Path | None,
) -> None:
    """Mint an ephemeral client secret: post PRESET's payload to the Realtime API.

    With --call-id, accept that incoming SIP call with PRESET's session instead
    (POST /v1/realtime/calls/ID/accept); with --sdp, place a WebRTC call for that offer
    (POST /v1/realtime/calls) and print the SDP answer. The key comes from OPENAI_API_KEY;
    OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID are honoured. Exit status 1 on
    any failure, with one line on stderr.
    """
    if call_id is not None:
        if target not in (None, "calls.accept"):
            raise click.UsageError(f"--call-id goes with --target calls.accept, not {target}")
        target = "calls.accept"
    sdp: str | None = None
    if sdp_file is not None:
        if call_id is not None or target not in (None, "calls"):
            raise click.UsageError(f"--sdp goes with --target calls, not {target}")
        target = "calls"
        sdp = read_offer(sdp_file)
    from realtime_config._client import RealtimeClient
    from realtime_config._loader import load_preset

    loaded = load_preset(preset, root=root)
    print_warnings(loaded.warnings)
    with RealtimeClient(base_url=base_url, timeout=timeout, max_retries=max_retries) as client:
        request = client.prepare_request(
            loaded, target=target, drop_unsupported=drop_unsupported, call_id=call_id, sdp=sdp
        )
        print_warnings(request.warnings)
        if dry_run:
            if not client.has_api_key:
                click.echo(
                    "realtime-config: note: OPENAI_API_KEY is not set, so this request has "
                    "no Authorization header; a real submit would fail",
                    err=True,
                )
            click.echo(request.as_text(), nl=False)
            return
        created = client.send(request)
    output_format = output_format or ("text" if sdp is not None else "json")
    click.echo(created.as_json() if output_format == "json" else created.as_text(), nl=False)


def read_offer(path: Path) -> str:
    """An SDP offer file's text (``-`` is stdin), or a one-line error with exit status 1."""
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        fail(f"cannot read the SDP offer {path}: {error.strerror or error}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        fail(f"the SDP offer {path} is not UTF-8 text")
    if not text.startswith("v="):
        fail(f"the SDP offer {path} is not SDP: it must start with v=0")
    return text


# --- Authoring tools: explain, compiled snapshots (compile --out-dir), diff ---------------


@main.command("explain")
@click.argument("field", required=False)
@click.option(
    "--dialect",
    type=click.Choice(["realtime", "transcription", "beta"]),
    help="Which preset dialect: a GA realtime or transcription session, or beta. Default: "
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

    from realtime_config._explain import DEFAULT_DIALECT, explain_field, field_table

    width = min(max(shutil.get_terminal_size((100, 24)).columns, 60), 100)
    text = (
        field_table(width=width, dialect=dialect or DEFAULT_DIALECT)
        if field is None
        else explain_field(field, width=width, dialect=dialect)
    )
    click.echo(text, nl=False)


def snapshot_command(
    out_dir: Path,
    target: str | None,
    root: Path | None,
    drop_unsupported: bool,
    preset: Path | None,
) -> str:
    """The command that rewrites a snapshot, with the options this check was run with."""
    import shlex

    words = ["realtime-config", "compile", "--out-dir", out_dir.as_posix()]
    if target is not None:
        words += ["--target", target]
    if root is not None:
        words += ["--root", Path(root).as_posix()]
    if drop_unsupported:
        words.append("--drop-unsupported")
    if preset is not None:
        words.append(preset.as_posix())
    return shlex.join(words)


def compile_snapshots(
    presets: tuple[Path, ...],
    out_dir: Path | None,
    check: bool,
    target: str | None,
    output: Path | None,
    compact: bool,
    drop_unsupported: bool,
    root: Path | None,
) -> None:
    """``compile --out-dir DIR [--check]``: write or check the snapshot of every preset."""
    from realtime_config._project import display_path
    from realtime_config._snapshots import sync_snapshots

    if out_dir is None:
        raise click.UsageError("--check needs --out-dir DIR")
    if output is not None or compact:
        raise click.UsageError(
            "--out-dir writes one file per preset; drop -o/--output and --compact"
        )
    results = sync_snapshots(
        out_dir,
        presets,
        target=target,
        root=root,
        drop_unsupported=drop_unsupported,
        check=check,
    )
    for result in results:
        print_warnings(result.diagnostics)
        if result.is_problem:
            repair = ""
            if result.state in ("missing", "stale"):
                only = result.preset if presets and result.preset is not None else None
                repair = f"; run {snapshot_command(out_dir, target, root, drop_unsupported, only)}"
            click.echo(f"{result}{repair}", err=True)
        elif result.state == "written":
            click.echo(f"wrote {display_path(result.snapshot)}")
    compiled = sum(r.state in ("written", "unchanged") for r in results)
    written = sum(r.state == "written" for r in results)
    count = f"{compiled} snapshot" + ("s" if compiled != 1 else "")
    if check:
        if any(r.is_problem for r in results):
            exit_status(1)
        click.echo(f"{count} up to date")
        return
    click.echo(f"{count}: {written} written, {compiled - written} unchanged")
    if any(r.state == "failed" for r in results):
        exit_status(1)


@main.command("diff")
@click.argument("old", type=INPUT_FILE)
@click.argument("new", type=INPUT_FILE)
@click.option(
    "--target",
    "-t",
    type=TARGET_CHOICE,
    help="Endpoint to compile both for [default: each preset's preset.target, else sessions].",
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
    from realtime_config._diff import changes_to_json, diff_payloads, format_changes
    from realtime_config._loader import Loader
    from realtime_config._targets import compile_preset_with_warnings

    loader = Loader(root)
    payloads: list[dict[str, Any]] = []
    for path in (old, new):
        try:
            preset = loader.load(path)
            print_warnings(preset.warnings)
            payload, dropped = compile_preset_with_warnings(
                preset, target, drop_unsupported=drop_unsupported
            )
        except PresetError as error:
            print_warnings(error.diagnostics)
            continue
        except RealtimeConfigError as error:
            click.echo(f"realtime-config: error: {error}", err=True)
            continue
        print_warnings(dropped)
        payloads.append(payload)
    if len(payloads) != 2:
        exit_status(2)
    changes = diff_payloads(*payloads)
    if output_format == "json":
        click.echo(changes_to_json(changes), nl=False)
    else:
        click.echo(format_changes(changes), nl=False)
    exit_status(1 if changes else 0)


@main.command("import")
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
    from realtime_config._importer import import_file

    try:
        imported = import_file(payload, destination=output, drop_unknown=drop_unknown)
    except PresetError as error:
        print_warnings(error.diagnostics)
        if any(d.rule == "unknown-key" and d.is_error for d in error.diagnostics):
            click.echo(
                "realtime-config: hint: for fields newer than this version's schema, pass "
                "--drop-unknown to leave them out",
                err=True,
            )
        exit_status(1)
    if output is None:
        click.echo(imported.text, nl=False)
    else:
        write_atomic(
            output, imported.text, overwrite=force, protected=[(payload, "the payload itself")]
        )
    if imported.dropped:
        click.echo(f"dropped read-only keys: {', '.join(imported.dropped)}", err=True)
    print_warnings(imported.warnings)


@main.command("migrate")
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
    is written when any preset fails.
    """
    from realtime_config._migrate import migrate_presets, write_migration, write_migrations

    if output is not None and (in_place or len(presets) != 1):
        raise click.UsageError("-o/--output takes one PRESET and no --in-place")
    if not (output or in_place or check) and len(presets) != 1:
        raise click.UsageError("several PRESETs need --in-place (or --check)")
    try:
        migrations = migrate_presets(presets, root=root, drop_unsupported=drop_unsupported)
    except PresetError as error:
        print_warnings(error.diagnostics)
        if any(d.rule == "migrate-unsupported" for d in error.diagnostics):
            click.echo(
                "realtime-config: hint: remove those fields, or pass --drop-unsupported "
                "to leave them out",
                err=True,
            )
        exit_status(1)
    for migration in migrations:
        print_warnings(migration.warnings)
    try:
        if check:
            stale = [m for m in migrations if m.changed]
            for migration in stale:
                click.echo(f"would migrate {migration.display}")
            if stale:
                exit_status(1)
            click.echo("every preset is already GA")
        elif output is not None:
            write_migration(migrations[0], output, presets)
        elif in_place:
            for migration in write_migrations(migrations):
                click.echo(f"migrated {migration.display}")
        else:
            click.echo(migrations[0].text, nl=False)
    except RealtimeConfigError as error:
        fail(str(error))


@main.command("new")
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
    "dialect",
    flag_value="transcription",
    help='A GA transcription session (type = "transcription").',
)
@click.option(
    "--beta",
    "dialect",
    flag_value="beta",
    help="A beta preset (the fields of POST /v1/realtime/sessions).",
)
@report_errors
def new_command(name: str, base: Path | None, force: bool, dialect: str | None) -> None:
    """Write a starter preset at presets/NAME.toml of the project.

    A GA realtime preset (type = "realtime") unless --transcription or --beta says
    otherwise; it lists every session field with its server default, commented out. With
    --from, the starter extends that preset and lists the fields of its dialect.
    """
    from realtime_config._errors import PresetNameError
    from realtime_config._project import display_path
    from realtime_config._starter import DEFAULT_DIALECT, new_preset

    if base is not None and dialect is not None:
        raise click.UsageError(f"--{dialect} and --from: the base preset sets the dialect")
    try:
        path = new_preset(name, base=base, overwrite=force, dialect=dialect or DEFAULT_DIALECT)
    except PresetNameError as error:
        raise click.BadParameter(str(error), param_hint="'NAME'") from None
    click.echo(f"created {display_path(path)}")


# --- Serving client secrets (the optional extra realtime-config[serve]) -------------------


@main.command("serve")
@click.argument("presets", nargs=-1, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port."
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A browser origin (scheme://host[:port]) that may fetch secrets; repeatable. "
    "Other origins are refused.",
)
@click.option(
    "--graceful-timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="On Ctrl+C or SIGTERM, how long in-flight requests may finish; then they get 503.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Serve the demo page at / (pick a preset, talk to it over WebRTC through /calls).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME[:PORT]",
    help="A Host name served besides the listening address and the loopback names (behind "
    "a proxy: the public name); repeatable. Other Host headers get 400.",
)
@client_options
@root_option
@report_errors
def serve_command(
    presets: tuple[Path, ...],
    host: str,
    port: int,
    allow_origins: tuple[str, ...],
    graceful_timeout: float,
    demo: bool,
    allow_hosts: tuple[str, ...],
    base_url: str | None,
    timeout: float | None,
    max_retries: int,
    root: Path | None,
) -> None:
    """Serve the presets over HTTP: POST /sessions/NAME mints a client secret for
    presets/NAME.toml, POST /calls/NAME places a WebRTC call for a browser's SDP offer.

    PRESETS are preset files under presets/ (default: all of them but the bases that others
    extend). The key comes from OPENAI_API_KEY and stays here. Only Host names of this
    server are answered (--allow-host adds one). Stops gracefully on Ctrl+C or SIGTERM.
    Exit status 1 when it cannot listen, a preset is invalid or the serve extra is missing.
    """
    try:
        import uvicorn  # noqa: F401  (missing: say so before any preset is loaded)

        from realtime_config._server import create_app, listen_socket, run
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in ("starlette", "uvicorn"):
            raise
        fail("serve needs the serve extra: pip install 'realtime-config[serve]'")
    sock = listen_socket(host, port)  # first: a port in use is said before presets load
    with sock:
        app = create_app(
            list(presets) or None,
            root=root,
            allow_origins=allow_origins,
            allowed_hosts=allow_hosts,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            demo=demo,
        )
        print_warnings(app.state.warnings)
        run(app, host=host, port=port, sock=sock, graceful_timeout=graceful_timeout)
