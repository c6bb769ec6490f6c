"""One function per AceData operation: gate (auth, streaming, rate) -> parse -> act -> render."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from ...core.errors import VendorError
from ...core.ids import object_id, uuid4
from ...core.input_checks import PROBLEM_KEY, mark_pending
from ...core.tasks import Task, wait_for_end
from ...web import Call, Reply, bearer_account
from . import stream
from .listing import task_history
from .models import DEFAULT_MODE, final_body, record_state, task_error

if TYPE_CHECKING:
    from .provider import AceData


def _provider(call: Call) -> AceData:
    return cast("AceData", call.provider)  # this vendor's routes carry this provider


def authenticate(call: Call) -> str:
    """Bearer key = account. The special keys stand for states no emulator reaches naturally."""
    options = _provider(call).options

    def refusal(key: str) -> VendorError | None:
        if key in options.strings("used_up_keys"):  # a key listed twice: used up wins
            return VendorError("used_up")
        if key in options.strings("mismatched_keys"):
            return VendorError("token_mismatched")
        return None

    return bearer_account(call, missing=_BAD_TOKEN, invalid=_BAD_TOKEN, refusal=refusal)


_BAD_TOKEN = partial(VendorError, "invalid_token")


def _gate(call: Call, rate_key: str) -> None:
    authenticate(call)
    if stream.wants_stream(call) and (call.operation != "generate" or
                                      _provider(call).options.text("ndjson_accept") == "refuse"):
        # Only generate streams (the web app asked for NDJSON there alone); `refuse` keeps the
        # older reading of drawai.json, whose accept enum lists application/json only.
        raise VendorError("api_not_implemented")
    _provider(call).check_rate(call, rate_key)


def _body(call: Call, schema: str) -> dict[str, Any]:
    body = call.json_object()
    call.validate(schema, body)
    return body


def _refuse_inputs(call: Call, image_urls: list[Any]) -> None:
    """What the vendor refuses at once: a malformed list (400), a moderation word in a URL (403).
    Anything else is accepted and judged as the task starts (see `inputs.py`)."""
    if not image_urls or not all(isinstance(item, str) and item for item in image_urls):
        raise VendorError("bad_request", detail="image_urls must be a non-empty list of strings")
    words = [w.lower() for w in _provider(call).options.strings("moderation_words")]
    urls = [item for item in image_urls if item.lower().startswith(("http://", "https://"))]
    if any(word in url.lower() for url in urls for word in words):
        raise VendorError("forbidden")


async def generate(call: Call) -> Reply:
    provider = _provider(call)
    _gate(call, "generate")
    body = _body(call, "acedata/generate-request")
    _refuse_inputs(call, body["image_urls"])
    mode = body.get("mode", DEFAULT_MODE)
    task = call.runtime.engine.create(
        task_id=uuid4(), vendor=call.vendor, account=call.account or "", pool=provider.spec.pool,
        timing=provider.timing(mode), request=body,
        data=mark_pending({"_id": object_id(), "trace_id": call.request_id,
                           "template": body["template"], "mode": mode,
                           "count": provider.photos_per_task}),
    )
    call.task_id = task.id
    # Judged before the answer (seed 000 reports bad inputs as the task's own failure), so
    # the record, a blocking answer and the callback agree from the start.
    task = await provider.inputs.settled(task)
    if PROBLEM_KEY in task.data:
        call.note["fails"] = task.data[PROBLEM_KEY]
    callback_url = body.get("callback_url")
    if callback_url:
        due = task.end_at if task.end_at is not None else task.created_at
        call.note["callback"] = call.runtime.callbacks.schedule(call.vendor, task.id, callback_url, due)
    if callback_url or body.get("async") is True:
        accepted = Reply(200, {"task_id": task.id, "trace_id": call.request_id},
                         "acedata/generate-accepted")
        return stream.one_line(accepted) if stream.wants_stream(call) else accepted
    if stream.wants_stream(call):
        return stream.blocking(call, provider, task)
    return await _answer_when_done(call, task)


async def _answer_when_done(call: Call, task: Task) -> Reply:
    """Block until the task ends on the emulated clock (an admin clock advance ends it at
    once), or answer 504 `timeout` after `sync_timeout_seconds` of real time."""
    provider = _provider(call)
    finished = await wait_for_end(call.runtime.clock, call.runtime.store, task.id,
                                  provider.sync_timeout)
    if finished is None:  # the emulator was reset while the caller waited
        raise VendorError("api_error")
    if not finished.state_at(call.now).terminal:
        raise VendorError("timeout")
    body = final_body(finished, provider.image_url(finished))
    if body["success"]:
        return Reply(200, body, "acedata/generate-response")
    code, message = task_error(finished)
    raise VendorError(code, message)


async def tasks(call: Call) -> Reply:
    provider = _provider(call)
    _gate(call, "tasks")
    body = _body(call, "acedata/tasks-request")
    if body.get("action", "retrieve") == "retrieve_batch" and "ids" not in body:
        return Reply(200, task_history(call, provider, body), "acedata/tasks-batch")
    if body.get("action", "retrieve") == "retrieve_batch":
        unique = list(dict.fromkeys(body["ids"]))
        found = [t for t in (provider.own_task(i, call.account) for i in unique) if t]
        items = [provider.record(t, call.now) for t in found]
        return Reply(200, {"items": items, "count": len(items)}, "acedata/tasks-batch")
    call.task_id = body["id"]
    task = provider.own_task(body["id"], call.account)
    if task is None:
        raise VendorError("not_found")
    return Reply(200, provider.record(task, call.now), f"acedata/task-{record_state(task, call.now)}")

