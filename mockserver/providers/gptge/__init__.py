"""gpt.ge ID photos (`/task/pic/idphoto`, resold PicWish), seed 003 and vendors.md section 3.

The photo is real: the source image is downloaded or uploaded, checked, and framed into an ID
photo of the requested size by `idphoto.render_id_photo` (see `jobs.py`).
"""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ...core.errors import VendorError
from ...core.tasks import State, Task, Timing
from ...results import result_url
from ..base import Provider, ResultFile
from .jobs import Processing
from .models import FAILURE_STATES, STATE_DONE, finished_view, succeeded

if TYPE_CHECKING:
    from ...runtime import Emulator
    from ...web import Call, Reply

HOUR = 3600.0
CALLBACK_SCHEMA = "gptge/callback"


class GptGe(Provider):
    name = "gptge"
    title = "gpt.ge ID photo (PicWish)"
    prefixes = ("/task/",)
    bad_request_code = "bad_request"
    internal_error_code = "internal_error"
    not_found_code = "not_found"
    # Fault injection's `fail_task` codes: the documented negative PicWish states.
    task_failure_codes = tuple(str(s) for s in sorted(FAILURE_STATES))

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        # The emulator's shared fetcher answers the mock's own URLs (fixture images) in-process,
        # so `image_url` works the same in an in-process test app, which listens on no port.
        self.processing = Processing(emulator.store, lambda: emulator.fetcher, self._processed)
        emulator.shutdown.append(self._close)

    def timing(self) -> Timing:  # type: ignore[override]
        """The seed's example finishes one second after creation (INFERRED split: 0.2 s queue,
        0.8 s run); tasks and result URLs live 1 hour (PicWish doc); no concurrency limit is
        documented, only 2 QPS."""
        return super().timing(queue=0.2, run=0.8, ttl=HOUR, concurrency=None)

    @property
    def processing_timeout(self) -> float:
        """PicWish stops processing after 30 s (state -8)."""
        return float(self.option("processing_timeout_seconds", 30.0))  # type: ignore[arg-type]

    def _processed(self, task_id: str, record: dict[str, Any]) -> None:
        """A task's processing ended: a failed check fails the task."""
        task = self.emulator.store.get_task(task_id)
        if task is None:
            return
        if record["state"] != STATE_DONE and task.outcome == "succeeded":
            task.outcome = "failed"
            task.error_code = str(record["state"])
            task.error_message = record["err_info"]
            self.emulator.store.put_task(task)

    async def prepare_callback(self, task: Task) -> None:
        """The dispatcher's hook before a body is built (and at start-up for pending ones):
        process the task if nobody has (the process that accepted it may have died)."""
        if succeeded(task):
            await self.processing.result(task)

    def schedule_callback(self, task: Task) -> None:
        """Called when the task is acknowledged, so kill -9 at any moment loses no callback
        (issue 15). Due at the task's end; a stalled task (no end yet) is due at once: the
        dispatcher asks again later while the task has not ended."""
        url = task.data.get("callback_url")
        callbacks = getattr(self.emulator, "callbacks", None)
        if url and callbacks is not None:
            due = task.end_at if task.end_at is not None else self.emulator.clock.now()
            callbacks.schedule(self.name, task.id, url, due)

    async def _close(self) -> None:
        await self.processing.close()

    def reset(self) -> None:
        self.processing.reset()

    # --- answers -----------------------------------------------------------------------------

    def image_ref(self, task: Task, record: dict[str, Any]) -> str:
        """The `image` field: a result URL, or the photo itself for return_type=2 (INFERRED)."""
        if task.data["return_type"] == 2:
            return str(record["image_b64"])
        return result_url(self.emulator.settings.base_url, self.name, task.id,
                          f"image.{record['ext']}")

    def finished(self, task: Task, record: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """(schema name, data) for a task that ended; `record` is needed only on success."""
        image = self.image_ref(task, record) if succeeded(task) and record else ""
        suffix, data = finished_view(task, record or {}, image)
        return f"{self.name}/{suffix}", data

    def callback_body(self, task: Task) -> tuple[dict[str, object], str] | None:
        """The finished data object, as the query would answer it (INFERRED: gpt.ge documents
        only the `callback_url` field)."""
        if not task.state_at(self.emulator.clock.now()).terminal:
            return None  # the dispatcher asks again later
        record = self.processing.record(task.id)
        if succeeded(task) and (record is None or record["state"] != STATE_DONE):
            return None  # not processed: prepare_callback() runs first, so cannot happen
        _, data = self.finished(task, record)
        return {"status": 200, "data": data}, CALLBACK_SCHEMA

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        if task.vendor != self.name or not succeeded(task):
            return None
        if task.state_at(self.emulator.clock.now()) not in (State.SUCCEEDED, State.EXPIRED):
            return None
        record = self.processing.record(task.id)
        if record is None or record["state"] != STATE_DONE or name != f"image.{record['ext']}":
            return None
        assert task.end_at is not None
        ttl = float(self.option("result_ttl_seconds", HOUR))  # type: ignore[arg-type]
        return ResultFile(base64.b64decode(record["image_b64"]), record["content_type"],
                          task.end_at + ttl)

    # --- wiring ------------------------------------------------------------------------------

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        """PicWish-style `{status, message}` with the same HTTP status (INFERRED envelope)."""
        from ...web import Reply

        entry = self.catalogue.resolve(error)
        body = {"status": entry.status, "message": entry.message}
        return Reply(entry.status, body, "gptge/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        return (f"POST {base_url}/task/pic/idphoto (multipart, Authorization: Bearer sk-...), "
                f"then GET {base_url}/task/{{task_id}}")
