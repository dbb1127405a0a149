"""The docs cannot drift: generated pages are current, copies match their sources, and the
README keeps its shape (the console examples themselves run in test_docs_console.py)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import BETA_CASES, PRESETS, PROJECT
from tests.fake_api import CANARY_KEY, EXPIRES_AT, SECRET, FakeAPI

README = PROJECT / "README.md"
GENERATOR = PROJECT / "docs" / "generate.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_check_names_each_stale_page_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = _generator()
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("fields.md", "targets.md", "api.md"):
        shutil.copy(PROJECT / "docs" / name, docs / name)
    monkeypatch.setattr(generator, "DOCS", docs)
    monkeypatch.setattr(generator, "FIELDS_PAGE", docs / "fields.md")
    monkeypatch.setattr(generator, "TARGETS_PAGE", docs / "targets.md")
    monkeypatch.setattr(generator, "API_PAGE", docs / "api.md")
    assert generator.main(["--check"]) == 0

    fields = (docs / "fields.md").read_text(encoding="utf-8")
    stale_fields = fields.replace("### `", "### `stale.", 1)
    assert stale_fields != fields
    (docs / "fields.md").write_text(stale_fields, encoding="utf-8")
    targets = (docs / "targets.md").read_text(encoding="utf-8")
    (docs / "targets.md").write_text(targets.replace("| `sessions` |", "| `old` |", 1), "utf-8")
    capsys.readouterr()
    assert generator.main(["--check"]) == 1
    assert capsys.readouterr().err == (
        "docs/fields.md: stale; run python docs/generate.py\n"
        "docs/targets.md: stale; run python docs/generate.py\n"
    )
    assert (docs / "fields.md").read_text(encoding="utf-8") == stale_fields

    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
    assert (docs / "targets.md").read_text(encoding="utf-8") == targets


def test_targets_page_lists_every_target_of_the_registry() -> None:
    from realtime_config import TARGETS

    page = (PROJECT / "docs" / "targets.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([^`]+)` \| ", page, flags=re.MULTILINE)
    generated = listed[: len(TARGETS)]
    assert generated == list(TARGETS)


def test_api_page_documents_every_public_name() -> None:
    import realtime_config

    page = (PROJECT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"^::: realtime_config\.(\w+)$", page, flags=re.MULTILINE)
    assert sorted(documented) == sorted(set(realtime_config.__all__) - {"__version__"})


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_readme_is_short_and_starts_with_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    first = text.split("```sh\n", 1)
    assert first[0] == "# realtime-config\n\n", "the set-up commands come first"
    install, tests = first[1].split("```", 1)[0].splitlines()
    assert install.endswith(
        "pip install -q . && .venv/bin/realtime-config compile presets/transcription.toml"
    )
    assert (PRESETS / "transcription.toml").is_file()
    # The test command is the one .ci/run runs: the same extra, the same runner.
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests.endswith("pip install -q -e '.[test]' && .venv/bin/python -m pytest")
    assert re.search(r"pip install .*-e '\.\[[a-z,]*test[a-z,]*\]'", ci)
    assert '"$venv/python" -m pytest' in ci


def test_the_readme_preset_is_the_shipped_file() -> None:
    (shown,) = _code_blocks(README.read_text(encoding="utf-8"), "toml")
    assert shown == (PRESETS / "team" / "base.toml").read_text(encoding="utf-8")


def test_the_migration_walkthrough_runs_on_the_beta_presets_kept_in_the_tests() -> None:
    copy = PROJECT / "docs" / "sandboxes" / "beta-repo"
    sources = {path.name: path for path in BETA_CASES.glob("*.toml")}
    sources["phone-support.toml"] = PRESETS / "phone-support.toml"
    assert sorted(path.name for path in copy.glob("*.toml")) == sorted(sources)
    for name, source in sources.items():
        expected = source.read_text(encoding="utf-8").replace(
            '"../../../presets/phone-support.toml"', '"phone-support.toml"'
        )
        assert (copy / name).read_text(encoding="utf-8") == expected, name
    for markdown in (BETA_CASES / "instructions").glob("*.md"):
        assert (copy / "instructions" / markdown.name).read_bytes() == markdown.read_bytes()


@pytest.mark.parametrize("page", ["README.md", "docs/api.md"])
def test_the_first_python_example_runs_against_the_fake_api(
    page: str,
    api: FakeAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = _code_blocks((PROJECT / page).read_text(encoding="utf-8"), "python")[0]
    monkeypatch.chdir(PROJECT)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    exec(compile(example, page, "exec"), {"__name__": "example"})
    printed = capsys.readouterr().out
    assert printed.splitlines()[-1] in {SECRET, str(EXPIRES_AT)}
    assert len(api.requests) == 1
    assert api.requests[0].path == "/v1/realtime/client_secrets"
