"""HTTP glue shared by every provider: the per-request `Call`, the `Reply`, and the endpoint
wrapper that runs one vendor operation: interceptors -> handler -> render -> journal."""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .core import jsonfast
from .core.auth import KeyStatus
from .core.errors import VendorError
from .core.ids import uuid4

if TYPE_CHECKING:
    from .providers.base import Provider
    from .runtime import Emulator

log = logging.getLogger("mockserver")


@dataclass
class Reply:
    """What a handler answers. `schema` names the JSON Schema the body must satisfy."""

    status: int
    body: Any
    schema: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return jsonfast.dumps(self.body)

    def to_response(self) -> Response:
        return Response(self.encode(), self.status, self.headers, media_type=self.media_type)


@dataclass
class Call:
    """One request to one vendor operation, as the handler and the interceptors see it."""

    emulator: Emulator
    provider: Provider
    operation: str
    request: Request
    body: bytes
    request_id: str = field(default_factory=uuid4)
    account: str | None = None
    task_id: str | None = None
    injected: bool = False
    note: dict[str, Any] = field(default_factory=dict)

    @property
    def vendor(self) -> str:
        return self.provider.name

    @property
    def now(self) -> float:
        return self.emulator.clock.now()

    def json(self) -> Any:
        """The JSON body, or the vendor's bad-request error."""
        try:
            return jsonfast.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise VendorError(self.provider.bad_request_code, self.provider.bad_json_message)


def bearer_account(call: Call, *, missing: VendorError, invalid: VendorError,
                   refusals: Mapping[str, VendorError] | None = None) -> str:
    """Authenticate a bearer-key vendor: the key is the account. `refusals` maps keys that stand
    for states an emulator never reaches by itself (a used-up balance, ...) to their error."""
    check = call.emulator.auth.check(call.request.headers.get("authorization"))
    if check.status is KeyStatus.MISSING:
        raise missing
    if refusals and check.key in refusals:
        raise refusals[check.key]
    if check.status is not KeyStatus.OK or check.key is None:
        raise invalid
    call.account = check.key
    return check.key


Handler = Callable[[Call], Awaitable[Reply]]
Interceptor = Callable[[Call], Awaitable[Reply | None]]
ReplyFilter = Callable[[Call, Reply], Reply]


def vendor_route(
    provider: Provider, path: str, operation: str, handler: Handler, methods: list[str]
) -> Route:
    async def endpoint(request: Request) -> Response:
        return await run_operation(provider, operation, handler, request)

    return Route(path, endpoint, methods=methods, name=f"{provider.name}.{operation}")


async def run_operation(
    provider: Provider, operation: str, handler: Handler, request: Request
) -> Response:
    emulator = provider.emulator
    started = time.perf_counter()
    call = Call(emulator, provider, operation, request, await request.body())
    reply = await _answer(call, handler)
    for reply_filter in emulator.reply_filters:
        reply = reply_filter(call, reply)
    response = reply.to_response()
    emulator.check_reply(call, reply)
    emulator.journal.record(
        time=call.now, vendor=call.vendor, operation=call.operation, account=call.account,
        method=request.method, path=request.scope["path"],
        query=request.scope["query_string"].decode("latin-1"),
        headers=dict(request.headers), body=_loggable(call.body), status=reply.status,
        response=reply.body if not isinstance(reply.body, bytes) else f"<{len(reply.body)} bytes>",
        task_id=call.task_id, injected=call.injected,
        duration_ms=(time.perf_counter() - started) * 1000, note=call.note,
    )
    return response


async def _answer(call: Call, handler: Handler) -> Reply:
    try:
        for intercept in call.emulator.interceptors:
            injected = await intercept(call)
            if injected is not None:
                return injected
        return await handler(call)
    except VendorError as error:
        if error.detail:
            call.note.setdefault("error_detail", error.detail)
        return call.provider.error_reply(error, call)
    except Exception:  # a bug must still look like the vendor's internal error, never a traceback
        log.exception("unhandled error in %s.%s", call.vendor, call.operation)
        return call.provider.error_reply(VendorError(call.provider.internal_error_code), call)


def _loggable(body: bytes) -> Any:
    if not body:
        return None
    try:
        return jsonfast.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:2048].decode("utf-8", "replace")
