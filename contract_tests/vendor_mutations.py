"""The vendor-specific mutants (see `mutations.py` for the mechanism and the generic ones):
renamed and missing fields, wrong types, other state words, backward transitions, results
while running, unknown ids answering differently, lenient validation, unchecked signatures,
leaks on one read path only, cancels that do nothing, states never shown, wrong callbacks."""
from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import VendorError
from mockserver.providers.acedata.stream import line, wants_stream
from mockserver.web import Part, Reply

from .mutations import (
    Edit,
    Predicate,
    _random_id,
    body_field,
    drop,
    during,
    edit_body,
    error,
    fake_acceptance,
    flap_after,
    get_path,
    is_error,
    leak_foreign,
    media_type,
    never_ends,
    never_running,
    on_callback,
    on_replies,
    on_task_view,
    register,
    rename,
    replace_value,
    resume_canceled,
    success,
)

if TYPE_CHECKING:
    from mockserver.core.tasks import Task
    from mockserver.emulator import Emulator
    from mockserver.web import Call

# --- DashScope ------------------------------------------------------------------------------

def _dashscope_running(body: Any) -> Any:
    output = body["output"]
    keep = {k: output[k] for k in ("task_id", "submit_time", "scheduled_time") if k in output}
    return {"request_id": body["request_id"],
            "output": {**keep, "task_status": "RUNNING",
                       "task_metrics": {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 0}}}


def _dashscope_accepted(call: Call) -> dict[str, Any]:
    return {"output": {"task_id": str(uuid.uuid4()), "task_status": "PENDING"},
            "request_id": call.request_id}


def _dashscope_status(word: str) -> Predicate:
    return lambda call, reply: get_path(reply.body, "output.task_status") == word


DS = "dashscope"
register("dashscope.task-id-renamed", DS, "submit answers output.taskId instead of output.task_id",
         on_replies(DS, success(["gen_potrait"]), edit_body(rename("output.task_id", "taskId"))))
register("dashscope.request-id-missing", DS, "submit answers lose the required request_id",
         on_replies(DS, success(["gen_potrait"]), edit_body(drop("request_id"))))
register("dashscope.metrics-wrong-type", DS, "RUNNING task_metrics.TOTAL becomes a string",
         on_replies(DS, _dashscope_status("RUNNING"),
                    edit_body(replace_value("output.task_metrics.TOTAL", str))))
register("dashscope.status-word-changed", DS, "SUCCEEDED is reported as SUCCESS",
         on_replies(DS, _dashscope_status("SUCCEEDED"),
                    edit_body(replace_value("output.task_status", lambda s: "SUCCESS"))))
register("dashscope.time-format-changed", DS, "submit_time switches to ISO 8601 with a T",
         on_replies(DS, success(["query_task"]),
                    edit_body(replace_value("output.submit_time", lambda t: t.replace(" ", "T")))))
register("dashscope.results-while-running", DS, "RUNNING tasks already list result URLs",
         on_replies(DS, _dashscope_status("RUNNING"), edit_body(
             replace_value("output", lambda o: {**o, "results": [{"url": "http://x/0.jpg"}]}))))
register("dashscope.unknown-task-404", DS, "unknown task ids answer 404 NotFound, not UNKNOWN",
         on_replies(DS, _dashscope_status("UNKNOWN"), lambda call, reply: Reply(
             404, {"code": "NotFound", "message": "Not found!", "request_id": call.request_id},
             "dashscope/error")))
register("dashscope.cancel-running-accepted", DS,
         "cancel of a task that is no longer PENDING is acknowledged (and ignored)",
         on_replies(DS, lambda call, reply: call.operation == "cancel_task" and get_path(
             reply.body, "code") == "UnsupportedOperation",
                    lambda call, reply: Reply(200, {"request_id": call.request_id},
                                              "dashscope/cancel-response")))
register("dashscope.canceled-resumes", DS, "a CANCELED task later runs after all",
         on_task_view(DS, resume_canceled))
