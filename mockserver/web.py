"""HTTP glue shared by every provider: the per-request `Call`, the `Reply`, and the `Pipeline`
that runs one vendor operation: interceptors -> handler -> reply filters -> schema check ->
journal. Routes are built from the vendor's operations file and its handler table. A reply may
also be streamed, part by part (`Part`): each part is schema-checked as it is sent, and the
journal records the call, with its last part, once the stream ends."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from .core import jsonfast
from .core.auth import KeyStatus
from .core.errors import VendorError
from .core.ids import uuid4
from .core.limits import BadJSON, BodyTooLarge, ClientGone, read_body, strict_loads
from .core.operations import OperationSpec
from .core.runtime import Runtime

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

log = logging.getLogger("mockserver")


@dataclass(frozen=True)
class Part:
    """One piece of a streamed reply: the bytes sent, and the document they encode (what the
    schema check and the journal see). The vendor's code frames it (an NDJSON line, ...)."""

    data: bytes
    body: Any
    schema: str | None = None


@dataclass
class Reply:
    """What a handler answers. `schema` names the JSON Schema the body must satisfy. A body
    that is an async iterator of `Part`s is streamed (status and headers go first)."""

    status: int
    body: Any
    schema: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, AsyncIterator)

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return jsonfast.dumps(self.body)

    def to_response(self, data: bytes | None = None) -> Response:
        """The response; `data` is the body already encoded, if it is. (No headers is passed
        as None: Starlette then skips its scan of them, on every answer that has none.)"""
        return Response(self.encode() if data is None else data, self.status,
                        self.headers or None, media_type=self.media_type)


class Vendor(Protocol):
    """What the HTTP layer needs from a provider (`providers.base.Provider` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def bad_request_code(self) -> str: ...
    @property
    def bad_json_message(self) -> str | None: ...
    @property
    def internal_error_code(self) -> str: ...
    @property
    def max_body_bytes(self) -> int: ...

    def body_too_large(self) -> VendorError: ...
    def error_reply(self, error: VendorError, call: Call | None) -> Reply: ...
    def request_error(self, call: Call, errors: list[ValidationError]) -> VendorError: ...


@dataclass(slots=True)
class Call:
    """One request to one vendor operation, as the handler and the interceptors see it."""

    runtime: Runtime
    provider: Vendor
    operation: str
    request: Request
    body: bytes
    request_id: str = field(default_factory=uuid4)
    account: str | None = None
    api_key: str | None = None  # the bearer key that authenticated `account`, if any
    task_id: str | None = None
    injected: bool = False
    note: dict[str, Any] = field(default_factory=dict)
    parsed: Any = field(default=None, repr=False)  # the body as `json()` read it, once it did

    @property
    def vendor(self) -> str:
        return self.provider.name

    @property
    def now(self) -> float:
        return self.runtime.clock.now()

    def json(self) -> Any:
        """The JSON body, or the vendor's bad-request error (also for nesting deeper than
        `core.limits.MAX_DEPTH` and for numbers that are not finite)."""
        if self.parsed is not None:
            return self.parsed
        try:
            self.parsed = strict_loads(self.body)
            return self.parsed
        except BadJSON as bad:
            raise VendorError(self.provider.bad_request_code, self.provider.bad_json_message,
                              detail=str(bad)) from None

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object, or the vendor's bad-request error."""
        body = self.json()
        if not isinstance(body, dict):
            raise VendorError(self.provider.bad_request_code, detail="the body is not an object")
        return body

    def validate(self, schema: str, document: Any) -> None:
        """The one request check: `document` against its JSON Schema; a failure becomes the
        vendor's own bad-request error (`Provider.request_error`)."""
        schemas = self.runtime.schemas
        if schemas.is_valid(schema, document):
            return
        raise self.provider.request_error(self, list(schemas.errors(schema, document)))


def bearer_account(call: Call, *, missing: Callable[[], VendorError],
                   invalid: Callable[[], VendorError],
                   refusal: Callable[[str], VendorError | None] | None = None) -> str:
    """Authenticate a bearer-key vendor: the key's account (`[vendors.<name>.accounts]`, else the
    key itself). `missing` and `invalid` make the vendor's error (only when it is raised: most
    requests pass); `refusal` gives the error of a key that stands for a state an emulator never
    reaches by itself (a used-up balance, ...), or None."""
    check = call.runtime.auth.check(call.request.headers.get("authorization"), call.vendor)
    if check.status is KeyStatus.MISSING:
        raise missing()
    if refusal is not None and check.key is not None:
        refused = refusal(check.key)
        if refused is not None:
            raise refused
    if check.status is not KeyStatus.OK or check.key is None or check.account is None:
        raise invalid()
    call.account, call.api_key = check.account, check.key
    return check.account


