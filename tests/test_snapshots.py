"""`compile --out-dir DIR [--check]`: compiled snapshots kept beside the presets, and their hook."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from realtime_config import SnapshotError

# That the library raises, not only the command: keeping snapshots has no public function.
from realtime_config.authoring._snapshots import sync_snapshots
from realtime_config.cli import main
from tests.conftest import PROJECT, preset_name, shipped_presets, write
from tests.test_precommit import project_files

OLD_TIME = 1_000_000_000
FIX = "run realtime-config compile --out-dir snapshots"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def compiled(preset: Path, *options: str) -> str:
    """What `realtime-config compile PRESET` prints: the bytes a snapshot must hold."""
    code, out, err = run("compile", str(preset), *options)
    assert (code, err) == (0, ""), err
    return out


def state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and mtime, to prove nothing was touched."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def age(folder: Path) -> None:
    """Set every file's mtime far in the past, so that a rewrite shows."""
    for path in folder.rglob("*"):
        os.utime(path, (OLD_TIME, OLD_TIME))


@pytest.fixture
def presets(project: Path) -> Path:
    """A project with three presets: one extending a base, one in a sub-folder."""
    write(project / "presets" / "base.toml", 'voice = "ash"\ntemperature = 0.8\n')
    write(
        project / "presets" / "agent.toml",
        'preset.extends = "base.toml"\npreset.instructions_file = "agent.md"\nspeed = 1.1\n',
    )
    write(project / "presets" / "agent.md", "Be brief.\n")
    write(project / "presets" / "team" / "text.toml", 'modalities = ["text"]\n')
    return project / "presets"


def test_out_dir_writes_one_snapshot_per_preset(presets: Path, project: Path) -> None:
    assert run("compile", "--out-dir", "snapshots") == (
        0,
        "wrote snapshots/agent.json\n"
        "wrote snapshots/base.json\n"
        "wrote snapshots/team/text.json\n"
        "3 snapshots: 3 written, 0 unchanged\n",
        "",
    )
    snapshots = project / "snapshots"
    assert sorted(p.relative_to(snapshots).as_posix() for p in snapshots.rglob("*")) == [
        "agent.json",
        "base.json",
        "team",
        "team/text.json",
    ]
    for name in ("agent", "base", "team/text"):
        text = (snapshots / f"{name}.json").read_text("utf-8")
        assert text == compiled(presets / f"{name}.toml")
    assert '"instructions": "Be brief.\\n"' in (snapshots / "agent.json").read_text("utf-8")


def test_only_changed_snapshots_are_rewritten(presets: Path, project: Path) -> None:
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    snapshots = project / "snapshots"
    age(snapshots)
    before = state(snapshots)
    assert run("compile", "--out-dir", "snapshots") == (
        0,
        "3 snapshots: 0 written, 3 unchanged\n",
        "",
    )
    assert state(snapshots) == before

    write(presets / "base.toml", 'voice = "cedar"\ntemperature = 0.8\n')
    assert run("compile", "--out-dir", "snapshots") == (
        0,
        "wrote snapshots/agent.json\nwrote snapshots/base.json\n3 snapshots: 2 written, 1 unchanged\n",
        "",
    )
    after = state(snapshots)
    assert after["team/text.json"] == before["team/text.json"]
    assert after["base.json"][1] != OLD_TIME * 10**9
    assert after["base.json"][0] == compiled(presets / "base.toml").encode()
    assert [p.name for p in snapshots.iterdir() if p.name.startswith(".")] == []


def test_check_passes_when_snapshots_are_current(presets: Path) -> None:
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    assert run("compile", "--out-dir", "snapshots", "--check") == (
        0,
        "3 snapshots up to date\n",
        "",
    )


def test_check_catches_drift_and_writes_nothing(presets: Path, project: Path) -> None:
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    snapshots = project / "snapshots"
    write(presets / "team" / "text.toml", 'modalities = ["text"]\ntemperature = 0.9\n')
    age(snapshots)
    before = state(snapshots)
    assert run("compile", "--out-dir", "snapshots", "--check") == (
        1,
        "",
        "snapshots/team/text.json: stale: differs from the compiled presets/team/text.toml; "
        f"{FIX}\n",
    )
    assert state(snapshots) == before


def test_check_sees_a_change_to_a_base_or_an_instructions_file(presets: Path) -> None:
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    write(presets / "agent.md", "Be very brief.\n")
    assert run("compile", "--out-dir", "snapshots", "--check") == (
        1,
        "",
        f"snapshots/agent.json: stale: differs from the compiled presets/agent.toml; {FIX}\n",
    )
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    write(presets / "base.toml", 'voice = "ash"\ntemperature = 0.7\n')
    assert run("compile", "--out-dir", "snapshots", "--check") == (
        1,
        "",
        f"snapshots/agent.json: stale: differs from the compiled presets/agent.toml; {FIX}\n"
        f"snapshots/base.json: stale: differs from the compiled presets/base.toml; {FIX}\n",
    )


