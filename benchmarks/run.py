"""Time ``realtime-config validate`` against check-jsonschema, taplo and the two floors.

Generates valid presets (variants of the shipped ones, with their ``extends`` bases, tools and
instructions files) in a temporary folder, checks that every contender accepts them and
rejects a broken one, then runs the contenders interleaved, round by round, and prints the
median wall-clock time, the peak memory of the largest process, the ratios and each goal of
the speed issue as met or not met. The floors are what any Python tool must pay:
``tomllib.load`` plus a precompiled fastjsonschema validator, and ``tomllib.load`` plus one
jsonschema validator. It also times start-up, the library path against the bare parse
(``tomllib.loads`` + ``json.dumps``), and profiles ``--jobs 1`` phase by phase. With
``--write-readme`` it puts the results into benchmarks/README.md. See that file.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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
HEADER = "#:schema ../schema/realtime-session.schema.json\n"
BAD_PRESET = HEADER + 'model = "gpt-realtime"\ntemprature = 0.7\n'
GNU_TIME = "/usr/bin/time"
NOISE = 0.03
"""How far apart two medians of the same work land here: "never loses" allows that much."""
LARGE = 5000
"""From this many files on, a size gets ``--runs-large`` runs instead of ``--runs``."""

OURS = "realtime-config validate"
JOBS_1 = "validate --jobs 1"
COMPILE = "realtime-config compile"
THEIRS = "check-jsonschema"
TAPLO = "taplo lint (native)"
FLOOR = "jsonschema floor"
FAST_FLOOR = "fastjsonschema floor"
README = HERE / "README.md"
RESULTS_START = "<!-- results of run.py: start -->"
RESULTS_END = "<!-- results of run.py: end -->"
MEMORY_GOAL_MIB = 38.8
"""The peak at 10,000 files before the speed issue: the loader's caches must keep it."""
PYTHON = "python -c pass"
IMPORT = "import realtime_config"
VERSION = "realtime-config --version"


@dataclass(frozen=True)
class Command:
    """One contender: its command line (without the files) and its environment."""

    argv: list[str]
    env: dict[str, str]
    takes_files: bool = True


@dataclass
class Runs:
    """One command's runs: wall-clock seconds of the timed ones, and the peak resident memory
    (KiB) of the largest process in each warm-up run, measured by GNU time."""

    seconds: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)


Samples = dict[str, Runs]


@dataclass
class Results:
    """Everything one run measured."""

    sizes: dict[int, Samples] = field(default_factory=dict)
    loaded: dict[int, Samples] = field(default_factory=dict)
    startup: Samples = field(default_factory=dict)
    library: list[dict[str, Any]] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    load_before: str = ""
    load_after: str = ""


def generate(folder: Path, count: int, *, distinct_tools: bool = False) -> list[str]:
    """Write ``count`` valid presets into ``folder/presets``; their paths relative to ``folder``.

    Round ``r`` writes one variant of every shipped preset (subfolders such as ``team/``
    included), named ``<stem>-<r>.toml`` in the same subfolder, with ``extends`` pointing at
    the base of the same round; bases sort before the presets that extend them, so any prefix
    of the list is self-contained. Instructions files are copied beside them. The schema is
    copied to ``folder/schema`` so that the ``#:schema`` header of each file (read by taplo)
    resolves.
    """
    shipped = shipped_presets()
    if not shipped:
        raise SystemExit(f"no shipped presets in {SHIPPED}")
    (folder / "schema").mkdir(parents=True)
    shutil.copy2(SCHEMA, folder / "schema" / SCHEMA.name)
    (folder / "pyproject.toml").write_text("[project]\nname = 'bench'\n", encoding="utf-8")
    presets = folder / "presets"
    shutil.copytree(SHIPPED, presets, ignore=shutil.ignore_patterns("*.toml"))
    tables = {path: tomllib.loads(path.read_text(encoding="utf-8")) for path in shipped}
    rng = random.Random(2024)
    names: list[str] = []
    for index in range(count):
        path = shipped[index % len(shipped)]
        round_ = index // len(shipped)
        table = vary(tables[path], round_, rng, distinct_tools=distinct_tools)
        relative = path.relative_to(SHIPPED).with_name(f"{path.stem}-{round_:04d}.toml")
        header = f"#:schema {'../' * len(relative.parts)}schema/{SCHEMA.name}\n"
        (presets / relative).write_text(header + tomli_w.dumps(table), encoding="utf-8")
        names.append(f"presets/{relative.as_posix()}")
    return names


