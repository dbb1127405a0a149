"""The command line: click commands that turn options into one library call and an exit status.

Exit status: 0 all good, 1 a preset or a request failed, 2 a usage error (click's own).
"""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar

import click

from realtime_config._diagnostics import printable
from realtime_config._errors import PresetError, RealtimeConfigError
from realtime_config._version import __version__

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from realtime_config._diagnostics import Diagnostic
    from realtime_config.authoring._snapshots import SnapshotResult

F = TypeVar("F", bound=Callable[..., Any])


class _TargetChoice(click.Choice[str]):
    """The target names, read from the registry when an option first needs them: building
    the commands (``--version``, ``--help`` of another command) does not import it."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from realtime_config.compiling._targets import TARGETS

        return tuple(TARGETS)

    @choices.setter
    def choices(self, _value: tuple[str, ...]) -> None:
        """click.Choice sets its choices when built: these are the registry's."""


TARGET_CHOICE = _TargetChoice()


_COLOR_KEY = "realtime_config.color"


def use_color(stream: Any) -> bool:
    """Whether to colour ``stream``: as ``--color`` says; with ``auto`` (the default) never
    when NO_COLOR is set (https://no-color.org), always when FORCE_COLOR is, else on a
    terminal only."""
    context = click.get_current_context(silent=True)
    choice = context.find_root().meta.get(_COLOR_KEY) if context is not None else None
    if choice in ("always", "never"):
        return bool(choice == "always")
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _remember_color(context: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        context.find_root().meta[_COLOR_KEY] = value


color_option = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    expose_value=False,
    is_eager=True,
    callback=_remember_color,
    help="Colour diagnostics: auto (on a terminal, unless NO_COLOR is set or FORCE_COLOR "
    "is), always or never [default: auto].",
)
"""``--color``, accepted before the command and by the commands that print diagnostics."""


class CommandError(click.ClickException):
    """A failed command: one line on stderr, ``realtime-config: error: ...``, exit status 1."""

    def show(self, file: Any = None) -> None:
        message = printable(self.format_message())
        click.echo(f"realtime-config: error: {message}", file=file, err=True)


class RealtimeConfigGroup(click.Group):
    """The command group, and the one place where output reaches the terminal.

    While a command runs, stdout and stderr are guarded (``_terminal``): a full disk, a
    closed stream or a closed pipe ends it in one way, whatever was writing. Every message
    click or a command prints on stderr passes through ``printable``, so that user input in
    it (a key, a file name, a mistyped command) cannot drive the terminal.
    """

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from realtime_config.cli._terminal import (
            _OutputStreamError,
            flush_output,
            guarded_streams,
            output_failed,
        )

        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        with guarded_streams():
            try:
                try:
                    code = self._run(args, prog_name, complete_var, **extra)
                finally:
                    flush_output()
            except _OutputStreamError as error:
                output_failed(error)
                code = 1
        sys.exit(code)

    def _run(self, args: Any, prog_name: str | None, complete_var: str | None, **extra: Any) -> int:
        """Run the command as click's standalone mode would; the exit status it ends with."""
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as error:
            shown = io.StringIO()
            error.show(file=shown)
            text = "\n".join(printable(line) for line in shown.getvalue().splitlines())
            click.echo(text, err=True)
            return error.exit_code
        except click.Abort:
            click.echo("Aborted!", err=True)
            return 1
        return result if isinstance(result, int) else 0


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
            fail_and_stop(error)

    return wrapper  # type: ignore[return-value]


def fail_and_stop(error: RealtimeConfigError) -> NoReturn:
    """Fail with the error's line; a write that a signal interrupted (every file put back)
    then ends the process by that signal, as it would have ended without the clean-up."""
    from realtime_config._errors import CommitError

    signum = error.signum if isinstance(error, CommitError) else None
    if signum is None:
        fail(with_remedy(error))
    CommandError(with_remedy(error)).show()
    import signal

    sys.stdout.flush()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)
    exit_status(128 + signum)  # the signal is blocked in this thread: end as it would


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
        from realtime_config.cli._terminal import _OutputStreamError, flush_output, output_failed

        try:
            code: int | None = None
            try:
                result = command(*args, **kwargs)
            except click.exceptions.Exit as done:  # the command's own status: 0 or 1
                code = done.exit_code
            flush_output()  # a full disk or a closed pipe fails here, not at exit
        except _OutputStreamError as error:
            output_failed(error)
        except click.ClickException as error:
            error.show()
        except PresetError as error:
            print_warnings(error.diagnostics)
        except RealtimeConfigError as error:
            CommandError(with_remedy(error)).show()
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


