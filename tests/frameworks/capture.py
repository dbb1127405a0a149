"""Capture the `session.update` events (and SIP accept bodies) that real Realtime frameworks
send, as JSON fixtures.

Each scenario drives openai-agents, pipecat or livekit-agents against a loopback fake of the
Realtime API (`fake_realtime.py`) and records what the framework sends, byte for byte as JSON
(key order kept). Needs the `frameworks` extra:

    pip install -e '.[frameworks]'
    python -m tests.frameworks.capture                  # all three, into tests/fixtures/frameworks
    python -m tests.frameworks.capture pipecat --out /tmp/capture

A framework's folder is rewritten whole: its fixtures, and `manifest.json`, which lists each
fixture's target and scenario and the package versions that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.frameworks.fake_realtime import Connection, serve_websocket
from tests.frameworks.scenario import Captured, Scenario

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks"
SCENARIO_TIMEOUT = 60.0


@dataclass(frozen=True)
class Framework:
    """A framework to capture: its folder name, its driver module, the package that must be
    installed for it."""

    name: str
    driver: str
    package: str


FRAMEWORKS = {
    f.name: f
    for f in (
        Framework("openai-agents", "tests.frameworks.drive_openai_agents", "openai-agents"),
        Framework("pipecat", "tests.frameworks.drive_pipecat", "pipecat-ai"),
        Framework("livekit-agents", "tests.frameworks.drive_livekit", "livekit-plugins-openai"),
    )
}


class CaptureError(Exception):
    """A framework could not be captured: not installed, or a scenario failed."""


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


async def _capture_scenario(scenario: Scenario) -> list[Captured]:
    async with serve_websocket() as fake:
        try:
            sent_otherwise = await asyncio.wait_for(scenario.drive(fake), SCENARIO_TIMEOUT)
        except Exception as error:
            raise CaptureError(
                f"scenario {scenario.name}: {type(error).__name__}: {error}"
            ) from error
        events = [
            Captured(
                "beta.session.update" if connection.beta else "session.update",
                message,
                _describe(connection),
            )
            for connection in fake.connections
            for message in connection.messages
            if message.get("type") == "session.update"
        ]
    if not events:
        raise CaptureError(f"scenario {scenario.name}: the framework sent no session.update")
    return events + sent_otherwise


def _describe(connection: Connection) -> str:
    """Where a framework's socket went and how it authenticated: `/v1/realtime?model
    (authorization)`. Names only, never values."""
    query = "&".join(sorted(connection.query))
    auth = [name for name in connection.header_names if name in {"authorization", "api-key"}]
    return f"WebSocket {connection.path}?{query} ({', '.join(auth) or 'no credentials'})"


def _write_atomically(path: Path, text: str) -> None:
    """Write through a temporary sibling, so that an interrupted capture leaves no torn file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    return {name: metadata.version(name) for name in packages}


def capture(framework: Framework, out: Path) -> list[str]:
    """Run every scenario of ``framework`` and write its folder under ``out``; returns the
    names of the files written (the manifest last)."""
    try:
        metadata.version(framework.package)
    except metadata.PackageNotFoundError:
        raise CaptureError(
            f"{framework.package} is not installed: pip install -e '.[frameworks]'"
        ) from None
    driver = importlib.import_module(framework.driver)
    scenarios: tuple[Scenario, ...] = driver.SCENARIOS
    entries: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    for scenario in scenarios:
        captured = asyncio.run(_capture_scenario(scenario))
        number = 0
        for item in captured:
            if item.target == "calls.accept":
                name = f"{scenario.name}.accept.json"
            else:
                number += 1
                name = f"{scenario.name}.{number}.json"
            files[name] = _dumps(item.payload)
            entries.append(
                {
                    "file": name,
                    "target": item.target,
                    "scenario": scenario.name,
                    "configures": scenario.configures,
                    "sent": item.via,
                }
            )
    manifest = {
        "framework": framework.name,
        "packages": _versions(driver.PACKAGES),
        "python": ".".join(map(str, sys.version_info[:2])),
        "fixtures": entries,
    }
    folder = out / framework.name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    for name, text in [*files.items(), ("manifest.json", _dumps(manifest))]:
        _write_atomically(folder / name, text)
    return [*files, "manifest.json"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.frameworks.capture", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "frameworks", nargs="*", metavar="FRAMEWORK", help=f"one of {', '.join(FRAMEWORKS)}"
    )
    parser.add_argument("--out", type=Path, default=FIXTURES, help="folder of the fixtures")
    options = parser.parse_args(argv)
    for name in options.frameworks:
        if name not in FRAMEWORKS:
            parser.error(f"unknown framework {name!r}; choose from {', '.join(FRAMEWORKS)}")
    for name in options.frameworks or FRAMEWORKS:
        try:
            written = capture(FRAMEWORKS[name], options.out)
        except CaptureError as error:
            print(f"error: {name}: {error}", file=sys.stderr)
            return 1
        folder = (options.out / name).resolve()
        shown = folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder
        print(f"{name}: {len(written) - 1} fixtures in {shown.as_posix()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
