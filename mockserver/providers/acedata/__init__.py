"""AceData Cloud AI headshots (AI 证件照), seeds 000/001 and vendors.md section 1."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.render import content_type, render_image
from ...core.tasks import State, Task, Timing
from ...results import result_url
from ..base import Provider, ResultFile
from .inputs import PLACEHOLDER_HOSTS
from .models import MODES, final_body, task_record

if TYPE_CHECKING:
    from ...web import Call, Reply

DAY = 24 * 3600.0
# (queue, run) emulated seconds per mode. The docs say "about 1-2 minutes" and that relax is
# the slow channel; the split between queueing and running is INFERRED.
MODE_TIMING = {"fast": (0.0, 60.0), "relax": (90.0, 90.0)}
RESULT_SIZE = (768, 1024)  # INFERRED: the docs never show a result's dimensions
DEFAULTS: dict[str, object] = {
    "sync_timeout_seconds": 300.0,  # real seconds a blocking generate may wait (INFERRED)
    "photos_per_task": 2,  # both documented results hold two photos
    "mismatched_keys": ["token-mismatched"],
    "used_up_keys": ["used-up-token"],
    "moderation_words": ["nsfw"],
    # Input images (inputs.py, all INFERRED): hosts accepted unchecked, the real seconds the
    # whole check may take, and how long a task with a failed input runs before it fails.
    "placeholder_hosts": list(PLACEHOLDER_HOSTS),
    "input_check_seconds": 30.0,
    "failed_input_run_seconds": 0.0,
}


class AceData(Provider):
    name = "acedata"
    title = "AceData Cloud headshots"
    prefixes = ("/headshots/",)
    bad_request_code = "bad_request"
    internal_error_code = "api_error"
    not_found_code = "no_api"

    def timing(self, mode: str = "fast") -> Timing:  # type: ignore[override]
        queue, run = MODE_TIMING[mode if mode in MODES else "fast"]
        return super().timing(mode, queue=queue, run=run, ttl=30 * DAY, concurrency=None)

    def keys_option(self, key: str) -> frozenset[str]:
        return frozenset(self.option(key, DEFAULTS[key]))  # type: ignore[arg-type]

    @property
    def sync_timeout(self) -> float:
        return float(self.option("sync_timeout_seconds", DEFAULTS["sync_timeout_seconds"]))  # type: ignore[arg-type]

    def float_option(self, key: str) -> float:
        return float(self.option(key, DEFAULTS[key]))  # type: ignore[arg-type]

    @property
    def photos_per_task(self) -> int:
        return max(1, int(self.option("photos_per_task", DEFAULTS["photos_per_task"])))  # type: ignore[call-overload]

    def image_url(self, task: Task) -> str:
        return result_url(self.emulator.settings.base_url, self.name, task.id, f"{task.id}.png")

    def record(self, task: Task, now: float) -> dict[str, object]:
        return task_record(task, now, self.image_url(task))

    def callback_body(self, task: Task) -> tuple[dict[str, object], str] | None:
        """The same body a blocking call answers (seed 000); failures in the error shape."""
        if not task.state_at(self.emulator.clock.now()).terminal:
            return None
        return final_body(task, self.image_url(task)), "acedata/callback"

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        from ...web import Reply

        entry = self.catalogue.resolve(error)
        body = {"success": False, "error": {"code": entry.code, "message": entry.message},
                "trace_id": call.request_id if call else uuid4()}
        return Reply(entry.status, body, "acedata/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        return f"use {base_url} instead of https://api.acedata.cloud (any bearer token is an account)"

    def result_names(self, task: Task) -> list[str]:
        return [f"{task.id}.png"]

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        if name != f"{task.id}.png" or task.outcome != "succeeded" or task.end_at is None:
            return None
        if task.state_at(self.emulator.clock.now()) not in (State.SUCCEEDED, State.EXPIRED):
            return None
        width, height = RESULT_SIZE
        lines = ("headshots", task.data["template"], task.id[:8])
        data = render_image(f"acedata/{task.id}", width, height, "png", lines)
        ttl = float(self.option("result_ttl_seconds", task.ttl_seconds))  # type: ignore[arg-type]
        return ResultFile(data, content_type("png"), task.end_at + ttl)
