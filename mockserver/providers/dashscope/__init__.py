"""Alibaba DashScope facechain-generation (人物写真), seed 004 and vendors.md section 4."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.input_checks import InputChecks, mark_pending, needs_check
from ...core.render import content_type, render_image
from ...core.tasks import State, Task, Timing
from ..base import Provider, ResultFile
from .inputs import ALGO_ERROR, FACE_PROBLEM_CODE, verdict
from .models import DEFAULT_SIZE, PortraitJob, Wording

if TYPE_CHECKING:
    from ...runtime import Emulator
    from ...web import Call, Reply

DAY = 24 * 3600.0
# Where the vendor's references disagree: option -> (current reference, older seed 004).
SPELLINGS = {
    "failed_usage_key": ("image_count", "image_num"),
    "algo_error_code": (ALGO_ERROR, "InternalError:Algo"),
}


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
        self.algo_error_code = self._spelling("algo_error_code")
        face = self.catalogue.canonical(str(self.option("face_error_code", FACE_PROBLEM_CODE)))
        if face not in self.catalogue.entries:
            raise ValueError(f"[vendors.dashscope] face_error_code {face!r} is not a DashScope "
                             f"error code; known: {sorted(self.catalogue.entries)}")
        self.wording = Wording(self._spelling("failed_usage_key"), self.spell)

    def _spelling(self, option: str) -> str:
        """An option that picks one vendor source's spelling; anything else stops the start."""
        choices = SPELLINGS[option]
        value = self.option(option, choices[0])
        if value not in choices:
            raise ValueError(f"[vendors.dashscope] {option} must be one of {list(choices)}, "
                             f"not {value!r}")
        return str(value)

    def spell(self, code: str) -> str:
        """A catalogue code as this vendor answers it (`algo_error_code` picks the spelling
        of the algorithm error; both spellings name the same catalogue entry)."""
        code = self.catalogue.canonical(code)
        return self.algo_error_code if code == ALGO_ERROR else code

    @staticmethod
    def input_data(job: PortraitJob) -> dict[str, object]:
        """What the input check needs to know, stored with the task."""
        if not job.template_url and not job.user_urls:
            return {}
        return mark_pending({"template_url": job.template_url, "user_urls": list(job.user_urls)})

    @property
    def allowed_sizes(self) -> frozenset[str]:
        sizes = self.option("sizes", [DEFAULT_SIZE])
        return frozenset(map(str, sizes if isinstance(sizes, (list, tuple)) else [sizes]))

    def timing(self) -> Timing:  # type: ignore[override]
        """Durations are inferred (the docs give none); 1 running task per account is documented."""
        return super().timing(queue=2.0, run=30.0, ttl=DAY, concurrency=1)

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        from ...web import Reply

        entry = self.catalogue.resolve(error)
        request_id = call.request_id if call else uuid4()
        body = {"code": self.spell(entry.code), "message": entry.message, "request_id": request_id}
        return Reply(entry.status, body, "dashscope/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        """SDK 1.x (`BaseAsyncApi`, requests) reads DASHSCOPE_HTTP_BASE_URL at import; the 2.x
        `dashscope.Client` (httpx) reads DASHSCOPE_BASE_URL, then the 1.x name."""
        api = f"{base_url}/api/v1"
        return (f"SDK 1.x: dashscope.base_http_api_url = '{api}'  (or env DASHSCOPE_HTTP_BASE_URL)\n"
                f"SDK 2.x: dashscope.Client(base_url='{api}')  (or env DASHSCOPE_BASE_URL)")

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