register("dashscope.succeeded-flaps-back", DS, "a SUCCEEDED task is reported RUNNING again",
         on_replies(DS, success(["query_task"]),
                    flap_after("SUCCEEDED", "output.task_status", _dashscope_running)))
register("dashscope.lenient-validation", DS, "invalid parameters are accepted as a task",
         on_replies(DS, error(["InvalidParameter"], "code"),
                    fake_acceptance(_dashscope_accepted, "dashscope/submit-response")))
register("dashscope.async-header-optional", DS, "submit without X-DashScope-Async is accepted",
         on_replies(DS, error(["AccessDenied"], "code"),
                    fake_acceptance(_dashscope_accepted, "dashscope/submit-response")))
register("dashscope.failed-usage-renamed", DS,
         "FAILED tasks report usage.image_total, neither image_count nor image_num",
         on_replies(DS, _dashscope_status("FAILED"),
                    edit_body(rename("usage.image_count", "image_total"))))
register("dashscope.auth-code-changed", DS, "a bad API key answers 403 AccessDenied",
         on_replies(DS, error(["InvalidApiKey"], "code"), lambda call, reply: dataclasses.replace(
             reply, status=403, body={**reply.body, "code": "AccessDenied"})))


# --- Tencent --------------------------------------------------------------------------------

TC = "tencent"


def _tencent_error(code: str) -> Predicate:
    return lambda call, reply: get_path(reply.body, "Response.Error.Code") == code


def _tencent_done(call: Call, reply: Reply) -> bool:
    return get_path(reply.body, "Response.JobStatusCode") == "5"


register("tencent.status-code-int", TC, "JobStatusCode becomes a number instead of a string",
         on_replies(TC, success(["QueryGlamPicJob"]),
                    edit_body(replace_value("Response.JobStatusCode", int))))
register("tencent.content-type-charset", TC,
         "answers say application/json; charset=utf-8 (the SDK then ignores errors)",
         on_replies(TC, lambda call, reply: True, media_type("application/json; charset=utf-8")))
register("tencent.request-id-renamed", TC, "RequestId is spelled RequestID in success answers",
         on_replies(TC, success(), edit_body(rename("Response.RequestId", "RequestID"))))
register("tencent.job-not-exist-renamed", TC, "unknown jobs answer ResourceNotFound",
         on_replies(TC, _tencent_error("FailedOperation.JobNotExist"), edit_body(replace_value(
             "Response.Error.Code", lambda c: "ResourceNotFound"))))
register("tencent.signature-not-checked", TC, "a forged signature is answered as a valid request",
         on_replies(TC, _tencent_error("AuthFailure.SignatureFailure"), edit_body(replace_value(
             "Response.Error.Code", lambda c: "FailedOperation.JobNotExist"))))
register("tencent.failed-without-error", TC, "failed jobs leave JobErrorCode empty",
         on_replies(TC, lambda call, reply: get_path(reply.body, "Response.JobStatusCode") == "4",
                    edit_body(replace_value("Response.JobErrorCode", lambda c: ""))))
register("tencent.done-without-results", TC, "finished jobs list no result images",
         on_replies(TC, _tencent_done, edit_body(replace_value("Response.ResultImage",
                                                               lambda r: []))))

# --- AceData --------------------------------------------------------------------------------

AD = "acedata"
register("acedata.trace-id-missing", AD, "async generate answers lose trace_id",
         on_replies(AD, success(["generate"]), edit_body(drop("trace_id"))))
register("acedata.created-at-string", AD, "task records give created_at as a string",
         on_replies(AD, success(["tasks"]), edit_body(replace_value("created_at", str))))
register("acedata.unknown-task-empty-200", AD, "unknown task ids answer 200 with an empty record",
         on_replies(AD, error(["not_found"], "error.code"),
                    lambda call, reply: Reply(200, {}, "acedata/task-queued")))
register("acedata.photo-url-renamed", AD, "finished photos carry url instead of image_url",
         on_replies(AD, success(["tasks"]), edit_body(
             lambda body: _rename_in_list(body, "response.data", "image_url", "url"))))
