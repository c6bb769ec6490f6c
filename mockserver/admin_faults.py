"""`/__admin/faults`: add, list and remove fault rules over HTTP (the rules live in faults.py)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .faults import FaultError

if TYPE_CHECKING:
    from .runtime import Emulator


def fault_routes(emulator: Emulator) -> list[BaseRoute]:
    faults = emulator.faults

    async def add(request: Request) -> Response:
        try:
            doc = json.loads(await request.body() or b"null")
        except ValueError:
            return JSONResponse({"error": "body is not valid JSON"}, 400)
        try:
            rule = faults.add(doc)
        except FaultError as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(rule.to_dict(), 201)

    async def listing(request: Request) -> Response:
        rules = [r.to_dict() for r in faults.rules()]
        return JSONResponse({"faults": rules, "count": len(rules)})

    async def remove_all(request: Request) -> Response:
        return JSONResponse({"removed": faults.clear()})

    async def one(request: Request) -> Response:
        rule_id = request.path_params["rule_id"]
        rule = faults.get(rule_id)
        if rule is None:
            return JSONResponse({"error": f"no fault rule {rule_id!r}"}, 404)
        if request.method == "DELETE":
            faults.remove(rule_id)
            return JSONResponse({"removed": 1, "rule": rule.to_dict()})
        return JSONResponse(rule.to_dict())

    return [
        Route("/__admin/faults", add, methods=["POST"]),
        Route("/__admin/faults", listing, methods=["GET"]),
        Route("/__admin/faults", remove_all, methods=["DELETE"]),
        Route("/__admin/faults/{rule_id}", one, methods=["GET", "DELETE"]),
    ]
