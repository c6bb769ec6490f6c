"""gpt.ge ID photos (`/task/pic/idphoto`, resold PicWish), seed 003 and vendors.md section 3.

The photo is real: the source image is downloaded or uploaded, checked, and framed into an ID
photo of the requested size by `idphoto.render_id_photo` (see `jobs.py`).
"""
from __future__ import annotations

import base64
from typing import Any

from ...core.errors import VendorError
from ...core.input_checks import InputChecks, Verdict
from ...core.runtime import Runtime
from ...core.tasks import State, Task
from ...web import Call, Reply
from ..base import Provider, ResultFile
from ..options import NUMBER, Option
from ..spec import ErrorCodes, TimingDefaults, VendorSpec
from .jobs import Processing
from .models import FAILURE_STATES, IDPHOTO_RULES, STATE_DONE, finished_view, succeeded

HOUR = 3600.0
CALLBACK_SCHEMA = "gptge/callback"

SPEC = VendorSpec(
    name="gptge",
    title="gpt.ge ID photo (PicWish)",
    hosts=("api.gpt.ge",),
    prefixes=("/task/",),
    errors=ErrorCodes(bad_request="bad_request", internal="internal_error", not_found="not_found",
                      rate_limited="too_many_requests"),
    # The seed's example finishes one second after creation (INFERRED split: 0.2 s queue, 0.8 s
    # run); tasks and result URLs live 1 hour (PicWish doc); no concurrency limit documented.
    timings={"": TimingDefaults(queue=0.2, run=0.8, ttl=HOUR)},
    pool="idphoto",
    rates={"idphoto": 2, "query": 20},  # 2 QPS documented; the query figure INFERRED
    result_ttl=HOUR,
    blocking_timeout=300.0,  # real seconds a sync=1 call waits (INFERRED)
    callbacks=True,
    image_rules={"source": IDPHOTO_RULES},
    # Fault injection's `fail_task` codes: the documented negative PicWish states.
    task_failure_codes=tuple(str(s) for s in sorted(FAILURE_STATES)),
    options=(Option("processing_timeout_seconds", NUMBER, 30.0,
                    "emulated seconds after which PicWish stops processing (state -8)",
                    minimum=0),),
)


class GptGe(Provider):
    spec = SPEC

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        # The runtime's fetcher answers the mock's own URLs (fixture images) in-process, so
        # `image_url` works the same in an in-process test app, which listens on no port.
        self.processing = Processing(runtime.store, lambda: runtime.fetcher)
        self.inputs = InputChecks(runtime.store, self.processing.verdict, self._processed)
        runtime.shutdown.append(self.inputs.close)

    @property
    def processing_timeout(self) -> float:
        """PicWish stops processing after 30 s (state -8)."""
        return self.options.number("processing_timeout_seconds")

    def _processed(self, task: Task, verdict: Verdict) -> None:
        """A task's processing ended (its outcome is known): its callback is due."""
        self.schedule_callback(task)

    def schedule_callback(self, task: Task) -> None:
        """Called once the outcome is known. A stalled task (no end yet) is due at once: the
        dispatcher asks again later while the task has not ended."""
        url = task.data.get("callback_url")
        if url:
            due = task.end_at if task.end_at is not None else self.runtime.clock.now()
            self.runtime.callbacks.schedule(self.name, task.id, url, due)

    def reset(self) -> None:
        self.inputs.reset()

    # --- answers -----------------------------------------------------------------------------

    def image_ref(self, task: Task, record: dict[str, Any]) -> str:
        """The `image` field: a result URL, or the photo itself for return_type=2 (INFERRED)."""
        if task.data["return_type"] == 2:
            return str(record["image_b64"])
        return self.result_url(task.id, f"image.{record['ext']}")

    def finished(self, task: Task, record: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """(schema name, data) for a task that ended; `record` is needed only on success."""
        image = self.image_ref(task, record) if succeeded(task) and record else ""
        suffix, data = finished_view(task, record or {}, image)
        return f"{self.name}/{suffix}", data

    def callback_body(self, task: Task) -> tuple[dict[str, object], str] | None:
        """The finished data object, as the query would answer it (INFERRED: gpt.ge documents
        only the `callback_url` field)."""
        if not task.state_at(self.runtime.clock.now()).terminal:
            return None  # the dispatcher asks again later
        record = self.processing.record(task.id)
        if succeeded(task) and (record is None or record["state"] != STATE_DONE):
            return None  # not processed: cannot happen, deliveries are scheduled after that
        _, data = self.finished(task, record)
        return {"status": 200, "data": data}, CALLBACK_SCHEMA

    def result_names(self, task: Task) -> list[str]:
        record = self.processing.record(task.id)
        return [f"image.{record['ext']}"] if record and record["state"] == STATE_DONE else []

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        if not succeeded(task):
            return None
        if task.state_at(self.runtime.clock.now()) not in (State.SUCCEEDED, State.EXPIRED):
            return None
        record = self.processing.record(task.id)
        if record is None or record["state"] != STATE_DONE or name != f"image.{record['ext']}":
            return None
        assert task.end_at is not None
        return ResultFile(base64.b64decode(record["image_b64"]), record["content_type"],
                          task.end_at + self.result_ttl)

    # --- wiring ------------------------------------------------------------------------------

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        """PicWish-style `{status, message}` with the same HTTP status (INFERRED envelope)."""
        entry = self.catalogue.resolve(error)
        body = {"status": entry.status, "message": entry.message}
        return Reply(entry.status, body, "gptge/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        return (f"POST {base_url}/task/pic/idphoto (multipart, Authorization: Bearer sk-...), "
                f"then GET {base_url}/task/{{task_id}}")

