"""Serves result files at /results/{vendor}/{task_id}/{name}, until they expire.

The one place a result URL is resolved: the task must exist and belong to the vendor in the
path, then the vendor's provider renders the file. Anything else answers like the object stores
the vendors use (OSS / COS): an XML `NoSuchKey` (404), or `AccessDenied` "Request has expired"
(403) once the file's lifetime on the emulated clock is over.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..emulator import Emulator
from ..providers.base import RESULTS_PREFIX, ResultFile


def _xml_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return Response(body, status, media_type="application/xml")


def find_result(emulator: Emulator, vendor: str, task_id: str, name: str) -> ResultFile | None:
    """The file behind a result URL, if the task exists and is that vendor's."""
    provider = emulator.providers.get(vendor)
    task = emulator.store.get_task(task_id) if provider else None
    if provider is None or task is None or task.vendor != vendor:
        return None
    return provider.result_file(task, name)


def result_routes(emulator: Emulator) -> list[BaseRoute]:
    async def serve(request: Request) -> Response:
        vendor, task_id, name = (request.path_params[k] for k in ("vendor", "task_id", "name"))
        found = find_result(emulator, vendor, task_id, name)
        if found is None:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        if emulator.clock.now() >= found.expires_at:
            return _xml_error(403, "AccessDenied", "Request has expired.")
        return Response(found.data, media_type=found.content_type,
                        headers={"Cache-Control": "private, max-age=3600"})

    return [Route(RESULTS_PREFIX + "/{vendor}/{task_id}/{name}", serve, methods=["GET", "HEAD"])]
