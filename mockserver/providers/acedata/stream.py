"""`accept: application/x-ndjson` on generate (vendors-2026-12.md AD-1).

The vendor's web app sent that header on every generate call (Nexior `headshots.ts`,
`baseTaskOperator.ts` GENERATE_HEADERS), so the real API answered it. What the answer holds is
not documented for headshots. The platform's other NDJSON streams, as the same web app read them
(Nexior's midjourney, chat and chatdoc operators, 2023-2025), are lines ended by CRLF, each a
complete JSON snapshot of the answer so far, and the last line is the answer. The mock follows
that:

- an asynchronous call (`async: true` or a `callback_url`): one line, the usual `{task_id,
  trace_id}`;
- a blocking call: a progress line at once and then every `stream_interval_seconds` of real
  time while the task runs, and, when it ends on the emulated clock, one last line that is
  exactly the blocking JSON answer, or the error body the blocking call would have answered
  (`api_error` "fetch failed", `timeout` after `sync_timeout_seconds`). The HTTP status is 200:
  it is sent before the outcome is known.

The progress lines' fields (the seed's no-result shape plus `trace_id` and a 0-99 `progress`)
are INFERRED. Refusals before a task exists (auth, body, rate, moderation) stay JSON errors with
their own status.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ...core import jsonfast
from ...core.errors import VendorError
from ...core.tasks import Task, wait_for_end
from ...web import Call, Part, Reply
from .models import final_body, progress_body, task_error

if TYPE_CHECKING:
    from .provider import AceData

MEDIA_TYPE = "application/x-ndjson"
LINE_END = b"\r\n"  # what the vendor's web app split the platform's NDJSON streams on


def wants_stream(call: Call) -> bool:
    return MEDIA_TYPE in call.request.headers.get("accept", "").lower()


def line(body: Any, schema: str | None) -> Part:
    return Part(jsonfast.dumps(body) + LINE_END, body, schema)


def one_line(reply: Reply) -> Reply:
    """`reply` as an NDJSON answer of one line."""
    return Reply(reply.status, _parts(line(reply.body, reply.schema)), None, media_type=MEDIA_TYPE)


def blocking(call: Call, provider: AceData, task: Task) -> Reply:
    """The streamed answer of a blocking generate call for `task` (just accepted)."""
    return Reply(200, _progress_then_result(call, provider, task), None, media_type=MEDIA_TYPE)


async def _parts(*parts: Part) -> AsyncIterator[Part]:
    for part in parts:
        yield part


async def _progress_then_result(call: Call, provider: AceData, task: Task) -> AsyncIterator[Part]:
    """Progress lines until the task ends or the blocking budget runs out, then the result.
    Each step is the one blocking wait (`wait_for_end`), bounded by the line interval."""
    runtime = call.runtime
    loop = asyncio.get_running_loop()
    give_up = loop.time() + provider.sync_timeout
    interval = provider.options.number("stream_interval_seconds")
    current: Task | None = task
    while current is not None and not current.state_at(call.now).terminal:
        yield line(progress_body(current, call.now), "acedata/generate-progress")
        budget = give_up - loop.time()
        if budget <= 0:
            break
        current = await wait_for_end(runtime.clock, runtime.store, task.id, min(interval, budget))
    yield _result(call, provider, current)


def _result(call: Call, provider: AceData, task: Task | None) -> Part:
    """The last line: the blocking call's own answer, or its error body."""
    if task is None:  # the emulator was reset while the caller waited
        return _error_line(call, provider, VendorError("api_error"))
    if not task.state_at(call.now).terminal:
        return _error_line(call, provider, VendorError("timeout"))
    body = final_body(task, provider.image_url(task))
    if body["success"]:
        return line(body, "acedata/generate-response")
    code, message = task_error(task)
    return _error_line(call, provider, VendorError(code, message))


def _error_line(call: Call, provider: AceData, error: VendorError) -> Part:
    reply = provider.error_reply(error, call)
    call.note.setdefault("stream_error_status", reply.status)
    return line(reply.body, reply.schema or "acedata/error")
