"""Debian's headless Chromium driven over the DevTools protocol on a pipe (no extra package).

``--remote-debugging-pipe`` makes Chromium read commands from its file descriptor 3 and write
answers and events to 4, each a JSON text ended by a NUL byte. This module starts it with a
throw-away profile, opens one page, and offers the few commands the browser tests need:
navigate, evaluate (with a user gesture, so a click may start audio), wait for a condition,
and take a screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A microphone without a microphone or a permission prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # ICE host candidates as plain addresses, loopback included: the peer is on 127.0.0.1.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--allow-loopback-in-peer-connection",
    "--window-size=900,900",
]


class Page:
    """One page of a running Chromium, commanded over the pipe."""

    def __init__(self, process: subprocess.Popen[bytes], commands: int, answers: int) -> None:
        self._process = process
        self._commands = commands
        self._answers = answers
        self._next_id = 0
        self._results: dict[int, dict[str, Any]] = {}
        self._ready = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session_id: str | None = None

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._answers, 1 << 16):
            buffer += chunk
            while b"\0" in buffer:
                message, _, buffer = buffer.partition(b"\0")
                data = json.loads(message)
                if "id" in data:
                    with self._ready:
                        self._results[data["id"]] = data
                        self._ready.notify_all()
        with self._ready:
            self._ready.notify_all()

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """One command; its result, or an AssertionError with the browser's error."""
        self._next_id += 1
        number = self._next_id
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if self.session_id is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session_id
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._ready:
            while number not in self._results:
                left = deadline - time.monotonic()
                assert left > 0, f"Chromium did not answer {method} within {timeout} s"
                assert self._reader.is_alive(), "Chromium closed its pipe"
                self._ready.wait(left)
            answer = self._results.pop(number)
        assert "error" not in answer, f"{method}: {answer['error']}"
        result: dict[str, Any] = answer["result"]
        return result

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session_id = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send("Page.enable")
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited), run as if the user had clicked."""
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
            userGesture=True,
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll until the expression is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"never true within {timeout} s: {expression}"
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


def _high(*descriptors: int) -> tuple[int, ...]:
    """The descriptors moved above 9, so that bash's 3<&N 4>&M never overwrites one of them."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in descriptors)
    for fd in descriptors:
        os.close(fd)
    return moved


@contextmanager
def chromium_page(profile: Path, *extra_flags: str) -> Iterator[Page]:
    """Chromium with a fresh profile and a pipe; closed (and waited for) on exit."""
    commands_read, commands_write = _high(*os.pipe())
    answers_read, answers_write = _high(*os.pipe())
    # The browser must find the pipe at descriptors 3 and 4; the shell puts them there.
    script = f'exec "$0" "$@" 3<&{commands_read} 4>&{answers_write}'
    process = subprocess.Popen(
        [
            "/bin/bash",
            "-c",
            script,
            str(CHROMIUM),
            *FLAGS,
            *extra_flags,
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
        ],
        pass_fds=(commands_read, answers_write),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(commands_read)
    os.close(answers_write)
    page = Page(process, commands_write, answers_read)
    try:
        yield page
    finally:
        with suppress(AssertionError):
            page.send("Browser.close", timeout=10)
        os.close(commands_write)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(answers_read)
