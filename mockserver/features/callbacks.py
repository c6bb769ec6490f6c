"""The callback dispatcher's admin routes under /__admin/callbacks (the dispatcher itself is
`core.callbacks`, built and started by the emulator):

- `GET  /__admin/callbacks?vendor=&task_id=&status=`  every delivery with all its attempts
- `GET  /__admin/callbacks/{id}`                      one delivery
- `POST /__admin/callbacks/{id}/redeliver`            send one extra attempt now
- `POST /__admin/callbacks/drain`                     deliver everything due now and wait
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..emulator import Emulator
from .admin import admin_error, int_param

NOT_RUNNING = "the callback dispatcher is not running (the app's lifespan has not started it)"


def callback_routes(emulator: Emulator) -> list[BaseRoute]:
    dispatcher = emulator.callbacks

    async def listing(request: Request) -> Response:
        q = request.query_params
        found = [r for r in dispatcher.records(q.get("vendor"), q.get("task_id"))
                 if q.get("status") in (None, r["status"])]
        found = found[: int_param(request, "limit", 1000)]
        return JSONResponse({"callbacks": found, "count": len(found),
                             "now": dispatcher.host.clock.now()})

    async def one(request: Request) -> Response:
        record = dispatcher.get(request.path_params["callback_id"])
        return JSONResponse(record) if record else admin_error("no such callback", 404)

    async def redeliver(request: Request) -> Response:
        if not dispatcher.running:
            return admin_error(NOT_RUNNING, 503)
        record, problem = await dispatcher.redeliver(request.path_params["callback_id"])
        if record is None:
            return admin_error(problem or "no such callback", 404)
        if problem is not None:
            return JSONResponse({"error": problem, "callback": record}, 409)
        return JSONResponse(record)

    async def drain(request: Request) -> Response:
        if not dispatcher.running:
            return admin_error(NOT_RUNNING, 503)
        await dispatcher.drain()
        pending = dispatcher.records()
        waiting = [r["id"] for r in pending if r["status"] == "pending"]
        return JSONResponse({"drained": True, "pending": waiting,
                             "now": dispatcher.host.clock.now()})

    return [
        Route("/__admin/callbacks", listing, methods=["GET"]),
        Route("/__admin/callbacks/drain", drain, methods=["POST"]),
        Route("/__admin/callbacks/{callback_id}", one, methods=["GET"]),
        Route("/__admin/callbacks/{callback_id}/redeliver", redeliver, methods=["POST"]),
    ]
