"""gpt.ge `/task/pic/idphoto` (a PicWish reseller): form rules and task views. No HTTP here.

Facts come from seed 003 and vendors.md section 3; everything marked INFERRED is our choice
where neither source says anything.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.errors import VendorError
from ...core.images import ImageRules, MiB, Problem
from ...core.tasks import State, Task

MAX_IMAGE_BYTES = 15 * MiB  # PicWish: images up to 15 MB (state -5 / HTTP 413 beyond)
MAX_URL_CHARS = 512  # PicWish advanced ID-photo doc: image_url at most 512 characters
#: The source photo (PicWish): <= 15 MB, <= 4096x4096, needs a face, URL <= 512 chars.
IDPHOTO_RULES = ImageRules(
    formats=frozenset({"JPEG", "BMP", "PNG", "WEBP", "TIFF"}), max_bytes=MAX_IMAGE_BYTES,
    max_width=4096, max_height=4096, faces_min=1, max_url_chars=MAX_URL_CHARS,
    name="gpt.ge id photo",
)
MIN_SIDE, MAX_SIDE = 100, 2000  # seed 003: each side 100~2000 px
DEFAULT_FORMAT = "png"  # seed 003
DEFAULT_BG = "FFFFFF"  # seed 003: white unless bg_color says otherwise

_SIZE = re.compile(r"^([1-9]\d{0,4})x([1-9]\d{0,4})$")  # lowercase x only (PicWish doc)
_BG_COLOR = re.compile(r"^[0-9A-Fa-f]{6}$")
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)

# Constant fields of every data object, as in the seed's example answer.
CONSTANT_FIELDS = {"type": "auto", "output_type": 2, "result_type": "object"}

# Upstream PicWish task states (https://picwish.com/states). Only "Complete" is a documented
# state_detail; the other details are INFERRED wording.
STATE_QUEUED = 0  # "too many requests, your task is in the queue"
STATE_DONE = 1
STATE_PREPARING = 2
STATE_WAITING = 3
STATE_PROCESSING = 4
STATE_FAILED = -1
STATE_UPLOAD_FAILED = -2  # result upload to OSS failed: only reachable by fault injection
STATE_DOWNLOAD_FAILED = -3
STATE_TOO_LARGE = -5
STATE_INVALID_IMAGE = -7
STATE_TIMEOUT = -8
STATE_DETAIL = {
    STATE_QUEUED: "Queued", STATE_DONE: "Complete", STATE_PREPARING: "Preparing",
    STATE_WAITING: "Waiting", STATE_PROCESSING: "Processing", STATE_FAILED: "Failed",
    STATE_UPLOAD_FAILED: "Upload failed", STATE_DOWNLOAD_FAILED: "Download failed",
    STATE_TOO_LARGE: "Image too large", STATE_INVALID_IMAGE: "Invalid image",
    STATE_TIMEOUT: "Timeout",
}
FAILURE_STATES = frozenset(s for s in STATE_DETAIL if s < 0)

# What the image pipeline's verdicts become (INFERRED mapping onto the documented states).
PROBLEM_STATE = {
    Problem.DOWNLOAD_FAILED: STATE_DOWNLOAD_FAILED,
    Problem.URL_FORBIDDEN: STATE_DOWNLOAD_FAILED,
    Problem.TOO_MANY_BYTES: STATE_TOO_LARGE,
    Problem.TOO_LARGE: STATE_TOO_LARGE,  # resolution above 4096x4096
    Problem.DECODE_FAILED: STATE_INVALID_IMAGE,
    Problem.UNSUPPORTED_FORMAT: STATE_INVALID_IMAGE,
    Problem.TOO_SMALL: STATE_INVALID_IMAGE,
}


def problem_state(problem: Problem) -> int:
    """The task state for an image problem; face problems are a plain task failure (-1)."""
    return PROBLEM_STATE.get(problem, STATE_FAILED)


@dataclass(frozen=True)
class IdPhotoJob:
    """A validated create request. `width`/`height` are None when `size` was not given."""

    image_url: str | None
    width: int | None
    height: int | None
    fmt: str
    bg_color: str
    sync: bool
    return_type: int
    callback_url: str | None

    def to_data(self) -> dict[str, Any]:
        return {
            "image_url": self.image_url, "width": self.width, "height": self.height,
            "format": self.fmt, "bg_color": self.bg_color.upper(), "sync": self.sync,
            "return_type": self.return_type, "callback_url": self.callback_url,
        }


def _present(value: str | None) -> str | None:
    """Empty form values count as absent (PicWish: the other image source 'must be empty')."""
    return value if value else None


def _size(raw: str | None) -> tuple[int | None, int | None]:
    if raw is None:
        return None, None
    match = _SIZE.match(raw)
    if not match:
        raise VendorError("invalid_size")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise VendorError("invalid_size")
    return width, height


def _choice(raw: str | None, allowed: Mapping[str, Any], default: Any, code: str) -> Any:
    if raw is None:
        return default
    if raw not in allowed:
        raise VendorError(code)
    return allowed[raw]


def parse_form(fields: Mapping[str, str], file_size: int | None) -> IdPhotoJob:
    """Apply the seed's field rules. `fields` holds the text fields; `file_size` is the byte
    count of an uploaded `image_file` (None: no file part, 0: an empty one)."""
    image_url = _present(fields.get("image_url"))
    has_file = bool(file_size)
    if has_file and image_url:
        raise VendorError("image_conflict")
    if not has_file and not image_url:
        raise VendorError("image_missing")
    if image_url and (len(image_url) > MAX_URL_CHARS or not _HTTP_URL.match(image_url)):
        raise VendorError("invalid_image_url")
    if file_size is not None and file_size > MAX_IMAGE_BYTES:
        raise VendorError("file_too_large")
    width, height = _size(fields.get("size"))
    fmt = _choice(fields.get("format"), {"png": "png", "jpg": "jpg"}, DEFAULT_FORMAT,
                  "invalid_format")
    bg_color = fields.get("bg_color", DEFAULT_BG)
    if not _BG_COLOR.match(bg_color):  # checked for png too, where it has no effect (INFERRED)
        raise VendorError("invalid_bg_color")
    sync = _choice(fields.get("sync"), {"0": False, "1": True}, False, "invalid_sync")
    return_type = _choice(fields.get("return_type"), {"1": 1, "2": 2}, 1, "invalid_return_type")
    callback_url = _present(fields.get("callback_url"))
    if callback_url and not _HTTP_URL.match(callback_url):
        raise VendorError("invalid_callback_url")
    return IdPhotoJob(image_url, width, height, fmt, bg_color, sync, return_type, callback_url)


def default_size(width: int, height: int) -> tuple[int, int]:
    """Without `size` PicWish keeps the source size; fit it into 100..2000 per side keeping the
    aspect ratio as far as the bounds allow (INFERRED: the docs do not say what happens)."""
    shrink = min(1.0, MAX_SIDE / max(width, height))
    grow = max(1.0, MIN_SIDE / max(1, min(width, height)))
    scale = shrink if shrink < 1.0 else grow
    return (min(MAX_SIDE, max(MIN_SIDE, round(width * scale))),
            min(MAX_SIDE, max(MIN_SIDE, round(height * scale))))


def pending_state(task: Task, now: float) -> int:
    """0/2/3/4 for a task that has not ended. INFERRED split of the documented states:
    0 = held back (a concurrency slot or a stall), 2 then 3 = first and second half of the
    queue time, 4 = running."""
    state = task.state_at(now)
    if state is State.RUNNING:
        return STATE_PROCESSING
    if task.start_at is None or task.start_at > task.created_at + task.queue_seconds + 1e-6:
        return STATE_QUEUED
    halfway = task.created_at + task.queue_seconds / 2
    return STATE_PREPARING if now < halfway else STATE_WAITING


def failure_of(task: Task) -> tuple[int, str]:
    """(state, err_info) of a failed task. A fault may put any code on a task: codes that are
    documented states keep their number, everything else is a plain failure (-1)."""
    try:
        state = int(task.error_code or STATE_FAILED)
    except ValueError:
        state = STATE_FAILED
    if state not in FAILURE_STATES:
        state = STATE_FAILED
    return state, task.error_message or STATE_DETAIL[state]


def _base(task: Task, state: int) -> dict[str, Any]:
    return {"task_id": task.id, "state": state, "state_detail": STATE_DETAIL[state],
            "created_at": int(task.created_at), "return_type": task.data["return_type"],
            **CONSTANT_FIELDS}


def pending_view(task: Task, now: float) -> tuple[str, dict[str, Any]]:
    """(schema suffix, data) while the task is queued or running."""
    state = pending_state(task, now)
    data = _base(task, state)
    if state != STATE_PROCESSING:
        data.update(progress=0, err_info="")
        return "task-queued", data
    assert task.start_at is not None
    data.update(progress=min(99, int(task.progress_at(now) * 100)), err_info="",
                processed_at=int(task.start_at))
    return "task-processing", data


def succeeded(task: Task) -> bool:
    """True unless the task failed (processing, a fault, a timeout) or was canceled."""
    return task.outcome == "succeeded" and task.canceled_at is None


def finished_view(task: Task, result: Mapping[str, Any], image: str) -> tuple[str, dict[str, Any]]:
    """(schema suffix, data) of a task that ended. `result` is the processing record."""
    end = task.canceled_at if task.canceled_at is not None else task.end_at
    assert end is not None
    start = end if task.start_at is None else min(task.start_at, end)
    times = {"processed_at": int(start), "completed_at": int(end)}
    if not succeeded(task):
        state, err_info = failure_of(task)
        return "task-failed", {**_base(task, state), **times, "progress": 0, "err_info": err_info}
    data = _base(task, STATE_DONE)
    data.update(times, progress=100, err_info="", image=image,
                image_width=result["width"], image_height=result["height"],
                foreground_rect=dict(result["rect"]), download_time=result["download_ms"],
                time_elapsed=result["elapsed_ms"])
    return "task-succeeded", data
