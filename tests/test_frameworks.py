"""The session configurations real Realtime frameworks send, as fixtures.

`tests/fixtures/frameworks/<framework>/` holds the `session.update` events (and a SIP accept
body) that openai-agents, pipecat and livekit-agents sent to a loopback fake of the API
(`tests/frameworks/capture.py`). Every fixture must import through the command line and
compile back, for its target, to the same JSON: values and types equal, key order aside (the
frameworks' order is their serializer's), and `event_id` aside (import drops it). With the
`frameworks` extra installed, a live capture must reproduce every fixture.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT, run_cli
from tests.frameworks.capture import FRAMEWORKS

FIXTURES = PROJECT / "tests" / "fixtures" / "frameworks"
LIVE_TIMEOUT = 300


def manifest(framework: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / framework / "manifest.json").read_text())
    return loaded


def fixtures() -> list[tuple[str, dict[str, Any]]]:
    """(framework, manifest entry) for every fixture; an empty list is an error."""
    found = [(name, entry) for name in FRAMEWORKS for entry in manifest(name)["fixtures"]]
    assert len(found) >= 60, found
    return found


def canonical(payload: Any) -> str:
    """JSON text that tells `true` from `1` and `1.0` from `1` (Python's == does not), with
    the keys sorted: equal texts are the same JSON."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, indent=1)


def without_event_id(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key != "event_id"}


def test_every_framework_has_fixtures_and_every_file_is_listed() -> None:
    for name in FRAMEWORKS:
        listed = {entry["file"] for entry in manifest(name)["fixtures"]}
        on_disk = {p.name for p in (FIXTURES / name).glob("*.json")} - {"manifest.json"}
        assert listed == on_disk, name
        assert len(listed) >= 20, name


def test_the_readme_names_the_versions_that_produced_the_fixtures() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for name in FRAMEWORKS:
        for package, version in manifest(name)["packages"].items():
            assert f"{package} {version}" in readme, (package, version)


def test_the_fixtures_cover_every_target_a_framework_sends() -> None:
    targets = {(name, entry["target"]) for name, entry in FIXTURE_ENTRIES}
    assert targets == {
        ("openai-agents", "session.update"),
        ("openai-agents", "calls.accept"),
        ("pipecat", "session.update"),
        ("livekit-agents", "session.update"),
        ("livekit-agents", "beta.session.update"),
    }


FIXTURE_ENTRIES = fixtures()


@pytest.mark.parametrize(
    ("framework", "entry"), FIXTURE_ENTRIES, ids=[f"{n}/{e['file']}" for n, e in FIXTURE_ENTRIES]
)
def test_a_captured_event_imports_and_compiles_back_to_the_same_json(
    framework: str, entry: dict[str, Any], project: Path
) -> None:
    source = FIXTURES / framework / entry["file"]
    sent = json.loads(source.read_text(encoding="utf-8"))
    status, _, err = run_cli("import", str(source), "-o", "preset.toml")
    assert status == 0, f"import refuses what {framework} sends:\n{err}"
    status, out, err = run_cli("compile", "preset.toml", "--target", entry["target"])
    assert status == 0, f"the imported preset does not compile for {entry['target']}:\n{err}"
    compiled, expected = canonical(json.loads(out)), canonical(without_event_id(sent))
    diff = difflib.unified_diff(
        expected.splitlines(), compiled.splitlines(), "sent", "compiled", lineterm=""
    )
    assert compiled == expected, "\n".join(diff)


# --- A live capture, with the frameworks extra ------------------------------------------------


def _missing_packages() -> list[str]:
    missing = []
    for framework in FRAMEWORKS.values():
        for package in (framework.package, *manifest(framework.name)["packages"]):
            try:
                metadata.version(package)
            except metadata.PackageNotFoundError:
                missing.append(package)
    return sorted(set(missing))


def _capture_live(out: Path) -> None:
    """Run the capture script for the three frameworks at once, each in its own process (the
    frameworks' logging and event loops stay out of pytest's)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_API_VERSION",
    ):
        env.pop(name, None)
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", "tests.frameworks.capture", name, "--out", str(out)],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in FRAMEWORKS
    }
    failures = []
    for name, process in processes.items():
        try:
            _, err = process.communicate(timeout=LIVE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            failures.append(f"{name}: no result in {LIVE_TIMEOUT} s")
            continue
        if process.returncode != 0:
            failures.append(f"{name}: exit {process.returncode}\n{err[-3000:]}")
    assert not failures, "\n".join(failures)


def test_a_live_capture_reproduces_every_fixture(tmp_path: Path) -> None:
    missing = _missing_packages()
    if missing:
        pytest.skip(
            "the frameworks extra is not installed (pip install -e '.[frameworks]'); "
            f"missing: {', '.join(missing)}"
        )
    _capture_live(tmp_path)
    differences = []
    for name in FRAMEWORKS:
        committed, live = (
            manifest(name),
            json.loads((tmp_path / name / "manifest.json").read_text()),
        )
        live_files = {entry["file"]: entry for entry in live["fixtures"]}
        for entry in committed["fixtures"]:
            found = live_files.get(entry["file"])
            if found is None or found["target"] != entry["target"]:
                differences.append(
                    f"{name}/{entry['file']}: not sent any more as {entry['target']}"
                )
                continue
            old = without_event_id(json.loads((FIXTURES / name / entry["file"]).read_text()))
            new = without_event_id(json.loads((tmp_path / name / entry["file"]).read_text()))
            if canonical(old) != canonical(new):
                differences.append(f"{name}/{entry['file']}: sent differently now")
        if differences and committed["packages"] != live["packages"]:
            differences.append(
                f"{name}: fixtures from {committed['packages']}, installed {live['packages']}"
            )
    assert not differences, "recapture with python -m tests.frameworks.capture:\n" + "\n".join(
        differences
    )
