"""How a command ends and what it says: the group that guards the terminal, one-line errors,
exit statuses, diagnostics on stderr, and the files a command wrote or put back.

Exit status: 0 all good, 1 a preset or a request failed, 2 a usage error (click's own).
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from realtime_config._diagnostics import printable
from realtime_config._errors import PresetError, RealtimeConfigError
from realtime_config.cli._options import F, use_color
from realtime_config.cli._remedies import hint, remedied, with_remedy

if TYPE_CHECKING:
    from realtime_config._diagnostics import Diagnostic


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
            print_warnings(error.diagnostics)
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


def print_warnings(warnings: Iterable[Diagnostic]) -> None:
    """Diagnostics on stderr, each error followed by its remedy, coloured as ``--color`` says."""
    from realtime_config._diagnostics import format_text

    color = use_color(sys.stderr)
    for warning in remedied(warnings):
        click.echo(format_text(warning, color=color), err=True, color=color)


def print_failure(
    diagnostics: Iterable[Diagnostic], rule: str, *, errors_only: bool = True
) -> NoReturn:
    """A failed preset's diagnostics, then the hint for ``rule`` if one has it; exit status 1."""
    found = list(diagnostics)
    print_warnings(found)
    line = hint(found, rule, errors_only=errors_only)
    if line is not None:
        click.echo(line, err=True)
    exit_status(1)


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
    from realtime_config._commit import JOURNAL_NAME, recover_commit
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
