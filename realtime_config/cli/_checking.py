"""The checking commands: ``validate`` and ``compile`` (one payload, or the snapshots of
``compile --out-dir``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from realtime_config._diagnostics import printable
from realtime_config.cli._options import (
    INPUT_FILE,
    REPORTER_CHOICE,
    STDIN,
    TARGET_CHOICE,
    color_option,
    drop_unsupported_option,
    read_stdin,
    root_option,
    stdin_filename_option,
    use_color,
)
from realtime_config.cli._remedies import remedied, snapshot_command
from realtime_config.cli._shell import (
    exit_status,
    fail,
    print_warnings,
    repair_interrupted,
    report_errors,
    report_written,
)

if TYPE_CHECKING:
    from realtime_config._diagnostics import Diagnostic
    from realtime_config.authoring._snapshots import SnapshotResult


@click.command("compile")
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


@click.command("validate")
@click.argument("files", nargs=-1, type=INPUT_FILE)
@click.option(
    "--target", "-t", type=TARGET_CHOICE, help="Also report fields this target does not support."
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--format",
    "output_format",
    type=REPORTER_CHOICE,
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
    from realtime_config._commit import signals_held

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
    """What ``compile --out-dir`` did to each snapshot, the summary, and its exit status;
    a missing or stale snapshot gets the command that rewrites it."""
    from realtime_config._report import snapshot_summary

    for result in results:
        print_warnings(result.diagnostics)
        if result.is_problem:
            repair = ""
            if result.state in ("missing", "stale"):
                only = result.preset if presets and result.preset is not None else None
                repair = f"; run {snapshot_command(out_dir, target, root, drop_unsupported, only)}"
            click.echo(printable(f"{result}{repair}"), err=True)
    report_written("wrote", [r.snapshot for r in results if r.state == "written"])
    states = [result.state for result in results]
    if check and any(result.is_problem for result in results):
        exit_status(1)
    click.echo(snapshot_summary(states, check=check))
    if "failed" in states:
        exit_status(1)
