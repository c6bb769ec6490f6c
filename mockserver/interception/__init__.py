"""In-process mode's interception of the HTTP clients the vendors' SDKs use.

httpx is routed by respx (in `mockserver.respx_mode`), `requests` by `responses`
(`requests_transport`), aiohttp by `aioresponses` (`aiohttp_transport`). Each sends requests
for the hosts in `hosts.HostMap` to the app through `gate.VendorHostGate`, and leaves every
other request to `hosts.OutboundPolicy`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

Headers = list[tuple[str, str]]
# (method, url, headers, body) -> the app's answer; the async form for clients on an event loop.
AppCall = Callable[[str, str, Headers, bytes], httpx.Response]
AsyncAppCall = Callable[[str, str, Headers, bytes], Awaitable[httpx.Response]]
EXTRA = "portrait-mockserver[testing]"  # the extra that brings every interception library
