"""Time ``realtime-config validate`` against check-jsonschema and a bare tomllib+jsonschema loop.

Generates valid presets (variations of the shipped ones, with their ``extends`` bases and
instructions files) in a temporary folder, checks that every contender accepts them and
rejects a broken one, then runs each command several times, side by side, and prints the
median wall-clock seconds. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

import tomli_w

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
SCHEMA = PROJECT / "schema" / "realtime-session.schema.json"
SHIPPED = PROJECT / "presets"
BAD_PRESET = 'model = "gpt-realtime"\ntemprature = 0.7\n'
OURS = "realtime-config validate"
THEIRS = "check-jsonschema"
FLOOR = "bare loop (floor)"

Samples = dict[str, list[float]]
Timer = Callable[[dict[str, list[str]], Path, Sequence[str], int, int], Samples]


def generate(folder: Path, count: int, *, distinct_tools: bool = False) -> list[str]:
    """Write ``count`` valid presets into ``folder/presets``; their paths relative to ``folder``.

    Round ``r`` writes one variant of every shipped preset, named ``<stem>-<r>.toml``, with
    ``extends`` pointing at the base of the same round; bases sort before the presets that
    extend them, so any prefix of the list is self-contained.
    """
    shipped = sorted(SHIPPED.glob("*.toml"))
    if not shipped:
        raise SystemExit(f"no shipped presets in {SHIPPED}")
    presets = folder / "presets"
    presets.mkdir(parents=True)
    for extra in SHIPPED.iterdir():
        if extra.is_dir():
            shutil.copytree(extra, presets / extra.name)
    tables = {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in shipped}
    rng = random.Random(2024)
    names: list[str] = []
    for index in range(count):
        stem = shipped[index % len(shipped)].stem
        round_ = index // len(shipped)
        table = vary(tables[stem], round_, rng, distinct_tools=distinct_tools)
        name = f"presets/{stem}-{round_:04d}.toml"
        text = "#:schema ../schema/realtime-session.schema.json\n" + tomli_w.dumps(table)
        (folder / name).write_text(text, encoding="utf-8")
        names.append(name)
    return names


def vary(
    table: dict[str, Any], round_: int, rng: random.Random, *, distinct_tools: bool
) -> dict[str, Any]:
    """A copy of a preset table with values changed within the schema's ranges."""
    varied = copy.deepcopy(table)
    settings = varied.setdefault("preset", {})
    settings["description"] = f"{settings.get('description', 'Preset')} (variant {round_})"
    extends = settings.get("extends")
    if isinstance(extends, str):
        settings["extends"] = f"{Path(extends).stem}-{round_:04d}.toml"
    if "temperature" in varied:
        varied["temperature"] = round(rng.uniform(0.6, 1.2), 2)
    if "speed" in varied:
        varied["speed"] = round(rng.uniform(0.25, 1.5), 2)
    if isinstance(varied.get("instructions"), str):
        varied["instructions"] += f" (Variant {round_}.)"
    detection = varied.get("turn_detection")
    if isinstance(detection, dict) and "silence_duration_ms" in detection:
        detection["silence_duration_ms"] = rng.randrange(200, 1200, 50)
    for tool in varied.get("tools", []):
        tool["description"] = f"{tool.get('description', '')} Variant {round_}.".strip()
        properties = tool.get("parameters", {}).get("properties")
        if distinct_tools and properties:
            first = properties[next(iter(properties))]
            first["description"] = f"{first.get('description', 'Value')} (variant {round_})"
    return varied


