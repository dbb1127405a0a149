"""Schema diagnostics the other tests do not reach: a value listed twice where each may
appear once, located at the repeated item."""

from __future__ import annotations

from pathlib import Path

from realtime_config import check_files
from tests.conftest import write


def lines(path: Path) -> list[str]:
    return [str(d) for d in check_files([path])]


def test_a_ga_output_modality_listed_twice_is_an_error_at_the_second(project: Path) -> None:
    path = write(project / "p.toml", 'type = "realtime"\noutput_modalities = ["audio", "audio"]\n')
    assert lines(path) == [
        'p.toml:2:31: error: output_modalities: "audio" is listed more than once'
    ]


def test_a_beta_modality_listed_twice_is_an_error_at_the_second(project: Path) -> None:
    path = write(project / "p.toml", 'modalities = ["text", "audio", "text"]\n')
    assert lines(path) == ['p.toml:1:32: error: modalities: "text" is listed more than once']
