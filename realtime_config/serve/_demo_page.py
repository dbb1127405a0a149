"""The demo page of ``serve --demo``: two static files from the package, served with a
policy that lets them run their own script and talk to this origin only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response


def demo_file(name: str) -> Callable[[Request], Awaitable[Response]]:
    """A route answering one file of the demo page, read once, from the package."""
    from importlib.resources import files

    data = files("realtime_config.serve").joinpath("_demo", name).read_bytes()
    media_type = "text/html" if name.endswith(".html") else "text/javascript"
    headers = {
        # The page runs its own script only, talks to this origin only, and is never framed.
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
            "connect-src 'self'; media-src 'self' blob: mediastream:; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }

    async def page(request: Request) -> Response:
        return Response(data, media_type=media_type, headers=headers)

    return page
