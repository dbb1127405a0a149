"""The floor: parse each TOML file with tomllib and check it with one prebuilt validator.

No CLI framework, no diagnostics, no extends: the least any schema check of TOML presets
has to do. Usage: ``python bare_loop.py SCHEMA FILE...``; exit status 1 when a file is invalid.
"""

import json
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

from jsonschema import Draft202012Validator


def main(argv: list[str]) -> int:
    """Validate every file in ``argv[1:]`` against the schema at ``argv[0]``."""
    validator = Draft202012Validator(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    invalid = 0
    for name in argv[1:]:
        with Path(name).open("rb") as stream:
            document = tomllib.load(stream)
        for error in validator.iter_errors(document):
            invalid += 1
            print(f"{name}: {error.message}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
