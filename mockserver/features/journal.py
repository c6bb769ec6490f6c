"""The request journal over HTTP: filtered listing, WireMock-style counting, and HAR 1.2 export.

    GET  /__admin/requests?vendor=&operation=&account=&task_id=&status=&since=&until=&limit=
    POST /__admin/requests/count   {"vendor": "<name>", "operation": "<operation>", ...}
    GET  /__admin/requests.har?<same filters>
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .. import __version__
from ..core.journal import Entry, EntryQuery, KnownRoute, closest_route, request_document
from ..emulator import Emulator
from ..web import Call, Reply, ReplyFilter

DEFAULT_LIMIT = 200


def _query_from_params(request: Request) -> tuple[EntryQuery, int] | Response:
    params: dict[str, Any] = dict(request.query_params)
    if "body" in params:  # `?body=parameters.style=x` is awkward; counting takes JSON bodies
        return JSONResponse({"error": "filter on body fields with POST /__admin/requests/count"}, 400)
    limit_text = params.pop("limit", str(DEFAULT_LIMIT))
    try:
        limit = max(0, int(limit_text))
        return EntryQuery.parse(params), limit
    except ValueError as error:
        return JSONResponse({"error": str(error)}, 400)


def journal_routes(emulator: Emulator) -> list[BaseRoute]:
    """The journal's admin routes; also notes near misses of single-door vendors."""
    journal = emulator.journal
    emulator.pipeline.reply_filters.append(near_miss_filter(emulator))

    async def listing(request: Request) -> Response:
        parsed = _query_from_params(request)
        if isinstance(parsed, Response):
            return parsed
        query, limit = parsed
        entries = [e.to_dict() for e in journal.find(query, limit)]
        return JSONResponse({"requests": entries, "count": len(entries)})

    async def count(request: Request) -> Response:
        try:
            doc = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"error": "body is not valid JSON"}, 400)
        if not isinstance(doc, Mapping):
            return JSONResponse({"error": "body must be a JSON object (a request pattern)"}, 400)
        try:
            query = EntryQuery.parse(doc)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse({"count": len(journal.find(query))})

    async def har(request: Request) -> Response:
        parsed = _query_from_params(request)
        if isinstance(parsed, Response):
            return parsed
        query, limit = parsed
        entries = list(reversed(journal.find(query, limit)))  # HAR lists oldest first
        doc = har_document(entries, emulator.settings.base_url)
        return Response(json.dumps(doc, ensure_ascii=False), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="requests.har"'})

    return [
        Route("/__admin/requests", listing, methods=["GET"]),
        Route("/__admin/requests/count", count, methods=["POST"]),
        Route("/__admin/requests.har", har, methods=["GET"]),
    ]


# --- HAR 1.2 -------------------------------------------------------------------------------


def har_document(entries: list[Entry], base_url: str) -> dict[str, Any]:
    return {"log": {
        "version": "1.2",
        "creator": {"name": "portrait-mockserver", "version": __version__},
        "pages": [],
        "entries": [_har_entry(e, base_url) for e in entries],
    }}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _har_entry(entry: Entry, base_url: str) -> dict[str, Any]:
    headers = [{"name": k, "value": v} for k, v in entry.headers.items()]
    request_type = next((v for k, v in entry.headers.items() if k.lower() == "content-type"), "")
    request_text = _text(entry.body)
    response_text = _text(entry.response)
    url = base_url + entry.path + (f"?{entry.query}" if entry.query else "")
    request: dict[str, Any] = {
        "method": entry.method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": headers,
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(entry.query)],
        "headersSize": -1, "bodySize": len(request_text.encode()),
    }
    if entry.body is not None:
        request["postData"] = {"mimeType": request_type, "text": request_text}
    started = datetime.fromtimestamp(entry.time, timezone.utc).isoformat(timespec="milliseconds")
    wait = round(entry.duration_ms, 3)
    return {
        "startedDateTime": started.replace("+00:00", "Z"),
        "time": wait,
        "request": request,
        "response": _har_response(entry, response_text),
        "cache": {},
        "timings": {"send": 0, "wait": wait, "receive": 0},
        "comment": _comment(entry),
    }


