"""Starter presets (``new``): the ``#:schema`` header, then every session field, commented out.

A starter is a GA preset by default: ``type = "realtime"``, then each field of the schema's
GA branch, nested ones as dotted keys (``audio.output.voice``), down to the first field that
is not a plain table; ``dialect="beta"`` lists the beta fields instead. Each field is listed
in the schema's order with its description and its server default as TOML, all read from
the schema; uncommenting a value line gives a valid setting. With a base preset, the
starter extends it (``preset.extends``) rather than copying it, so that changes to the base
keep reaching the new preset; it lists the fields of the base's dialect and repeats its
``type``, which an editor needs to check the file against the right branch of the schema.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any, Final

from realtime_config._errors import OutputFileError, PresetNameError, StarterError
from realtime_config._files import same_file, write_atomic
from realtime_config._project import display_path, find_root
from realtime_config._schema import (
    Schema,
    branches,
    child,
    dialect_schema,
    known_values,
    resolve,
)
from realtime_config._schema_copy import ensure_project_copy
from realtime_config._toml_write import toml_inline, toml_key
from realtime_config.authoring._importer import schema_header
from realtime_config.checking._compose import load_preset

DEFAULT_DIALECT: Final = "realtime"
"""What ``new`` writes unless told otherwise: a GA realtime preset."""

PRESETS_FOLDER: Final = "presets"
"""Where ``new`` writes, below the project root."""

COMMENT_WIDTH: Final = 88

NO_DEFAULT: Final = "There is no server default; the value below is an example."

_NAME = re.compile(r"\w[\w.-]*")
_NO_VALUE: Final = object()


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
    destination: str | os.PathLike[str],
    *,
    base: str | os.PathLike[str] | None = None,
    dialect: str = DEFAULT_DIALECT,
) -> str:
    """The text of a starter preset of ``dialect`` to be written at ``destination``,
    extending ``base`` (then ``dialect`` is the base's)."""
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
    root = dialect_schema(dialect)
    required = root.get("x-required-on-create", ()) if base is None else ()
    if dialect != "beta":  # also under a base: an editor picks the schema's branch by it
        lines.append(f"type = {toml_inline(dialect)}")
    for key in required:  # what creating the session needs is set, to a known value
        lines.append(f"{toml_key(key)} = {toml_inline(_example(resolve(root['properties'][key])))}")
    for path, field in _listed_fields(root, (), nested=dialect != "beta"):
        if path[0] in required:
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
        name = ".".join(toml_key(part) for part in path)
        lines.append(f"# {name} = {toml_inline(_example(field))}")
    return "\n".join(lines) + "\n"


def starter_fields(dialect: str = DEFAULT_DIALECT) -> list[tuple[str, ...]]:
    """The key paths a starter of ``dialect`` lists, in order."""
    return [
        path for path, _ in _listed_fields(dialect_schema(dialect), (), nested=dialect != "beta")
    ]


def _listed_fields(
    table: Schema, path: tuple[str, ...], *, nested: bool
) -> list[tuple[tuple[str, ...], Schema]]:
    """The fields of a table in schema order. With ``nested`` (GA) a plain table (one
    object branch, no default, not switchable: ``audio``, ``expires_after``) is listed by
    its own fields instead. The GA ``type`` is written, not listed; ``preset`` is not a
    session field."""
    found: list[tuple[tuple[str, ...], Schema]] = []
    properties = table.get("properties", {})
    order = [
        *table.get("x-order", ()),
        *(k for k in properties if k not in table.get("x-order", ())),
    ]
    for key in order:
        field = resolve(properties[key])
        if field.get("x-emit") == "never" or (not path and key == "type"):
            continue
        if nested and _is_plain_table(field):
            found.extend(_listed_fields(field, (*path, key), nested=True))
        else:
            found.append(((*path, key), field))
    return found


def _is_plain_table(field: Schema) -> bool:
    alternatives = list(branches(field))
    return (
        len(alternatives) == 1
        and field.get("type") == "object"
        and "properties" in field
        and "default" not in field
        and not field.get("x-verbatim")
    )


def _example(field: Schema) -> Any:
    """The field's default; else its first known value that no rule flags (not deprecated,
    not a model that refuses settings), its children's defaults, or a value of its first
    kind (``""``, ``[]``, its minimum, ``true``)."""
    if "default" in field:
        return field["default"]
    known = known_values(field)
    if known:
        flagged = {*field.get("x-deprecated", {}), *field.get("x-non-reasoning-models", ())}
        return next((value for value in known if value not in flagged), known[0])
    for branch in branches(field):
        kind = branch.get("type")
        if "const" in branch:
            return branch["const"]
        if branch.get("enum"):
            return branch["enum"][0]
        if kind == "object":
            found = {}
            for key in branch.get("x-order", branch.get("properties", {})):
                node = child(branch, key)
                value = _example(node) if node is not None else _NO_VALUE
                if value is not _NO_VALUE:
                    found[key] = value
            return found
        if kind == "array":
            items = child(branch, 0)
            item = known_values(items) if items is not None else []
            return item[:1]
        if kind == "string":
            return ""
        if kind in ("integer", "number"):
            return branch.get("minimum", 0)
        if kind == "boolean" and "const" not in branch:
            return True
    return _NO_VALUE


def new_preset(
    name: str,
    *,
    base: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    dialect: str = DEFAULT_DIALECT,
) -> Path:
    """Write a starter preset at ``presets/NAME.toml`` of the project; return its path.

    ``dialect`` is ``realtime`` (a GA preset, the default), ``transcription`` or ``beta``.
    ``base`` (relative to the working directory) must be a valid preset inside the project
    root; the starter extends it and lists the fields of its dialect. An existing file is
    kept unless ``overwrite``.
    """
    project = Path(root) if root is not None else find_root(Path.cwd())
    target = starter_path(name, root=project)
    shown = Path(display_path(target))
    protected: list[tuple[Path, str]] = []
    if base is not None:
        base_path = Path(base)
        made_from = f"a file that {display_path(base_path)} is made from"
        base_shown = display_path(base_path)
        try:
            outside = not base_path.resolve().is_relative_to(project.resolve())
        except (OSError, ValueError, RuntimeError):  # a NUL, a loop: the loader words it
            outside = False
        if outside:  # before it is read
            raise StarterError(
                f"{base_shown}: is outside the project root {project}; "
                "a preset can only extend presets inside it"
            )
        loaded = load_preset(base_path, root=project)
        dialect = loaded.dialect
        protected = [(p, made_from) for p in loaded.source_files]
        if same_file(base_path, target):
            raise StarterError(
                f"{base_shown}: is the preset being created; it cannot extend itself"
            )
    try:
        exists = not overwrite and target.exists()
    except OSError as exc:  # a name too long for the file system: as writing it would say
        raise OutputFileError(shown, "unwritable", exc.strerror or str(exc)) from None
    if exists:
        raise OutputFileError(shown, "exists")
    ensure_project_copy(project)  # so that the header names a real file
    text = starter_text(target, base=base, dialect=dialect)
    try:
        target.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputFileError(shown, "folder", exc.strerror or str(exc)) from None
    write_atomic(shown, text, overwrite=overwrite, protected=protected)
    return target
