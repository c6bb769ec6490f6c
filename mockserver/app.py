"""`create_app(settings)`: one Starlette app per call, holding its own Emulator (no globals).

The app is the emulator's providers, routed through its pipeline, with the features installed
around them: the dashboard, result files, the admin API, the journal views, callbacks, fault
injection, the OpenAPI documents, and any plugins named in the settings (`module:function`,
same shape).
"""
from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .dashboard import dashboard_routes
from .emulator import Emulator
from .features import Feature
from .features.admin import admin_routes
from .features.admin_guard import admin_middleware
from .features.callbacks import callback_routes
from .features.credentials import credential_routes
from .features.faults import install_faults
from .features.journal import journal_routes, record_near_miss, vendor_not_found
from .features.openapi import openapi_routes
from .features.results import result_routes
from .routing import IndexedRouter, MockApp
from .settings import Settings

# Routed before the vendors: a browser's `GET /` is the dashboard's, not a vendor's `/`.
FRONT_FEATURES: tuple[Feature, ...] = (dashboard_routes,)
FEATURES: tuple[Feature, ...] = (result_routes, admin_routes, journal_routes, callback_routes,
                                 install_faults, openapi_routes, credential_routes)
ANY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH"]


class PluginError(ValueError):
    """A `plugins` entry that cannot be loaded; the message names it."""


def load_plugin(spec: str) -> Feature:
    """`package.module:function` -> the function (a feature: emulator -> routes)."""
    module_name, _, attribute = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute or "install")
    except (ImportError, AttributeError) as error:
        raise PluginError(f"plugin {spec!r} cannot be loaded: {error}") from None
    if not callable(found):
        raise PluginError(f"plugin {spec!r} is not a function")
    feature: Feature = found
    return feature


def create_app(settings: Settings | None = None, emulator: Emulator | None = None,
               features: Iterable[Feature] = FEATURES) -> Starlette:
    emulator = emulator or Emulator(settings or Settings())
    routes: list[BaseRoute] = [r for feature in FRONT_FEATURES for r in feature(emulator)]
    routes += emulator.routes()
    for feature in (*features, *map(load_plugin, emulator.settings.plugins)):
        routes += feature(emulator)
    routes.append(Route("/{path:path}", _not_found(emulator), methods=ANY_METHOD))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await emulator.start()
        try:
            yield
        finally:
            await emulator.stop()

    app = MockApp(IndexedRouter(routes, lifespan=lifespan), emulator.shared,
                  middleware=admin_middleware(emulator.settings))
    app.state.emulator = emulator
    emulator.app = app
    return app


def _not_found(emulator: Emulator) -> Callable[[Request], Awaitable[Response]]:
    async def not_found(request: Request) -> Response:
        """Unknown paths under a vendor's prefix answer that vendor's not-found error."""
        provider = emulator.provider_for_path(request.url.path)
        if provider is None:
            body = {"error": f"no route for {request.method} {request.url.path}"}
            await record_near_miss(emulator, None, request, 404, body)
            return JSONResponse(body, 404)
        return await vendor_not_found(emulator, provider.name, request)

    return not_found
