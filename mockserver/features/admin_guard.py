"""The admin token: with `admin_token` set (`--admin-token`, `MOCKSERVER_ADMIN_TOKEN`, or
`[server] admin_token`), every `/__admin` route needs it except the health check and the
fixture images (tenants use those as input URLs); result files are not admin routes.

The token travels as `Authorization: Bearer <token>` or `X-Admin-Token: <token>` and is
compared in constant time. Without a token the admin API is open, as on a developer's machine;
`mockserver serve` warns when it listens beyond loopback that way.
"""
from __future__ import annotations

import hmac
import ipaddress

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import Settings

ADMIN = "/__admin"
OPEN_ROUTES = ("/__admin/health", "/__admin/fixtures")  # and everything below the fixtures
TOKEN_HEADER = "x-admin-token"
REFUSAL = ("this admin route needs the admin token: send Authorization: Bearer <token> or "
           "X-Admin-Token: <token>")


def needs_token(path: str) -> bool:
    if path != ADMIN and not path.startswith(ADMIN + "/"):
        return False
    return not any(path == p or path.startswith(p + "/") for p in OPEN_ROUTES)


def presented_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        lowered = name.lower()
        if lowered == TOKEN_HEADER.encode():
            return value.decode("latin-1").strip()
        if lowered == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class AdminGuard:
    """ASGI middleware answering 401 to an admin request without the right token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and needs_token(scope["path"]):
            given = presented_token(scope["headers"])
            if given is None or not hmac.compare_digest(given.encode(), self.token):
                answer = JSONResponse({"error": REFUSAL}, 401,
                                      headers={"WWW-Authenticate": 'Bearer realm="mockserver-admin"'})
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def admin_middleware(settings: Settings) -> list[Middleware]:
    """The app's middleware for these settings: the guard when a token is configured."""
    return [Middleware(AdminGuard, token=settings.admin_token)] if settings.admin_token else []


def listens_beyond_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == ""
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True  # a host name: it may resolve to any interface


def admin_warning(settings: Settings) -> str | None:
    """The banner's warning for an open admin API reachable from other machines, if any."""
    if settings.admin_token or not listens_beyond_loopback(settings.host):
        return None
    return (f"WARNING: listening on {settings.host} with no admin token: anyone who can reach "
            "this port can reset every tenant's tasks, move the clock and read the journal. "
            "Set --admin-token or MOCKSERVER_ADMIN_TOKEN.")
