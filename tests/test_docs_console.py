"""Every console example in the docs runs, and prints exactly what the page shows.

A fenced ``console`` block in ``docs/*.md`` or README.md is a session: each line that starts
with ``$ `` is a command, and the lines up to the next command are its output (standard
output and standard error as a terminal would show them, interleaved). The commands run
with bash, one block in one shell (so ``echo $?`` sees the command before it), through the
installed ``realtime-config`` entry point of this environment, in a temporary copy of the
repository's ``presets/`` and ``schema/`` (a ``pyproject.toml`` marks it as the project root),
so that an example that writes changes nothing here.

An HTML comment right before a block's fence sets it up; the page source shows it:

- ``<!-- console: files=docs/sandboxes/NAME -->`` copies that folder over the sandbox;
- ``<!-- console: add-presets=docs/sandboxes/NAME -->`` copies its files into ``presets/``;
- ``<!-- console: presets=docs/sandboxes/NAME -->`` makes ``presets/`` hold its files only;
- ``<!-- console: continue -->`` runs in the previous block's sandbox (a walk-through);
- ``<!-- console: skip=REASON -->`` does not run the block, for what cannot run here (the
  network). Keep these rare: every skip is listed by pytest's summary with its reason.

``REALTIME_CONFIG_REGENERATE=1`` (as for the golden files; never set in CI) writes what each
failing block printed back into its page, for a change that means to alter the output: read the
diff before committing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PROJECT, REGENERATE

PAGES = [*sorted((PROJECT / "docs").glob("*.md")), PROJECT / "README.md"]
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>[^\n`]*)$")
_SETUP = re.compile(r"^\s*<!--\s*console:(?P<settings>.*?)-->\s*$")
_TIMEOUT = 120


@dataclass
class Block:
    """One console block: where it is, its setup, and its commands with their outputs."""

    page: Path
    line: int
    settings: dict[str, str]
    steps: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(PROJECT).as_posix()}:{self.line}"


def _settings(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in text.split(";"):
        key, _, value = item.strip().partition("=")
        if key:
            found[key.strip()] = value.strip()
    unknown = set(found) - {"files", "add-presets", "presets", "continue", "skip"}
    assert not unknown, f"unknown console setting(s) {sorted(unknown)}"
    return found


def parse_blocks(page: Path) -> list[Block]:
    """The console blocks of one Markdown page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        fence, indent = opened["fence"], len(opened["indent"])
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][indent:])
            index += 1
        index += 1
        if opened["info"].strip() != "console":
            continue
        setup = _SETUP.match(lines[start - 1]) if start else None
        block = Block(page, start + 1, _settings(setup["settings"]) if setup else {})
        for text in body:
            if text.startswith("$ "):
                block.steps.append((text[2:], ""))
            else:
                assert block.steps, f"{block.name}: output before the first `$ ` command"
                command, output = block.steps[-1]
                block.steps[-1] = (command, output + text + "\n")
        assert block.steps, f"{block.name}: a console block without a `$ ` command"
        blocks.append(block)
    return blocks


BLOCKS = [block for page in PAGES for block in parse_blocks(page)]


def test_the_docs_have_console_blocks() -> None:
    # An empty match must fail, not pass: the pages named here are the ones with examples.
    pages = {block.page.name for block in BLOCKS}
    assert {"README.md", "quickstart.md", "commands.md", "migrating.md"} <= pages, pages


def _entry_point_folder() -> Path:
    """The folder of this environment's installed ``realtime-config`` script."""
    folder = Path(sys.executable).parent
    assert (folder / "realtime-config").is_file(), f"no realtime-config entry point in {folder}"
    return folder


