"""Starter presets (``new``): the ``#:schema`` header, then every session field, commented out.

Each field is listed in the schema's order with its description and its server default as
TOML, all read from the schema; uncommenting a value line gives a valid setting. With a base
preset, the starter extends it (``preset.extends``) rather than copying it, so that changes
to the base keep reaching the new preset.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any, Final

from realtime_config._errors import RealtimeConfigError
from realtime_config._files import OutputFileError, same_file, write_atomic
from realtime_config._importer import schema_header, toml_inline, toml_key
from realtime_config._loader import display_path, find_root, load_preset
from realtime_config._schema import (
    Schema,
    branch_of_type,
    child,
    field_schema,
    known_values,
    dialect_schema,
)

PRESETS_FOLDER: Final = "presets"
"""Where ``new`` writes, below the project root."""

COMMENT_WIDTH: Final = 88

NO_DEFAULT: Final = "There is no server default; the value below is an example."

_NAME = re.compile(r"\w[\w.-]*")
_NO_VALUE: Final = object()


class PresetNameError(RealtimeConfigError, ValueError):
    """Raised when the name given to ``new`` is not a simple file name."""


class StarterError(RealtimeConfigError):
    """Raised when the base preset of ``new --from`` cannot be extended by the new preset."""


def starter_path(name: str, *, root: str | os.PathLike[str] | None = None) -> Path:
    """``presets/NAME.toml`` under the project root (by default the working directory's)."""
    stem = name.removesuffix(".toml")
    if not _NAME.fullmatch(stem) or ".." in stem:
        raise PresetNameError(
            f"{name!r} is not a simple file name: use letters, digits, '-', '_' and '.', "
            "without '/' or '..'"
        )
    project = Path(root) if root is not None else find_root(Path.cwd())
    return Path(project).absolute() / PRESETS_FOLDER / f"{stem}.toml"


def starter_text(
    destination: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None
) -> str:
    """The text of a starter preset to be written at ``destination``, extending ``base``."""
    lines = [schema_header(destination)]
    if base is None:
        lines.append(
            "# Every session field is listed below with its server default, commented out;"
        )
        lines.append("# uncomment a line to set that field.")
    else:
        folder = Path(destination).absolute().parent
        relative = Path(os.path.relpath(Path(base).absolute(), folder)).as_posix()
        lines.append(
            f"# Extends {relative}: a field set here overrides it. The commented values below"
        )
        lines.append(f"# are the server defaults, not the values of {relative}.")
        lines.append(f"preset.extends = {toml_inline(relative)}")
    for key in dialect_schema("beta")["x-order"]:
        field = field_schema((key,))
        if field is None:
            continue
        lines.append("")
        lines.extend(
            textwrap.wrap(
                str(field.get("description", "")),
                width=COMMENT_WIDTH,
                initial_indent="# ",
                subsequent_indent="# ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
        if "default" not in field:
            lines.append(f"# {NO_DEFAULT}")
        lines.append(f"# {toml_key(key)} = {toml_inline(_example(field))}")
    return "\n".join(lines) + "\n"


def _example(field: Schema) -> Any:
    """The field's default; else its first known value, its children's defaults, or ``""``."""
    if "default" in field:
        return field["default"]
    known = known_values(field)
    if known:
        return known[0]
    table = branch_of_type(field, "object")
    if table is not None:
        found = {}
        for key in table.get("x-order", table.get("properties", {})):
            node = child(table, key)
            value = _example(node) if node is not None else _NO_VALUE
            if value is not _NO_VALUE:
                found[key] = value
        return found
    if branch_of_type(field, "string") is not None:
        return ""
    return _NO_VALUE


def new_preset(
    name: str,
    *,
    base: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a starter preset at ``presets/NAME.toml`` of the project; return its path.

    ``base`` (relative to the working directory) must be a valid preset inside the project
    root; the starter extends it. An existing file is kept unless ``overwrite``.
    """
    project = Path(root) if root is not None else find_root(Path.cwd())
    target = starter_path(name, root=project)
    shown = Path(display_path(target))
    protected: list[tuple[Path, str]] = []
    if base is not None:
        base_path = Path(base)
        made_from = f"a file that {display_path(base_path)} is made from"
        protected = [(p, made_from) for p in load_preset(base_path, root=project).source_files]
        base_shown = display_path(base_path)
        if not base_path.resolve().is_relative_to(project.resolve()):
            raise StarterError(
                f"{base_shown}: is outside the project root {project}; "
                "a preset can only extend presets inside it"
            )
        if same_file(base_path, target):
            raise StarterError(
                f"{base_shown}: is the preset being created; it cannot extend itself"
            )
    if not overwrite and target.exists():
        raise OutputFileError(shown, "exists")
    text = starter_text(target, base=base)
    try:
        target.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputFileError(shown, "folder", exc.strerror or str(exc)) from None
    write_atomic(shown, text, overwrite=overwrite, protected=protected)
    return target
