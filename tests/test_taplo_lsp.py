"""Editor support, driven: the real Taplo language server completes, hovers and reports errors.

The server is ``@taplo/lsp`` from npm (the engine inside VS Code's Even Better TOML), pinned in
``tests/package.json`` and installed by ``npm ci`` in ``tests/`` (``.ci/run`` does it); a
missing install fails these tests. ``tests/taplo-lsp-stdio.js`` serves it over stdio with
``fetch`` refused, so it reads no online catalog: the only schema is ours.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Private: the expected completions and hovers are read from the schema's nodes, which no
# public call walks.
from realtime_config._schema import DIALECTS, dialect_schema, field_schema, resolve
from tests.conftest import PROJECT, write
from tests.test_taplo import taplo_binary

SCHEMA = PROJECT / "schema" / "realtime-session.schema.json"
HEADER = "#:schema ../schema/realtime-session.schema.json"
SERVER = PROJECT / "tests" / "taplo-lsp-stdio.js"
TIMEOUT = 60.0
OFFLINE_SETTINGS: dict[str, Any] = {
    "schema": {"enabled": True, "catalogs": [], "associations": {}, "links": False},
    "taplo": {"configFile": {"enabled": False}},
}


def installed_server() -> None:
    """Install the pinned @taplo/lsp (``npm ci`` in tests/) when it is not there yet, so that
    the README's test command works on a fresh machine as ``.ci/run`` does."""
    if (SERVER.parent / "node_modules" / "@taplo" / "lsp").is_dir():
        return
    npm = shutil.which("npm")
    assert npm, "npm is missing: the editor tests install @taplo/lsp with `npm ci` in tests/"
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=SERVER.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"`npm ci` in tests/ failed: {done.stderr.strip()}"


class LanguageServer:
    """A client of one Taplo language server process, speaking LSP over its stdio."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        node = shutil.which("node")
        assert node, "node is missing: the editor tests run @taplo/lsp under node"
        installed_server()
        self.settings = settings
        self.process = subprocess.Popen(
            [node, str(SERVER)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.incoming: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.next_id = 0
        self.reader = threading.Thread(target=self._read_all, daemon=True)
        self.reader.start()
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": {"workspace": {"configuration": True}},
                "initializationOptions": {"configurationSection": "evenBetterToml"},
            },
        )
        self.notify("initialized", {})

    def _read_all(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = stream.read(1)
                if not byte:
                    self.incoming.put(None)
                    return
                header += byte
            fields = dict(
                line.split(": ", 1) for line in header.decode("ascii").strip().split("\r\n")
            )
            self.incoming.put(json.loads(stream.read(int(fields["Content-Length"]))))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def _next(self) -> dict[str, Any]:
        message = self.incoming.get(timeout=TIMEOUT)
        assert message is not None, "the language server exited"
        if message.get("method") == "workspace/configuration":
            items = message["params"]["items"]
            self._send({"id": message["id"], "result": [self.settings for _ in items]})
        elif message.get("method") == "textDocument/publishDiagnostics":
            self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
        elif "id" in message and "method" in message:
            self._send({"id": message["id"], "result": None})
        return message

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self._next()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message.get("result")

    def open(self, path: Path) -> str:
        uri = path.as_uri()
        document = {"uri": uri, "languageId": "toml", "version": 1, "text": path.read_text()}
        self.notify("textDocument/didOpen", {"textDocument": document})
        return uri

    def reopen(self, path: Path) -> None:
        """Send the document again, so that the server checks it with its current settings."""
        self.notify("textDocument/didClose", {"textDocument": {"uri": path.as_uri()}})
        self.open(path)

    def completion_labels(self, uri: str, line: int, character: int) -> set[str]:
        result = self.request("textDocument/completion", _at(uri, line, character))
        items = result if isinstance(result, list) else (result or {}).get("items", [])
        return {item["label"] for item in items}

    def hover_text(self, uri: str, line: int, character: int) -> str:
        result = self.request("textDocument/hover", _at(uri, line, character))
        return str(result["contents"]["value"]) if result else ""

    def diagnostics_of(self, uri: str) -> list[dict[str, Any]]:
        """The diagnostics published for ``uri`` once the server has checked it."""
        while not self.diagnostics.get(uri):
            self._next()
        return self.diagnostics[uri]

    def close(self) -> None:
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.process.wait(timeout=TIMEOUT)
        finally:
            self.process.kill()
            self.process.wait()
            self.reader.join(TIMEOUT)
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()


def _at(uri: str, line: int, character: int) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the editor has open: each test's project is a folder inside it."""
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture
def project(workspace: Path) -> Path:
    """A folder laid out like a user's project: a schema copy beside ``presets/``."""
    root = workspace / f"project{len(list(workspace.iterdir()))}"
    (root / "schema").mkdir(parents=True)
    shutil.copyfile(SCHEMA, root / "schema" / SCHEMA.name)
    (root / "presets").mkdir()
    return root


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[LanguageServer]:
    """One server for the tests that name the schema in a header (it starts in ~2 s): each
    test opens its own files in its own project, and the header makes them independent."""
    started = LanguageServer(workspace, OFFLINE_SETTINGS)
    yield started
    started.close()


def fields_of(dialect: str) -> list[str]:
    """The top-level keys a preset of this dialect may hold, as the schema lists them."""
    return list(dialect_schema(dialect)["properties"])


def first_line(dialect: str) -> str:
    """What makes a preset speak this dialect: a GA ``type`` line, or nothing for beta."""
    return "" if dialect == "beta" else f'type = "{dialect}"\n'


