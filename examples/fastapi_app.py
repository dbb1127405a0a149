"""A FastAPI backend that serves the voice page and places calls only for logged-in users.

Run it from the project folder, with ``pip install 'realtime-config[serve]' fastapi``:

    OPENAI_API_KEY=sk-... uvicorn examples.fastapi_app:app

then open http://127.0.0.1:8000/login?user=ada and http://127.0.0.1:8000/. The page is the
demo page that ships with realtime-config (``demo=True``): it lists the presets and posts the
browser's WebRTC offer to /calls/assistant. Listing, calls and client secrets (POST
/sessions/assistant) all need a valid session cookie: the authorize hook asks the app's login.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse

from realtime_config.serve import create_app

PROJECT = Path(__file__).resolve().parent.parent

# The app's own login. A real app has its own (a session middleware, an OAuth login...);
# what matters is that the authorize hook below asks it.
SESSIONS: dict[str, str] = {}


def logged_in(request: Request) -> bool:
    """The authorize hook: 401 without a session; True (mint) for a known user."""
    user = SESSIONS.get(request.cookies.get("session", ""))
    if user is None:
        raise HTTPException(401, "log in first")
    return True  # or check what this user may do, e.g. `return user in VOICE_USERS` (403)


client_secrets = create_app(
    [PROJECT / "presets" / "assistant.toml"],
    root=PROJECT,
    authorize=logged_in,
    demo=True,  # the page at / and /demo.js; leave it out to serve a page of your own
    allowed_hosts=["127.0.0.1", "localhost"],  # behind a proxy: the public name too
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A mounted app gets no lifespan of its own: run it here, so its HTTP client is
    # opened once and closed at shutdown.
    async with client_secrets.router.lifespan_context(app):
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/login")
def login(user: str) -> RedirectResponse:
    """Demo only: log in as anyone. Replace with the app's real login."""
    token = secrets.token_urlsafe(32)
    SESSIONS[token] = user
    response = RedirectResponse("/", status_code=303)
    response.set_cookie("session", token, httponly=True, samesite="strict")
    return response


# Last, so that the app's own routes come first: the page, POST /calls/{name},
# POST /sessions/{name}, GET /presets, GET /healthz.
app.mount("/", client_secrets)
