"""Tencent's one door, `/`, dispatched by the X-TC-Action header to the emulated actions."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...web import Pipeline
from ..base import Provider
from . import handlers
from .models import GATEWAY

# GET and POST are the API; the others are routed here to answer UnsupportedProtocol.
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def routes(provider: Provider, pipeline: Pipeline) -> list[BaseRoute]:
    async def endpoint(request: Request) -> Response:
        # Name the operation before interceptors run, so faults and the journal can match it.
        action = request.headers.get("x-tc-action", "")
        operation = action if action in handlers.ACTIONS else GATEWAY
        return await pipeline.run(provider, operation, handlers.api, request)

    return [Route("/", endpoint, methods=METHODS, name=f"{provider.name}.api")]
