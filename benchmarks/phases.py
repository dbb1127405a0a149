"""Where the time of ``validate --jobs 1`` goes, per file, phase by phase.

Checks the given presets in one process (``check_files``, as ``validate --jobs 1`` does)
under cProfile, after a warm-up pass, and adds up the time of the functions that do each
phase (their cumulative time, each phase counted once where one calls another). The
profiler slows every call, so the shares are the figures to read, not the microseconds.
Prints a JSON object: phase -> µs per file. Usage: ``python phases.py FILE...`` (run in the
folder of the presets).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time

from realtime_config import check_files

PHASES: dict[str, list[tuple[str, str]]] = {
    "read (guarded open, fstat, read, decode)": [("preset/_read.py", "read_text")],
    "parse (nesting bound, compiled tomli)": [("preset/_parse.py", "parse_toml")],
    "JSON-form check": [("preset/_parse.py", "json_form_diagnostics")],
    "paths (normalise, roots, confinement)": [
        ("preset/_loader.py", "_normalized"),
        ("preset/_loader.py", "root_for"),
        ("preset/_loader.py", "_escapes_root"),
        ("preset/_resolve.py", "confined"),
    ],
    "merge (bases and own tables)": [("preset/_resolve.py", "merge")],
    "schema check (quick check, jsonschema if not sure)": [
        ("checking/_compose.py", "check_document"),
        ("checking/_compose.py", "check_resolved"),
    ],
    "cross-field checks": [("checking/_compose.py", "with_cross_field_checks")],
    "target check": [("compiling/_targets.py", "target_diagnostics")],
}


def main(files: list[str]) -> int:
    check_files(files, jobs=1)  # warm-up: imports, the schema, the validator
    start = time.perf_counter()
    check_files(files, jobs=1)
    plain = time.perf_counter() - start
    profile = cProfile.Profile()
    profile.enable()
    check_files(files, jobs=1)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(timing[2] for timing in stats.values())
    found: dict[str, float] = {}
    for phase, functions in PHASES.items():
        seconds = 0.0
        for (filename, _, name), timing in stats.items():
            if any(filename.endswith(f) and name == n for f, n in functions):
                seconds += timing[3]  # cumulative
        found[phase] = seconds
    found["everything else (batch, diagnostics, caches)"] = total - sum(found.values())
    scale = plain / total  # back to unprofiled time, in proportion
    per_file = {phase: seconds * scale / len(files) * 1e6 for phase, seconds in found.items()}
    per_file["total, unprofiled"] = plain / len(files) * 1e6
    print(json.dumps(per_file, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
