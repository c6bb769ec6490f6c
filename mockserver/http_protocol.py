"""uvicorn's HTTP protocol with one socket write per response instead of two.

uvicorn writes a response's head when the app sends `http.response.start` and its body when
the app sends the body: two `send()` calls, two TCP segments, and on loopback two wake-ups
of the client, for every small JSON answer. The kernel's side of those writes was the largest
single cost of a task query under load (bench/profile.py). `TurnBuffer` holds what the
protocol writes during one event-loop turn and writes it at the end of the turn, so a
response sent in one go leaves as one segment; a streamed response still leaves part by part,
each at the end of the turn that produced it. Nothing is held across turns, so no answer waits
for anything but the code already running.

The protocol is uvicorn's own choice ("auto": httptools when installed, else h11), subclassed
only to wrap the transport it is given. `SERVER_OPTIONS` is how every part of the mock that
runs uvicorn configures it, this protocol included; `ServingServer` is uvicorn's server for a
long-lived process (`serve` and its workers).
"""
from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from .warmup import start_background_loading


class TurnBuffer:
    """A transport that joins the writes of one loop turn; everything else is the real
    transport's. Closing writes what is held first, so a response is never cut short."""

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        held = self._held
        if not held:
            return
        self._held = []
        if not self._transport.is_closing():  # the peer left: there is no one to write to
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


_UVICORNS_CHOICE: Any = AutoHTTPProtocol  # httptools' protocol when installed, else h11's


class CoalescingHTTPProtocol(_UVICORNS_CHOICE):
    """Pass as `uvicorn.Config(http=CoalescingHTTPProtocol)`."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(TurnBuffer(transport, self.loop))


# How the mock runs uvicorn everywhere (`serve`, its workers, the test servers), beside the
# address, the app and the log settings: no access log of uvicorn's own (the mock writes
# one), no WebSocket stack (no vendor speaks WebSocket, and loading one costs start-up), no
# X-Forwarded-* middleware (nothing reads those headers: URLs come from --public-url), and
# this module's protocol.
SERVER_OPTIONS: dict[str, Any] = {"access_log": False, "ws": "none", "proxy_headers": False,
                                  "http": CoalescingHTTPProtocol}


class ServingServer(uvicorn.Server):
    """uvicorn's server that, once it listens, starts loading in the background what a first
    download needs (`warmup`)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            start_background_loading()
