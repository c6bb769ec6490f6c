"""DashScope facechain-generation: bearer key, async submit, GET poll, cancel while PENDING,
and the account's task list.

Facts from seed 004, vendors.md section 4 and the task-management page (manage-asynchronous-
tasks); kept apart from the mock's code on purpose, so a change in the mock cannot silently
change the expectations.
"""
from __future__ import annotations

from typing import Any

from ..checks import Expect
from ..targets import Exchange
from .base import Adapter, Credentials, Probe

PRESET_STYLES = ("f_idcard_male", "f_business_female", "f_lightportray_female")
TEMPLATE, TRAIN_FREE = "portrait_url_template", "train_free_portrait_url_template"
ONLY_SIZE = "768*1024"  # the only documented size
LORA = {"resource_id": "facechain-png-ft-202308291948-edc2", "resource_type": "facelora"}
INVALID_PARAMETER = Expect(status=400, codes=frozenset({"InvalidParameter"}))
LIST_OP = "list_tasks"


class DashScopeAdapter(Adapter):
    vendor = "dashscope"
    source = ("DashScope facechain docs: seed 004, vendors.md section 4, manage-asynchronous-"
              "tasks page (contract_tests/adapters/dashscope.py)")
    credential_env = ("DASHSCOPE_API_KEY",)
    min_interval = 0.5  # submit QPS 2 [DOC]
    submit_op, poll_op, cancel_op = "gen_potrait", "query_task", "cancel_task"
    states = frozenset({"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"})
    # PENDING -> RUNNING -> SUCCEEDED | FAILED; PENDING -> CANCELED; every task expires to
    # UNKNOWN after 24 h [DOC]. A poll may miss RUNNING, so PENDING -> SUCCEEDED | FAILED too.
    transitions = {
        "PENDING": frozenset({"RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}),
        "RUNNING": frozenset({"SUCCEEDED", "FAILED", "UNKNOWN"}),
        "SUCCEEDED": frozenset({"UNKNOWN"}),
        "FAILED": frozenset({"UNKNOWN"}),
        "CANCELED": frozenset({"UNKNOWN"}),
        "UNKNOWN": frozenset(),
    }
    done_states = frozenset({"SUCCEEDED"})
    expired_states = frozenset({"UNKNOWN"})
    canceled_state = "CANCELED"
    cancelable_states = frozenset({"PENDING"})
    # Expired and unknown ids both answer UNKNOWN [DOC seed 004].
    state_kinds = {"queued": frozenset({"PENDING"}), "running": frozenset({"RUNNING"}),
                   "succeeded": frozenset({"SUCCEEDED"}), "failed": frozenset({"FAILED"}),
                   "canceled": frozenset({"CANCELED"}), "expired": frozenset({"UNKNOWN"}),
                   "unknown": frozenset({"UNKNOWN"})}
    list_op = LIST_OP

    # --- bodies -------------------------------------------------------------------------------

    def repair(self, body: Any) -> Any:
        """Apply the documented cross-field rules to a schema-valid body."""
        params = dict(body.get("parameters") or {})
        style = params.setdefault("style", PRESET_STYLES[0])
        if style in (TEMPLATE, TRAIN_FREE):
            params.pop("size", None)  # "not needed for the template modes"
        else:
            params["size"] = ONLY_SIZE
        fixed: dict[str, Any] = {"model": body["model"], "parameters": params}
        if style != TRAIN_FREE:
            fixed["resources"] = body.get("resources") or [LORA]
        inputs: dict[str, Any] = {}
        if style in (TEMPLATE, TRAIN_FREE):
            inputs["template_url"] = self.target.fixture_url("template.jpg")
        if style == TRAIN_FREE:
            count = len((body.get("input") or {}).get("user_urls") or [0])
            inputs["user_urls"] = [self.target.fixture_url("face.jpg")] * count
        if inputs:
            fixed["input"] = inputs
        return fixed

    def example_body(self) -> dict[str, Any]:
        return {"model": "facechain-generation",
                "parameters": {"style": PRESET_STYLES[0], "size": ONLY_SIZE, "n": 1},
                "resources": [dict(LORA)]}

    def failing_body(self) -> dict[str, Any]:
        """A user photo without a face: accepted, then the task FAILS [DOC: failures carry
        code/message inside output with HTTP 200]."""
        return {"model": "facechain-generation",
                "parameters": {"style": TRAIN_FREE, "n": 1},
                "input": {"template_url": self.target.fixture_url("template.jpg"),
                          "user_urls": [self.target.fixture_url("no_face.jpg")]}}

    # --- answers ------------------------------------------------------------------------------

    def error_code(self, ex: Exchange) -> str | None:
        body = ex.json
        if ex.status == 200 or not isinstance(body, dict):
            return None
        code = body.get("code")
        return code if isinstance(code, str) else None

    def _output(self, ex: Exchange) -> dict[str, Any]:
        body = ex.json
        output = body.get("output") if isinstance(body, dict) else None
        return output if isinstance(output, dict) else {}

    def task_id(self, ex: Exchange) -> str | None:
        found = self._output(ex).get("task_id") if ex.status == 200 else None
        return found if isinstance(found, str) else None

    def state(self, ex: Exchange) -> str | None:
        found = self._output(ex).get("task_status") if ex.status == 200 else None
        return found if isinstance(found, str) else None

    def has_results(self, ex: Exchange) -> bool:
        return bool(self._output(ex).get("results"))

    def invisible(self, ex: Exchange) -> bool:
        # Unknown, expired and other accounts' ids all answer 200 UNKNOWN [DOC seed 004].
        return ex.status == 200 and self.state(ex) == "UNKNOWN"

    # --- the task list ------------------------------------------------------------------------

    def other_operations(self) -> set[str]:
        return {LIST_OP}

    def call_other(self, operation: str) -> Exchange:
        """The list of a fresh account: free, creates nothing [DOC: 200 with data, page_no,
        page_size, total, total_page]."""
        assert operation == LIST_OP, operation
        return self.call(LIST_OP, self.credentials("A"), query="page_no=1&page_size=10")

    def list_tasks(self, creds: Credentials) -> Exchange:
        """The default window (the last 24 hours [DOC]), one page of 100 (no maximum is
        documented; the kit's accounts never hold that many tasks)."""
        return self.call(LIST_OP, creds, query="page_no=1&page_size=100")

    def listed_ids(self, ex: Exchange) -> set[str]:
        body = ex.json
        items = body.get("data") if isinstance(body, dict) and ex.status == 200 else None
        return {i["task_id"] for i in items or [] if isinstance(i, dict)
                and isinstance(i.get("task_id"), str)}

    # --- probes -------------------------------------------------------------------------------

    def auth_probes(self) -> list[Probe]:
        body = self.example_body()
        bad_key = Expect(status=401, codes=frozenset({"InvalidApiKey"}))
        bad = Credentials("bad", ("invalid-token",))
        return [
            Probe("no-key", self.submit_op, bad_key, body, sign=False),
            Probe("malformed-scheme", self.submit_op, bad_key, body,
                  headers={"Authorization": "Basic c2stdGVzdA=="}, sign=False),
            Probe("invalid-key", self.submit_op, bad_key, body, credentials=bad),
            Probe("poll-no-key", self.poll_op, bad_key, sign=False,
                  path_params={"task_id": self.unknown_task_id()}),
            Probe("cancel-no-key", self.cancel_op or "", bad_key, sign=False,
                  path_params={"task_id": self.unknown_task_id()}),
            Probe("list-no-key", LIST_OP, bad_key, sign=False),
        ]

    def extra_probes(self) -> list[Probe]:
        body = self.example_body()
        template = {**body, "parameters": {"style": TEMPLATE, "n": 1}}
        train_free = {"model": body["model"], "parameters": {"style": TRAIN_FREE, "n": 1},
                      "input": {"template_url": self.target.fixture_url("template.jpg")}}
        return [
            Probe("sync-call", self.submit_op, Expect(403, frozenset({"AccessDenied"})), body,
                  headers={"X-DashScope-Async": None}),  # type: ignore[dict-item]
            Probe("lora-style-without-resources", self.submit_op, INVALID_PARAMETER,
                  {k: v for k, v in body.items() if k != "resources"}),
            Probe("template-style-without-template", self.submit_op, INVALID_PARAMETER, template),
            Probe("train-free-without-user-urls", self.submit_op, INVALID_PARAMETER, train_free),
            Probe("undocumented-size", self.submit_op, INVALID_PARAMETER,
                  {**body, "parameters": {**body["parameters"], "size": "512*512"}}),
            Probe("url-with-chinese", self.submit_op, Expect(400, frozenset({"InvalidURL"})),
                  {**train_free, "input": {"template_url": "http://127.0.0.1/模板.jpg",
                                           "user_urls": [self.target.fixture_url("face.jpg")]}}),
            Probe("not-json", self.submit_op, INVALID_PARAMETER, b"{not json"),
            Probe("cancel-unknown-task", self.cancel_op or "",
                  Expect(400, frozenset({"UnsupportedOperation"})),
                  path_params={"task_id": self.unknown_task_id()}),
            # The window may not exceed 24 h and `status` is one of six [DOC]; the error code
            # for breaking either is INFERRED (InvalidParameter, like every parameter error).
            Probe("list-window-over-24h", LIST_OP, INVALID_PARAMETER,
                  query="start_time=20261201000000&end_time=20261202000001"),
            Probe("list-unknown-status", LIST_OP, INVALID_PARAMETER, query="status=DONE"),
        ]

    def unknown_path(self) -> str | None:
        return "/api/v1/services/aigc/album/no_such_operation"

    def unknown_path_expect(self) -> Expect:
        return Expect(404, frozenset({"NotFound"}))

    def validation_expect(self, violation_kind: str, path: tuple[str | int, ...]) -> Expect:
        return INVALID_PARAMETER  # every schema violation is InvalidParameter [DOC seed 004]


ADAPTER = DashScopeAdapter