def _har_response(entry: Entry, text: str) -> dict[str, Any]:
    if entry.status == 0:  # a dropped connection: HAR's convention for "no response"
        content = {"size": 0, "mimeType": "x-unknown", "text": ""}
        return {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1,
                "_error": "connection dropped (fault injection)"}
    mime = "application/json" if not (isinstance(entry.response, str)
                                      and entry.response.startswith("<")) else "application/octet-stream"
    try:
        reason = HTTPStatus(entry.status).phrase
    except ValueError:
        reason = ""
    return {
        "status": entry.status, "statusText": reason, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": [{"name": "Content-Type", "value": mime}],
        "content": {"size": len(text.encode()), "mimeType": mime, "text": text},
        "redirectURL": "", "headersSize": -1, "bodySize": len(text.encode()),
    }


def _comment(entry: Entry) -> str:
    parts = [f"{entry.vendor or '-'}.{entry.operation or '-'}"]
    if entry.injected:
        parts.append("injected")
    if "near_miss" in entry.note:
        parts.append(f"near miss: {entry.note['near_miss'].get('reason', '')}")
    return "; ".join(parts)


# --- near misses ---------------------------------------------------------------------------


def known_routes(emulator: Emulator, vendor: str | None = None) -> list[KnownRoute]:
    """Every documented operation (of one vendor, or all) as plain route data."""
    return [KnownRoute(provider.name, spec.operation, spec.method.upper(), spec.path,
                       dict(spec.required_headers))
            for provider in emulator.providers.values() if vendor in (None, provider.name)
            for spec in provider.operations()]


async def record_near_miss(emulator: Emulator, vendor: str | None, request: Request,
                           status: int, response: Any) -> None:
    """Journal a request that matched no route, naming the closest known route and why not."""
    body = await request.body()
    headers = dict(request.headers)
    account = emulator.claimed_account(headers, vendor)
    closest = closest_route(request.method, request.url.path, headers,
                            known_routes(emulator, vendor))
    emulator.journal.record(
        time=emulator.clock.now(), vendor=vendor, operation=None,
        account=emulator.auth.account_of(vendor or "", account),
        method=request.method, path=request.url.path, query=request.url.query, headers=headers,
        body=request_document(headers.get("content-type", ""), body) or _raw(body),
        status=status, response=response, note={"near_miss": closest or {}},
    )


def near_miss_filter(emulator: Emulator) -> ReplyFilter:
    """A reply filter for vendors that route every request through one dispatcher (one path,
    told apart by a header): a call whose operation is not a documented one is a near miss."""
    documented: dict[str, set[str]] = {}

    def note(call: Call, reply: Reply) -> Reply:
        if call.vendor not in documented:
            documented[call.vendor] = {r.operation for r in known_routes(emulator, call.vendor)}
        if call.operation not in documented[call.vendor] and "near_miss" not in call.note:
            request = call.request
            call.note["near_miss"] = closest_route(
                request.method, request.url.path, dict(request.headers),
                known_routes(emulator, call.vendor)) or {}
        return reply

    return note


def _raw(body: bytes) -> str | None:
    return body[:2048].decode("utf-8", "replace") if body else None


async def vendor_not_found(emulator: Emulator, provider_name: str, request: Request) -> Response:
    """A request under a vendor that reaches none of its operations: the vendor's own not-found
    answer, journaled as a near miss naming the closest documented route."""
    from ..core.errors import VendorError

    provider = emulator.providers[provider_name]
    reply = provider.error_reply(VendorError(provider.not_found_code), None)
    await record_near_miss(emulator, provider.name, request, reply.status, reply.body)
    return reply.to_response()
