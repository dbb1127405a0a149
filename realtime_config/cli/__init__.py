"""The command line: click commands that turn options into one library call and an exit status.

Exit status: 0 all good, 1 a preset or a request failed, 2 a usage error (click's own).

One module per group of commands (``_checking``, ``_authoring``, ``_submit``, ``_serve``),
over the options they share (``_options``), the remedies that name this command line's flags
(``_remedies``), how a command ends and what it prints (``_shell``) and the guarded terminal
(``_terminal``). Library calls are imported inside each command, so that building the
commands costs no more than click.
"""

from __future__ import annotations

import click

from realtime_config._version import __version__
from realtime_config.cli._authoring import (
    diff_command,
    explain_command,
    import_command,
    migrate_command,
    new_command,
    schema_command,
)
from realtime_config.cli._checking import compile_command, validate_command
from realtime_config.cli._options import color_option
from realtime_config.cli._serve import serve_command
from realtime_config.cli._shell import RealtimeConfigGroup
from realtime_config.cli._submit import submit_command

__all__ = ["main"]


@click.group(cls=RealtimeConfigGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="realtime-config")
@color_option
def main() -> None:
    """Compile TOML presets of OpenAI Realtime sessions into exact API request payloads."""


@click.command("completion")
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


for _command in (
    compile_command,
    validate_command,
    completion_command,
    schema_command,
    submit_command,
    explain_command,
    diff_command,
    import_command,
    migrate_command,
    new_command,
    serve_command,
):
    main.add_command(_command)