def shipped_presets() -> list[Path]:
    """Every shipped preset, subfolders included, sorted (a base before its children)."""
    return sorted(SHIPPED.rglob("*.toml"))


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
    if isinstance(varied.get("temperature"), float):
        varied["temperature"] = round(rng.uniform(0.6, 1.2), 2)
    if isinstance(varied.get("speed"), float):
        varied["speed"] = round(rng.uniform(0.25, 1.5), 2)
    if isinstance(varied.get("instructions"), str):
        varied["instructions"] += f" (Variant {round_}.)"
    detection = varied.get("turn_detection")
    if isinstance(detection, dict) and "silence_duration_ms" in detection:
        detection["silence_duration_ms"] = rng.randrange(200, 1200, 50)
    for tool in varied.get("tools", []):
        if tool.get("type", "function") != "function":
            continue  # an MCP tool has no description
        tool["description"] = f"{tool.get('description', '')} Variant {round_}.".strip()
        properties = tool.get("parameters", {}).get("properties")
        if distinct_tools and properties:
            first = properties[next(iter(properties))]
            first["description"] = f"{first.get('description', 'Value')} (variant {round_})"
    return varied


def executable(name: str) -> str:
    """A tool of this Python's environment (``pip install -e '.[bench]'``), else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is missing: pip install -e '.[bench]'")
    return found


def environments() -> tuple[dict[str, str], dict[str, str]]:
    """The environment of our commands (this checkout first on the path, not under
    pre-commit) and that of the others (taplo offline: no proxy can be reached).

    Bytecode is written and used, as after any install: with PYTHONDONTWRITEBYTECODE set, a
    module whose cached bytecode is stale would be compiled again in every run.
    """
    dropped = {"PRE_COMMIT", "PYTHONDONTWRITEBYTECODE"}
    base = {key: value for key, value in os.environ.items() if key not in dropped}
    path = os.pathsep.join(filter(None, [str(PROJECT), base.get("PYTHONPATH")]))
    ours = {**base, "PYTHONPATH": path}
    closed = "http://127.0.0.1:9"
    proxies = {"HTTP_PROXY": closed, "HTTPS_PROXY": closed, "ALL_PROXY": closed, "NO_PROXY": ""}
    others = {**base, **proxies, "RUST_LOG": "warn"}
    others.pop("TAPLO_CONFIG", None)
    return ours, others


def validate_commands(folder: Path) -> dict[str, Command]:
    """The contenders that check a list of files (the fast floor's validator compiled into
    ``folder`` first)."""
    ours, others = environments()
    compiled = subprocess.run(
        [sys.executable, str(HERE / "fast_floor.py"), "--compile", str(SCHEMA), str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if compiled.returncode != 0:
        raise SystemExit(f"fastjsonschema cannot compile the schema:\n{compiled.stderr}")
    ours_bin = executable("realtime-config")
    return {
        OURS: Command([ours_bin, "validate"], ours),
        JOBS_1: Command([ours_bin, "validate", "--jobs", "1"], ours),
        THEIRS: Command([executable("check-jsonschema"), "--schemafile", str(SCHEMA)], others),
        TAPLO: Command(
            [executable("taplo"), "lint", "--no-auto-config", "--colors", "never"], others
        ),
        FLOOR: Command([sys.executable, str(HERE / "bare_loop.py"), str(SCHEMA)], others),
        FAST_FLOOR: Command([sys.executable, str(HERE / "fast_floor.py"), str(folder)], others),
    }


def startup_commands() -> dict[str, Command]:
    """Start-up alone: the interpreter, importing the package, and ``--version``."""
    ours, _ = environments()
    return {
        PYTHON: Command([sys.executable, "-c", "pass"], ours, takes_files=False),
        IMPORT: Command([sys.executable, "-c", "import realtime_config"], ours, takes_files=False),
        VERSION: Command([executable("realtime-config"), "--version"], ours, takes_files=False),
    }


def run_once(
    command: Command, files: Sequence[str], folder: Path, *, memory: bool = False
) -> tuple[float, int, int]:
    """Run a command once in ``folder``: wall-clock seconds, exit status and peak memory.

    With ``memory``, GNU time runs it and reports the maximum resident set size of the largest
    process among the command and the descendants it waited for (each worker of a pool); else
    the peak is -1. ``ru_maxrss`` from ``os.wait4`` cannot serve: a child forked (or vforked)
    from this script starts out counting this script's memory.
    """
    argv = [*command.argv, *files] if command.takes_files else command.argv
    report = folder / "peak.txt"
    if memory:
        argv = [GNU_TIME, "-f", "%M", "-o", str(report), *argv]
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=folder, env=command.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if done.returncode not in {0, 1}:
        raise SystemExit(f"{argv[0]} failed (exit {done.returncode}):\n{done.stderr.decode()}")
    peak = int(report.read_text(encoding="utf-8").split()[-1]) if memory else -1
    return elapsed, done.returncode, peak


def sanity_check(commands: dict[str, Command], folder: Path, files: Sequence[str]) -> None:
    """Every contender accepts the generated presets and rejects a broken one."""
    bad = folder / "presets" / "zz-bad.toml"
    bad.write_text(BAD_PRESET, encoding="utf-8")
    try:
        for name, command in commands.items():
            _, good, _ = run_once(command, files, folder)
            if good != 0:
                output = subprocess.run(
                    [*command.argv, *files], cwd=folder, env=command.env, capture_output=True,
                    text=True, check=False,
                )  # fmt: skip
                raise SystemExit(f"{name} rejects the presets:\n{output.stdout}{output.stderr}")
            _, broken, _ = run_once(command, [bad.relative_to(folder).as_posix()], folder)
            if broken != 1:
                raise SystemExit(f"{name} does not reject {bad.name} (exit {broken})")
    finally:
        bad.unlink()


def interleaved(
    commands: dict[str, Command], folder: Path, files: Sequence[str], runs: int, warmup: int
) -> Samples:
    """Run every command once per round, in an order that turns round by round, so that a load
    spike on a shared machine hits all of them alike. Warm-up rounds (at least one) measure
    the peak memory; every run must succeed (exit 0)."""
    samples: Samples = {name: Runs() for name in commands}
    names = list(commands)
    warmup = max(warmup, 1)
    for round_ in range(warmup + runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            warm = round_ < warmup
            seconds, status, peak = run_once(commands[name], files, folder, memory=warm)
            if status != 0:
                raise SystemExit(f"{name} failed on the generated presets (exit {status})")
            if warm:
                samples[name].peaks_kib.append(peak)
            else:
                samples[name].seconds.append(seconds)
    return samples


@contextmanager
def busy_core() -> Iterator[None]:
    """One core kept busy by a spinning process for the duration (a loaded machine)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        spinner.terminate()
        spinner.wait(timeout=10)


