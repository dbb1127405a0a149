"""The command line's entry points: ``python -m realtime_config`` is ``realtime-config``."""

from __future__ import annotations

import runpy
import sys

import pytest

from realtime_config import __version__


def test_python_dash_m_runs_the_same_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m realtime_config", "--version"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("realtime_config", run_name="__main__")
    assert done.value.code == 0
    assert capsys.readouterr() == (f"realtime-config, version {__version__}\n", "")


def test_python_dash_m_reports_a_usage_error_with_the_commands_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m realtime_config", "no-such-command"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("realtime_config", run_name="__main__")
    assert done.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0] == "Usage: realtime-config [OPTIONS] COMMAND [ARGS]..."
    assert err.splitlines()[-1] == "Error: No such command 'no-such-command'."
