"""The command line: click commands that turn options into one library call and an exit status.

Exit status: 0 all good, 1 a preset or a request failed, 2 a usage error (click's own).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from realtime_config._diagnostics import Diagnostic, format_github, format_text, to_json
from realtime_config._errors import PresetError, RealtimeConfigError
from realtime_config._version import __version__

F = TypeVar("F", bound=Callable[..., Any])

TARGET_CHOICE = click.Choice(["sessions", "client_secrets", "session.update"])


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def fail(message: str) -> NoReturn:
    """Print a one-line error to stderr and exit with status 1."""
    click.echo(f"realtime-config: error: {message}", err=True)
    sys.exit(1)


def report_errors(command: F) -> F:
    """Turn any RealtimeConfigError into its diagnostics on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PresetError as error:
            color = use_color(sys.stderr)
            for diagnostic in error.diagnostics:
                click.echo(format_text(diagnostic, color=color), err=True, color=color)
            sys.exit(1)
        except RealtimeConfigError as error:
            fail(str(error))

    return wrapper  # type: ignore[return-value]


def print_warnings(warnings: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    color = use_color(sys.stderr)
    for warning in warnings:
        click.echo(format_text(warning, color=color), err=True, color=color)


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project root that extends and instructions_file may not leave "
    "(default: the nearest folder with .git or pyproject.toml).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="realtime-config")
def main() -> None:
    """Compile TOML presets of OpenAI Realtime sessions into exact API request payloads."""


@main.command("compile")
@click.argument("presets", nargs=-1, type=click.Path(path_type=Path))
@click.option("--target", "-t", type=TARGET_CHOICE, help="Endpoint to compile for [default: preset.target, else sessions].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the payload to this file (atomically) instead of stdout.")
@click.option("--compact", is_flag=True, help="Compact JSON, exactly the bytes sent on the wire (no trailing newline).")
@root_option
@report_errors
def compile_command(
    presets: tuple[Path, ...],
    target: str | None,
    output: Path | None,
    compact: bool,
    root: Path | None,
) -> None:
    """Compile PRESET into the JSON body of the target's request."""
    from realtime_config._compile import compile_preset, dumps_payload
    from realtime_config._files import OutputFileError, same_file, write_atomic
    from realtime_config._loader import load_preset

    if len(presets) != 1:
        raise click.UsageError("compile takes exactly one PRESET")
    preset = load_preset(presets[0], root=root)
    print_warnings(preset.warnings)
    text = dumps_payload(compile_preset(preset, target), compact=compact)
    if output is None:
        click.echo(text, nl=False)
        return
    if same_file(output, presets[0]):
        raise OutputFileError(output, "is the preset itself; refusing to overwrite it")
    write_atomic(output, text)


@main.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--target", "-t", type=TARGET_CHOICE, help="Also report fields this target does not support.")
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
@root_option
def validate_command(
    files: tuple[Path, ...],
    target: str | None,
    strict: bool,
    output_format: str,
    quiet: bool,
    root: Path | None,
) -> None:
    """Check presets: FILES, or every preset under the project's presets/ folder.

    Exit status 0 when all are valid, 1 when a problem is found (a warning only with
    --strict), 2 for a usage error.
    """
    from realtime_config._checks import check_files
    from realtime_config._loader import find_root

    paths = list(files)
    if not paths:
        project = root if root is not None else find_root(Path.cwd())
        folder = project / "presets"
        paths = sorted(folder.rglob("*.toml")) if folder.is_dir() else []
        if not paths:
            fail(f"no presets found: {folder} holds no .toml files")
    diagnostics = check_files(paths, root=root, target=target)
    failed = any(d.is_error or strict for d in diagnostics)
    if output_format == "json":
        click.echo(to_json(diagnostics))
    elif output_format == "github":
        for diagnostic in diagnostics:
            click.echo(format_github(diagnostic))
    else:
        color = use_color(sys.stdout)
        for diagnostic in diagnostics:
            click.echo(format_text(diagnostic, color=color), color=color)
        if not quiet or diagnostics:
            errors = sum(d.is_error for d in diagnostics)
            warnings = len(diagnostics) - errors
            count = f"{len(paths)} preset" + ("s" if len(paths) != 1 else "")
            if diagnostics:
                summary = f"{count} checked: {errors} error(s), {warnings} warning(s)"
            else:
                summary = f"{count} valid"
            click.echo(summary, err=bool(diagnostics))
    sys.exit(1 if failed else 0)


@main.command("schema")
@click.option("--path", "show_path", is_flag=True, help="Print where the installed schema file is.")
def schema_command(show_path: bool) -> None:
    """Print the JSON Schema of presets (or, with --path, where it is installed)."""
    from realtime_config._schema import schema_path, schema_text

    if show_path:
        click.echo(str(schema_path()))
    else:
        click.echo(schema_text(), nl=False)