def median_ms(runs: Runs) -> float:
    return statistics.median(runs.seconds) * 1000


def peak_mib(runs: Runs) -> float:
    return max(runs.peaks_kib) / 1024


def print_samples(label: str, samples: Samples, reference: str | None) -> None:
    """One line per command: median, minimum, peak memory and ratio to the reference."""
    for name, runs in samples.items():
        ratio = median_ms(runs) / median_ms(samples[reference]) if reference else 1.0
        print(
            f"{label:>13}  {name:<27}{median_ms(runs):>10.1f}"
            f"{min(runs.seconds) * 1000:>9.1f}{peak_mib(runs):>10.1f}{ratio:>8.2f}"
        )


def library_path(rounds: int) -> list[dict[str, Any]]:
    """Each shipped preset's library path against the bare parse (benchmarks/library_path.py)."""
    ours, _ = environments()
    done = subprocess.run(
        [sys.executable, str(HERE / "library_path.py"), "--rounds", str(rounds), str(SHIPPED)],
        cwd=PROJECT, env=ours, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"library_path.py failed:\n{done.stderr}")
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def versions() -> list[str]:
    """The machine and the versions that the numbers belong to (no local paths)."""
    from importlib import metadata

    if not Path(GNU_TIME).exists():
        raise SystemExit(f"{GNU_TIME} is missing (GNU time measures the peak memory)")

    def first_line(argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=PROJECT)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = first_line(["git", "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "realtime_config", "schema"],
        cwd=PROJECT, capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    ours = first_line([executable("realtime-config"), "--version"])
    return [
        f"machine: {platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"versions: {ours} (commit {commit}{' + local changes' if dirty else ''}); "
        f"{first_line([executable('check-jsonschema'), '--version'])}; "
        f"{first_line([executable('taplo'), '--version'])}; "
        f"jsonschema {metadata.version('jsonschema')}; "
        f"fastjsonschema {metadata.version('fastjsonschema')}",
    ]


def load_average() -> str:
    """The machine's load: on a shared machine, how much else was running."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


@dataclass(frozen=True)
class Target:
    """One target of the speed issue, with the measured value it is judged on."""

    text: str
    measured: str
    met: bool


def targets(found: Results) -> list[Target]:
    """Judge every goal of the speed issue that this run measured."""
    results, library = found.sizes, found.library
    judged: list[Target] = []

    def add(text: str, value: float, limit: float, *, at_least: bool = False) -> None:
        met = value >= limit if at_least else value <= limit
        judged.append(Target(text, f"{value:.2f}", met))

    if 1 in results:
        one = results[1]
        add("validate, 1 file / fastjsonschema floor <= 1.5", ratio(one, OURS, FAST_FLOOR), 1.5)
    if 1000 in results:
        r = results[1000]
        add("validate, 1,000 files / taplo (native) <= 1.2", ratio(r, OURS, TAPLO), 1.2)
        add(
            "validate `--jobs 1`, 1,000 files / fastjsonschema floor <= 1.6",
            ratio(r, JOBS_1, FAST_FLOOR),
            1.6,
        )
    if 10000 in results:
        r = results[10000]
        add("validate, 10,000 files / taplo <= 0.6", ratio(r, OURS, TAPLO), 0.6)
        peak = max(peak_mib(r[OURS]), peak_mib(r[JOBS_1]))
        judged.append(
            Target(
                f"peak memory at 10,000 files <= {MEMORY_GOAL_MIB} MiB",
                f"{peak:.1f} MiB",
                peak <= MEMORY_GOAL_MIB,
            )
        )
    loaded = [e for e in library if "error" not in e]
    if library:
        if len(loaded) < len(library):
            judged.append(Target("library path: every shipped preset loads", "no", False))
        ours_total = sum(e["ours_us"] for e in loaded)
        bare_total = sum(e["bare_us"] for e in loaded)
        add(
            "`load_preset` + `compile_preset` + `dumps_payload` / bare `tomllib.loads` + "
            "`json.dumps` (all shipped presets) <= 1.5",
            ours_total / bare_total,
            1.5,
        )
    if 1 in results:
        add(
            "check-jsonschema / ours, 1 file >= 4 (keep)",
            ratio(results[1], THEIRS, OURS),
            4,
            at_least=True,
        )
    return judged


def ratio(samples: Samples, numerator: str, denominator: str) -> float:
    return median_ms(samples[numerator]) / median_ms(samples[denominator])


def markdown(found: Results, judged: list[Target]) -> str:
    """The results as the Markdown of benchmarks/README.md's results section."""
    results, loaded, startup, library = found.sizes, found.loaded, found.startup, found.library
    lines = [f"Before the run: {found.load_before}; after: {found.load_after}.", ""]
    lines += ["| goal | measured | |", "|---|---:|---|"]
    lines += [f"| {t.text} | {t.measured} | {'met' if t.met else '**not met**'} |" for t in judged]
    lines += [
        "",
        "Median wall-clock time (ms):",
        "",
        "| files | realtime-config | `--jobs 1` | check-jsonschema | taplo (native) | "
        "jsonschema floor | fastjsonschema floor |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in sorted(results.items()):
        jobs_1 = f"{median_ms(r[JOBS_1]):,.0f}" if JOBS_1 in r else "-"
        lines.append(
            f"| {size:,} | {median_ms(r[OURS]):,.0f} | {jobs_1} | {median_ms(r[THEIRS]):,.0f} | "
            f"{median_ms(r[TAPLO]):,.0f} | {median_ms(r[FLOOR]):,.0f} | "
            f"{median_ms(r[FAST_FLOOR]):,.0f} |"
        )
    if 1 in results:
        lines.append(f"\n1 file, `compile`: {median_ms(results[1][COMPILE]):.0f} ms.")
    lines += ["", "Peak memory of the largest process (MiB):", ""]
    lines += [
        "| files | realtime-config | `--jobs 1` | check-jsonschema | taplo | jsonschema floor | "
        "fastjsonschema floor |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in sorted(results.items()):
        jobs_1 = f"{peak_mib(r[JOBS_1]):.1f}" if JOBS_1 in r else "-"
        lines.append(
            f"| {size:,} | {peak_mib(r[OURS]):.1f} | {jobs_1} | {peak_mib(r[THEIRS]):.1f} | "
            f"{peak_mib(r[TAPLO]):.1f} | {peak_mib(r[FLOOR]):.1f} | "
            f"{peak_mib(r[FAST_FLOOR]):.1f} |"
        )
    if loaded:
        lines += ["", "One core busy (a spinning process):", ""]
        lines += ["| files | default `--jobs` | `--jobs 1` | default / `--jobs 1` |"]
        lines += ["|---:|---:|---:|---:|"]
        for size, r in sorted(loaded.items()):
            lines.append(
                f"| {size:,} | {median_ms(r[OURS]):,.0f} | {median_ms(r[JOBS_1]):,.0f} | "
                f"{ratio(r, OURS, JOBS_1):.2f} |"
            )
    if startup:
        lines += [
            "",
            "Start-up (ms): " + ", ".join(f"{n} {median_ms(s):.0f}" for n, s in startup.items()),
        ]
    if found.phases:
        lines += ["", "Where `--jobs 1` spends its time, per file (µs, 1,000 files, profiled):", ""]
        lines += ["| phase | µs per file |", "|---|---:|"]
        lines += [f"| {phase} | {us:.0f} |" for phase, us in found.phases.items()]
    if library:
        lines += [
            "",
            "| preset | load + compile + dumps (µs) | tomllib.loads + json.dumps (µs) | ratio | "
            "bare, all its files (µs) | ratio | cached `dumps` (µs) | cached `compile` (µs) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for entry in library:
            if "error" in entry:
                lines.append(f"| {entry['preset']} | fails: {entry['error']} | | | | | | |")
            else:
                lines.append(
                    f"| {entry['preset']} | {entry['ours_us']:.0f} | {entry['bare_us']:.0f} | "
                    f"{entry['ratio']:.2f} | {entry['bare_all_us']:.0f} | "
                    f"{entry['ratio_all']:.2f} | {entry['cached_us']:.1f} | "
                    f"{entry['cached_body_us']:.1f} |"
                )
    return "\n".join(lines)


def write_readme(text: str) -> None:
    """Put ``text`` between the results markers of benchmarks/README.md."""
    readme = README.read_text(encoding="utf-8")
    start, end = readme.find(RESULTS_START), readme.find(RESULTS_END)
    if start < 0 or end < start:
        raise SystemExit(f"{README.name} has no results markers ({RESULTS_START})")
    head, tail = readme[: start + len(RESULTS_START)], readme[end:]
    README.write_text(f"{head}\n{text}\n{tail}", encoding="utf-8")


def phases(folder: Path, files: Sequence[str]) -> dict[str, float]:
    """The per-phase profile of ``--jobs 1`` on ``files`` (benchmarks/phases.py)."""
    ours, _ = environments()
    done = subprocess.run(
        [sys.executable, str(HERE / "phases.py"), *files],
        cwd=folder, env=ours, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"phases.py failed:\n{done.stderr}")
    found: dict[str, float] = json.loads(done.stdout)
    return found


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000, 10000])
    parser.add_argument("--runs", type=int, default=15, help="timed runs below 5,000 files")
    parser.add_argument("--runs-large", type=int, default=5, help="timed runs from 5,000 files")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (1 if large)")
    parser.add_argument(
        "--loaded",
        type=int,
        nargs="*",
        default=[1000, 10000],
        help="sizes also timed with one core busy, default --jobs against --jobs 1 "
        "(at most 3 runs from 5,000 files)",
    )
    parser.add_argument(
        "--library-rounds", type=int, default=15, help="rounds of the library timing (0: skip)"
    )
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
    parser.add_argument("--markdown", action="store_true", help="also print the README tables")
    parser.add_argument(
        "--write-readme", action="store_true", help="put the results into benchmarks/README.md"
    )
    return parser.parse_args(argv)


def measure(options: argparse.Namespace) -> Results:
    """Generate the presets and time every contender, printing each size as it is done."""
    ours, _ = environments()
    found = Results()
    shipped_count = len(shipped_presets())
    with tempfile.TemporaryDirectory(prefix="realtime-config-bench-") as temporary:
        folder = Path(temporary)
        count = max(*options.sizes, *options.loaded, shipped_count, 1000)
        files = generate(folder, count, distinct_tools=options.distinct_tools)
        commands = validate_commands(folder)
        single = [name for name in files if Path(name).stem == f"{options.single}-0000"]
        if not single:
            raise SystemExit(f"no shipped preset is named {options.single}.toml")
        sanity_check(commands, folder, files[:shipped_count])
        for size in options.sizes:
            large = size >= LARGE
            runs, warmup = (options.runs_large, 1) if large else (options.runs, options.warmup)
            contenders = dict(commands)
            if size == 1:
                del contenders[JOBS_1]
                contenders[COMPILE] = Command([executable("realtime-config"), "compile"], ours)
            chosen = single if size == 1 else files[:size]
            found.sizes[size] = interleaved(contenders, folder, chosen, runs, warmup)
            print_samples(f"{size:,}", found.sizes[size], OURS)
            if size == 1:
                found.startup = interleaved(startup_commands(), folder, [], runs, warmup)
                print_samples("start-up", found.startup, None)
        for size in options.loaded:
            pair = {OURS: commands[OURS], JOBS_1: commands[JOBS_1]}
            # A busy core doubles the time of a large run: fewer runs keep the whole under 10 min.
            runs = min(options.runs_large, 3) if size >= LARGE else options.runs
            with busy_core():
                found.loaded[size] = interleaved(pair, folder, files[:size], runs, 1)
            print_samples(f"{size:,} busy", found.loaded[size], OURS)
        found.phases = phases(folder, files[:1000])
        print()
        for phase, us in found.phases.items():
            print(f"{phase:<52}{us:>8.0f} µs per file")
    if options.library_rounds:
        found.library = library_path(options.library_rounds)
        print()
        print(
            f"{'library path':<32}{'ours µs':>10}{'bare µs':>10}{'ratio':>8}{'all µs':>9}"
            f"{'cached dumps':>14}{'cached compile':>16}"
        )
        for entry in found.library:
            if "error" in entry:
                print(f"{entry['preset']:<32} fails to load: {entry['error']}")
            else:
                print(
                    f"{entry['preset']:<32}{entry['ours_us']:>10.0f}{entry['bare_us']:>10.0f}"
                    f"{entry['ratio']:>8.2f}{entry['bare_all_us']:>9.0f}"
                    f"{entry['cached_us']:>14.1f}{entry['cached_body_us']:>16.1f}"
                )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Generate presets, time the contenders, print medians, ratios and targets."""
    options = parse_arguments(argv)
    started = time.perf_counter()
    for line in versions():
        print(line)
    before = load_average()
    print(f"before the run: {before}")
    print(
        f"timing: interleaved rounds, medians of {options.runs} runs "
        f"({options.runs_large} from {LARGE:,} files) after warm-up; peak memory of the "
        "largest process, by GNU time in the warm-up runs"
    )
    header = f"{'presets':>13}  {'command':<27}{'median ms':>10}{'min ms':>9}"
    header += f"{'peak MiB':>10}{'/ ours':>8}"
    print(header)
    print("-" * len(header))
    found = measure(options)
    found.load_before, found.load_after = before, load_average()
    judged = targets(found)
    print()
    print("targets:")
    for target in judged:
        print(f"  {'met    ' if target.met else 'NOT MET'}  {target.text}: {target.measured}")
    print(f"\n{sum(t.met for t in judged)} of {len(judged)} targets met")
    if options.markdown or options.write_readme:
        text = "\n".join([*(f"{line}  " for line in versions()), "", markdown(found, judged)])
        if options.markdown:
            print()
            print(text)
        if options.write_readme:
            write_readme(text)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s, {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
