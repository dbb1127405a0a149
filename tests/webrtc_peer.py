"""A WebRTC peer on 127.0.0.1 that stands in for the Realtime API's side of a call (aiortc).

It answers an SDP offer as ``POST /v1/realtime/calls`` would, and when the browser's
``oai-events`` data channel opens it sends a ``session.created`` event carrying the session
the call was placed with (the multipart's ``session`` part). It runs its own event loop in a
thread, since the fake API that calls it answers HTTP in threads of its own.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class LoopbackPeer:
    """Answers offers with aiortc peers whose only ICE candidate is 127.0.0.1."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.connections: list[Any] = []
        self.sent: list[dict[str, Any]] = []

    def answer(self, offer: str, session: dict[str, Any]) -> str:
        """The SDP answer to ``offer`` (blocking: called from the fake's handler thread)."""
        future = asyncio.run_coroutine_threadsafe(self._answer(offer, session), self.loop)
        return future.result(timeout=20)

    async def _answer(self, offer: str, session: dict[str, Any]) -> str:
        from aiortc import RTCPeerConnection, RTCSessionDescription

        connection = RTCPeerConnection()
        self.connections.append(connection)

        @connection.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            if channel.label != "oai-events":
                return
            event = {"type": "session.created", "event_id": "event_fake_1", "session": session}

            def send_created() -> None:
                channel.send(json.dumps(event))
                self.sent.append(event)

            if channel.readyState == "open":
                send_created()
            else:
                channel.on("open", send_created)

        await connection.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await connection.setLocalDescription(await connection.createAnswer())
        answer: str = connection.localDescription.sdp
        return answer

    async def _close(self) -> None:
        for connection in self.connections:
            await connection.close()


@contextmanager
def loopback_peer() -> Iterator[LoopbackPeer]:
    """A running peer; every connection closed and the loop stopped on exit."""
    import aioice.ice

    real = aioice.ice.get_host_addresses
    # aioice leaves out 127.0.0.1; the tests never use another address.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    peer = LoopbackPeer()
    peer.thread.start()
    try:
        yield peer
    finally:
        asyncio.run_coroutine_threadsafe(peer._close(), peer.loop).result(timeout=20)
        peer.loop.call_soon_threadsafe(peer.loop.stop)
        peer.thread.join(10)
        peer.loop.close()
        aioice.ice.get_host_addresses = real
