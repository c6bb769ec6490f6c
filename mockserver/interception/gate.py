"""On a vendor's own host, only that vendor's API exists.

A real server shares one port between the vendors, the admin API and the result files, and
tells the vendors apart by path. In-process mode sees the host a client called, so it can be
stricter, as the real vendor is: a request to a vendor's host reaches the app only for that
vendor's paths (its routes, or anything under its prefixes, where the app's catch-all answers
the vendor's not-found). Any other path on that host (another vendor's API, `/__admin`, a
path the mock does not emulate) gets the vendor's own not-found answer here, and is journalled
as a near miss, like every unknown path. It never goes to the network.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from ..emulator import Emulator
from ..features.journal import vendor_not_found
from ..providers import vendor_packages
from .hosts import HostMap


class VendorHostGate:
    """ASGI wrapper around the mock's app for in-process mode."""

    def __init__(self, app: ASGIApp, emulator: Emulator, hosts: HostMap) -> None:
        self.app = app
        self.emulator = emulator
        self.hosts = hosts
        packages = vendor_packages()
        # The vendor's routes as the app builds them; used only to match paths.
        self._routes: dict[str, list[BaseRoute]] = {
            name: packages[name].routes(provider, emulator.pipeline)
            for name, provider in emulator.providers.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            vendor = self.hosts.vendor_for(request.url.hostname or "")
            if vendor is not None and not self._owns(vendor, scope):
                await self._not_found(vendor, request, scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _owns(self, vendor: str, scope: Scope) -> bool:
        path: str = scope["path"]
        if any(path.startswith(prefix) for prefix in self.emulator.providers[vendor].spec.prefixes):
            return True
        return any(route.matches(scope)[0] is not Match.NONE for route in self._routes[vendor])

    async def _not_found(self, vendor: str, request: Request, scope: Scope, receive: Receive,
                         send: Send) -> None:
        answer = await vendor_not_found(self.emulator, vendor, request)
        await answer(scope, receive, send)
