"""Alibaba DashScope facechain-generation (人物写真), seed 004 and vendors.md section 4."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.input_checks import InputChecks, mark_pending, needs_check
from ...core.render import content_type, render_image
from ...core.tasks import State, Task, Timing
from ..base import Provider, ResultFile
from .inputs import verdict
from .models import DEFAULT_SIZE, PortraitJob

if TYPE_CHECKING:
    from ...runtime import Emulator
    from ...web import Call, Reply

DAY = 24 * 3600.0


class DashScope(Provider):
    name = "dashscope"
    title = "Alibaba DashScope facechain"
    prefixes = ("/api/v1",)
    bad_request_code = "InvalidParameter"
    internal_error_code = "InternalError"
    not_found_code = "NotFound"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.inputs = InputChecks(emulator.store, lambda task: verdict(self, task))
        emulator.shutdown.append(self.inputs.close)

    @staticmethod
    def input_data(job: PortraitJob) -> dict[str, object]:
        """What the input check needs to know, stored with the task."""
        if not job.template_url and not job.user_urls:
            return {}
        return mark_pending({"template_url": job.template_url, "user_urls": list(job.user_urls)})

    @property
    def allowed_sizes(self) -> frozenset[str]:
        return frozenset(self.option("sizes", [DEFAULT_SIZE]))  # type: ignore[arg-type]

    def timing(self) -> Timing:  # type: ignore[override]
        """Durations are inferred (the docs give none); 1 running task per account is documented."""
        return super().timing(queue=2.0, run=30.0, ttl=DAY, concurrency=1)

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        from ...web import Reply

        entry = self.catalogue.resolve(error)
        request_id = call.request_id if call else uuid4()
        body = {"code": entry.code, "message": entry.message, "request_id": request_id}
        return Reply(entry.status, body, "dashscope/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        return f"dashscope.base_http_api_url = '{base_url}/api/v1'  (or DASHSCOPE_HTTP_BASE_URL)"

    def result_names(self, task: Task) -> list[str]:
        return [f"{index}.jpg" for index in range(task.data.get("n", 0))]

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        index, _, ext = name.partition(".")
        if ext != "jpg" or not index.isdigit() or int(index) >= task.data.get("n", 0):
            return None
        if needs_check(task) or task.state_at(self.emulator.clock.now()) not in (
            State.SUCCEEDED, State.EXPIRED
        ):
            return None
        assert task.end_at is not None
        ttl = float(self.option("result_ttl_seconds", DAY))  # type: ignore[arg-type]
        lines = ("facechain-generation", task.data["style"], f"{task.id[:8]} #{index}")
        data = render_image(f"{task.id}/{index}", task.data["width"], task.data["height"], "jpg", lines)
        return ResultFile(data, content_type("jpg"), task.end_at + ttl)
