"""``serve``: mint client secrets and place WebRTC calls for browser and phone apps (the
optional extra ``realtime-config[serve]``)."""

from __future__ import annotations

from pathlib import Path

import click

from realtime_config.cli._options import client_options, root_option
from realtime_config.cli._shell import fail, print_warnings, report_errors


@click.command("serve")
@click.argument("presets", nargs=-1, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port."
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A browser origin (scheme://host[:port]) that may fetch secrets; repeatable. "
    "Other origins are refused.",
)
@click.option(
    "--graceful-timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="On Ctrl+C or SIGTERM, how long in-flight requests may finish; then they get 503.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Serve the demo page at / (pick a preset, talk to it over WebRTC through /calls).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME[:PORT]",
    help="A Host name served besides the listening address and the loopback names (behind "
    "a proxy: the public name); repeatable. Other Host headers get 400.",
)
@client_options
@root_option
@report_errors
def serve_command(
    presets: tuple[Path, ...],
    host: str,
    port: int,
    allow_origins: tuple[str, ...],
    provider: str | None,
    graceful_timeout: float,
    demo: bool,
    allow_hosts: tuple[str, ...],
    base_url: str | None,
    timeout: float | None,
    max_retries: int,
    root: Path | None,
) -> None:
    """Serve the presets over HTTP: POST /sessions/NAME mints a client secret for
    presets/NAME.toml, POST /calls/NAME places a WebRTC call for a browser's SDP offer.

    PRESETS are preset files under presets/ (default: all of them but the bases that others
    extend). The key comes from OPENAI_API_KEY (with --provider azure, AZURE_OPENAI_API_KEY
    or AZURE_OPENAI_AD_TOKEN) and stays here. Only Host names of this server are answered
    (--allow-host adds one). Stops gracefully on Ctrl+C or SIGTERM. Exit status 1 when it
    cannot listen, a preset is invalid or the serve extra is missing.
    """
    try:
        import uvicorn  # noqa: F401  (missing: say so before any preset is loaded)

        from realtime_config.serve import create_app
        from realtime_config.serve._lifecycle import listen_socket, run
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in ("starlette", "uvicorn"):
            raise
        fail("serve needs the serve extra: pip install 'realtime-config[serve]'")
    sock = listen_socket(host, port)  # first: a port in use is said before presets load
    with sock:
        app = create_app(
            list(presets) or None,
            root=root,
            allow_origins=allow_origins,
            allowed_hosts=allow_hosts,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            demo=demo,
            provider=provider,
        )
        print_warnings(app.state.warnings)
        run(app, host=host, port=port, sock=sock, graceful_timeout=graceful_timeout)
