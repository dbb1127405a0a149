"""``submit``: post a preset's payload to the Realtime API (a client secret, an accepted SIP
call, or a WebRTC call for an SDP offer)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from realtime_config.cli._options import (
    INPUT_FILE,
    TARGET_CHOICE,
    client_options,
    drop_unsupported_option,
    root_option,
)
from realtime_config.cli._shell import fail, print_warnings, report_errors


@click.command("submit")
@click.argument("preset", type=INPUT_FILE)
@click.option(
    "--target",
    "-t",
    type=TARGET_CHOICE,
    help="Endpoint to post to [default: preset.target, else client_secrets for GA presets, "
    "translations.client_secrets for translation ones and sessions for beta ones]; the "
    "session.update events cannot be submitted.",
)
@click.option(
    "--call-id",
    metavar="ID",
    help="The incoming SIP call to accept (target calls.accept, which it implies).",
)
@click.option(
    "--sdp",
    "sdp_file",
    type=INPUT_FILE,
    metavar="OFFER.sdp",
    help="Place a WebRTC call for this SDP offer (target calls, which it implies); prints "
    "the SDP answer (--format json adds the call id).",
)
@client_options
@drop_unsupported_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the request (key redacted) instead of sending it; needs no API key.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "text"]),
    help="json: the created session (the default); text: the client secret and its expiry. "
    "With --sdp, text (the default) is the SDP answer and json adds the call id.",
)
@root_option
@report_errors
def submit_command(
    preset: Path,
    target: str | None,
    call_id: str | None,
    provider: str | None,
    sdp_file: Path | None,
    base_url: str | None,
    timeout: float | None,
    max_retries: int,
    drop_unsupported: bool,
    dry_run: bool,
    output_format: str | None,
    root: Path | None,
) -> None:
    """Mint an ephemeral client secret: post PRESET's payload to the Realtime API.

    With --call-id, accept that incoming SIP call with PRESET's session instead
    (POST /v1/realtime/calls/ID/accept); with --sdp, place a WebRTC call for that offer
    (POST /v1/realtime/calls) and print the SDP answer. The key comes from OPENAI_API_KEY;
    OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID are honoured. With --provider
    azure (the default when AZURE_OPENAI_ENDPOINT is set), the request goes to the
    resource's v1 API with AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN. Exit status 1 on
    any failure, with one line on stderr.
    """
    from realtime_config.compiling._targets import target_answering, target_taking

    if call_id is not None:
        accepting = target_taking("call_id").name  # the registry's: calls.accept
        if target not in (None, accepting):
            raise click.UsageError(f"--call-id goes with --target {accepting}, not {target}")
        target = accepting
    sdp: str | None = None
    if sdp_file is not None:
        placing = target_answering("sdp_answer").name  # the registry's: calls
        if call_id is not None or target not in (None, placing):
            raise click.UsageError(f"--sdp goes with --target {placing}, not {target}")
        target = placing
        sdp = read_offer(sdp_file)
    from realtime_config.checking._compose import load_preset
    from realtime_config.client._client import RealtimeClient

    loaded = load_preset(preset, root=root)
    with RealtimeClient(
        provider=provider, base_url=base_url, timeout=timeout, max_retries=max_retries
    ) as client:
        print_warnings(client.relevant_warnings(loaded.warnings))
        request = client.prepare_preset(
            loaded, target=target, drop_unsupported=drop_unsupported, call_id=call_id, sdp=sdp
        )
        print_warnings(request.warnings)
        if dry_run:
            if not client.has_api_key:
                missing = (
                    "AZURE_OPENAI_API_KEY and AZURE_OPENAI_AD_TOKEN are not set, so this "
                    "request has no api-key header"
                    if client.provider == "azure"
                    else "OPENAI_API_KEY is not set, so this request has no Authorization header"
                )
                click.echo(f"realtime-config: note: {missing}; a real submit would fail", err=True)
            click.echo(request.as_text(), nl=False)
            return
        created = client.send(request)
    output_format = output_format or ("text" if sdp is not None else "json")
    click.echo(created.as_json() if output_format == "json" else created.as_text(), nl=False)


def read_offer(path: Path) -> str:
    """An SDP offer file's text (``-`` is stdin), or a one-line error with exit status 1."""
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        fail(f"cannot read the SDP offer {path}: {error.strerror or error}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        fail(f"the SDP offer {path} is not UTF-8 text")
    if not text.startswith("v="):
        fail(f"the SDP offer {path} is not SDP: it must start with v=0")
    return text
