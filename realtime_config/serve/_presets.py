"""The presets as served: each loaded, validated and compiled once, at start-up.

Everything that can fail because of a preset happens here, before serving: a request only
looks its name up in the table this builds, so it can neither change a preset nor name a file.
Which targets mint, and which places a WebRTC call, is the registry's word.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._errors import ClientConfigError, PresetError, ServeConfigError
from realtime_config._project import display_path, find_root, project_presets
from realtime_config.checking._compose import CheckedLoader as Loader
from realtime_config.client._client import AsyncRealtimeClient, PreparedRequest
from realtime_config.compiling._targets import target_answering
from realtime_config.preset._model import Preset

CALL_TARGET = target_answering("sdp_answer").name
"""The target of ``POST /calls/{name}``: a WebRTC call placed for the browser's SDP offer."""


@dataclass(frozen=True)
class ServedPreset:
    """A preset as served: its name under ``presets/``, its target, its ready mint request
    (None when it only places calls) and its compiled call session (None when it cannot)."""

    name: str
    path: Path
    target: str
    description: str | None
    request: PreparedRequest | None = field(repr=False)
    warnings: tuple[Diagnostic, ...] = ()
    call_session: dict[str, Any] | None = field(default=None, repr=False)

    def listing(self) -> dict[str, Any]:
        """The entry of ``GET /presets``: ``calls`` says whether ``/calls/{name}`` serves it."""
        return {
            "name": self.name,
            "description": self.description,
            "target": self.target,
            "calls": self.call_session is not None,
        }


def load_served(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None,
    root: str | os.PathLike[str] | None,
    client: AsyncRealtimeClient,
) -> tuple[dict[str, ServedPreset], list[Diagnostic]]:
    """Every preset loaded, validated and compiled, by name, and the warnings of those left
    out; a PresetError lists every problem.

    Of the presets found under ``presets/`` (none named), a base that another one extends
    is neither listed nor served: it is a part, not a session.
    """
    base = Path(root).resolve() if root is not None else None
    discovered = paths is None
    files = _preset_files(paths, base)
    loader = Loader(base)
    problems: dict[Path, list[Diagnostic]] = {}
    loaded: list[tuple[str, Path, Preset]] = []
    for file in files:
        resolved = file.resolve()
        name = _served_name(file, base)
        if isinstance(name, Diagnostic):
            problems.setdefault(resolved, []).append(name)
            continue
        try:
            loaded.append((name, resolved, loader.load(file)))
        except PresetError as error:
            problems.setdefault(resolved, []).extend(error.diagnostics)
    bases: set[Path] = set()
    if discovered:
        bases = {Path(f).resolve() for _, _, p in loaded for f in p.source_files[1:]}
    skipped: list[Diagnostic] = []
    served: dict[str, ServedPreset] = {}
    for name, path, preset in loaded:
        if path in bases:
            continue
        try:
            entry = _served(name, path, preset, client)
        except PresetError as error:
            problems.setdefault(path, []).extend(error.diagnostics)
            continue
        except ClientConfigError as error:
            entry = str(error)
        if isinstance(entry, str):
            # Named presets must all be served; of the discovered ones, those that cannot
            # (a SIP calls.accept preset) are left out, with a warning.
            found = _unmintable(preset, entry, discovered=discovered)
            if discovered:
                skipped.append(found)
            else:
                problems.setdefault(path, []).append(found)
            continue
        if name in served and served[name].path != path:
            display = display_path(preset.path)
            problems.setdefault(path, []).append(
                Diagnostic(display, 1, 1, "error", "serve", f"another preset is served as {name}")
            )
            continue
        served[name] = entry
    found_problems = [d for path, found in problems.items() if path not in bases for d in found]
    if found_problems:
        raise PresetError(found_problems)
    if not served:
        raise ServeConfigError("no presets to serve: none of them mints a client secret")
    return dict(sorted(served.items())), skipped


def _served_name(file: Path, base: Path | None) -> str | Diagnostic:
    """A preset's name, its path under ``presets/`` without the suffix; or why it has none."""
    resolved = file.resolve()
    folder = (base or find_root(resolved.parent)) / "presets"
    try:
        return resolved.relative_to(folder.resolve()).with_suffix("").as_posix()
    except ValueError:
        display = display_path(resolved if not file.is_absolute() else file)
        reason = f"not under {display_path(folder)}/: a served preset is named by its path there"
        return Diagnostic(display, 1, 1, "error", "serve", reason)


def _preset_files(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None, base: Path | None
) -> list[Path]:
    """The files named, or those found under the project's ``presets/``; never none."""
    if paths is None:
        folder, files = project_presets(base)
        if not files:
            raise ServeConfigError(f"no presets to serve: {display_path(folder)} has no .toml file")
        return list(files)
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    if not paths:
        raise ServeConfigError("no presets to serve: the list of presets is empty")
    return [Path(path) for path in paths]


def _served(
    name: str, path: Path, preset: Preset, client: AsyncRealtimeClient
) -> ServedPreset | str:
    """How a preset is served: its mint request and its call's session, or why it cannot be.

    Its own target decides: a minting one is served at ``/sessions/{name}`` and, when the
    preset compiles for ``calls``, at ``/calls/{name}`` too; ``calls`` only there.
    """
    from realtime_config.compiling._targets import chosen_target, compile_preset

    chosen = chosen_target(preset)
    target = chosen.name
    if not chosen.mints and target != CALL_TARGET:
        return f"target {target} mints no client secret"
    request = client.prepare_preset(preset, target=target) if chosen.mints else None
    try:
        session: dict[str, Any] | None = compile_preset(preset, CALL_TARGET)
    except PresetError:
        if request is None:
            raise
        session = None  # a transcription preset, a beta one with GA-less fields: no calls
    return ServedPreset(
        name,
        path,
        target,
        preset.description,
        request,
        preset.warnings + (request.warnings if request else ()),
        session,
    )


def _unmintable(preset: Preset, reason: str, *, discovered: bool) -> Diagnostic:
    """A preset whose default target does not mint a client secret over HTTP.

    An error when the preset was named, a warning (it is left out) when it was discovered.
    """
    target = preset.target
    if target:
        reason = f"preset.target {target} does not mint a client secret over HTTP"
    severity: Severity = "warning" if discovered else "error"
    message = f"{reason}: not served" if discovered else f"cannot be served: {reason}"
    if target:
        return preset.diagnostic(
            ("preset", "target"), "serve", message, severity=severity, anchor="value"
        )
    return Diagnostic(display_path(preset.path), 1, 1, severity, "serve", message)