def test_check_names_missing_stale_and_orphaned_snapshots_at_once(
    presets: Path, project: Path
) -> None:
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    snapshots = project / "snapshots"
    (snapshots / "base.json").unlink()
    write(presets / "agent.toml", 'preset.extends = "base.toml"\nspeed = 1.2\n')
    write(snapshots / "old.json", "{}\n")
    write(snapshots / "team" / "gone.json", "{}\n")
    write(snapshots / "notes.txt", "not a snapshot\n")
    age(snapshots)
    before = state(snapshots)
    assert run("compile", "--out-dir", "snapshots", "--check") == (
        1,
        "",
        f"snapshots/agent.json: stale: differs from the compiled presets/agent.toml; {FIX}\n"
        f"snapshots/base.json: missing: presets/base.toml has no snapshot; {FIX}\n"
        "snapshots/old.json: orphaned: no preset in presets/ compiles to it; delete it\n"
        "snapshots/team/gone.json: orphaned: no preset in presets/ compiles to it; delete it\n",
    )
    assert state(snapshots) == before


def test_check_of_a_missing_folder_names_every_snapshot(presets: Path, project: Path) -> None:
    assert run("compile", "--out-dir", "snapshots", "--check") == (
        1,
        "",
        f"snapshots/agent.json: missing: presets/agent.toml has no snapshot; {FIX}\n"
        f"snapshots/base.json: missing: presets/base.toml has no snapshot; {FIX}\n"
        f"snapshots/team/text.json: missing: presets/team/text.toml has no snapshot; {FIX}\n",
    )
    assert not (project / "snapshots").exists()


def test_writing_leaves_orphans_and_warns(presets: Path, project: Path) -> None:
    write(project / "snapshots" / "old.json", "{}\n")
    assert run("compile", "--out-dir", "snapshots") == (
        0,
        "wrote snapshots/agent.json\n"
        "wrote snapshots/base.json\n"
        "wrote snapshots/team/text.json\n"
        "3 snapshots: 3 written, 0 unchanged\n",
        "snapshots/old.json: orphaned: no preset in presets/ compiles to it; delete it\n",
    )
    assert (project / "snapshots" / "old.json").read_text("utf-8") == "{}\n"


def test_a_broken_preset_is_reported_and_fails(presets: Path, project: Path) -> None:
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    kept = (project / "snapshots" / "team" / "text.json").read_text("utf-8")
    write(presets / "team" / "text.toml", 'modalities = ["text"]\nspeed = 9\n')
    diagnostic = (
        "presets/team/text.toml:2:9: error: speed: 9 is greater than the maximum of 1.5 "
        "(allowed: 0.25 to 1.5)\n"
    )
    failed = "snapshots/team/text.json: failed: presets/team/text.toml has errors\n"
    assert run("compile", "--out-dir", "snapshots", "--check") == (1, "", diagnostic + failed)
    write(presets / "base.toml", 'voice = "cedar"\n')
    assert run("compile", "--out-dir", "snapshots") == (
        1,
        "wrote snapshots/agent.json\nwrote snapshots/base.json\n2 snapshots: 2 written, 0 unchanged\n",
        diagnostic + failed,
    )
    assert (project / "snapshots" / "team" / "text.json").read_text("utf-8") == kept


def test_warnings_are_printed_and_do_not_fail(presets: Path) -> None:
    write(presets / "base.toml", 'voice = "marine"\n')
    code, _, err = run("compile", "--out-dir", "snapshots")
    assert code == 0
    assert err == (
        "presets/base.toml:1:9: warning: voice `marine` is not a known voice; "
        "did you mean `marin`?\n"
    )
    assert run("compile", "--out-dir", "snapshots", "--check") == (
        0,
        "3 snapshots up to date\n",
        err,
    )


def test_target_is_honoured(presets: Path, project: Path) -> None:
    write(presets / "ws.toml", 'voice = "ash"\npreset.target = "beta.session.update"\n')
    assert run("compile", "--out-dir", "snapshots")[0] == 0
    snapshots = project / "snapshots"
    assert (snapshots / "ws.json").read_text("utf-8") == compiled(presets / "ws.toml")
    assert (snapshots / "ws.json").read_text("utf-8").startswith('{\n  "type": "session.update",\n')
    assert (snapshots / "base.json").read_text("utf-8").startswith('{\n  "modalities"')

    assert run("compile", "--out-dir", "snapshots", "--check", "-t", "beta.session.update") == (
        1,
        "",
        "".join(
            f"snapshots/{name}.json: stale: differs from the compiled presets/{name}.toml; "
            f"{FIX} --target beta.session.update\n"
            for name in ("agent", "base", "team/text")
        ),
    )
    assert run("compile", "--out-dir", "snapshots", "-t", "beta.session.update")[0] == 0
    for name in ("agent", "base", "team/text", "ws"):
        assert (snapshots / f"{name}.json").read_text("utf-8") == compiled(
            presets / f"{name}.toml", "--target", "beta.session.update"
        )


