"""Build the GA branch of realtime-session.schema.json from the official request schema.

    python schema/generate.py          # rewrite the GA branch in place
    python schema/generate.py --check  # exit 1 if the file is not what this script builds
    python schema/generate.py --missing  # list the spec's and the SDK's key paths it lacks

The official schema (official-ga-request.json: RealtimeCreateClientSecretRequest and every
schema it references) is turned into a preset schema: references are inlined, ``oneOf``
becomes ``anyOf`` (its branches are disjoint by type or discriminator), JSON null branches
are dropped (TOML has no null; import reads a server's null as "not set"), every object with
properties is closed and gets ``x-order`` in the official order, and an ``anyOf`` of a plain
string and a string enum becomes an open enum (``x-open-enum``). Then ga-overlay.json adds
what the official schema lacks: ranges, server defaults, the fields that ``false`` switches
off (``x-off``), and the compiler's and checks' annotations (``paths`` for every GA dialect,
``dialect_paths`` for one). The beta branch (``$defs/beta``) and the
shared ``$defs/preset`` are kept by hand and left as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "realtime-session.schema.json"
OFFICIAL_FILE = HERE / "official-ga-request.json"
OVERLAY_FILE = HERE / "ga-overlay.json"

SDK_KEYS_FILE = HERE / "sdk-request-keys.json"

SESSION_SCHEMAS = {
    "realtime": "RealtimeSessionCreateRequestGA",
    "transcription": "RealtimeTranscriptionSessionCreateRequestGA",
    "translation": "RealtimeTranslationSessionCreateRequest",
}
"""Each GA dialect (the value of a preset's top-level ``type``) and its official session."""
REQUEST_SCHEMA = "RealtimeCreateClientSecretRequest"
REQUESTS = {
    "client_secrets": (REQUEST_SCHEMA, ("realtime", "transcription")),
    "translations.client_secrets": (
        "RealtimeTranslationClientSecretCreateRequest",
        ("translation",),
    ),
}
"""Each request the GA branches are built from: its official schema, and the dialects that
its ``session`` can be. The overlay's ``paths`` apply to the dialects of the first request;
every other dialect takes only its own ``dialect_paths``."""
DEFAULT_DIALECT = "realtime"
"""The GA branch a ``type`` that names no dialect is checked against (and told it is wrong)."""

# OpenAPI and documentation keywords with no meaning for a preset validator.
DROPPED = frozenset(
    {"title", "nullable", "discriminator", "example", "x-stainless-const", "x-oaiExpandable"}
    | {"x-oaiTypeLabel"}
)
OFF_BRANCH = {
    "type": "boolean",
    "const": False,
    "description": "Switch the feature off: null in the API.",
}
# Keywords that stay on a switchable field when its value schema moves into a branch.
NODE_LEVEL = frozenset({"description", "default"})

TOP_DESCRIPTION = (
    "A TOML preset of an OpenAI Realtime session, in one of two dialects. With a top-level "
    "type (realtime, transcription or translation) it is a GA preset: the session object of "
    "POST /v1/realtime/client_secrets (translation: /v1/realtime/translations/client_secrets). "
    "Without one it is a beta preset: the fields of the POST /v1/realtime/sessions body. "
    "[preset] holds the preset's own settings in both."
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the schema is stale")
    parser.add_argument(
        "--missing",
        action="store_true",
        help="list the request key paths of the spec and the SDK that the schema lacks",
    )
    arguments = parser.parse_args()
    current = SCHEMA_FILE.read_text(encoding="utf-8")
    if arguments.missing:
        official = json.loads(OFFICIAL_FILE.read_text(encoding="utf-8"))["$defs"]
        sdk = json.loads(SDK_KEYS_FILE.read_text(encoding="utf-8"))["requests"]
        lacking = missing_paths(json.loads(current), official, sdk)
        for request, source, path in lacking:
            print(f"{request}: {path} ({source})")
        return 1 if lacking else 0
    built = build(json.loads(current))
    if arguments.check:
        if built != current:
            print(f"{SCHEMA_FILE.name} is stale: run python schema/generate.py", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(built, encoding="utf-8")
    return 0


def build(schema: dict[str, Any]) -> str:
    """The schema file's text with its GA branch (and the dialect dispatch) rebuilt."""
    official = json.loads(OFFICIAL_FILE.read_text(encoding="utf-8"))["$defs"]
    overlay = json.loads(OVERLAY_FILE.read_text(encoding="utf-8"))
    converter = Converter(official)
    roots: dict[str, dict[str, Any]] = {}
    expires_after: dict[str, dict[str, Any]] = {}
    for request_name, dialects in REQUESTS.values():
        request = converter.convert(official[request_name])
        lifetime = request["properties"]["expires_after"]
        _patch_expires_after(lifetime, overlay["expires_after"])
        for dialect in dialects:
            root = converter.convert(official[SESSION_SCHEMAS[dialect]])
            # A child of a GA base inherits type; what else the request requires is needed to
            # create a session, not in an update event (which cannot even change a model).
            required = [key for key in root.pop("required", ()) if key != "type"]
            if required:
                root["x-required-on-create"] = required
            for key, value in overlay["root"][dialect].items():
                if key.startswith("add:"):
                    _add_property(root, key.removeprefix("add:"), value)
                else:
                    root[key] = value
            roots[dialect] = root
            expires_after[dialect] = lifetime
    shared = REQUESTS["client_secrets"][1]
    unmatched = [
        path
        for path, patch in overlay["paths"].items()
        if not sum(_apply(roots[dialect], path, patch) for dialect in shared)
    ]
    for dialect, paths in overlay["dialect_paths"].items():
        for path, entry in paths.items():
            # "paths:X": the same patch as the shared entry X
            patch = (
                overlay["paths"][entry.removeprefix("paths:")] if isinstance(entry, str) else entry
            )
            if not _apply(roots[dialect], path, patch):
                unmatched.append(f"{dialect}: {path}")
    if unmatched:
        raise SystemExit(f"ga-overlay.json: no such path: {', '.join(unmatched)}")
    for dialect, root in roots.items():
        root["properties"]["expires_after"] = json.loads(json.dumps(expires_after[dialect]))
        root["properties"]["preset"] = dict(schema["$defs"]["beta"]["properties"]["preset"])
        root["x-outside-session"] = ["expires_after"]
        _check_descriptions(root, ())

    schema["description"] = TOP_DESCRIPTION
    for key in ("anyOf", "if", "then", "else"):
        schema.pop(key, None)
    schema.update(
        _dialect_root(
            [DEFAULT_DIALECT, *(d for d in SESSION_SCHEMAS if d != DEFAULT_DIALECT), "beta"]
        )
    )
    defs = schema.pop("$defs")
    defs.update(roots)
    schema["$defs"] = defs
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def missing_paths(
    schema: dict[str, Any], official: dict[str, Any], sdk: dict[str, list[str]]
) -> list[tuple[str, str, str]]:
    """Each request key path of the spec or the SDK's list that no preset can write:
    (request, where the path comes from, path), sorted."""
    lacking = []
    for request, (name, dialects) in REQUESTS.items():
        sources = dict.fromkeys(request_paths(official, official[name]), "spec")
        for path in sdk.get(request, ()):
            sources[path] = "sdk" if path not in sources else "spec, sdk"
        roots = [schema["$defs"][dialect] for dialect in dialects]
        for path, source in sources.items():
            inside = path.removeprefix("session.") if path.startswith("session.") else path
            if path != "session" and not any(_nodes_at(root, inside) for root in roots):
                lacking.append((request, source, path))
    unknown = sorted(set(sdk) - set(REQUESTS))
    if unknown:
        raise SystemExit(f"{SDK_KEYS_FILE.name}: no such request: {', '.join(unknown)}")
    return sorted(lacking)


def request_paths(definitions: dict[str, Any], node: Any, path: str = "") -> set[str]:
    """Every property path of an official request schema (``session.tools[].name``)."""
    found: set[str] = set()
    stack = [(node, path)]
    seen: set[tuple[str, str]] = set()
    while stack:
        current, where = stack.pop()
        if not isinstance(current, dict):
            continue
        if "$ref" in current:
            name = current["$ref"].rsplit("/", 1)[-1]
            if (name, where) not in seen:
                seen.add((name, where))
                stack.append((definitions[name], where))
        for union in ("oneOf", "anyOf", "allOf"):
            stack.extend((branch, where) for branch in current.get(union, ()))
        for key, child in current.get("properties", {}).items():
            full = f"{where}.{key}" if where else key
            found.add(full)
            stack.append((child, full))
        if isinstance(current.get("items"), dict):
            stack.append((current["items"], f"{where}[]"))
    return found


def _dialect_root(dialects: list[str]) -> dict[str, Any]:
    """The root's keywords that pick a dialect: GA ones first (the first is the default), beta last.

    ``if``/``then``/``else`` decides validity: a top-level ``type`` selects its GA branch, its
    absence the beta one, so each error is reported at its key. The ``anyOf`` is for editors:
    the Taplo language server completes and hovers from ``anyOf`` branches but never looks into
    ``if``/``then``/``else``. Its last branch, ``{}``, always matches, so it changes no verdict.
    """
    *ga, beta = dialects
    chosen: dict[str, Any] = {"$ref": f"#/$defs/{ga[0]}"}
    for dialect in reversed(ga[1:]):
        chosen = {
            "if": {"properties": {"type": {"const": dialect}}},
            "then": {"$ref": f"#/$defs/{dialect}"},
            "else": chosen,
        }
    return {
        "anyOf": [*({"$ref": f"#/$defs/{dialect}"} for dialect in dialects), {}],
        "if": {"required": ["type"]},
        "then": chosen,
        "else": {"$ref": f"#/$defs/{beta}"},
    }


class Converter:
    """Turns official OpenAPI schemas into closed, inlined preset schemas."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions

    def convert(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            converted = self.convert(self.definitions[name])
            converted.update(self.convert({k: v for k, v in node.items() if k != "$ref"}))
            return converted
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED or (key == "required" and not value):
                continue
            if key == "default" and value is None:
                continue
            if key == "description":
                out[key] = " ".join(value.split())
            elif key == "properties":
                out[key] = {name: self.convert(child) for name, child in value.items()}
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = self.convert(value)
            elif key in ("anyOf", "oneOf"):
                out["anyOf"] = [self.convert(branch) for branch in value]
            else:
                out[key] = value
        if "anyOf" in out:
            _simplify_union(out)
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
            out["x-order"] = list(out["properties"])
        return out


def _simplify_union(node: dict[str, Any]) -> None:
    """Drop null branches, flatten nested unions, merge a lone branch, mark open enums."""
    flat: list[dict[str, Any]] = []
    for branch in node.pop("anyOf"):
        if branch.get("type") == "null":
            continue
        if "anyOf" in branch and set(branch) <= {"anyOf", "description", "default", "x-open-enum"}:
            for key in ("description", "default"):
                if key in branch:
                    node.setdefault(key, branch[key])
            flat.extend(branch["anyOf"])
        else:
            flat.append(branch)
    if len(flat) == 1:
        for key, value in flat[0].items():
            node.setdefault(key, value)
        return
    plain = [b for b in flat if b.get("type") == "string" and set(b) <= {"type", "description"}]
    enums = [b for b in flat if b.get("type") == "string" and "enum" in b]
    if plain and enums:
        others = [b for b in flat if b not in plain and b not in enums]
        flat = [*enums, {"type": "string"}, *others]
        node["x-open-enum"] = True
    node["anyOf"] = flat


def _branches(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for branch in node.get("anyOf", ()):
        yield from _branches(branch)


def _nodes_at(root: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """Every schema node at a dotted path (``tools[].name``), through every union branch."""
    nodes = [root]
    for part in path.replace("[]", ".[]").split("."):
        found: list[dict[str, Any]] = []
        for node in nodes:
            for branch in _branches(node):
                if part == "[]" and isinstance(branch.get("items"), dict):
                    found.append(branch["items"])
                elif part in branch.get("properties", {}):
                    found.append(branch["properties"][part])
        nodes = list({id(n): n for n in found}.values())
    return nodes


def _apply(root: dict[str, Any], path: str, patch: dict[str, Any]) -> int:
    """Apply one overlay entry wherever ``path`` exists; how many nodes it reached."""
    nodes = _nodes_at(root, path)
    for node in nodes:
        for key, value in patch.items():
            if key.startswith("add:"):
                _add_property(node, key.removeprefix("add:"), value)
            elif key.startswith("branch:"):
                json_type = key.removeprefix("branch:")
                for branch in _branches(node):
                    if branch.get("type") == json_type:
                        branch.update(value)
            elif key != "x-off":
                node[key] = value
        if patch.get("x-off"):
            _make_switchable(node)
    return len(nodes)


def _add_property(node: dict[str, Any], name: str, field: dict[str, Any]) -> None:
    """A field the official schema lacks (the SDK has it, or a preset's ``type``), added to
    each table branch: last in the key order, or first and unsent if it is never emitted."""
    for branch in _branches(node):
        if branch.get("type") == "object" and "properties" in branch:
            added = json.loads(json.dumps(field))
            if field.get("x-emit") == "never":  # a key that only selects: first, never sent
                branch["properties"] = {name: added, **branch["properties"]}
                branch["x-order"].insert(0, name)
            else:
                branch["properties"][name] = added
                if name not in branch["x-order"]:
                    branch["x-order"].append(name)


def _make_switchable(node: dict[str, Any]) -> None:
    """Let ``false`` switch the field off: an extra branch, and the x-null-when-false rule."""
    kept = {k: v for k, v in node.items() if k in NODE_LEVEL or k.startswith("x-")}
    kept.pop("x-order", None)
    if "anyOf" in node and set(node) - set(kept) <= {"anyOf"}:
        branches = node["anyOf"]
    else:
        value = {k: v for k, v in node.items() if k not in kept}
        if "x-order" in node:
            value["x-order"] = node["x-order"]
        branches = [value]
    node.clear()
    node.update(kept)
    node["x-null-when-false"] = True
    node["anyOf"] = [dict(OFF_BRANCH), *branches]


def _patch_expires_after(node: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict):
            node["properties"][key].update(value)
        else:
            node[key] = value


def _check_descriptions(node: dict[str, Any], path: tuple[str, ...]) -> None:
    """Every property says what it is: editors show the description on hover."""
    for branch in _branches(node):
        for key, child in branch.get("properties", {}).items():
            if "$ref" not in child and "description" not in child:
                raise SystemExit(f"no description for {'.'.join((*path, key))}")
            _check_descriptions(child, (*path, key))
        if isinstance(branch.get("items"), dict):
            _check_descriptions(branch["items"], (*path, "[]"))


if __name__ == "__main__":
    sys.exit(main())