def check_jsonschema_command(given: str | None, venv: Path) -> str:
    """The check-jsonschema executable: as given, else installed into a venv of its own."""
    if given:
        return given
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    executable = scripts / "check-jsonschema"
    if not executable.exists():
        print(f"installing check-jsonschema into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(scripts / "python"), "-m", "pip", "install", "-q", "check-jsonschema"]
        subprocess.run(pip, check=True)
    return str(executable)


def contenders(check_jsonschema: str) -> dict[str, list[str]]:
    """Each contender's command, without the file arguments."""
    ours = Path(sys.executable).parent / "realtime-config"
    return {
        OURS: [str(ours) if ours.exists() else "realtime-config", "validate"],
        THEIRS: [check_jsonschema, "--schemafile", str(SCHEMA)],
        FLOOR: [sys.executable, str(HERE / "bare_loop.py"), str(SCHEMA)],
    }


def run_quietly(command: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run a command in ``folder``, capturing its output."""
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)


def sanity_check(commands: dict[str, list[str]], folder: Path, files: Sequence[str]) -> None:
    """Every contender accepts the generated presets and rejects a broken one."""
    bad = folder / "presets" / "zz-bad.toml"
    bad.write_text(BAD_PRESET, encoding="utf-8")
    try:
        for name, command in commands.items():
            good = run_quietly([*command, *files], folder)
            if good.returncode != 0:
                raise SystemExit(f"{name} rejects the presets:\n{good.stdout}{good.stderr}")
            broken = run_quietly([*command, bad.relative_to(folder).as_posix()], folder)
            if broken.returncode != 1:
                raise SystemExit(f"{name} does not reject {bad.name} (exit {broken.returncode})")
    finally:
        bad.unlink()


def time_python(
    commands: dict[str, list[str]], folder: Path, files: Sequence[str], runs: int, warmup: int
) -> Samples:
    """Wall-clock seconds of each run, contenders interleaved so that load hits all alike."""
    samples: Samples = {name: [] for name in commands}
    for round_ in range(warmup + runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run([*command, *files], cwd=folder, stdout=subprocess.DEVNULL, check=True)
            elapsed = time.perf_counter() - start
            if round_ >= warmup:
                samples[name].append(elapsed)
    return samples


def time_hyperfine(
    commands: dict[str, list[str]], folder: Path, files: Sequence[str], runs: int, warmup: int
) -> Samples:
    """Wall-clock seconds of each run, measured by hyperfine (no shell in between)."""
    export = folder / "hyperfine.json"
    arguments = ["hyperfine", "-N", "--warmup", str(warmup), "--runs", str(runs)]
    arguments += ["--export-json", str(export), "--style", "none"]
    for name, command in commands.items():
        arguments += ["--command-name", name, shlex.join([*command, *files])]
    subprocess.run(arguments, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    results = json.loads(export.read_text(encoding="utf-8"))["results"]
    return {result["command"]: result["times"] for result in results}


def versions(commands: dict[str, list[str]]) -> str:
    """The versions that the numbers belong to."""
    ours = run_quietly([commands[OURS][0], "--version"], PROJECT).stdout.strip()
    theirs = run_quietly([commands[THEIRS][0], "--version"], PROJECT).stdout.strip()
    from importlib import metadata

    return f"{ours}; {theirs}; jsonschema {metadata.version('jsonschema')} (ours and the floor)"


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command and size")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    parser.add_argument(
        "--single",
        default="phone-support",
        help="the shipped preset whose variant is the 1-preset case (default: phone-support)",
    )
    parser.add_argument(
        "--distinct-tools",
        action="store_true",
        help="give every generated tool a parameters schema of its own (the worst case)",
    )
    parser.add_argument(
        "--runner",
        choices=["python", "hyperfine"],
        default="python",
        help="python (default): a timing loop that interleaves the contenders run by run, so "
        "that a load spike hits all of them alike; hyperfine: each command's runs in a block",
    )
    parser.add_argument("--check-jsonschema", help="an existing check-jsonschema executable")
    parser.add_argument(
        "--venv",
        type=Path,
        default=HERE / ".venv",
        help="where to install check-jsonschema (default: benchmarks/.venv)",
    )
    options = parser.parse_args(argv)
    if options.runner == "hyperfine" and not shutil.which("hyperfine"):
        parser.error("hyperfine is not on PATH")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Generate presets, time the contenders and print a table of medians."""
    options = parse_arguments(argv)
    timer: Timer = time_hyperfine if options.runner == "hyperfine" else time_python
    commands = contenders(check_jsonschema_command(options.check_jsonschema, options.venv))

    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(f"versions: {versions(commands)}")
    print(f"timing: {options.runner}, median of {options.runs} runs after {options.warmup} warm-up")
    print()
    header = f"{'presets':>7}  {'command':<26}{'median s':>10}{'min s':>9}{'/ ours':>8}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="realtime-config-bench-") as temporary:
        folder = Path(temporary)
        # At least one round, so that the 1-preset case can be the --single preset.
        count = max(*options.sizes, len(list(SHIPPED.glob("*.toml"))))
        files = generate(folder, count, distinct_tools=options.distinct_tools)
        single = [name for name in files if Path(name).stem == f"{options.single}-0000"]
        if not single:
            raise SystemExit(f"no shipped preset is named {options.single}.toml")
        for size in options.sizes:
            chosen = single if size == 1 else files[:size]
            sanity_check(commands, folder, chosen)
            samples = timer(commands, folder, chosen, options.runs, options.warmup)
            medians = {name: statistics.median(times) for name, times in samples.items()}
            for name, times in samples.items():
                ratio = medians[name] / medians[OURS]
                print(f"{size:>7}  {name:<26}{medians[name]:>10.3f}{min(times):>9.3f}{ratio:>8.2f}")
            print(
                f"{'':>9}check-jsonschema / ours = {medians[THEIRS] / medians[OURS]:.2f} "
                f"(target >= 1.5), ours / floor = {medians[OURS] / medians[FLOOR]:.2f} "
                "(target <= 1.5)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