def test_target_unsupported_fields_fail_unless_dropped(presets: Path, project: Path) -> None:
    code, _, err = run("compile", "--out-dir", "ga", "-t", "client_secrets")
    assert code == 1
    assert err.startswith(
        "presets/base.toml:2:1: error: temperature is not supported by target client_secrets"
    )
    code, _, err = run("compile", "--out-dir", "ga", "-t", "client_secrets", "--drop-unsupported")
    assert code == 0
    assert "warning: temperature is not supported by target client_secrets" in err
    assert run("compile", "--out-dir", "ga", "-t", "client_secrets", "--check")[0] == 1
    assert (
        run("compile", "--out-dir", "ga", "-t", "client_secrets", "--drop-unsupported", "--check")[
            0
        ]
        == 0
    )


def test_explicit_presets_keep_their_names_and_skip_orphans(presets: Path, project: Path) -> None:
    elsewhere = write(project / "other" / "demo.toml", 'voice = "sage"\n')
    write(project / "snapshots" / "old.json", "{}\n")
    assert run(
        "compile", "--out-dir", "snapshots", str(presets / "team" / "text.toml"), "other/demo.toml"
    ) == (
        0,
        "wrote snapshots/demo.json\nwrote snapshots/team/text.json\n"
        "2 snapshots: 2 written, 0 unchanged\n",
        "",
    )
    assert (project / "snapshots" / "demo.json").read_text("utf-8") == compiled(elsewhere)
    assert not (project / "snapshots" / "base.json").exists()
    write(elsewhere, 'voice = "verse"\n')
    assert run("compile", "--out-dir", "snapshots", "--check", "other/demo.toml") == (
        1,
        "",
        "snapshots/demo.json: stale: differs from the compiled other/demo.toml; "
        "run realtime-config compile --out-dir snapshots other/demo.toml\n",
    )
    assert run("compile", "--out-dir", "snapshots", "--check", "presets/team/text.toml") == (
        0,
        "1 snapshot up to date\n",
        "",
    )


def test_two_presets_for_one_snapshot_is_an_error(presets: Path, project: Path) -> None:
    write(project / "a" / "x.toml", "")
    write(project / "b" / "x.toml", "")
    assert run("compile", "--out-dir", "snapshots", "a/x.toml", "b/x.toml") == (
        1,
        "",
        "realtime-config: error: a/x.toml and b/x.toml would both write snapshots/x.json; "
        "give them different file names\n",
    )
    assert not (project / "snapshots").exists()


def test_no_presets_is_an_error(project: Path) -> None:
    assert run("compile", "--out-dir", "snapshots") == (
        1,
        "",
        "realtime-config: error: no presets found: presets holds no .toml files\n",
    )
    with pytest.raises(SnapshotError):
        sync_snapshots(project / "snapshots")


def test_root_option_chooses_the_presets_folder(presets: Path, project: Path) -> None:
    other = project / "elsewhere"
    write(other / "presets" / "only.toml", 'voice = "ash"\n')
    assert run("compile", "--out-dir", "snapshots", "--root", str(other)) == (
        0,
        "wrote snapshots/only.json\n1 snapshot: 1 written, 0 unchanged\n",
        "",
    )


def test_usage_errors(presets: Path) -> None:
    code, _, err = run("compile", "--check")
    assert (code, err.splitlines()[-1]) == (2, "Error: --check needs --out-dir DIR")
    code, _, err = run("compile", "--out-dir", "s", "-o", "x.json")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: --out-dir writes one file per preset; drop -o/--output and --compact"
    )
    code, _, err = run("compile", "--out-dir", "s", "--compact")
    assert code == 2


def test_an_unwritable_folder_is_one_line(presets: Path, project: Path) -> None:
    write(project / "snapshots" / "team", "a file where a folder should be\n")
    code, _, err = run("compile", "--out-dir", "snapshots")
    assert code == 1
    assert err.startswith("realtime-config: error: snapshots/team/text.json: cannot write: ")
    assert len(err.splitlines()) == 1


