"""One function per DashScope operation: auth -> limit -> parse -> validate -> act -> render."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.input_checks import needs_check
from ...core.tasks import State, Task
from ...web import Call, Reply, bearer_account
from .listing import ListQuery, api_key_id, list_item, parse_query
from .models import MODEL, parse_job, task_output

if TYPE_CHECKING:
    from .provider import DashScope

NO_KEY_MESSAGE = "No API-key provided."  # observed in live answers [3P]
WRONG_MODEL_MESSAGE = "Model not exist."  # observed for a wrong model name [3P]
# Observed live for a missing `model` [3P]; the status-code page files the same text under
# BadRequest.EmptyModel, but live traffic answers InvalidParameter.
MODEL_MISSING_MESSAGE = 'Required parameter "model" missing from request.'
ASYNC_ONLY_MESSAGE = "current user api does not support synchronous calls"  # [DOC]


def authenticate(call: Call) -> str:
    return bearer_account(call, missing=_NO_KEY, invalid=_BAD_KEY)


_NO_KEY = partial(VendorError, "InvalidApiKey", NO_KEY_MESSAGE)
_BAD_KEY = partial(VendorError, "InvalidApiKey")


def _provider(call: Call) -> DashScope:
    return cast("DashScope", call.provider)  # this vendor's routes carry this provider


def _validated_body(call: Call) -> dict[str, Any]:
    body = call.json_object()
    if body.get("model") in (None, ""):  # absent; null and "" are INFERRED to count as absent
        raise VendorError("InvalidParameter", MODEL_MISSING_MESSAGE)
    if body["model"] != MODEL:
        raise VendorError("InvalidParameter", WRONG_MODEL_MESSAGE)
    call.validate("dashscope/submit-request", body)
    return body


async def submit(call: Call) -> Reply:
    provider = _provider(call)
    authenticate(call)
    if call.request.headers.get("x-dashscope-async", "").lower() != "enable":
        raise VendorError("AccessDenied", ASYNC_ONLY_MESSAGE)
    provider.check_rate(call, "submit")
    body = _validated_body(call)
    job = parse_job(body, provider.allowed_sizes)
    task = call.runtime.engine.create(
        task_id=uuid4(), vendor=call.vendor, account=call.account or "", pool=provider.spec.pool,
        timing=provider.timing(), request=body,
        data={"n": job.n, "width": job.width, "height": job.height, "style": job.style,
              "skin_retouch": job.skin_retouch, "request_id": call.request_id,
              "api_key_id": api_key_id(call.api_key or call.account or ""),
              **provider.input_data(job)},
    )
    provider.inputs.start(task)
    call.task_id = task.id
    output = {"task_id": task.id, "task_status": "PENDING"}
    return Reply(200, {"output": output, "request_id": call.request_id}, "dashscope/submit-response")


async def query(call: Call) -> Reply:
    provider = _provider(call)
    authenticate(call)
    provider.check_rate(call, "query")
    task_id = call.request.path_params["task_id"]
    call.task_id = task_id
    task = provider.own_task(task_id, call.account)
    if task is not None:
        task = await provider.inputs.settled(task)
    if task is None:
        output = {"task_id": task_id, "task_status": "UNKNOWN"}
        return Reply(200, {"request_id": call.request_id, "output": output}, "dashscope/task-unknown")
    urls = [provider.result_url(task.id, f"{i}.jpg") for i in range(task.data["n"])]
    status, output, usage = task_output(task, call.now, urls, provider.wording)
    body: dict[str, Any] = {"request_id": call.request_id, "output": output}
    if usage is not None:
        body["usage"] = usage
    return Reply(200, body, f"dashscope/task-{status.lower()}")


async def cancel(call: Call) -> Reply:
    provider = _provider(call)
    authenticate(call)
    provider.check_rate(call, "cancel")
    task_id = call.request.path_params["task_id"]
    call.task_id = task_id
    task = provider.own_task(task_id, call.account)
    if task is None or task.state_at(call.now) is not State.QUEUED:
        raise VendorError("UnsupportedOperation")
    call.runtime.engine.cancel(task, provider.timing().concurrency)
    return Reply(200, {"request_id": call.request_id}, "dashscope/cancel-response")


async def list_tasks(call: Call) -> Reply:
    """`GET /api/v1/tasks[/]`: the account's tasks of one window, newest first, by page."""
    provider = _provider(call)
    authenticate(call)
    provider.check_rate(call, "list")
    params = dict(call.request.query_params)
    call.validate("dashscope/task-list-request", params)  # the vendor's answer is INFERRED
    query = parse_query(params, call.now)
    items = []
    for task in _candidates(call, query):
        if needs_check(task) and task.state_at(call.now).terminal:
            task = await provider.inputs.settled(task)  # never list success, then failure
        item = list_item(task, call.now)
        if item is not None and query.matches(item):
            items.append(item)
    return Reply(200, query.page(items, call.request_id), "dashscope/task-list-response")


def _candidates(call: Call, query: ListQuery) -> list[Task]:
    if query.task_id is not None:
        task = _provider(call).own_task(query.task_id, call.account)
        return [task] if task and query.since <= task.created_at < query.until else []
    return call.runtime.store.created_tasks(call.vendor, call.account or "", query.since,
                                            query.until)
