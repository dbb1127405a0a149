"""The CI recipes: the GitHub Action's steps run as a script here, and every snippet is what
its CI system accepts (check-jsonschema's copies of the published schemas, offline)."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from realtime_config import __version__
from tests.conftest import PROJECT, write

ACTION = PROJECT / "action.yml"
GITLAB = PROJECT / "examples" / "ci" / "gitlab-ci.yml"
WORKFLOW = PROJECT / "examples" / "ci" / "github-workflow.yml"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def schema_check(builtin: str, path: Path) -> None:
    assert CHECK_JSONSCHEMA.is_file(), "check-jsonschema is missing: install the test extra"
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", builtin, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_is_a_valid_composite_action() -> None:
    schema_check("vendor.github-actions", ACTION)
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        if "run" in step:  # an input pasted into a script could inject shell code
            assert "${{" not in step["run"], step["name"]


def test_the_workflow_and_gitlab_snippets_are_valid() -> None:
    schema_check("vendor.github-workflows", WORKFLOW)
    schema_check("vendor.gitlab-ci", GITLAB)


def test_the_snippets_pin_one_real_version_form() -> None:
    """Releases are tagged v<version> (CHANGELOG.md): each snippet pins that form."""
    workflow = WORKFLOW.read_text(encoding="utf-8")
    gitlab = GITLAB.read_text(encoding="utf-8")
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    (tag,) = set(re.findall(r"realtime-config/realtime-config@(v[\d.]+)", workflow))
    assert re.findall(r'"realtime-config==([\d.]+)"', gitlab) == [tag[1:]]
    assert set(re.findall(r"rev: (v[\d.]+)", readme)) == {tag}
    released = tuple(int(part) for part in __version__.split("."))
    assert tuple(int(part) for part in tag[1:].split(".")) >= released


def test_the_docs_show_the_snippets_as_they_are() -> None:
    page = (PROJECT / "docs" / "ci.md").read_text(encoding="utf-8")
    for snippet in (GITLAB, WORKFLOW):
        assert snippet.read_text(encoding="utf-8") in page, snippet.name


# --- the action's steps, run as a script ---------------------------------------------------


class ActionRunner:
    """Runs action.yml's steps as GitHub's runner would on Linux, in a fresh virtual environment
    that stands for ``actions/setup-python`` (the one step that is not a script)."""

    def __init__(self, python: Path) -> None:
        self.bin = python.parent
        self.action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))

    def inputs(self, given: dict[str, str]) -> dict[str, str]:
        declared = self.action["inputs"]
        unknown = set(given) - set(declared)
        assert not unknown, f"action.yml has no input {unknown}"
        return {name: given.get(name, spec.get("default", "")) for name, spec in declared.items()}

    def expand(self, text: str, inputs: dict[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "github.action_path":
                return str(PROJECT)
            assert name.startswith("inputs."), f"an expression this runner cannot evaluate: {name}"
            return inputs[name.removeprefix("inputs.")]

        return EXPRESSION.sub(value, text)

    def applies(self, step: dict[str, Any], inputs: dict[str, str]) -> bool:
        condition = step.get("if")
        if condition is None:
            return True
        match = re.fullmatch(r"inputs\.([\w-]+) != ''", condition)
        assert match, f"a condition this runner cannot evaluate: {condition}"
        return inputs[match.group(1)] != ""

    def run(
        self, project: Path, **given: str
    ) -> Iterator[tuple[str, subprocess.CompletedProcess[str]]]:
        """Each step that ran, with its outcome; it stops after a failed step, as GitHub does."""
        inputs = self.inputs(given)
        for step in self.action["runs"]["steps"]:
            if "uses" in step:
                assert step["uses"].startswith("actions/setup-python@"), step["uses"]
                continue
            if not self.applies(step, inputs):
                continue
            env = {
                "PATH": f"{self.bin}:/usr/bin:/bin",
                "HOME": str(project),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                **{k: self.expand(str(v), inputs) for k, v in step.get("env", {}).items()},
            }
            folder = project / self.expand(step.get("working-directory", "."), inputs)
            assert step["shell"] == "bash"
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            yield step["name"], done
            if done.returncode != 0:
                return


@dataclass
class InstalledAction:
    """The runner, after a first run of every step with the default inputs (which installs
    realtime-config from the action's own revision) on a valid project."""

    runner: ActionRunner
    first_run: dict[str, subprocess.CompletedProcess[str]]

    def run(self, project: Path, **given: str) -> dict[str, subprocess.CompletedProcess[str]]:
        """Every step again; the requirement is now the installed name, which pip skips."""
        return dict(self.runner.run(project, version="realtime-config", **given))


@pytest.fixture(scope="module")
def action(tmp_path_factory: pytest.TempPathFactory) -> InstalledAction:
    folder = tmp_path_factory.mktemp("setup-python")
    venv.create(folder, with_pip=True)
    runner = ActionRunner(folder / "bin" / "python")
    project = a_project(tmp_path_factory.mktemp("project"))
    return InstalledAction(runner, dict(runner.run(project)))


def a_project(root: Path) -> Path:
    write(root / "pyproject.toml", "[project]\nname = 'demo'\n")
    write(root / "presets" / "agent.toml", 'type = "realtime"\ninstructions = "Be brief."\n')
    write(root / "presets" / "legacy.toml", 'voice = "ash"\n')
    return root


@pytest.mark.slow
def test_the_action_installs_validates_and_checks_snapshots(
    action: InstalledAction, tmp_path: Path
) -> None:
    ran = action.first_run
    assert list(ran) == ["Install realtime-config", "Validate presets"]
    for name, done in ran.items():
        assert done.returncode == 0, (name, done.stdout, done.stderr)
    assert ran["Validate presets"].stdout == ""  # github format: annotations only

    # With a snapshot folder: missing snapshots fail, written ones pass.
    project = a_project(tmp_path)
    check = action.run(project, snapshots="snapshots")["Check compiled snapshots"]
    assert check.returncode == 1
    assert "snapshots/agent.json: missing" in check.stderr
    subprocess.run(
        [str(action.runner.bin / "realtime-config"), "compile", "--out-dir", "snapshots"],
        cwd=project,
        check=True,
        capture_output=True,
    )
    check = action.run(project, snapshots="snapshots")["Check compiled snapshots"]
    assert (check.returncode, check.stdout) == (0, "2 snapshots up to date\n")


@pytest.mark.slow
def test_the_action_annotates_a_bad_preset_and_fails(
    action: InstalledAction, tmp_path: Path
) -> None:
    project = a_project(tmp_path / "repo")
    write(project / "presets" / "bad.toml", 'type = "realtime"\nvoice = "ash"\n')
    write(project / "other" / "x.toml", "temperature = 9.0\n")
    ran = dict(
        action.run(
            tmp_path, presets="presets other/x.toml", strict="true", **{"working-directory": "repo"}
        )
    )
    done = ran["Validate presets"]
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "::error file=presets/bad.toml,line=2,col=1,title=realtime-config dialect::`voice` is `audio.output.voice` in a GA preset",
        "::error file=other/x.toml,line=1,col=15,title=realtime-config range::temperature: 9.0 is greater than the maximum of 1.2 (allowed: 0.6 to 1.2)",
    ]
    assert "Check compiled snapshots" not in ran