def test_names_of_the_shipped_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(PROJECT)
    out = tmp_path / "snapshots"
    write(out / "orphan.json", "{}\n")  # the whole presets folder: other snapshots are orphans
    code, stdout, err = run("compile", "--out-dir", str(out))
    names = [f"{preset_name(p)}.json" for p in shipped_presets()]
    orphaned = f"{out / 'orphan.json'}: orphaned: no preset in presets/ compiles to it; delete it"
    assert (code, err) == (0, orphaned + "\n")
    assert stdout.splitlines()[:-1] == [f"wrote {out / name}" for name in names]
    assert sorted(state(out)) == sorted([*names, "orphan.json"])
    for preset, name in zip(shipped_presets(), names, strict=True):
        assert (out / name).read_text(encoding="utf-8") == compiled(preset)


def snapshot_hook() -> dict[str, object]:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "realtime-config-snapshots"]
    return dict(hook)


def test_the_hook_runs_the_check_once_over_every_preset() -> None:
    hook = snapshot_hook()
    assert hook["entry"] == "realtime-config compile --out-dir snapshots --check"
    assert hook["pass_filenames"] is False
    assert hook["always_run"] is True
    assert hook["language"] == "python"


def test_the_hooks_args_override_its_folder(presets: Path, project: Path) -> None:
    entry = shlex.split(str(snapshot_hook()["entry"]))
    assert entry[0] == "realtime-config"
    assert run("compile", "--out-dir", "reviewed/payloads")[0] == 0
    assert run(*entry[1:]) == (
        1,
        "",
        f"snapshots/agent.json: missing: presets/agent.toml has no snapshot; {FIX}\n"
        f"snapshots/base.json: missing: presets/base.toml has no snapshot; {FIX}\n"
        f"snapshots/team/text.json: missing: presets/team/text.toml has no snapshot; {FIX}\n",
    )
    assert run(*entry[1:], "--out-dir", "reviewed/payloads") == (
        0,
        "3 snapshots up to date\n",
        "",
    )


def git(folder: Path, *args: str) -> str:
    """Git, blind to the user's configuration (no signing, no hooks), with a fixed author."""
    environment = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    }
    done = subprocess.run(
        ["git", *args], cwd=folder, env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.slow
def test_the_real_pre_commit_runs_the_hook_with_its_args(tmp_path: Path) -> None:
    """pre-commit installs this repository's hook and runs it with the user's args."""
    pre_commit = str(Path(sys.executable).with_name("pre-commit"))
    assert Path(pre_commit).is_file(), "pre-commit is missing: install the test extra"
    hooks = tmp_path / "hooks"
    for name in project_files():  # from a checkout or an unpacked sdist
        (hooks / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT / name, hooks / name)
    git(hooks, "init", "-q")
    git(hooks, "add", ".")
    git(hooks, "commit", "-q", "-m", "hooks")
    revision = git(hooks, "rev-parse", "HEAD")

    repo = tmp_path / "repo"
    write(repo / "pyproject.toml", "[project]\nname = 'demo'\n")
    write(repo / "presets" / "a.toml", 'voice = "ash"\n')
    write(repo / "payloads" / "a.json", compiled(repo / "presets" / "a.toml"))
    entry = {"id": "realtime-config-snapshots", "args": ["--out-dir", "payloads"]}
    config = {"repos": [{"repo": str(hooks), "rev": revision, "hooks": [entry]}]}
    write(repo / ".pre-commit-config.yaml", yaml.safe_dump(config))
    git(repo, "init", "-q")
    git(repo, "add", ".")

    def pre_commit_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "run", "--all-files"],
            cwd=repo,
            env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            check=False,
        )

    passing = pre_commit_run()
    assert passing.returncode == 0, passing.stdout + passing.stderr
    write(repo / "presets" / "a.toml", 'voice = "cedar"\n')
    failing = pre_commit_run()
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert (
        "payloads/a.json: stale: differs from the compiled presets/a.toml; "
        "run realtime-config compile --out-dir payloads\n" in failing.stdout
    )


def test_the_repair_command_repeats_the_options_of_the_check(project: Path) -> None:
    """A missing snapshot's remedy is the command that writes it with the same options, so
    that running it makes the check pass (1 snapshot of 1 preset, compiled as checked)."""
    write(project / "presets" / "demo.toml", 'voice = "ash"\n')
    options = ["--target", "sessions", "--root", ".", "--drop-unsupported"]
    command = ["compile", "--out-dir", "snapshots", *options]
    assert run(*command, "--check") == (
        1,
        "",
        "snapshots/demo.json: missing: presets/demo.toml has no snapshot; run realtime-config "
        "compile --out-dir snapshots --target sessions --root . --drop-unsupported\n",
    )
    assert run(*command) == (
        0,
        "wrote snapshots/demo.json\n1 snapshot: 1 written, 0 unchanged\n",
        "",
    )
    assert run(*command, "--check") == (0, "1 snapshot up to date\n", "")