def a_described_field(dialect: str) -> tuple[str, str, str]:
    """A top-level field of the dialect, a TOML line that sets it, and its description."""
    for name in fields_of(dialect):
        node = resolve(dialect_schema(dialect)["properties"][name])
        kinds = {resolve(kind).get("type") for kind in [node, *node.get("anyOf", ())]}
        description = " ".join(node["description"].split())
        if name != "type" and "string" in kinds:
            return name, f'{name} = "x"', description
        if name != "type" and "object" in kinds:
            return name, f"[{name}]", description
    raise AssertionError(f"no string or table field in {dialect}")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_completion_offers_every_field_of_each_dialect(
    dialect: str, project: Path, server: LanguageServer
) -> None:
    preset = write(project / "presets" / f"{dialect}.toml", f"{HEADER}\n{first_line(dialect)}\n")
    uri = server.open(preset)
    labels = server.completion_labels(uri, preset.read_text().count("\n"), 0)
    missing = set(fields_of(dialect)) - {"type"} - labels
    assert not missing, f"completion lacks {sorted(missing)}; it offered {sorted(labels)}"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hover_shows_the_description_of_a_key_in_each_dialect(
    dialect: str, project: Path, server: LanguageServer
) -> None:
    name, line, description = a_described_field(dialect)
    preset = write(
        project / "presets" / f"{dialect}.toml", f"{HEADER}\n{first_line(dialect)}{line}\n"
    )
    uri = server.open(preset)
    place = preset.read_text().count("\n") - 1
    text = " ".join(server.hover_text(uri, place, line.index(name) + 1).split())
    assert description in text, (name, text)


def test_completion_inside_a_nested_table_of_a_ga_preset(
    project: Path, server: LanguageServer
) -> None:
    preset = write(
        project / "presets" / "agent.toml",
        f'{HEADER}\ntype = "realtime"\n\n[audio.input.turn_detection]\ntype = "server_vad"\n\n',
    )
    uri = server.open(preset)
    labels = server.completion_labels(uri, 5, 0)
    assert {"threshold", "prefix_padding_ms", "silence_duration_ms"} <= labels, sorted(labels)
    assert not labels & {"instructions", "audio", "model"}, sorted(labels)


def test_hover_on_a_nested_key_shows_its_description(project: Path, server: LanguageServer) -> None:
    preset = write(
        project / "presets" / "agent.toml",
        f'{HEADER}\ntype = "realtime"\n[audio.output]\nvoice = "marin"\n',
    )
    uri = server.open(preset)
    voice = field_schema(("audio", "output", "voice"), "realtime")
    assert voice is not None
    text = " ".join(server.hover_text(uri, 3, 1).split())
    assert " ".join(voice["description"].split()) in text, text


def test_a_bad_value_gets_a_diagnostic_at_its_place(project: Path, server: LanguageServer) -> None:
    preset = write(
        project / "presets" / "agent.toml",
        f'{HEADER}\ntype = "realtime"\ninstructions = 3\nmodel = "gpt-realtime"\n',
    )
    uri = server.open(preset)
    diagnostics = server.diagnostics_of(uri)
    assert [(d["message"], d["range"]["start"]["line"]) for d in diagnostics] == [
        ('3 is not of type "string"', 2)
    ]


def documented_block(marker: str) -> str:
    """The fenced block that follows ``<!-- marker -->`` in docs/editors.md."""
    page = (PROJECT / "docs" / "editors.md").read_text("utf-8")
    after = page.split(f"<!-- {marker} -->\n", 1)[1]
    return after.split("\n", 1)[1].split("```\n", 1)[0]


def headerless_preset(project: Path) -> Path:
    return write(
        project / "presets" / "team" / "agent.toml", 'type = "realtime"\ninstructions = 3\n'
    )


def test_the_documented_taplo_toml_replaces_the_header(project: Path) -> None:
    write(project / ".taplo.toml", documented_block("taplo-config"))
    server = LanguageServer(
        project, {**OFFLINE_SETTINGS, "taplo": {"configFile": {"enabled": True}}}
    )
    try:
        uri = server.open(headerless_preset(project))
        assert "output_modalities" in server.completion_labels(uri, 2, 0)
        assert [d["message"] for d in server.diagnostics_of(uri)] == ['3 is not of type "string"']
    finally:
        server.close()


def test_the_documented_vs_code_association_replaces_the_header(project: Path) -> None:
    settings = json.loads(documented_block("vscode-settings"))
    associations = {
        pattern: (project / "schema" / SCHEMA.name).as_uri()
        for pattern, _placeholder in settings["evenBetterToml.schema.associations"].items()
    }
    schema_settings = {**OFFLINE_SETTINGS["schema"], "associations": associations}
    server = LanguageServer(project, {**OFFLINE_SETTINGS, "schema": schema_settings})
    try:
        preset = headerless_preset(project)
        uri = server.open(preset)
        # The settings arrive after the document: ask until the server has applied them.
        labels: set[str] = set()
        for _ in range(100):
            labels = server.completion_labels(uri, 2, 0)
            if labels:
                break
            time.sleep(0.1)
        assert "output_modalities" in labels
        server.diagnostics.pop(uri, None)
        server.reopen(preset)
        assert [d["message"] for d in server.diagnostics_of(uri)] == ['3 is not of type "string"']
    finally:
        server.close()


def test_the_documented_taplo_toml_drives_taplo_lint_too(project: Path) -> None:
    """The command line reads the same file from the folder it runs in."""
    write(project / ".taplo.toml", documented_block("taplo-config"))
    preset = headerless_preset(project)
    environment = {k: v for k, v in os.environ.items() if k != "TAPLO_CONFIG"}
    done = subprocess.run(
        [taplo_binary(), "lint", "--colors", "never", str(preset.relative_to(project))],
        cwd=project,
        env={**environment, "RUST_LOG": "warn"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'error: 3 is not of type "string"' in done.stderr + done.stdout
