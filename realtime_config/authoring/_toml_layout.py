"""The layout of a TOML file as statements: each key, header and comment line in order, so
that a file can be laid out again from its own pieces.

tomlkit parses the file; here it becomes sections (a header and the statements under it),
each statement carrying the comment and blank lines written right above it. Rendering the
sections gives the text back exactly (``sections_of`` refuses a file for which it would not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import AoT, Item, Key, Table, Whitespace

from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError
from realtime_config._keys import KeyPath
from realtime_config._toml_write import toml_inline, toml_key


@dataclass
class Pair:
    """One ``key = value`` statement: where it is, and how it is written."""

    table: KeyPath  # the table its header opened (beta paths, array indexes included)
    key: tuple[str, ...]  # the key as written, dotted parts
    key_text: str
    sep: str
    item: Item
    value: Any = None  # a new value to write instead of ``item``
    replaced: bool = False

    @property
    def path(self) -> KeyPath:
        return (*self.table, *self.key)

    def text(self, key: tuple[str, ...] | None = None) -> str:
        trivia = self.item.trivia
        if key is None or key == self.key:
            key_text = self.key_text
        else:
            key_text = dotted(key) + self.key_text[len(self.key_text.rstrip()) :]
        value = toml_inline(self.value) if self.replaced else self.item.as_string()
        comment = f"{trivia.comment_ws}{trivia.comment}{trivia.trail}"
        return f"{trivia.indent}{key_text}{self.sep}{value}{comment}"

    def trailing_comment(self) -> str:
        comment = self.item.trivia.comment
        return f"{comment}\n" if comment else ""


@dataclass
class Header:
    path: KeyPath
    table: Table

    def text(self, path: KeyPath | None = None) -> str:
        trivia = self.table.trivia
        aot = self.table.is_aot_element()
        shown = self.path if path is None else path
        if path is None and self.table.display_name is not None and not aot:
            name = self.table.display_name
        else:
            name = dotted(tuple(str(p) for p in shown if not isinstance(p, int)))
        opening, closing = ("[[", "]]") if aot else ("[", "]")
        newline = "\n" if "\n" not in trivia.trail and len(self.table.value) > 0 else ""
        comment = f"{trivia.comment_ws}{trivia.comment}{trivia.trail}{newline}"
        return f"{trivia.indent}{opening}{name}{closing}{comment}"


@dataclass
class Unit:
    """A statement with the comment and blank lines written right above it."""

    leading: list[str]
    pair: Pair


@dataclass
class Section:
    header: Header | None  # None: the document's top, before any header
    leading: list[str] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)


def dotted(key: Sequence[str]) -> str:
    return ".".join(toml_key(part) for part in key)


def _flatten(
    body: list[tuple[Key | None, Item]],
    table: KeyPath,
    prefix: tuple[str, ...],
    out: list[Pair | Header | str],
) -> None:
    """The statements of a tomlkit body in document order: lines, headers and pairs."""
    for key, item in body:
        if key is None:
            out.append(item.as_string())
            continue
        name = key.key
        if isinstance(item, AoT):
            for index, entry in enumerate(item.body):
                path = (*table, *prefix, name, index)
                out.append(Header(path, entry))
                _flatten(entry.value.body, path, (), out)
        elif isinstance(item, Table) and key.is_dotted():
            if item.trivia.indent == "\n":
                out.append("\n")
            _flatten(item.value.body, table, (*prefix, name), out)
        elif isinstance(item, Table):
            path = (*table, *prefix, name)
            if _emits_header(key, item):
                out.append(Header(path, item))
            elif item.trivia.indent == "\n":
                out.append("\n")
            _flatten(item.value.body, path, (), out)
        else:
            key_text = ".".join([*(toml_key(p) for p in prefix), key.as_string()])
            out.append(Pair(table, (*prefix, name), key_text, key.sep, item))


def _emits_header(key: Key, table: Table) -> bool:
    """Whether tomlkit writes ``[header]`` for this table (a super table opens no scope)."""
    if not table.is_super_table():
        return True
    if key.is_dotted():
        return False
    return any(
        not isinstance(v, (Table, AoT, Whitespace)) or (k is not None and k.is_dotted())
        for k, v in table.value.body
    )


def sections_of(text: str, display: str) -> list[Section]:
    """The document as sections, each line attached to the statement or header below it."""
    statements: list[Pair | Header | str] = []
    _flatten(tomlkit.parse(text).body, (), (), statements)
    sections = [Section(None)]
    pending: list[str] = []
    for statement in statements:
        if isinstance(statement, str):
            pending.append(statement)
        elif isinstance(statement, Header):
            sections.append(Section(statement, pending))
            pending = []
        else:
            sections[-1].units.append(Unit(pending, statement))
            pending = []
    if render(sections) + "".join(pending) != text:
        raise PresetError(
            [
                Diagnostic(
                    display,
                    1,
                    1,
                    "error",
                    "migrate-layout",
                    "this file's layout cannot be rewritten without changing it",
                )
            ]
        )
    sections.append(Section(None, pending))  # what follows the last statement
    return sections


def render(sections: Sequence[Section]) -> str:
    text = ""
    for section in sections:
        text += "".join(section.leading)
        if section.header is not None:
            if text and not text.endswith("\n"):
                text += "\n"
            text += section.header.text()
        for unit in section.units:
            text += "".join(unit.leading) + unit.pair.text()
    return text


def new_pair(table: KeyPath, key: str, value: Any) -> Pair:
    """A ``key = value`` statement written anew, in ``table``."""
    item = tomlkit.item(0)
    item.trivia.trail = "\n"
    return Pair(table, (key,), toml_key(key), " = ", item, value, True)


def opening_lines(sections: Sequence[Section]) -> list[str]:
    """The file's opening lines, taken from above its first statement: they stay first.

    They are the lines up to the last blank one above the first statement, and a
    ``#:schema`` directive on the first line even without a blank line under it (editors
    read it there only). The comment written right above the first key moves with it.
    """
    if sections[0].units:
        leading = sections[0].units[0].leading
    elif len(sections) > 1 and sections[1].header is not None:
        leading = sections[1].leading
    else:
        return []
    cut = max((i + 1 for i, line in enumerate(leading) if not line.strip()), default=0)
    if cut == 0 and leading and leading[0].lstrip().startswith("#:schema"):
        cut = 1
    opening = leading[:cut]
    del leading[:cut]
    return opening


def synthetic_table() -> Table:
    table = tomlkit.table()
    table.trivia.trail = "\n"
    return table


def join_lines(text: str, lines: Sequence[str]) -> str:
    """Append lines, never making two blank lines out of one left behind."""
    for line in lines:
        if not line.strip() and (text.endswith("\n\n") or not text):
            continue
        text += line
    return text
