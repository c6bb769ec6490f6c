"""One function per gpt.ge operation: auth -> limit -> parse -> validate -> act -> render."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.tasks import Task
from ...limits import check_rate
from ...web import Call, Reply, bearer_account
from .models import MAX_IMAGE_BYTES, STATE_TIMEOUT, parse_form, pending_view, succeeded

if TYPE_CHECKING:
    from . import GptGe

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MISSING_KEY_MESSAGE = "Missing API key: send Authorization: Bearer <key>."
TIMEOUT_INFO = "Processing exceeded the {:g} s limit."


def authenticate(call: Call) -> str:
    return bearer_account(call, missing=VendorError("unauthorized", MISSING_KEY_MESSAGE),
                          invalid=VendorError("unauthorized"))


async def read_form(call: Call) -> tuple[dict[str, str], bytes | None]:
    """(text fields, bytes of the image_file part or None). The upload is read only up to one
    byte past the 15 MB cap: enough to refuse it."""
    if not call.body.strip():  # an empty body is an empty form: the image is missing
        return {}, None
    media = call.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in FORM_TYPES:
        raise VendorError("invalid_content_type")
    fields: dict[str, str] = {}
    upload: bytes | None = None
    try:
        async with call.request.form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read(MAX_IMAGE_BYTES + 1)
                    if key == "image_file":
                        upload = data
                    else:  # a text field sent as a file part: use its text
                        fields[key] = data.decode("utf-8", "replace")
                elif key == "image_file":
                    upload = value.encode()
                else:
                    fields[key] = value
    except (HTTPException, MultiPartException, ValueError, KeyError, UnicodeError):
        raise VendorError("bad_request", "The form body could not be parsed.") from None
    return fields, upload


def request_doc(fields: dict[str, str], upload: bytes | None) -> dict[str, Any]:
    """The request as the journal, the task record and the request schema see it."""
    doc: dict[str, Any] = dict(fields)
    if upload is not None:
        doc["image_file"] = f"<{len(upload)} bytes>" if upload else ""
    return doc


async def create(call: Call) -> Reply:
    provider: GptGe = call.provider  # type: ignore[assignment]
    authenticate(call)
    check_rate(call, "idphoto", 2, "too_many_requests")
    fields, upload = await read_form(call)
    try:
        job = parse_form(fields, None if upload is None else len(upload))
    except VendorError:
        call.note["form"] = request_doc(fields, upload)
        raise
    timing, error = provider.timing(), None
    if timing.run_seconds > provider.processing_timeout:  # the run is cut off at the limit
        timing = replace(timing, run_seconds=provider.processing_timeout)
        error = (str(STATE_TIMEOUT), TIMEOUT_INFO.format(provider.processing_timeout))
    task = call.emulator.engine.create(
        task_id=uuid4(), vendor=call.vendor, account=call.account or "", pool="idphoto",
        timing=timing, request=request_doc(fields, upload), data=job.to_data(), error=error,
    )
    call.task_id = task.id
    if succeeded(task):
        source = upload if job.image_url is None else None
        if source is not None:
            provider.processing.keep_source(task.id, source)
        provider.processing.start(task, source)
    provider.schedule_callback(task)  # recorded before the answer: durable (issue 15 item 2)
    if not job.sync:
        return Reply(200, {"status": 200, "data": {"task_id": task.id}}, "gptge/create-response")
    return await task_reply(call, await wait_finished(call, task))


async def wait_finished(call: Call, task: Task) -> Task:
    """Block a sync=1 call until the task ends on the mock clock (an admin clock advance wakes
    it), giving up after `sync_wait_seconds` of real time with whatever state it has then."""
    provider: GptGe = call.provider  # type: ignore[assignment]
    clock, store = call.emulator.clock, call.emulator.store
    loop = asyncio.get_running_loop()
    give_up = loop.time() + float(provider.option("sync_wait_seconds", 300.0))  # type: ignore[arg-type]
    while not task.state_at(clock.now()).terminal:
        budget = give_up - loop.time()
        if budget <= 0:
            break
        # A stalled task has no end yet: look again after a mock second (or an advance).
        target = task.end_at if task.end_at is not None else clock.now() + 1.0
        await clock.sleep_until(target, real_limit=budget)
        task = store.get_task(task.id) or task
    return task


async def task_reply(call: Call, task: Task) -> Reply:
    """The `{status, data}` answer for `task` now: pending views need no processing, finished
    successful ones wait for it (it normally ended long before)."""
    provider: GptGe = call.provider  # type: ignore[assignment]
    now = call.now
    if not task.state_at(now).terminal:
        suffix, data = pending_view(task, now)
        return Reply(200, {"status": 200, "data": data}, f"gptge/{suffix}")
    record = None
    if succeeded(task):
        record = await provider.processing.result(task)
        task = call.emulator.store.get_task(task.id) or task  # processing may have failed it
    schema, data = provider.finished(task, record)
    return Reply(200, {"status": 200, "data": data}, schema)


async def query(call: Call) -> Reply:
    provider: GptGe = call.provider  # type: ignore[assignment]
    authenticate(call)
    check_rate(call, "query", 20, "too_many_requests")
    task_id = call.request.path_params["task_id"]
    call.task_id = task_id
    task = provider.own_task(task_id, call.account)
    if task is None:
        raise VendorError("not_found")
    return await task_reply(call, task)
