"""The remedy layer: what the command line adds to the library's facts, in its own flags.

The library says what is wrong (``OutputFileError(path, "exists")``, a ``target-unsupported``
diagnostic, a stale snapshot); only the command line knows which of its options helps, so
each remedy is a row of a table here, keyed by the library's reason or rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime_config._diagnostics import Diagnostic
    from realtime_config._errors import RealtimeConfigError

OUTPUT_REMEDIES = {"exists": "use --force to overwrite it"}
"""What the command line adds to a library OutputFileError of each reason: its own flags."""


DIAGNOSTIC_REMEDIES = {"target-unsupported": "remove it or use --drop-unsupported"}
"""What the command line adds to an error diagnostic of each rule, where one of its flags helps."""


HINTS = {
    "unknown-key": "for fields newer than this version's schema, pass --drop-unknown to "
    "leave them out",
    "migrate-unsupported": "remove those fields, or pass --drop-unsupported to leave them out",
}
"""A hint printed once after a failed command's diagnostics, when one of them has this rule."""


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


def hint(diagnostics: Iterable[Diagnostic], rule: str, *, errors_only: bool = True) -> str | None:
    """The hint line for ``rule``, if a diagnostic (an error, unless not ``errors_only``)
    has that rule."""
    if any(d.rule == rule and (d.is_error or not errors_only) for d in diagnostics):
        return f"realtime-config: hint: {HINTS[rule]}"
    return None


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
