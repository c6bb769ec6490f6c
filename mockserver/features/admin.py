"""The admin API under /__admin: health, reset, clock, tasks, schema violations, fixtures.

Admin answers use a plain `{"error": ...}` envelope: they are ours, not a vendor's.
"""
from __future__ import annotations

import mimetypes
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .. import __version__
from ..core.limits import (
    ADMIN_MAX_BODY_BYTES,
    BadJSON,
    BodyTooLarge,
    ClientGone,
    clock_seconds,
    strict_loads,
)
from ..core.schemas import fixtures_root
from ..emulator import Emulator
from ..web import read_request_body

# A fixture is a file name of fixtures/images: short, no path, no hidden file.
FIXTURE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def admin_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status)


async def read_json(request: Request, empty: Any = None) -> Any:
    """The request's JSON (`empty` for an empty body), read at most ADMIN_MAX_BODY_BYTES far
    and as strictly as the vendors' doors (finite numbers, bounded nesting); or the 400/413
    answer to return, naming the problem."""
    try:
        raw = await read_request_body(request, ADMIN_MAX_BODY_BYTES)
    except BodyTooLarge:
        return admin_error(f"the body is over {ADMIN_MAX_BODY_BYTES} bytes", 413)
    except ClientGone:
        return admin_error("the client disconnected before sending its body")
    if not raw.strip():
        return empty
    try:
        return strict_loads(raw)
    except BadJSON as bad:
        return admin_error(f"body: {bad}")


async def read_json_object(request: Request) -> dict[str, Any] | JSONResponse:
    """The request's JSON object (empty body -> {}), or a 400 answer to return."""
    doc = await read_json(request, {})
    if isinstance(doc, JSONResponse):
        return doc
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
        try:
            seconds = clock_seconds(doc.get("seconds"))
        except ValueError as error:
            return admin_error(str(error))
        clock.advance(seconds)
        return await get_clock(request)

    async def tasks(request: Request) -> Response:
        vendor = request.query_params.get("vendor")
        account = request.query_params.get("account")  # a key, an account name or a label
        label, now = emulator.account_label, clock.now()
        found = [
            {**t.to_dict(), "account": label(t.account), "state": t.state_at(now).value}
            for t in store.list_tasks(vendor, int_param(request, "limit", 1000))
            if account is None or label.matches(t.account, account)
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
        if not FIXTURE_NAME.fullmatch(name) or not path.is_file():
            return admin_error(f"no fixture named {name[:130]!r}", 404)
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
