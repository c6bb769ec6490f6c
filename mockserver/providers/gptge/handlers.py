"""One function per gpt.ge operation: auth -> limit -> parse -> validate -> act -> render."""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.input_checks import mark_pending
from ...core.tasks import Task, wait_for_end
from ...web import Call, Reply, bearer_account
from .models import MAX_IMAGE_BYTES, STATE_TIMEOUT, parse_form, pending_view, succeeded

if TYPE_CHECKING:
    from .provider import GptGe

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MISSING_KEY_MESSAGE = "Missing API key: send Authorization: Bearer <key>."
TIMEOUT_INFO = "Processing exceeded the {:g} s limit."


def _provider(call: Call) -> GptGe:
    return cast("GptGe", call.provider)  # this vendor's routes carry this provider


def authenticate(call: Call) -> str:
    return bearer_account(call, missing=_NO_KEY, invalid=_BAD_KEY)


_NO_KEY = partial(VendorError, "unauthorized", MISSING_KEY_MESSAGE)
_BAD_KEY = partial(VendorError, "unauthorized")


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
    provider = _provider(call)
    authenticate(call)
    provider.check_rate(call, "idphoto")
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
    task = call.runtime.engine.create(
        task_id=uuid4(), vendor=call.vendor, account=call.account or "", pool=provider.spec.pool,
        timing=timing, request=request_doc(fields, upload), data=mark_pending(job.to_data()),
        error=error,
    )
    call.task_id = task.id
    if succeeded(task) and upload is not None and job.image_url is None:
        provider.processing.keep_source(task.id, upload)  # until processed, for a restart
    provider.inputs.start(task)
    provider.schedule_callback(task)  # recorded before the answer: durable (issue 15 item 2)
    if not job.sync:
        return Reply(200, {"status": 200, "data": {"task_id": task.id}}, "gptge/create-response")
    return await task_reply(call, await wait_finished(call, task))


async def wait_finished(call: Call, task: Task) -> Task:
    """Block a sync=1 call until the task ends on the mock clock (an admin clock advance wakes
    it), giving up after `sync_timeout_seconds` of real time with whatever state it has then."""
    runtime = call.runtime
    found = await wait_for_end(runtime.clock, runtime.store, task.id, _provider(call).sync_timeout)
    return found or task


async def task_reply(call: Call, task: Task) -> Reply:
    """The `{status, data}` answer for `task` now: pending views need no processing, finished
    successful ones wait for it (it normally ended long before)."""
    provider = _provider(call)
    now = call.now
    if not task.state_at(now).terminal:
        suffix, data = pending_view(task, now)
        return Reply(200, {"status": 200, "data": data}, f"gptge/{suffix}")
    task = await provider.inputs.settled(task)  # processing may have failed it
    record = provider.processing.record(task.id) if succeeded(task) else None
    schema, data = provider.finished(task, record)
    return Reply(200, {"status": 200, "data": data}, schema)


async def query(call: Call) -> Reply:
    provider = _provider(call)
    authenticate(call)
    provider.check_rate(call, "query")
    task_id = call.request.path_params["task_id"]
    call.task_id = task_id
    task = provider.own_task(task_id, call.account)
    if task is None:
        raise VendorError("not_found")
    return await task_reply(call, task)
