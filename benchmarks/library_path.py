"""The library path of a backend against the bare parse, for each preset in a folder.

For every ``*.toml`` in the folder (subfolders too), in steady state (after a first call): ours is
``dumps_payload(compile_preset(load_preset(path)), compact=True)``, the bare parse is
``json.dumps(tomllib.loads(text), ensure_ascii=False, separators=(",", ":"))`` of the same
file, read each time, as ours reads it; and the bare parse of every file the preset reads
(its ``extends`` bases and instructions files too); and the cached path of a backend,
``PresetCache.dumps`` and ``PresetCache.compile`` of the unchanged preset. Batches of each
alternate, round by round; the result is the median time per call. A preset that fails to
load is reported with its error,
never skipped. Prints a JSON list; usage: ``python library_path.py [--rounds N] FOLDER``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

from realtime_config import PresetCache, compile_preset, dumps_payload, load_preset

BATCH_SECONDS = 0.01
"""How long one batch of calls lasts, about: long enough for the clock, short for the load."""


def ours(path: Path) -> str:
    """What a backend does per request: load, resolve and check, compile, serialise."""
    return dumps_payload(compile_preset(load_preset(path)), compact=True)


CACHE = PresetCache()


def cached(path: Path) -> str:
    """A backend with a cache: a repeat compile of an unchanged preset (one stat a file)."""
    return CACHE.dumps(path)


def cached_body(path: Path) -> str:
    """The same, for the body as a dict (a fresh copy each call)."""
    CACHE.compile(path)
    return ""


def bare(path: Path) -> str:
    """The floor: parse the file and serialise the table, nothing else."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return json.dumps(table, ensure_ascii=False, separators=(",", ":"))


def bare_all(path: Path) -> str:
    """The floor of every file a preset reads: itself, its ``extends`` bases (parsed and
    serialised) and its instructions files (read)."""
    pending, seen, parts = [path], set(), []
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        table = tomllib.loads(current.read_text(encoding="utf-8"))
        parts.append(json.dumps(table, ensure_ascii=False, separators=(",", ":")))
        settings = table.get("preset", {})
        instructions = settings.get("instructions_file")
        if isinstance(instructions, str):
            parts.append((current.parent / instructions).read_text(encoding="utf-8"))
        extends = settings.get("extends")
        for base in [extends] if isinstance(extends, str) else extends or []:
            pending.append(current.parent / base)
    return "".join(parts)


def batch(call: Callable[[Path], str], path: Path, count: int) -> float:
    """Seconds per call, over ``count`` calls."""
    start = time.perf_counter()
    for _ in range(count):
        call(path)
    return (time.perf_counter() - start) / count


def measure(path: Path, folder: Path, rounds: int) -> dict[str, Any]:
    """One preset's entry: the median µs of each path and their ratio, or the error."""
    entry: dict[str, Any] = {"preset": path.relative_to(folder).as_posix()}
    calls = (ours, bare, bare_all, cached, cached_body)
    for call in calls:
        try:
            call(path)
        except Exception as error:
            entry["error"] = f"{call.__name__}: {str(error).splitlines()[0]}"
            return entry
    counts = {call: max(1, round(BATCH_SECONDS / batch(call, path, 3))) for call in calls}
    times: dict[Callable[[Path], str], list[float]] = {call: [] for call in calls}
    for round_ in range(rounds):
        shift = round_ % len(calls)
        for call in calls[shift:] + calls[:shift]:
            times[call].append(batch(call, path, counts[call]))
    for call in calls:
        entry[f"{call.__name__}_us"] = statistics.median(times[call]) * 1e6
    entry["ratio"] = entry["ours_us"] / entry["bare_us"]
    entry["ratio_all"] = entry["ours_us"] / entry["bare_all_us"]
    return entry


def main(argv: list[str]) -> int:
    """Time every preset of the folder and print the entries as JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("folder", type=Path)
    options = parser.parse_args(argv)
    presets = sorted(options.folder.rglob("*.toml"))
    if not presets:
        parser.error(f"no presets in {options.folder}")
    entries = [measure(path, options.folder, options.rounds) for path in presets]
    print(json.dumps(entries, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
