"""The admin API under /__admin: health, reset, clock, tasks, schema violations, fixtures.

Admin answers use a plain `{"error": ...}` envelope: they are ours, not a vendor's.
"""
from __future__ import annotations

import json
import mimetypes
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .. import __version__
from ..core.schemas import fixtures_root
from ..emulator import Emulator


def admin_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status)


async def read_json_object(request: Request) -> dict[str, Any] | JSONResponse:
    """The request's JSON object (empty body -> {}), or a 400 answer to return."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        return admin_error("body is not valid JSON")
    return doc if isinstance(doc, dict) else admin_error("body must be a JSON object")


def int_param(request: Request, name: str, default: int) -> int:
    try:
        return max(0, int(request.query_params.get(name, default)))
    except ValueError:
        return default


def admin_routes(emulator: Emulator) -> list[BaseRoute]:
    clock, store = emulator.clock, emulator.store

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__,
                             "vendors": list(emulator.providers), "time": clock.now()})

    async def reset(request: Request) -> Response:
        emulator.reset()
        return JSONResponse({"reset": True, "time": clock.now()})

    async def get_clock(request: Request) -> Response:
        return JSONResponse({"now": clock.now(), "offset": clock.offset, "scale": clock.scale})

    async def advance(request: Request) -> Response:
        doc = await read_json_object(request)
        if isinstance(doc, Response):
            return doc
        seconds = doc.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            return admin_error("'seconds' must be a non-negative number")
        clock.advance(float(seconds))
        return await get_clock(request)

    async def tasks(request: Request) -> Response:
        vendor = request.query_params.get("vendor")
        account = request.query_params.get("account")
        now = clock.now()
        found = [
            {**t.to_dict(), "state": t.state_at(now).value}
            for t in store.list_tasks(vendor, int_param(request, "limit", 1000))
            if account in (None, t.account)
        ]
        return JSONResponse({"tasks": found, "count": len(found), "now": now})

    async def violations(request: Request) -> Response:
        return JSONResponse({"violations": emulator.schema_violations})

    async def fixture_list(request: Request) -> Response:
        folder = fixtures_root() / "images"
        names = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        return JSONResponse({"fixtures": names, "base_url": f"{emulator.settings.base_url}/__admin/fixtures/"})

    async def fixture(request: Request) -> Response:
        name = request.path_params["name"]
        path = fixtures_root() / "images" / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return admin_error(f"no fixture named {name!r}", 404)
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(path.read_bytes(), media_type=media)

    return [
        Route("/__admin/health", health, methods=["GET"]),
        Route("/__admin/reset", reset, methods=["POST"]),
        Route("/__admin/clock", get_clock, methods=["GET"]),
        Route("/__admin/clock/advance", advance, methods=["POST"]),
        Route("/__admin/tasks", tasks, methods=["GET"]),
        Route("/__admin/schema-violations", violations, methods=["GET"]),
        Route("/__admin/fixtures", fixture_list, methods=["GET"]),
        Route("/__admin/fixtures/{name}", fixture, methods=["GET"]),
    ]