Handler = Callable[[Call], Awaitable[Reply]]
Interceptor = Callable[[Call], Awaitable["Reply | None"]]
ReplyFilter = Callable[[Call, Reply], Reply]


class Pipeline:
    """The extension points around every vendor handler. Features add to them: fault
    injection intercepts, the journal notes near misses, the contract kit's mutants filter."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.interceptors: list[Interceptor] = []
        self.reply_filters: list[ReplyFilter] = []
        # Only a store that shares one commit per loop turn has it (core/sqlite_turns.py).
        self._pending_commit: Callable[[], Awaitable[None] | None] | None = getattr(
            runtime.store, "pending_commit", None)

    async def run(self, provider: Vendor, operation: str, handler: Handler,
                  request: Request) -> Response:
        started = time.perf_counter()
        call = Call(self.runtime, provider, operation, request, b"")
        try:
            call.body = await read_request_body(request, provider.max_body_bytes)
        except ClientGone:  # nobody is left to answer: one line, no traceback
            log.info("%s.%s: the client disconnected before sending its body",
                     provider.name, operation)
            return Response(status_code=400)
        except BodyTooLarge as big:
            call.note["body_too_large"] = {"limit": big.limit, "read": big.received}
            reply = provider.error_reply(provider.body_too_large(), call)
        else:
            reply = await self._answer(call, handler)
        for reply_filter in self.reply_filters:
            reply = reply_filter(call, reply)
        if self._pending_commit is not None:
            reply = await self._committed(call, reply)
        if reply.streamed:
            return StreamingResponse(self._relay(call, reply, started), reply.status,
                                     reply.headers, media_type=reply.media_type)
        data = reply.encode()
        response = reply.to_response(data)
        self._check_reply(call, reply)
        if isinstance(reply.body, bytes):  # an image or a file: its size, not its bytes
            self._journal(call, reply.status, f"<{len(reply.body)} bytes>", started)
        elif reply.media_type == "application/json":  # the JSON as sent, not encoded again
            self._journal(call, reply.status, None, started, response_json=data)
        else:
            self._journal(call, reply.status, reply.body, started)
        return response

    def _journal(self, call: Call, status: int, response: Any, started: float,
                 response_json: bytes | None = None) -> None:
        scope = call.request.scope
        self.runtime.journal.add({
            "time": call.now, "vendor": call.vendor, "operation": call.operation,
            "account": call.account, "method": scope["method"], "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"), "headers": scope["headers"],
            "body": call.parsed if call.parsed is not None else _loggable(call.body),
            "status": status, "response": response, "task_id": call.task_id,
            "injected": call.injected, "duration_ms": (time.perf_counter() - started) * 1000,
            "note": call.note}, response_json)

    async def _relay(self, call: Call, reply: Reply, started: float) -> AsyncIterator[bytes]:
        """Send a streamed reply part by part. Each part is schema-checked as it goes; once the
        stream ends (or the client leaves) the journal records the call with its last part."""
        last: Part | None = None
        parts: AsyncIterator[Part] = reply.body
        try:
            async for part in parts:
                self._check_reply(call, Reply(reply.status, part.body, part.schema))
                last = part
                call.note["stream_parts"] = call.note.get("stream_parts", 0) + 1
                yield part.data
        except Exception:  # headers are sent: the stream can only end early, never a traceback
            log.exception("unhandled error in the stream of %s.%s", call.vendor, call.operation)
            call.note["stream_error"] = True
        finally:
            self._journal(call, reply.status, None if last is None else last.body, started)

    async def _answer(self, call: Call, handler: Handler) -> Reply:
        try:
            for intercept in self.interceptors:
                injected = await intercept(call)
                if injected is not None:
                    return injected
            return await handler(call)
        except VendorError as error:
            if error.detail:
                call.note.setdefault("error_detail", error.detail)
            call.note["error_code"] = error.code
            return call.provider.error_reply(error, call)
        except Exception:  # a bug must still look like the vendor's internal error, never a traceback
            log.exception("unhandled error in %s.%s", call.vendor, call.operation)
            call.note["error_code"] = call.provider.internal_error_code
            return call.provider.error_reply(VendorError(call.provider.internal_error_code), call)

    async def _committed(self, call: Call, reply: Reply) -> Reply:
        """`reply` once the writes it acknowledges are committed; if that commit failed, the
        vendor's internal error (nothing it acknowledged was kept)."""
        assert self._pending_commit is not None
        try:
            await wait_for_commit(self._pending_commit)
        except Exception:  # logged once by the store, for every answer of the turn
            call.note["error_code"] = call.provider.internal_error_code
            return call.provider.error_reply(VendorError(call.provider.internal_error_code), call)
        call.request.scope[COMMITTED] = True  # routing.MockApp need not wait for a later turn
        return reply

    def _check_reply(self, call: Call, reply: Reply) -> None:
        """With `validate_responses`, every JSON answer is checked against its declared schema."""
        runtime = self.runtime
        if not runtime.settings.validate_responses or isinstance(reply.body, bytes):
            return
        problem: str | None = None
        if reply.schema is None:
            problem = "reply declares no schema"
        else:
            error = runtime.schemas.first_error(reply.schema, reply.body)
            problem = None if error is None else f"{error.json_path}: {error.message}"
        if problem:
            violation = {"vendor": call.vendor, "operation": call.operation,
                         "schema": reply.schema, "problem": problem, "body": reply.body}
            log.error("schema violation: %s", violation)
            runtime.schema_violations.append(violation)

    def route(self, provider: Vendor, path: str, operation: str, handler: Handler,
              methods: Iterable[str]) -> Route:
        endpoint = VendorEndpoint(self, provider, operation, handler)
        return Route(path, endpoint, methods=list(methods), name=f"{provider.name}.{operation}")

    def routes(self, provider: Vendor, operations: Iterable[OperationSpec],
               handlers: Mapping[str, Handler]) -> list[BaseRoute]:
        """One route per documented operation, bound to the handler of the same name. A
        documented operation without a handler, or a handler for no operation, is a start-up
        error: the operations file and the code must agree."""
        specs = {spec.operation: spec for spec in operations}
        missing = sorted(set(specs) - set(handlers))
        extra = sorted(set(handlers) - set(specs))
        if missing or extra:
            raise ValueError(f"{provider.name}: operations without a handler {missing}, "
                             f"handlers without an operation {extra}")
        return [self.route(provider, path, name, handlers[name], [spec.method])
                for name, spec in specs.items() for path in (spec.path, *spec.extra_paths)]


