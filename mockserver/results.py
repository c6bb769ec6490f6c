"""Serves result images at /results/{vendor}/{task_id}/{name}, until they expire.

Expired or unknown files answer like the object stores the vendors use (OSS / COS): an XML
`AccessDenied` "Request has expired" (403) or `NoSuchKey` (404).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from .runtime import Emulator

RESULTS_PREFIX = "/results"


def result_url(base_url: str, vendor: str, task_id: str, name: str) -> str:
    return f"{base_url}{RESULTS_PREFIX}/{vendor}/{task_id}/{name}"


def _xml_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return Response(body, status, media_type="application/xml")


def results_route(emulator: Emulator) -> Route:
    async def serve(request: Request) -> Response:
        vendor, task_id, name = (request.path_params[k] for k in ("vendor", "task_id", "name"))
        provider = emulator.providers.get(vendor)
        task = emulator.store.get_task(task_id) if provider else None
        found = provider.result_file(task, name) if provider and task else None
        if found is None:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        if emulator.clock.now() >= found.expires_at:
            return _xml_error(403, "AccessDenied", "Request has expired.")
        return Response(found.data, media_type=found.content_type,
                        headers={"Cache-Control": "private, max-age=3600"})

    return Route(RESULTS_PREFIX + "/{vendor}/{task_id}/{name}", serve, methods=["GET", "HEAD"])
