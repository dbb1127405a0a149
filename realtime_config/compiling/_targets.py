"""The one registry of compile targets, and compiling a preset for one of them.

A target is a request body or event of the API: its name, the endpoint it is posted to
(if any), the dialect it speaks, how a preset of each dialect becomes its body, and how
its response is read. The CLI's choices, the client's endpoints, the schema's
``preset.target`` values and the checks of ``validate --target`` all come from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from realtime_config._diagnostics import Diagnostic, Severity
from realtime_config._errors import PresetError, UnknownTargetError
from realtime_config._keys import KeyPath, copy_json, format_path
from realtime_config._schema import dialect_schema, resolve
from realtime_config._wording import describe_value
from realtime_config.compiling._compile import compile_session, emit_field
from realtime_config.compiling._translate import (
    beta_required_missing,
    beta_session_from_ga,
    beta_unsupported,
    ga_body_from_beta,
    has_beta_counterpart,
)
from realtime_config.preset._model import Preset

Response = Literal["client_secret", "beta_session", "empty", "sdp_answer"]


@dataclass(frozen=True)
class Target:
    """One compile target of the registry."""

    name: str
    summary: str
    speaks: Literal["ga", "beta", "translation"]
    """The API generation of the body: a preset of the other generation is translated. A
    translation session is a request of its own: only its targets carry it."""
    build: Callable[[Preset], dict[str, Any]]
    """The body for a checked preset; fields the target cannot carry are left out."""
    endpoint: str | None = None
    """The path under the base URL it is posted to; None for a WebSocket event."""
    response: Response | None = None
    """How a successful answer is read: a GA client secret, a beta session, no body, or an
    SDP answer (``sdp_answer``: the body is then the session part of a multipart form whose
    other part is the caller's SDP offer)."""
    default_for: tuple[str, ...] = ()
    """The dialects whose presets compile for this target when none is named."""
    transcription: bool = False
    """Whether a transcription session (``type = "transcription"``) can be carried."""
    path_parameters: tuple[str, ...] = ()
    """Values the endpoint's path needs (``call_id``), given when submitting."""
    creates: bool = True
    """Whether the body creates a session (then ``x-required-on-create`` holds), rather than
    updating one."""
    mints: bool = False
    """Whether its answer carries an ephemeral client secret (what ``serve`` relays)."""


def _client_secrets(preset: Preset) -> dict[str, Any]:
    """``{"expires_after"?, "session"}``: a GA or translation client secret request."""
    if preset.dialect == "beta":
        return ga_body_from_beta(preset.session)
    return client_secrets_body(preset.session, preset.dialect)


def client_secrets_body(session: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    """A GA session table as its ``client_secrets`` body, read in ``dialect`` whatever its
    ``type`` says: the tables of ``x-outside-session`` beside the compiled session."""
    root = dialect_schema(dialect)
    body: dict[str, Any] = {}
    for key in root.get("x-outside-session", ()):
        if key in session:
            emitted = emit_field(resolve(root["properties"][key]), session[key])
            if emitted is not None:
                body[key] = emitted
    body["session"] = compile_session(session, dialect)
    return body


def _session_update(preset: Preset) -> dict[str, Any]:
    if preset.dialect == "beta":
        session = ga_body_from_beta(preset.session, creating=False)["session"]
    else:
        session = compile_session(preset.session, preset.dialect, creating=False)
    return {"type": "session.update", "session": session}


def _calls_accept(preset: Preset) -> dict[str, Any]:
    if preset.dialect == "beta":
        session: dict[str, Any] = ga_body_from_beta(preset.session)["session"]
        return session
    return compile_session(preset.session, preset.dialect)


def _beta_session(preset: Preset, *, creating: bool) -> dict[str, Any]:
    session = preset.session
    if preset.dialect != "beta":
        session, _ = beta_session_from_ga(session, creating=creating)
    return compile_session(session, "beta", creating=creating)


TARGETS: Final[Mapping[str, Target]] = {
    target.name: target
    for target in (
        Target(
            "client_secrets",
            "POST /v1/realtime/client_secrets: a client secret for a GA session",
            "ga",
            _client_secrets,
            endpoint="/realtime/client_secrets",
            response="client_secret",
            default_for=("realtime", "transcription"),
            transcription=True,
            mints=True,
        ),
        Target(
            "session.update",
            "the GA session.update event of the Realtime WebSocket",
            "ga",
            _session_update,
            transcription=True,
            creates=False,
        ),
        Target(
            "calls.accept",
            "POST /v1/realtime/calls/{call_id}/accept: accept a SIP call with the session",
            "ga",
            _calls_accept,
            endpoint="/realtime/calls/{call_id}/accept",
            response="empty",
            path_parameters=("call_id",),
        ),
        Target(
            "calls",
            "POST /v1/realtime/calls: the session of a WebRTC call placed for an SDP offer",
            "ga",
            _calls_accept,
            endpoint="/realtime/calls",
            response="sdp_answer",
        ),
        Target(
            "sessions",
            "POST /v1/realtime/sessions: the beta endpoint",
            "beta",
            lambda preset: _beta_session(preset, creating=True),
            endpoint="/realtime/sessions",
            response="beta_session",
            default_for=("beta",),
            mints=True,
        ),
        Target(
            "beta.session.update",
            "the beta session.update event: the sessions body without client_secret",
            "beta",
            lambda preset: {
                "type": "session.update",
                "session": _beta_session(preset, creating=False),
            },
            creates=False,
        ),
        Target(
            "translations.client_secrets",
            "POST /v1/realtime/translations/client_secrets: a client secret for a translation "
            "session",
            "translation",
            _client_secrets,
            endpoint="/realtime/translations/client_secrets",
            response="client_secret",
            default_for=("translation",),
            mints=True,
        ),
        Target(
            "translations.session.update",
            "the session.update event of the Realtime translation WebSocket",
            "translation",
            _session_update,
            creates=False,
        ),
    )
}
"""Every target, in the order the CLI lists them."""


def get_target(name: str) -> Target:
    """The target called ``name``; UnknownTargetError for any other name."""
    try:
        return TARGETS[name]
    except KeyError:
        raise UnknownTargetError(name, list(TARGETS)) from None


def minting_targets() -> tuple[Target, ...]:
    """The targets whose answer carries a client secret, in the registry's order."""
    return tuple(t for t in TARGETS.values() if t.mints)


def target_taking(parameter: str) -> Target:
    """The first target whose endpoint path takes ``parameter`` (``call_id``: ``calls.accept``)."""
    return next(t for t in TARGETS.values() if parameter in t.path_parameters)


def target_answering(response: Response) -> Target:
    """The first target whose answer is read as ``response`` (``sdp_answer``: ``calls``)."""
    return next(t for t in TARGETS.values() if t.response == response)


def default_target(preset: Preset) -> Target:
    """The target a preset compiles for when neither it nor the caller names one."""
    return next(t for t in TARGETS.values() if preset.dialect in t.default_for)


def chosen_target(preset: Preset, name: str | None = None) -> Target:
    """The target named by the caller, else by ``preset.target``, else the dialect's."""
    chosen = name or preset.target
    return get_target(chosen) if chosen else default_target(preset)


_API_WORDS = {
    "ga": "the GA endpoint",
    "beta": "the beta endpoint",
    "translation": "the translation endpoint",
}


def target_diagnostics(
    preset: Preset, target: Target, *, drop_unsupported: bool = False
) -> list[Diagnostic]:
    """What ``target`` cannot carry of a checked preset, one located diagnostic each.

    A session refused as a whole (a translation session by any other target, any other
    session by a translation target, a transcription session by a target that has none) and
    a key the target needs to create the session (``x-required-on-create``) are always
    errors; each unsupported field is an error, or with ``drop_unsupported`` a warning that
    it is left out.
    """
    refused = _refused_session(preset, target)
    if refused is not None:
        return [refused]
    if target.creates and preset.dialect != "beta":
        needed = dialect_schema(preset.dialect).get("x-required-on-create", ())
        missing = [key for key in needed if key not in preset.session]
        if missing:
            keys = " and ".join(f"`{key}`" for key in missing)
            return [
                preset.diagnostic(
                    ("type",),
                    "required",
                    f"target {target.name} creates a {preset.dialect} session, which needs {keys}",
                    anchor="value",
                )
            ]
    if preset.dialect == "transcription" and not target.transcription:
        carriers = " or ".join(t.name for t in TARGETS.values() if t.transcription)
        return [
            preset.diagnostic(
                ("type",),
                "target-refused",
                f"target {target.name} cannot carry a transcription session "
                f'(type = "transcription"); compile it for {carriers}',
                anchor="value",
            )
        ]
    if (preset.dialect == "beta") == (target.speaks == "beta"):
        return []
    if preset.dialect == "beta":
        lost = beta_unsupported(preset.session)
    else:
        _, lost = beta_session_from_ga(preset.session)
    severity: Severity = "warning" if drop_unsupported else "error"
    return [_unsupported(preset, target, path, severity) for path in lost]


def _refused_session(preset: Preset, target: Target) -> Diagnostic | None:
    """A translation session is its own request: its targets take nothing else, and no
    other target takes it. Refused as a whole, at ``type``."""
    translating = preset.dialect == "translation"
    if translating == (target.speaks == "translation"):
        return None
    if translating:
        carriers = " or ".join(t.name for t in TARGETS.values() if t.speaks == "translation")
        message = (
            f"target {target.name} cannot carry a translation session "
            f'(type = "translation"); compile it for {carriers}'
        )
    else:
        kind = (
            "a beta preset (no type)"
            if preset.dialect == "beta"
            else f'a {preset.dialect} session (type = "{preset.dialect}")'
        )
        message = (
            f"target {target.name} carries only translation sessions "
            f'(type = "translation"), and this is {kind}'
        )
    return preset.diagnostic(("type",), "target-refused", message, anchor="value")


def _unsupported(preset: Preset, target: Target, path: KeyPath, severity: Severity) -> Diagnostic:
    """A field the target cannot carry: an error, or (when dropped) a warning that says so."""
    name = format_path(path)
    api = _API_WORDS[target.speaks]
    value = _value_at(preset.session, path)
    missing = beta_required_missing(path, value) if target.speaks == "beta" else []
    if missing:
        why = f"{api} needs its {', '.join(format_path((key,)) for key in missing)}"
    elif target.speaks == "beta" and has_beta_counterpart(path):
        kind = value.get("type") if isinstance(value, Mapping) else None
        shown = f"type = {describe_value(kind)}" if isinstance(kind, str) else describe_value(value)
        why = f"{api} has no such value: {shown}"
    else:
        why = f"{api} has no {name}"
    return preset.diagnostic(
        path,
        "target-unsupported",
        f"{name} is not supported by target {target.name} ({why})"
        + ("; dropped from the payload" if severity == "warning" else ""),
        severity=severity,
        anchor="key",
    )


def _value_at(table: Mapping[str, Any], path: KeyPath) -> Any:
    node: Any = table
    for key in path:
        node = node[key]
    return node


def compile_preset(
    preset: Preset | Mapping[str, Any],
    target: str | None = None,
    *,
    drop_unsupported: bool = False,
) -> dict[str, Any]:
    """The request body of ``target`` for a loaded preset (or a session table).

    ``target`` defaults to the preset's ``preset.target``, else the dialect's default
    (``client_secrets`` for GA presets, ``sessions`` for beta ones). A plain mapping is
    checked against the schema first. Fields the target cannot carry are a PresetError
    located at each, unless ``drop_unsupported`` leaves them out.
    """
    body, _ = compile_preset_with_warnings(preset, target, drop_unsupported=drop_unsupported)
    return body


def compile_preset_with_warnings(
    preset: Preset | Mapping[str, Any],
    target: str | None = None,
    *,
    drop_unsupported: bool = False,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Like ``compile_preset``, plus the warnings of compiling: each unsupported field dropped."""
    if not isinstance(preset, Preset):
        preset = _preset_from_mapping(preset)
    chosen = chosen_target(preset, target)
    problems = target_diagnostics(preset, chosen, drop_unsupported=drop_unsupported)
    if any(p.is_error for p in problems):
        raise PresetError(problems)
    return chosen.build(preset), problems


def _preset_from_mapping(session: Mapping[str, Any]) -> Preset:
    """A session table given as data, checked as a preset file would be."""
    from pathlib import Path

    from realtime_config._schema import dialect_of
    from realtime_config.checking._compose import check_document, with_cross_field_checks
    from realtime_config.preset._model import Document

    table = copy_json(dict(session))
    document = Document(Path("<session>"), "<session>", "", table)
    try:
        check_document(document, dialect_of(table))
    except PresetError as error:
        raise PresetError([p for p in error.diagnostics if p.is_error]) from None
    raw_settings = table.pop("preset", {})
    settings = raw_settings if isinstance(raw_settings, dict) else {}
    return with_cross_field_checks(
        Preset(
            path=document.path,
            session=table,
            target=settings.get("target"),
            description=settings.get("description"),
            _locate=document.where,
        )
    )
