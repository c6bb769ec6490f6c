"""AceData Cloud headshots: vendor vocabulary, identifiers and the bodies it answers. No HTTP.

Facts come from seeds 000 (generate guide) and 001 (Task API), vendors.md section 1 and
vendors-2026-12.md section 2 (the vendor's web app and SDK); the INFERRED choices are listed in
docs/acedata.md.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from ...core.tasks import State, Task

# template -> the zh display name the results carry (seed 000; only 男形象照 seen in a response)
TEMPLATES = {
    "male_portrait": "男形象照",
    "male_portrait2": "男形象照(另一个版本)",
    "kindergarten": "幼儿园入园照",
    "logo_tshirt": "企业LogoT恤照",
    "wedding": "结婚登记照",
    "business_photo": "商务风写真",
    "bob_suit": "黑西装波波头",
    "female_portrait": "女性形象照",
}
MODES = ("fast", "relax")
DEFAULT_MODE = "fast"
# The api_id every headshots task record in seed 001 carries.
API_ID = "53bcc3f7-12ec-4f04-8ca4-20f150dcde2a"
# Seed 001: a task without a result answers `response: {task_id, status: "unknown", data: []}`.
# The vendor's web app (Nexior Preview.vue) reads that as "processing", and a record without any
# `response` as "pending" (queued): AD-3.
PENDING_STATUS = "unknown"
FETCH_FAILED = ("api_error", "fetch failed")  # seed 000's error example
INVALID_IMAGE = ("api_error", "invalid image")  # INFERRED: an input that is not a usable image
BEIJING = timezone(timedelta(hours=8))  # photo ids are local (UTC+8) times, per seed 001
_ACCOUNT_NS = uuid.UUID("6f1c3f0e-5d0a-4c55-9d55-acedacedaced")


def photo_id(finished_at: float, task_id: str, index: int) -> str:
    """18 digits: yyyyMMddHHmmss of the finish time in UTC+8, then 4 digits (stable per photo)."""
    stamp = datetime.fromtimestamp(finished_at, BEIJING).strftime("%Y%m%d%H%M%S")
    digest = hashlib.sha256(f"{task_id}/{index}".encode()).digest()
    return f"{stamp}{int.from_bytes(digest[:4], 'big') % 10000:04d}"


def account_ids(account: str) -> dict[str, str]:
    """Stable per-key stand-ins for the platform's application, credential and user ids."""
    return {kind: str(uuid.uuid5(_ACCOUNT_NS, f"{kind}:{account}"))
            for kind in ("application_id", "credential_id", "user_id")}


def success_body(task: Task, image_url: str) -> dict[str, Any]:
    """The sync answer, the callback body and the finished record's `response` (seeds 000/001).

    Every photo of a task shares one image URL, as in both documented examples.
    """
    assert task.end_at is not None
    template = TEMPLATES[task.data["template"]]
    data = [{"id": photo_id(task.end_at, task.id, i), "image_url": image_url, "template": template}
            for i in range(task.data["count"])]
    return {"success": True, "task_id": task.id, "data": data}


def failure_body(task: Task) -> dict[str, Any]:
    """A failed task's callback body and record `response` (INFERRED from the error envelope)."""
    code, message = task_error(task)
    return {"success": False, "task_id": task.id, "error": {"code": code, "message": message},
            "trace_id": task.data["trace_id"]}


def task_error(task: Task) -> tuple[str, str]:
    if task.canceled_at is not None:
        return "api_error", "The task was canceled."
    return task.error_code or FETCH_FAILED[0], task.error_message or FETCH_FAILED[1]


def pending_body(task: Task) -> dict[str, Any]:
    return {"task_id": task.id, "status": PENDING_STATUS, "data": []}


def final_body(task: Task, image_url: str) -> dict[str, Any]:
    return success_body(task, image_url) if task.outcome == "succeeded" and \
        task.canceled_at is None else failure_body(task)


def progress_body(task: Task, now: float) -> dict[str, Any]:
    """A progress line of a streamed blocking call (INFERRED: the platform's other NDJSON
    streams send snapshots with a 0-100 `progress`, per the vendor's web app; this one is the
    seed's no-result shape plus `trace_id` and `progress`)."""
    percent = min(99, int(task.progress_at(now) * 100))
    return {"task_id": task.id, "trace_id": task.data["trace_id"], "status": PENDING_STATUS,
            "progress": percent, "data": []}


def record_state(task: Task, now: float) -> str:
    """`queued`, `running`, `succeeded` or `failed`: which record shape (and schema) the task
    has now."""
    state = task.state_at(now)
    if state is State.SUCCEEDED:
        return "succeeded"
    if state in (State.FAILED, State.CANCELED):
        return "failed"
    return "running" if state is State.RUNNING else "queued"


def task_record(task: Task, now: float, image_url: str) -> dict[str, Any]:
    """The Task API's record (seed 001): request verbatim; no `response` while queued (AD-3),
    the seed's no-result `response` while running, the final answer and `elapsed` once ended."""
    record: dict[str, Any] = {
        "_id": task.data["_id"],
        "id": task.id,
        "api_id": API_ID,
        **account_ids(task.account),
        "created_at": round(task.created_at, 3),
        "trace_id": task.data["trace_id"],
        "request": task.request,
    }
    if task.start_at is not None and now >= task.start_at:
        record["started_at"] = round(task.start_at, 3)
    shape = record_state(task, now)
    if shape == "queued":
        return record
    if shape == "running":
        record["response"] = pending_body(task)
        return record
    finished = task.canceled_at if task.canceled_at is not None else task.end_at
    assert finished is not None
    record["finished_at"] = round(finished, 3)
    # Seconds the task ran: finished_at - started_at in the platform's own examples (the SDK's
    # specs of other services); a task that ended before it started ran 0 s.
    started = task.start_at if task.start_at is not None and task.start_at <= finished else finished
    record["elapsed"] = round(finished - started, 3)
    record["response"] = final_body(task, image_url)
    return record