class VendorEndpoint:
    """The ASGI app of one vendor route. Being an app, not a function, Starlette calls it
    directly, without its request/response wrapper and the exception handling that wrapper
    adds per request: the pipeline turns every handler exception into the vendor's answer."""

    __slots__ = ("pipeline", "provider", "operation", "handler")

    def __init__(self, pipeline: Pipeline, provider: Vendor, operation: str,
                 handler: Handler) -> None:
        self.pipeline, self.provider = pipeline, provider
        self.operation, self.handler = operation, handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        response = await self.pipeline.run(self.provider, self.operation, self.handler, request)
        await response(scope, receive, send)


async def wait_for_commit(pending_commit: Callable[[], Awaitable[None] | None]) -> None:
    """Return once the writes made so far are committed; raises what a failed commit raised."""
    pending = pending_commit()
    if pending is not None:
        await asyncio.shield(pending)  # a client that leaves must not cancel everyone's wait


_BODY_ERROR = "mockserver.body_error"  # scope key: why reading the body stopped
COMMITTED = "mockserver.committed"  # scope key: the writes this answer acknowledges are kept


async def read_request_body(request: Request, cap: int) -> bytes:
    """The body, read at most `cap` bytes far (`core.limits.read_body`), then kept where
    Starlette's `request.body()` and `request.form()` find it. BodyTooLarge past the cap (and
    again on every later call: the stream was abandoned), ClientGone for a disconnect."""
    failed: Exception | None = request.scope.get(_BODY_ERROR)
    if failed is not None:
        raise failed
    cached: bytes | None = getattr(request, "_body", None)
    if cached is not None:
        if len(cached) > cap:
            raise BodyTooLarge(cap, len(cached))
        return cached
    try:
        body = await read_body(request.receive, cap, request.headers.get("content-length"))
    except (BodyTooLarge, ClientGone) as error:
        request.scope[_BODY_ERROR] = error
        raise
    request._body = body  # Starlette's own cache of the body (Request.body() sets it too)
    return body


def _loggable(body: bytes) -> Any:
    """The body as the journal keeps it: parsed when it is JSON any door accepts, else the
    start of its text (a body too deep or not finite would break every journal listing)."""
    if not body:
        return None
    try:
        return strict_loads(body)
    except BadJSON:
        return body[:2048].decode("utf-8", "replace")