def _new_sandbox(root: Path, settings: dict[str, str]) -> Path:
    sandbox = root / f"project-{uuid.uuid4().hex[:8]}"
    sandbox.mkdir()
    (sandbox / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    shutil.copytree(PROJECT / "schema", sandbox / "schema")
    presets = PROJECT / settings.get("presets", "presets")
    assert presets.is_dir(), f"no such folder {presets}"
    shutil.copytree(presets, sandbox / "presets")
    for setting, target in (("add-presets", sandbox / "presets"), ("files", sandbox)):
        if setting in settings:
            extra = PROJECT / settings[setting]
            assert extra.is_dir(), f"no such folder {extra}"
            shutil.copytree(extra, target, dirs_exist_ok=True)
    return sandbox


def _environment(home: Path) -> dict[str, str]:
    """A plain terminal's environment: no key, no colour, unbuffered so lines interleave."""
    path = os.pathsep.join([str(_entry_point_folder()), "/usr/bin", "/bin"])
    return {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }


def run_block(block: Block, sandbox: Path, home: Path) -> list[str]:
    """Run the block's commands in one bash, and split what it printed by command."""
    marker = f"--- console step {uuid.uuid4().hex} ---"
    script = ["exec 2>&1"]
    for command, _ in block.steps:
        # The marker must not change $?: the status is put back for the next command.
        script += ["__status=$?", f"printf '%s\\n' '{marker}'", "(exit $__status)", command]
    finished = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=sandbox,
        env=_environment(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        timeout=_TIMEOUT,
        check=False,
    )
    printed = finished.stdout.decode("utf-8")
    parts = printed.split(marker + "\n")
    assert parts[0] == "", f"printed before the first command: {parts[0]!r}"
    return parts[1:]


_finished: dict[str, Path] = {}
"""The sandbox each block left behind when it passed, for the block that continues it."""


def _chain(block: Block) -> list[Block]:
    """The block and the blocks it continues, first to last."""
    chain = [block]
    while "continue" in chain[0].settings:
        earlier = [b for b in BLOCKS if b.page == block.page and b.line < chain[0].line]
        assert earlier, f"{chain[0].name}: no earlier block to continue"
        chain.insert(0, earlier[-1])
    return chain


def _sandbox_for(block: Block, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh sandbox, or the one the continued block left (replayed when it did not run
    first in this session, so that ``-k`` and any test order work)."""
    chain = _chain(block)
    previous = chain[-2] if len(chain) > 1 else None
    if previous is not None and previous.name in _finished:
        return _finished.pop(previous.name)
    sandbox = _new_sandbox(tmp_path_factory.mktemp("docs"), chain[0].settings)
    for earlier in chain[:-1]:
        run_block(earlier, sandbox, sandbox.parent)
    return sandbox


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_console_block(block: Block, tmp_path_factory: pytest.TempPathFactory) -> None:
    if "skip" in block.settings:
        assert block.settings["skip"], f"{block.name}: say why the block cannot run"
        pytest.skip(f"{block.name}: {block.settings['skip']}")
    sandbox = _sandbox_for(block, tmp_path_factory)
    outputs = run_block(block, sandbox, sandbox.parent)
    assert len(outputs) == len(block.steps), outputs
    if REGENERATE and outputs != [expected for _, expected in block.steps]:
        rewrite_block(block, outputs)
        return
    for (command, expected), actual in zip(block.steps, outputs, strict=True):
        assert actual == expected, f"{block.name}: `$ {command}` printed:\n{actual}"
    _finished[block.name] = sandbox


def rewrite_block(block: Block, outputs: list[str]) -> None:
    """Write ``outputs`` into the block's page as the outputs of its commands (regeneration)."""
    for (command, _), output in zip(block.steps, outputs, strict=True):
        assert output == "" or output.endswith("\n"), (
            f"{block.name}: `$ {command}` ends its output without a newline, which a console "
            "block cannot show: add `; echo` to the command"
        )
    ordinal = [b.line for b in BLOCKS if b.page == block.page].index(block.line)
    current = parse_blocks(block.page)[ordinal]
    lines = block.page.read_text(encoding="utf-8").splitlines(keepends=True)
    opened = _FENCE.match(lines[current.line - 1].rstrip("\n"))
    assert opened, f"{block.name}: the block moved"
    indent = opened["indent"]
    end = current.line
    while lines[end].strip() != opened["fence"]:
        end += 1
    body = [
        indent + line if line != "\n" else line
        for (command, _), output in zip(current.steps, outputs, strict=True)
        for line in [f"$ {command}\n", *output.splitlines(keepends=True)]
    ]
    lines[current.line : end] = body
    block.page.write_text("".join(lines), encoding="utf-8")


def test_parse_blocks_reads_commands_outputs_and_setup(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n"
        "<!-- console: skip=needs the network -->\n"
        "```console\n$ realtime-config submit p.toml\nline one\n\nline three\n$ echo $?\n0\n```\n\n"
        "```toml\n$ not a command\n```\n"
        "- item\n\n  ```console\n  $ true\n  ```\n",
        encoding="utf-8",
    )
    first, second = parse_blocks(page)
    assert first.line == 4
    assert first.settings == {"skip": "needs the network"}
    assert first.steps == [
        ("realtime-config submit p.toml", "line one\n\nline three\n"),
        ("echo $?", "0\n"),
    ]
    assert second.settings == {}
    assert second.steps == [("true", "")]


def test_run_block_splits_output_by_command_and_keeps_the_shell(tmp_path: Path) -> None:
    block = Block(
        tmp_path / "page.md",
        1,
        {},
        [("printf 'out\\n'; printf 'err\\n' >&2", ""), ("false", ""), ("echo $?", "")],
    )
    assert run_block(block, tmp_path, tmp_path) == ["out\nerr\n", "", "1\n"]