def print_warnings(warnings: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    from realtime_config._diagnostics import format_text

    color = use_color(sys.stderr)
    for warning in remedied(warnings):
        click.echo(format_text(warning, color=color), err=True, color=color)


INPUT_FILE = click.Path(path_type=Path, readable=False)
"""A file the library reads: its own diagnostic (``permission denied``, exit 1, the other
files still checked) replaces click's usage error for an unreadable file."""

STDIN: Final = Path("-")
"""The PRESET argument that means standard input."""

stdin_filename_option = click.option(
    "--stdin-filename",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With '-': the file that standard input stands for, named in messages; extends, "
    "instructions_file and the project root are found from it.",
)


def read_stdin(stdin_filename: Path | None) -> tuple[Path, dict[Path, bytes]]:
    """The preset on standard input: the path it stands for, and its bytes under that path."""
    from realtime_config.preset._read import MAX_FILE_BYTES

    path = stdin_filename if stdin_filename is not None else Path("<stdin>")
    data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    return path, {path: data}


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project root that extends and instructions_file may not leave "
    "(default: the nearest folder with .git or pyproject.toml).",
)


class _FiniteSeconds(click.FloatRange):
    """A number of seconds above 0: ``nan`` and ``inf`` are usage errors, not a late failure."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds.", param, ctx)
        return seconds


FINITE_SECONDS = _FiniteSeconds(min=0, min_open=True)


def client_options(command: F) -> F:
    """The HTTP client's settings, for every command that talks to the API (submit, serve)."""
    for option in reversed(
        [
            click.option(
                "--provider",
                type=click.Choice(["openai", "azure"]),
                help="Whose API to post to [default: azure when $AZURE_OPENAI_ENDPOINT is set "
                "and no OpenAI base URL is, else openai]. Azure: the key from "
                "$AZURE_OPENAI_API_KEY in an api-key header, or $AZURE_OPENAI_AD_TOKEN as a "
                "bearer.",
            ),
            click.option(
                "--base-url",
                metavar="URL",
                help="API base URL [default: $OPENAI_BASE_URL, else https://api.openai.com/v1; "
                "on Azure $AZURE_OPENAI_ENDPOINT/openai/v1].",
            ),
            click.option(
                "--timeout",
                type=FINITE_SECONDS,
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


@click.group(cls=RealtimeConfigGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="realtime-config")
@color_option
def main() -> None:
    """Compile TOML presets of OpenAI Realtime sessions into exact API request payloads."""


@main.command("compile")
@click.argument("presets", nargs=-1, type=INPUT_FILE)
@click.option(
    "--target",
    "-t",
    type=TARGET_CHOICE,
    help="Endpoint to compile for [default: preset.target, else client_secrets for GA "
    "presets and sessions for beta ones].",
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
@stdin_filename_option
@color_option
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
    stdin_filename: Path | None,
) -> None:
    """Compile PRESET into the JSON body of the target's request ('-': standard input).

    With --out-dir, write (or --check) the compiled snapshot of every preset instead.
    """
    from realtime_config._files import write_atomic
    from realtime_config.checking._compose import CheckedLoader
    from realtime_config.compiling._compile import dumps_payload
    from realtime_config.compiling._targets import compile_preset_with_warnings

    if out_dir is not None or check:
        if STDIN in presets:
            raise click.UsageError("--out-dir compiles files; '-' (standard input) has no name")
        compile_snapshots(presets, out_dir, check, target, output, compact, drop_unsupported, root)
        return
    if len(presets) != 1:
        raise click.UsageError("compile takes exactly one PRESET")
    from realtime_config._project import presets_under

    if presets_under(presets) != list(presets):  # a folder, with presets under it
        raise click.UsageError(
            f"compile takes one PRESET, and {presets[0]} is a folder: --out-dir DIR compiles "
            "every preset under it"
        )
    if stdin_filename is not None and presets[0] != STDIN:
        raise click.UsageError("--stdin-filename goes with '-' (standard input) as PRESET")
    path, given = read_stdin(stdin_filename) if presets[0] == STDIN else (presets[0], {})
    loader = CheckedLoader(root)
    for given_path, data in given.items():
        loader.put_bytes(given_path, data)
    preset = loader.load(path)
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
    protected = [(path, "the preset itself")]
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
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for GitHub Actions annotations, sarif for "
    "code scanning (SARIF 2.1.0).",
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
@stdin_filename_option
@color_option
def validate_command(
    files: tuple[Path, ...],
    target: str | None,
    strict: bool,
    output_format: str,
    quiet: bool,
    jobs: int,
    root: Path | None,
    stdin_filename: Path | None,
) -> None:
    """Check presets: FILES (a folder: every preset under it; '-': standard input), or
    every preset under the project's presets/ folder.

    Exit status 0 when all are valid, 1 when a problem is found (a warning only with
    --strict), 2 for a usage error.
    """
    from realtime_config._project import presets_under, scan_presets
    from realtime_config.compiling._batch import check_files, default_jobs

    given: dict[Path, bytes] = {}
    unread: list[Diagnostic] = []
    if STDIN in files:
        if len(files) > 1:
            raise click.UsageError("'-' (standard input) is a preset of its own: give it alone")
        path, given = read_stdin(stdin_filename)
        paths = [path]
    elif stdin_filename is not None:
        raise click.UsageError("--stdin-filename goes with '-' (standard input) as FILES")
    elif files:
        paths = presets_under(files)
    else:
        scan = scan_presets(root)
        paths, unread = scan.files, scan.problems
        if not paths and not unread:
            fail(f"no presets found: {scan.folder} holds no .toml files")
    jobs = jobs or default_jobs(len(paths))
    found = check_files(paths, root=root, target=target, jobs=jobs, given=given) if paths else []
    diagnostics = remedied([*unread, *found])
    color = use_color(sys.stdout)
    from realtime_config._report import REPORTERS, failed

    report = REPORTERS[output_format](diagnostics, len(paths), quiet=quiet, color=color)
    for line in report.out:
        click.echo(line, color=color)
    for line in report.err:
        click.echo(line, err=True)
    exit_status(1 if failed(diagnostics, strict=strict) else 0)


@main.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the script that makes SHELL complete commands, options, paths and field names.

    \b
    bash: eval "$(realtime-config completion bash)"  (in ~/.bashrc)
    zsh:  eval "$(realtime-config completion zsh)"   (in ~/.zshrc)
    fish: realtime-config completion fish > ~/.config/fish/completions/realtime-config.fish
    """
    from click.shell_completion import get_completion_class

    complete_class = get_completion_class(shell)
    assert complete_class is not None  # click ships all three
    script = complete_class(main, {}, "realtime-config", "_REALTIME_CONFIG_COMPLETE").source()
    click.echo(script)


@main.command("schema")
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


# --- submit --------------------------------------------------------------------------


@main.command("submit")
@click.argument("preset", type=INPUT_FILE)
@click.option(
    "--target",
    "-t",
    type=TARGET_CHOICE,
    help="Endpoint to post to [default: preset.target, else client_secrets for GA presets, "
    "translations.client_secrets for translation ones and sessions for beta ones]; the "
    "session.update events cannot be submitted.",
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
    provider: str | None,
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
    OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID are honoured. With --provider
    azure (the default when AZURE_OPENAI_ENDPOINT is set), the request goes to the
    resource's v1 API with AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN. Exit status 1 on
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
    from realtime_config.checking._compose import load_preset
    from realtime_config.client._client import RealtimeClient

    loaded = load_preset(preset, root=root)
    with RealtimeClient(
        provider=provider, base_url=base_url, timeout=timeout, max_retries=max_retries
    ) as client:
        print_warnings(client.relevant_warnings(loaded.warnings))
        request = client.prepare_request(
            loaded, target=target, drop_unsupported=drop_unsupported, call_id=call_id, sdp=sdp
        )
        print_warnings(request.warnings)
        if dry_run:
            if not client.has_api_key:
                missing = (
                    "AZURE_OPENAI_API_KEY and AZURE_OPENAI_AD_TOKEN are not set, so this "
                    "request has no api-key header"
                    if client.provider == "azure"
                    else "OPENAI_API_KEY is not set, so this request has no Authorization header"
                )
                click.echo(f"realtime-config: note: {missing}; a real submit would fail", err=True)
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


@main.command("explain")
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


def report_written(verb: str, paths: Iterable[Path]) -> None:
    """Name every file a command wrote, one line each (``rewrote presets/base.toml``): all
    are noted first, so that a failure to print says which were written."""
    from realtime_config._project import display_path
    from realtime_config.cli._terminal import wrote

    shown = [display_path(Path(path)) for path in paths]
    for name in shown:
        wrote(Path(name))
    for name in shown:
        click.echo(f"{verb} {printable(name)}")


def repair_interrupted(journal: Path, check: bool, command: str) -> None:
    """Put back what an interrupted run of this command left (after a ``kill -9``), saying
    what was done; a run that writes nothing (``--check``, ``migrate`` to stdout or ``-o``)
    only fails with the news, rather than read files half-written."""
    from realtime_config._files import JOURNAL_NAME, recover_commit
    from realtime_config._project import display_path

    if check:
        if (journal / JOURNAL_NAME).exists():
            fail(
                f"an interrupted `{command}` left its files half-written "
                f"({display_path(journal / JOURNAL_NAME)}); run `{command}` again to repair them"
            )
        return
    recovered = recover_commit(journal)
    if recovered:
        click.echo(
            f"realtime-config: note: an earlier `{command}` was interrupted; "
            "what it left is put back as it was",
            err=True,
        )
    report_written("restored", [r.path for r in recovered if r.action == "restored"])
    report_written("removed", [r.path for r in recovered if r.action == "removed"])


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
    from realtime_config._project import presets_under
    from realtime_config.authoring._snapshots import snapshot_journal, sync_snapshots

    if out_dir is None:
        raise click.UsageError("--check needs --out-dir DIR")
    if output is not None or compact:
        raise click.UsageError(
            "--out-dir writes one file per preset; drop -o/--output and --compact"
        )
    from realtime_config._files import signals_held

    repair_interrupted(snapshot_journal(out_dir, root), check, "compile --out-dir")
    listed = tuple(presets_under(presets))
    with signals_held():  # a signal after the last write waits for the report
        results = sync_snapshots(
            out_dir,
            listed,
            target=target,
            root=root,
            drop_unsupported=drop_unsupported,
            check=check,
        )
        report_snapshots(results, out_dir, listed, check, target, root, drop_unsupported)


def report_snapshots(
    results: list[SnapshotResult],
    out_dir: Path,
    presets: tuple[Path, ...],
    check: bool,
    target: str | None,
    root: Path | None,
    drop_unsupported: bool,
) -> None:
    """What ``compile --out-dir`` did to each snapshot, the summary, and its exit status."""
    for result in results:
        print_warnings(result.diagnostics)
        if result.is_problem:
            repair = ""
            if result.state in ("missing", "stale"):
                only = result.preset if presets and result.preset is not None else None
                repair = f"; run {snapshot_command(out_dir, target, root, drop_unsupported, only)}"
            click.echo(printable(f"{result}{repair}"), err=True)
    report_written("wrote", [r.snapshot for r in results if r.state == "written"])
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
    from realtime_config.authoring._diff import changes_to_json, diff_payloads, format_changes
    from realtime_config.checking._compose import CheckedLoader as Loader
    from realtime_config.compiling._targets import compile_preset_with_warnings

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
    from realtime_config.authoring._importer import import_file

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
    is written when any preset fails, and --in-place writes every file or none: a failure
    or an interrupt puts the originals back (after a kill -9, the next run does).
    """
    from realtime_config.authoring._migrate import (
        migrate_presets,
        migration_root,
        write_migration,
        write_migrations,
    )

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
                click.echo(f"would migrate {printable(migration.display)}")
            if stale:
                exit_status(1)
            click.echo("every preset is already GA")
        elif output is not None:
            write_migration(migrations[0], output, presets)
        elif in_place:
            from realtime_config._files import signals_held

            with signals_held():  # a signal after the last write waits for the report
                written = write_migrations(migrations, root=root)
                report_written("rewrote", [m.path for m in written])
        else:
            click.echo(migrations[0].text, nl=False)
    except RealtimeConfigError as error:
        fail_and_stop(error)


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
    provider: str | None,
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
    extend). The key comes from OPENAI_API_KEY (with --provider azure, AZURE_OPENAI_API_KEY
    or AZURE_OPENAI_AD_TOKEN) and stays here. Only Host names of this server are answered
    (--allow-host adds one). Stops gracefully on Ctrl+C or SIGTERM. Exit status 1 when it
    cannot listen, a preset is invalid or the serve extra is missing.
    """
    try:
        import uvicorn  # noqa: F401  (missing: say so before any preset is loaded)

        from realtime_config.serve._app import create_app, listen_socket, run
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
            provider=provider,
        )
        print_warnings(app.state.warnings)
        run(app, host=host, port=port, sock=sock, graceful_timeout=graceful_timeout)
