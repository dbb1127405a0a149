"""Local ``$ref`` references of a JSON Schema: which of them make it recursive, and which
point at nothing."""

from __future__ import annotations

from typing import Any

from realtime_config._keys import KeyPath

MAX_TARGETS = 256
"""Distinct reference targets examined; a tool's parameters have a handful."""


def _walk(value: Any, prefix: KeyPath) -> list[tuple[KeyPath, str]]:
    """Every ``$ref`` string below ``value`` (paths from ``prefix``), in document order."""
    found: list[tuple[KeyPath, str]] = []
    stack: list[tuple[KeyPath, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            reference = item.get("$ref")
            if isinstance(reference, str):
                found.append((path, reference))
            stack.extend(((*path, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
    return found


def _target(schema: Any, reference: str) -> tuple[KeyPath, Any] | None:
    """The path and node a local JSON pointer (``#``, ``#/$defs/x``) names, if it exists."""
    if reference != "#" and not reference.startswith("#/"):
        return None
    path: list[str | int] = []
    node = schema
    for raw in reference[2:].split("/") if reference != "#" else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            path.append(int(part))
            node = node[int(part)]
        else:
            return None
    return tuple(path), node


def dangling_references(schema: Any) -> list[tuple[KeyPath, str]]:
    """Every local ``$ref`` (``#/...``) that names no part of ``schema``: the model would be
    given a schema that cannot be resolved. A remote reference is not judged here."""
    return [
        (path, reference)
        for path, reference in _walk(schema, ())
        if (reference == "#" or reference.startswith("#/")) and _target(schema, reference) is None
    ]


def recursive_reference(schema: Any) -> tuple[KeyPath, str] | None:
    """The first ``$ref`` (its object's path and value) that makes ``schema`` recursive.

    A reference is recursive when its target contains, directly or through further
    references, a reference back to that target: expanding it would never end.
    """
    references = _walk(schema, ())
    targets: dict[KeyPath, set[KeyPath]] = {}
    first: dict[KeyPath, tuple[KeyPath, str]] = {}
    pending = []
    for path, reference in references:
        found = _target(schema, reference)
        if found is not None:
            first.setdefault(found[0], (path, reference))
            pending.append(found)
    # Each target points at the targets of the references inside it.
    for target, node in pending:
        if target in targets or len(targets) >= MAX_TARGETS:
            continue
        inner = set()
        for _, reference in _walk(node, target):
            named = _target(schema, reference)
            if named is not None:
                inner.add(named[0])
        targets[target] = inner
    # A target on a cycle of that graph is recursive: find cycles by depth-first colouring.
    on_cycle: set[KeyPath] = set()
    state: dict[KeyPath, int] = {}
    for start in targets:
        if start in state:
            continue
        state[start] = 1
        stack: list[tuple[KeyPath, list[KeyPath]]] = [(start, list(targets.get(start, ())))]
        trail = [start]
        while stack:
            node, rest = stack[-1]
            if not rest:
                stack.pop()
                trail.pop()
                state[node] = 2
                continue
            following = rest.pop()
            if state.get(following) == 1:
                on_cycle.update(trail[trail.index(following) :])
            elif following not in state and following in targets:
                state[following] = 1
                trail.append(following)
                stack.append((following, list(targets[following])))
    for path, reference in references:
        found = _target(schema, reference)
        if found is not None and found[0] in on_cycle:
            return path, reference
    return None
