"""The access log: one line per request at INFO on the `mockserver.access` logger.

Each line has the method, the path (never the query string, which may carry a signature), the
status, the duration, the vendor operation (`<vendor>.query_task`, `-` for the admin API and
result files), the task id where the call has one, and the account masked the way the journal
masks keys (`sk-a***`). Nothing else of the request is logged, so no secret can be.

Two parts: the `access_log` feature stamps each vendor call onto its ASGI scope (the first
interceptor of the pipeline, so an injected answer carries its operation too), and the
`AccessLog` middleware around the whole app times every request and writes the line. A
connection dropped by a `drop` fault is one line with status `dropped`; uvicorn's report of
the same exception is then left out (`quiet_log`), so no traceback reaches the log.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.journal import mask_secret
from ..emulator import Emulator
from ..web import Call, Reply
from .faults import ConnectionDropped

log = logging.getLogger("mockserver.access")
CALL_KEY = "mockserver.call"


def access_log(emulator: Emulator) -> list[BaseRoute]:
    """Feature: make each vendor call visible to the access-log middleware (none under
    `--quiet`: nobody would take the call off the scope again)."""
    if not emulator.settings.access_log:
        return []

    async def stamp(call: Call) -> Reply | None:
        call.request.scope[CALL_KEY] = call
        return None

    emulator.pipeline.interceptors.insert(0, stamp)
    return []


Sink = Callable[[str, Mapping[str, Any]], None]  # (message, {"access": fields})


def through_logging(message: str, extra: Mapping[str, Any]) -> None:
    """The default sink: a record on the `mockserver.access` logger. makeRecord + handle is
    log.info() without the caller lookup, which no format prints."""
    if log.isEnabledFor(logging.INFO):
        log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, message, (), None,
                                  extra=extra))


class AccessLog:
    """ASGI middleware writing one access-log line per HTTP request to `sink`: by default
    through the logging module; `mockserver serve` gives `logs.LineSink`, which writes the
    same line in the same format without a log record (the cost of a record per request is
    measured by bench/bench_access_log.py)."""

    def __init__(self, app: ASGIApp, sink: Sink = through_logging) -> None:
        self.app = app
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | str = 500  # what the server answers if the app fails before answering

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ConnectionDropped as drop:
            drop.logged = True
            write_line(self.sink, scope, "dropped", started, str(drop))
            raise
        except BaseException:
            write_line(self.sink, scope, status, started)
            raise
        else:
            write_line(self.sink, scope, status, started)
        finally:
            # The call holds the request, which holds this scope: left in place, every request
            # would be a reference cycle only the collector frees (pauses of 15-60 ms under load).
            scope.pop(CALL_KEY, None)


def write_line(sink: Sink, scope: Scope, status: int | str, started: float,
               note: str = "") -> None:
    duration_ms = (time.perf_counter() - started) * 1000
    call: Call | None = scope.get(CALL_KEY)
    operation = f"{call.vendor}.{call.operation}" if call is not None else "-"
    task_id = call.task_id if call is not None else None
    account = mask_secret(call.account) if call is not None and call.account else None
    # The fields only a structured (JSON) line prints; the text line has them in its words.
    fields: dict[str, Any] = {
        "method": scope["method"], "path": scope["path"], "status": status,
        "duration_ms": round(duration_ms, 2), "operation": operation,
        "task_id": task_id, "account": account} if getattr(sink, "structured", True) else {}
    text = f"{scope['method']} {scope['path']} {status} {duration_ms:.1f}ms {operation}"
    if task_id:
        text += f" task={task_id}"
    if account:
        text += f" account={account}"
    if note:
        text += f" ({note})"
    sink(text, {"access": fields})
