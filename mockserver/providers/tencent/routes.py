"""Tencent's route table: one path, `/`, dispatched by the action (X-TC-Action or v1 Action)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...web import Pipeline
from ..base import Provider
from . import handlers

# GET and POST are the API; the others are routed here to answer UnsupportedProtocol.
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def routes(provider: Provider, pipeline: Pipeline) -> list[BaseRoute]:
    async def endpoint(request: Request) -> Response:
        # Name the operation before interceptors run, so faults and the journal can match it
        # (X-TC-Action for TC3, the Action parameter for signature v1).
        operation = await handlers.operation_of(request, provider.max_body_bytes)
        return await pipeline.run(provider, operation, handlers.api, request)

    return [Route("/", endpoint, methods=METHODS, name=f"{provider.name}.api")]
