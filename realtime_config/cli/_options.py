"""The options several commands share, and the choices read from the library's registries.

A choice list is read from its registry (the targets, the reporters) when an option first
needs it, so that building the commands (``--version``, another command's ``--help``)
imports neither.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class RegistryChoice(click.Choice[str]):
    """The names of a library registry, read when an option first needs them."""

    def __init__(self, names: Callable[[], Iterable[str]]) -> None:
        self._names = names
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, _value: tuple[str, ...]) -> None:
        """click.Choice sets its choices when built: these are the registry's."""


def _target_names() -> Iterable[str]:
    from realtime_config.compiling._targets import TARGETS

    return TARGETS


def _reporter_names() -> Iterable[str]:
    from realtime_config._report import REPORTERS

    return REPORTERS


TARGET_CHOICE = RegistryChoice(_target_names)
"""The targets of the registry (``compiling/_targets.TARGETS``)."""

REPORTER_CHOICE = RegistryChoice(_reporter_names)
"""The output formats of the reporter table (``_report.REPORTERS``)."""

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
    from realtime_config.preset._read import read_stream

    path = stdin_filename if stdin_filename is not None else Path("<stdin>")
    return path, {path: read_stream(sys.stdin.buffer)}


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
