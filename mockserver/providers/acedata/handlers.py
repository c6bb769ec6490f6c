"""One function per AceData operation: gate (auth, streaming, rate) -> parse -> act -> render."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...core.errors import VendorError
from ...core.ids import object_id, uuid4
from ...core.input_log import keep_collected
from ...core.tasks import Task
from ...limits import check_rate
from ...web import Call, Reply, bearer_account
from .inputs import judge
from .models import DEFAULT_MODE, final_body, record_state, task_error

if TYPE_CHECKING:
    from . import AceData

STREAM_TYPE = "application/x-ndjson"
STALL_POLL_SECONDS = 1.0  # how often a blocked call re-reads a task whose start is unknown


def authenticate(call: Call) -> str:
    """Bearer key = account. The special keys stand for states no emulator reaches naturally."""
    provider: AceData = call.provider  # type: ignore[assignment]
    refusals = {key: VendorError("token_mismatched")
                for key in provider.keys_option("mismatched_keys")}
    refusals.update({key: VendorError("used_up") for key in provider.keys_option("used_up_keys")})
    return bearer_account(call, missing=VendorError("invalid_token"),
                          invalid=VendorError("invalid_token"), refusals=refusals)


def _gate(call: Call, operation: str, default_qps: float) -> None:
    authenticate(call)
    if STREAM_TYPE in call.request.headers.get("accept", "").lower():
        # The vendor's web app asks for an NDJSON stream; the mock does not stream (INFERRED).
        raise VendorError("api_not_implemented")
    check_rate(call, operation, default_qps, "too_many_requests")


def _body(call: Call, schema: str) -> dict[str, Any]:
    body = call.json()
    error = call.emulator.schemas.first_error(schema, body)
    if error is not None or not isinstance(body, dict):
        call.note["invalid"] = f"{error.json_path}: {error.message}" if error else "not an object"
        raise VendorError("bad_request")
    return body


async def _check_inputs(call: Call, image_urls: list[Any]) -> tuple[str, str] | None:
    """The one place the portrait inputs are judged.

    Raises for a request the vendor refuses at once (shape: 400, moderation word in a URL: 403);
    returns (code, message) when the task is accepted but will fail, as an unfetchable or
    undecodable image does (seed 000: `api_error` "fetch failed"; see `inputs.py`).
    """
    if not image_urls or not all(isinstance(item, str) and item for item in image_urls):
        call.note["invalid"] = "image_urls must be a non-empty list of strings"
        raise VendorError("bad_request")
    provider: AceData = call.provider  # type: ignore[assignment]
    words = [w.lower() for w in provider.keys_option("moderation_words")]
    urls = [item for item in image_urls if item.lower().startswith(("http://", "https://"))]
    if any(word in url.lower() for url in urls for word in words):
        raise VendorError("forbidden")
    verdict = await judge(call.emulator.fetcher, image_urls,
                          provider.keys_option("placeholder_hosts"),
                          provider.float_option("input_check_seconds"))
    if verdict is None:
        return None
    call.note["fails"] = verdict.detail
    return verdict.error


async def generate(call: Call) -> Reply:
    provider: AceData = call.provider  # type: ignore[assignment]
    _gate(call, "generate", 5)
    body = _body(call, "acedata/generate-request")
    failure = await _check_inputs(call, body["image_urls"])
    mode = body.get("mode", DEFAULT_MODE)
    timing = provider.timing(mode)
    if failure is not None:  # the inputs are fetched first: the task fails as it starts
        timing = replace(timing, run_seconds=provider.float_option("failed_input_run_seconds"))
    task = call.emulator.engine.create(
        task_id=uuid4(), vendor=call.vendor, account=call.account or "", pool="headshots",
        timing=timing, request=body, error=failure,
        data={"_id": object_id(), "trace_id": call.request_id, "template": body["template"],
              "mode": mode, "count": provider.photos_per_task},
    )
    call.task_id = task.id
    keep_collected(call.emulator.store, task.id)  # the judged inputs, for the dashboard
    callback_url = body.get("callback_url")
    if callback_url:
        due = task.end_at if task.end_at is not None else task.created_at
        call.note["callback"] = call.emulator.callbacks.schedule(call.vendor, task.id, callback_url, due)
    if callback_url or body.get("async") is True:
        return Reply(200, {"task_id": task.id, "trace_id": call.request_id},
                     "acedata/generate-accepted")
    return await _answer_when_done(call, task)


async def _answer_when_done(call: Call, task: Task) -> Reply:
    """Block until the task ends on the emulated clock (an admin clock advance ends it at
    once), or answer 504 `timeout` after `sync_timeout_seconds` of real time."""
    provider: AceData = call.provider  # type: ignore[assignment]
    finished = await _wait_for_end(call, task.id, provider.sync_timeout)
    if finished is None:
        raise VendorError("timeout")
    body = final_body(finished, provider.image_url(finished))
    if body["success"]:
        return Reply(200, body, "acedata/generate-response")
    code, message = task_error(finished)
    raise VendorError(code, message)


async def _wait_for_end(call: Call, task_id: str, real_limit: float) -> Task | None:
    clock, store = call.emulator.clock, call.emulator.store
    loop = asyncio.get_running_loop()
    give_up = loop.time() + real_limit
    while True:
        task = store.get_task(task_id)
        if task is None:  # the emulator was reset while the caller waited
            raise VendorError("api_error")
        if task.state_at(clock.now()).terminal:
            return task
        budget = give_up - loop.time()
        if budget <= 0:
            return None
        if task.end_at is None:  # stalled by a fault: no end time yet, look again soon
            await asyncio.sleep(min(budget, STALL_POLL_SECONDS))
        else:
            await clock.sleep_until(task.end_at, real_limit=budget)


async def tasks(call: Call) -> Reply:
    provider: AceData = call.provider  # type: ignore[assignment]
    _gate(call, "tasks", 20)
    body = _body(call, "acedata/tasks-request")
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

