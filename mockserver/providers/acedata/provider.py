"""AceData Cloud AI headshots (AI 证件照), seeds 000/001 and vendors.md section 1."""
from __future__ import annotations

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.input_checks import InputChecks
from ...core.render import content_type, render_image
from ...core.runtime import Runtime
from ...core.tasks import State, Task
from ...web import Call, Reply
from ..base import Provider, ResultFile
from ..options import INTEGER, NUMBER, STRINGS, Option
from ..spec import DAY, ErrorCodes, TimingDefaults, VendorSpec
from .inputs import INPUT_RULES, PLACEHOLDER_HOSTS, verdict
from .models import final_body, task_record

RESULT_SIZE = (768, 1024)  # INFERRED: the docs never show a result's dimensions
TASK_TTL = 30 * DAY  # INFERRED: how long a record stays retrievable

SPEC = VendorSpec(
    name="acedata",
    title="AceData Cloud headshots",
    hosts=("api.acedata.cloud",),
    prefixes=("/headshots/",),
    errors=ErrorCodes(bad_request="bad_request", internal="api_error", not_found="no_api",
                      rate_limited="too_many_requests"),
    # (queue, run) emulated seconds per mode. The docs say "about 1-2 minutes" and that relax
    # is the slow channel; the split between queueing and running is INFERRED.
    timings={"fast": TimingDefaults(queue=0.0, run=60.0, ttl=TASK_TTL),
             "relax": TimingDefaults(queue=90.0, run=90.0, ttl=TASK_TTL)},
    pool="headshots",
    rates={"generate": 5, "tasks": 20},  # INFERRED figures
    result_ttl=TASK_TTL,
    blocking_timeout=300.0,  # real seconds a blocking generate may wait (INFERRED)
    callbacks=True,
    image_rules={"input": INPUT_RULES},
    options=(
        Option("photos_per_task", INTEGER, 2, "photos per finished task (both documented "
               "results hold two)", minimum=1),
        Option("mismatched_keys", STRINGS, ("token-mismatched",),
               "keys answered token_mismatched"),
        Option("used_up_keys", STRINGS, ("used-up-token",), "keys answered used_up"),
        Option("moderation_words", STRINGS, ("nsfw",),
               "words in an image URL that the moderation refuses (403 forbidden)"),
        # Input images (inputs.py, all INFERRED): hosts accepted unchecked, the real seconds
        # the whole check may take, and how long a task with a failed input runs.
        Option("placeholder_hosts", STRINGS, PLACEHOLDER_HOSTS,
               "hosts accepted without a fetch (globs)"),
        Option("input_check_seconds", NUMBER, 30.0, "real seconds the input check may take",
               minimum=0),
        Option("failed_input_run_seconds", NUMBER, 0.0,
               "emulated seconds a task with a failed input runs before it fails", minimum=0),
    ),
)


class AceData(Provider):
    spec = SPEC

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.inputs = InputChecks(runtime.store, lambda task: verdict(self, task))
        runtime.shutdown.append(self.inputs.close)

    def reset(self) -> None:
        self.inputs.reset()

    @property
    def photos_per_task(self) -> int:
        return self.options.integer("photos_per_task")

    def image_url(self, task: Task) -> str:
        return self.result_url(task.id, f"{task.id}.png")

    def record(self, task: Task, now: float) -> dict[str, object]:
        return task_record(task, now, self.image_url(task))

    def callback_body(self, task: Task) -> tuple[dict[str, object], str] | None:
        """The same body a blocking call answers (seed 000); failures in the error shape."""
        if not task.state_at(self.runtime.clock.now()).terminal:
            return None
        return final_body(task, self.image_url(task)), "acedata/callback"

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
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
        if task.state_at(self.runtime.clock.now()) not in (State.SUCCEEDED, State.EXPIRED):
            return None
        width, height = RESULT_SIZE
        lines = ("headshots", task.data["template"], task.id[:8])
        data = render_image(f"acedata/{task.id}", width, height, "png", lines)
        return ResultFile(data, content_type("png"), task.end_at + self.result_ttl)

