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
from ..options import STRING, STRINGS, Option, OptionError
from ..spec import DAY, BodyLimit, ErrorCodes, TimingDefaults, VendorSpec
from .inputs import ALGO_ERROR, FACE_PROBLEM_CODE, TEMPLATE_RULES, USER_RULES, verdict
from .models import DEFAULT_SIZE, PortraitJob, Wording

# Where the vendor's references disagree: option -> (current reference, older seed 004).
SPELLINGS = {
    "failed_usage_key": ("image_count", "image_num"),
    "algo_error_code": (ALGO_ERROR, "InternalError:Algo"),
}

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
    # Documented QPS per account: submit 2; query, list and cancel 20 each (task management).
    rates={"submit": 2, "query": 20, "list": 20, "cancel": 20},
    result_ttl=DAY,  # result URLs live 24 hours (documented)
    image_rules={"user": USER_RULES, "template": TEMPLATE_RULES},
    # [3P] DashScope's gateway answered "Exceeded limit on max bytes to request body : 6291456"
    # with HTTP 400 (a third-party log of its compatible-mode API); that this endpoint has the
    # same 6 MiB gateway, and the code InvalidParameter, are INFERRED.
    body_limit=BodyLimit(6 * 1024 * 1024, "InvalidParameter",
                         "Exceeded limit on max bytes to request body : 6291456"),
    options=(
        Option("sizes", STRINGS, (DEFAULT_SIZE,), "accepted parameters.size values"),
        Option("face_error_code", STRING, FACE_PROBLEM_CODE,
               "the task failure code for a photo that breaks the face rules"),
        Option("failed_usage_key", STRING, SPELLINGS["failed_usage_key"][0],
               "FAILED answers' usage key: the current reference's image_count or seed 004's "
               "image_num", choices=SPELLINGS["failed_usage_key"]),
        Option("algo_error_code", STRING, SPELLINGS["algo_error_code"][0],
               "the algorithm failure code as answered: the current reference's spelling or "
               "seed 004's", choices=SPELLINGS["algo_error_code"]),
    ),
)


class DashScope(Provider):
    spec = SPEC

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.inputs = InputChecks(runtime.store, lambda task: verdict(self, task))
        runtime.shutdown.append(self.inputs.close)
        self.algo_error_code = self.options.text("algo_error_code")
        face = self.catalogue.canonical(self.options.text("face_error_code"))
        if face not in self.catalogue.entries:
            raise OptionError(f"[vendors.{self.name}] face_error_code {face!r} is not one of "
                              f"its error codes; known: {sorted(self.catalogue.entries)}")
        self.wording = Wording(self.options.text("failed_usage_key"), self.spell)

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
        return self.options.strings("sizes")

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        entry = self.catalogue.resolve(error)
        request_id = call.request_id if call else uuid4()
        body = {"code": self.spell(entry.code), "message": entry.message, "request_id": request_id}
        return Reply(entry.status, body, "dashscope/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        """SDK 1.x (`BaseAsyncApi`, requests) reads DASHSCOPE_HTTP_BASE_URL at import; the 2.x
        `dashscope.Client` (httpx) reads DASHSCOPE_BASE_URL, then the 1.x name."""
        api = f"{base_url}{self.spec.base_path}"
        return (f"SDK 1.x: dashscope.base_http_api_url = '{api}'  (or env DASHSCOPE_HTTP_BASE_URL)\n"
                f"SDK 2.x: dashscope.Client(base_url='{api}')  (or env DASHSCOPE_BASE_URL)")

    def result_names(self, task: Task) -> list[str]:
        return [f"{index}.jpg" for index in range(task.data.get("n", 0))]

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        if name not in self.result_names(task):
            return None
        index = name.partition(".")[0]
        if needs_check(task) or task.state_at(self.runtime.clock.now()) not in (
            State.SUCCEEDED, State.EXPIRED
        ):
            return None
        assert task.end_at is not None
        lines = ("facechain-generation", task.data["style"], f"{task.id[:8]} #{index}")
        data = render_image(f"{task.id}/{index}", task.data["width"], task.data["height"], "jpg", lines)
        return ResultFile(data, content_type("jpg"), task.end_at + self.result_ttl)

