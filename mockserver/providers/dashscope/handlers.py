"""One function per DashScope operation: auth -> limit -> parse -> validate -> act -> render."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.tasks import State
from ...web import Call, Reply, bearer_account
from .models import MODEL, parse_job, task_output

if TYPE_CHECKING:
    from .provider import DashScope

NO_KEY_MESSAGE = "No API-key provided."
MODEL_MISSING_MESSAGE = "Model not exist."


def authenticate(call: Call) -> str:
    return bearer_account(call, missing=VendorError("InvalidApiKey", NO_KEY_MESSAGE),
                          invalid=VendorError("InvalidApiKey"))


def _provider(call: Call) -> DashScope:
    return cast("DashScope", call.provider)  # this vendor's routes carry this provider


def _validated_body(call: Call) -> dict[str, Any]:
    body = call.json_object()
    if body.get("model") != MODEL:
        raise VendorError("InvalidParameter", MODEL_MISSING_MESSAGE)
    call.validate("dashscope/submit-request", body)
    return body


async def submit(call: Call) -> Reply:
    provider = _provider(call)
    authenticate(call)
    if call.request.headers.get("x-dashscope-async", "").lower() != "enable":
        raise VendorError("AccessDenied")
    provider.check_rate(call, "submit")
    body = _validated_body(call)
    job = parse_job(body, provider.allowed_sizes)
    task = call.runtime.engine.create(
        task_id=uuid4(), vendor=call.vendor, account=call.account or "", pool=provider.spec.pool,
        timing=provider.timing(), request=body,
        data={"n": job.n, "width": job.width, "height": job.height, "style": job.style,
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
    status, output, usage = task_output(task, call.now, urls)
    body: dict[str, Any] = {"request_id": call.request_id, "output": output}
    if usage is not None:
        body["usage"] = usage
    return Reply(200, body, f"dashscope/task-{status.lower()}")


async def cancel(call: Call) -> Reply:
    provider = _provider(call)
    authenticate(call)
    task_id = call.request.path_params["task_id"]
    call.task_id = task_id
    task = provider.own_task(task_id, call.account)
    if task is None or task.state_at(call.now) is not State.QUEUED:
        raise VendorError("UnsupportedOperation")
    call.runtime.engine.cancel(task, provider.timing().concurrency)
    return Reply(200, {"request_id": call.request_id}, "dashscope/cancel-response")