register("acedata.callback-wrong-task", AD, "callbacks name another task id",
         on_callback(AD, replace_value("task_id", _random_id)))


def _ndjson_refused(emulator: Emulator) -> None:
    def reply_filter(call: Call, reply: Reply) -> Reply:
        if call.vendor == AD and wants_stream(call) and reply.status == 200:
            return call.provider.error_reply(VendorError("api_not_implemented"), call)
        return reply
    emulator.pipeline.reply_filters.append(reply_filter)


async def _last_part_edited(parts: AsyncIterator[Part], edit: Edit) -> AsyncIterator[Part]:
    previous: Part | None = None
    async for part in parts:
        if previous is not None:
            yield previous
        previous = part
    if previous is not None:
        yield line(edit(copy.deepcopy(previous.body)), previous.schema)


def _stream_last_line(edit: Edit) -> Callable[[Emulator], None]:
    def reply_filter(call: Call, reply: Reply) -> Reply:
        if call.vendor != AD or not reply.streamed:
            return reply
        return dataclasses.replace(reply, body=_last_part_edited(reply.body, edit))

    def install(emulator: Emulator) -> None:
        emulator.pipeline.reply_filters.append(reply_filter)
    return install


register("acedata.ndjson-refused", AD, "accept: application/x-ndjson on generate is refused "
         "(400 api_not_implemented), as the mock once did", _ndjson_refused)
register("acedata.stream-last-line-differs", AD, "the last NDJSON line of a blocking generate is "
         "not the blocking answer (its success flag is gone)", _stream_last_line(drop("success")))

# --- gpt.ge ---------------------------------------------------------------------------------

GG = "gptge"
register("gptge.state-as-string", GG, "data.state becomes a string",
         on_replies(GG, success(["query_task"]), edit_body(replace_value("data.state", str))))
register("gptge.image-renamed", GG, "finished tasks name their result image_url, not image",
         on_replies(GG, success(["query_task"]), edit_body(rename("data.image", "image_url"))))
register("gptge.unknown-task-200", GG, "unknown task ids answer 200 with data null",
         on_replies(GG, lambda call, reply: reply.status == 404, lambda call, reply: Reply(
             200, {"status": 200, "data": None}, "gptge/task-queued")))
register("gptge.lenient-size", GG, "an out-of-range size is accepted",
         on_replies(GG, lambda call, reply: is_error(reply) and "size" in str(
             get_path(reply.body, "message")).lower(), fake_acceptance(
             lambda call: {"status": 200, "data": {"task_id": str(uuid.uuid4())}},
             "gptge/create-response")))
register("gptge.callback-wrong-task", GG, "callbacks name another task id",
         on_callback(GG, replace_value("data.task_id", _random_id)))


def _rename_in_list(body: Any, path: str, old: str, new: str) -> Any:
    for item in get_path(body, path) or []:
        if isinstance(item, dict) and old in item:
            item[new] = item.pop(old)
    return body


# --- one read path at a time, states never shown, cancels that do nothing, ... ---------------

def _list_leaks(vendor: str) -> Any:
    """The task list shows every account's tasks of the window (the store's account filter
    is ignored)."""
    def install(emulator: Emulator) -> None:
        store = emulator.store

        def created_tasks(wanted: str, account: str, since: float, until: float) -> list[Task]:
            found = [t for t in store.list_tasks(wanted, 1_000_000)
                     if since <= t.created_at < until]
            return sorted(found, key=lambda t: t.created_at, reverse=True)

        store.created_tasks = created_tasks  # type: ignore[method-assign,assignment]  # the mutant
    return install


def _list_misses_own(emulator: Emulator) -> None:
    emulator.store.created_tasks = lambda *args: []  # type: ignore[method-assign]  # the mutant


def _cancel_ignored(emulator: Emulator) -> None:
    """Cancel is acknowledged but changes nothing: the task runs on."""
    emulator.engine.cancel = lambda *args, **kwargs: None  # type: ignore[method-assign]  # the mutant


