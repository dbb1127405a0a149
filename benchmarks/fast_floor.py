"""The fast floor: parse each TOML file with tomllib and check it with a precompiled
fastjsonschema validator.

fastjsonschema turns the schema into Python source once; ``run.py`` writes that source into
the benchmark folder before timing (``python fast_floor.py --compile SCHEMA FOLDER``), so a
timed run only imports it (its bytecode cached), as a tool that ships a generated validator
would. Usage: ``python fast_floor.py FOLDER FILE...``; exit status 1 when a file is invalid.
"""

import json
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

MODULE = "realtime_session_validator"


def compile_validator(schema: Path, folder: Path) -> None:
    """Write the validator of ``schema`` into ``folder`` as a module with one ``validate``."""
    import fastjsonschema

    # use_default=False: a validator only judges. With defaults on, fastjsonschema writes a
    # branch's defaults into the data while it tries that branch, and the schema's dialect
    # branches then reject keys no preset wrote.
    code = fastjsonschema.compile_to_code(
        json.loads(schema.read_text(encoding="utf-8")), use_default=False
    )
    entry = re.findall(r"^def (validate\w*)", code, re.MULTILINE)[0]
    (folder / f"{MODULE}.py").write_text(f"{code}\nvalidate = {entry}\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    """Validate every file in ``argv[1:]`` with the validator compiled into ``argv[0]``."""
    if argv[0] == "--compile":
        compile_validator(Path(argv[1]), Path(argv[2]))
        return 0
    sys.path.insert(0, argv[0])
    from fastjsonschema import JsonSchemaException
    from realtime_session_validator import validate  # type: ignore[import-not-found]

    invalid = 0
    for name in argv[1:]:
        with Path(name).open("rb") as stream:
            document = tomllib.load(stream)
        try:
            validate(document)
        except JsonSchemaException as error:
            invalid += 1
            print(f"{name}: {error.message}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
