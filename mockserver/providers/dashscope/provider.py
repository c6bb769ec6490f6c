"""Alibaba DashScope facechain-generation (人物写真), seed 004 and vendors.md section 4."""
from __future__ import annotations

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.input_checks import InputChecks, mark_pending, needs_check
from ...core.render import content_type, render_image
from ...core.runtime import Runtime
from ...core.tasks import State, Task
from ...web import Call, Reply
from ..base import Provider, ResultFile
from ..options import STRING, STRINGS, Option
from ..spec import DAY, ErrorCodes, TimingDefaults, VendorSpec
from .inputs import FACE_PROBLEM_CODE, TEMPLATE_RULES, USER_RULES, verdict
from .models import DEFAULT_SIZE, PortraitJob

SPEC = VendorSpec(
    name="dashscope",
    title="Alibaba DashScope facechain",
    # The Beijing host (facechain's only region, documented), the international one, and the
    # Hong Kong shared gateway the 2.x SDK falls back to (SDK 2.0.2 `LEGACY_GATEWAY_HOSTS`).
    hosts=("dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com",
           "cn-hongkong.dashscope.aliyuncs.com"),
    # Workspace hosts `{WorkspaceId}.{region}.maas.aliyuncs.com` (documented as the recommended
    # endpoint; the SDK builds them from `workspace` and `region` and checks the workspace id
    # against `[A-Za-z0-9][A-Za-z0-9_-]{0,63}`, SDK 2.0.2 `common/env.py`).
    host_patterns=(r"[a-z0-9][a-z0-9_-]{0,63}\.[a-z0-9-]+\.maas\.aliyuncs\.com",),
    base_path="/api/v1",
    prefixes=("/api/v1",),
    errors=ErrorCodes(bad_request="InvalidParameter", internal="InternalError",
                      not_found="NotFound", rate_limited="Throttling.RateQuota"),
    # Durations are INFERRED (the docs give none); 1 running task per account is documented.
    timings={"": TimingDefaults(queue=2.0, run=30.0, ttl=DAY, concurrency=1)},
    pool="gen_potrait",
    rates={"submit": 2, "query": 20},  # documented QPS per account
    result_ttl=DAY,  # result URLs live 24 hours (documented)
    image_rules={"user": USER_RULES, "template": TEMPLATE_RULES},
    options=(
        Option("sizes", STRINGS, (DEFAULT_SIZE,), "accepted parameters.size values"),
        Option("face_error_code", STRING, FACE_PROBLEM_CODE,
               "the task failure code for a photo that breaks the face rules"),
    ),
)


class DashScope(Provider):
    spec = SPEC

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.inputs = InputChecks(runtime.store, lambda task: verdict(self, task))
        runtime.shutdown.append(self.inputs.close)

    @staticmethod
    def input_data(job: PortraitJob) -> dict[str, object]:
        """What the input check needs to know, stored with the task."""
        if not job.template_url and not job.user_urls:
            return {}
        return mark_pending({"template_url": job.template_url, "user_urls": list(job.user_urls)})

    @property
    def allowed_sizes(self) -> frozenset[str]:
        return self.options.strings("sizes")

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        entry = self.catalogue.resolve(error)
        request_id = call.request_id if call else uuid4()
        body = {"code": entry.code, "message": entry.message, "request_id": request_id}
        return Reply(entry.status, body, "dashscope/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        return f"dashscope.base_http_api_url = '{base_url}/api/v1'  (or DASHSCOPE_HTTP_BASE_URL)"

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        index, _, ext = name.partition(".")
        if ext != "jpg" or not index.isdigit() or int(index) >= task.data.get("n", 0):
            return None
        if needs_check(task) or task.state_at(self.runtime.clock.now()) not in (
            State.SUCCEEDED, State.EXPIRED
        ):
            return None
        assert task.end_at is not None
        lines = ("facechain-generation", task.data["style"], f"{task.id[:8]} #{index}")
        data = render_image(f"{task.id}/{index}", task.data["width"], task.data["height"], "jpg", lines)
        return ResultFile(data, content_type("jpg"), task.end_at + self.result_ttl)