def _plain_404(prefix: str) -> Any:
    """Paths under the vendor's prefix that no route takes answer a framework's plain 404."""
    def install(emulator: Emulator) -> list[BaseRoute]:
        async def plain(request: Request) -> Response:
            return PlainTextResponse("Not Found", 404)
        return [Route(prefix + "/{rest:path}", plain, methods=["GET", "POST", "PUT", "DELETE"])]
    return install


def _throttled_submit(call: Call) -> Reply:
    return Reply(429, {"code": "Throttling", "message": "Requests throttling triggered.",
                       "request_id": call.request_id}, "dashscope/error")


def _pending_view(call: Call, reply: Reply) -> Reply:
    """An unknown id answers as a fresh PENDING task of that id."""
    output = {"task_id": call.task_id or str(uuid.uuid4()), "task_status": "PENDING",
              "submit_time": "2026-01-01 00:00:00.000"}
    return Reply(200, {"request_id": call.request_id, "output": output}, "dashscope/task-pending")


def _cancel_refused(call: Call, reply: Reply) -> Reply:
    return Reply(400, {"code": "UnsupportedOperation", "message": "Failed to cancel the task, "
                       "please confirm if the task is in PENDING status.",
                       "request_id": call.request_id}, "dashscope/error")


def _extra_record(body: Any) -> Any:
    items = body.get("items") if isinstance(body, dict) else None
    if isinstance(items, list) and items:
        items.append({**items[0], "id": str(uuid.uuid4())})
        body["count"] = len(items)
    return body


def _drop_in_data(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body["data"].pop("task_id", None)
        body["data"]["state"] = "done"
    return body


register("dashscope.list-leaks-foreign", DS, "the task list shows other accounts' tasks",
         _list_leaks(DS))
register("dashscope.list-misses-own", DS, "the task list never shows the account's own tasks",
         _list_misses_own)
register("dashscope.never-running", DS,
         "tasks stay PENDING until they are done: RUNNING is never reported",
         on_task_view(DS, never_running))
register("dashscope.cancel-ignored", DS, "cancel is acknowledged but the task runs on",
         _cancel_ignored)
register("dashscope.cancel-pending-refused", DS, "cancel of a PENDING task is refused",
         on_replies(DS, success(["cancel_task"]), _cancel_refused))
register("dashscope.unknown-task-pending", DS, "unknown task ids answer as PENDING tasks",
         on_replies(DS, _dashscope_status("UNKNOWN"), _pending_view))
register("dashscope.throttled-forever", DS, "submissions are throttled however long one waits",
         on_replies(DS, lambda call, reply: call.operation == "gen_potrait",
                    lambda call, reply: _throttled_submit(call)))
register("tencent.never-finishes", TC, "jobs never leave JobStatusCode 2",
         on_task_view(TC, never_ends, during(["QueryGlamPicJob"])))
register("acedata.retrieve-leaks-foreign", AD, "retrieve shows another account's task",
         on_task_view(AD, leak_foreign, during(["tasks"], lambda call: body_field(
             call, "action") == "retrieve")))
register("acedata.batch-leaks-foreign", AD, "retrieve_batch shows another account's tasks",
         on_task_view(AD, leak_foreign, during(["tasks"], lambda call: body_field(
             call, "action") == "retrieve_batch")))
register("acedata.batch-lists-unasked", AD, "retrieve_batch lists a record nobody asked for",
         on_replies(AD, success(["tasks"]), edit_body(_extra_record)))
register("acedata.unknown-path-plain-404", AD,
         "unknown paths answer a framework's plain 404, not the vendor's error",
         _plain_404("/headshots"))
register("acedata.callback-missing", AD, "finished tasks never call back", on_callback(AD, None))
register("gptge.callback-invalid", GG, "callbacks carry a body the schema does not allow",
         on_callback(GG, _drop_in_data, schema="gptge/common"))
