"""`create_app(settings)`: one Starlette app per call, holding its own Emulator (no globals)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .admin import admin_routes
from .admin_journal import record_near_miss
from .core.errors import VendorError
from .core.shared import RefreshEachRequest
from .results import results_route
from .runtime import Emulator
from .settings import Settings
from .web import Reply


def create_app(settings: Settings | None = None, emulator: Emulator | None = None) -> Starlette:
    emulator = emulator or Emulator(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await emulator.start()
        try:
            yield
        finally:
            await emulator.stop()

    async def not_found(request: Request) -> Response:
        """Unknown paths under a vendor's prefix answer that vendor's not-found error."""
        provider = emulator.provider_for_path(request.url.path)
        if provider is None:
            body = {"error": f"no route for {request.method} {request.url.path}"}
            await record_near_miss(emulator, None, request, 404, body)
            return JSONResponse(body, 404)
        reply: Reply = provider.error_reply(VendorError(provider.not_found_code), None)
        await record_near_miss(emulator, provider.name, request, reply.status, reply.body)
        return reply.to_response()

    routes = [r for p in emulator.providers.values() for r in p.routes()]
    routes += admin_routes(emulator) + emulator.admin_routes + [results_route(emulator)]
    routes.append(Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
    app = Starlette(routes=routes, lifespan=lifespan,  # changes from other instances first:
                    middleware=[Middleware(RefreshEachRequest, shared=emulator.shared)])
    app.state.emulator = emulator
    emulator.app = app
    return app
