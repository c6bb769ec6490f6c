"""AceData Cloud headshots: bearer token, `POST /headshots/generate` (blocking, or async with
`async: true` / `callback_url`; NDJSON lines with `accept: application/x-ndjson`),
`POST /headshots/tasks` (retrieve / retrieve_batch by ids or as the caller's task list).

Facts: seeds 000/001, vendors.md section 1 and vendors-2026-12.md section 2. A queued record has
no `response` and a running one `response.status: "unknown"` (the vendor's web app, AD-3). The
answer for unknown ids is INFERRED (open question 1), and so is that expectation.
"""
from __future__ import annotations

import json
from typing import Any

from ..checks import Expect
from ..targets import Exchange
from .base import Adapter, Credentials, Probe

QUEUED, RUNNING, SUCCEEDED, FAILED, GONE = "queued", "running", "succeeded", "failed", "not_found"
BAD_REQUEST = Expect(400, frozenset({"bad_request"}))


class AceDataAdapter(Adapter):
    vendor = "acedata"
    source = ("AceData headshots docs: seeds 000/001, vendors.md section 1 "
              "(contract_tests/adapters/acedata.py)")
    credential_env = ("ACEDATACLOUD_API_TOKEN",)  # the vendor's own docs and SDK use this name
    min_interval = 1.0  # no documented rate; be gentle
    submit_op, poll_op = "generate", "tasks"
    states = frozenset({QUEUED, RUNNING, SUCCEEDED, FAILED, GONE})
    transitions = {
        # A task may be seen first when it already runs or has ended; one whose input fails
        # ends as it starts.
        QUEUED: frozenset({RUNNING, SUCCEEDED, FAILED, GONE}),
        RUNNING: frozenset({SUCCEEDED, FAILED, GONE}),
        SUCCEEDED: frozenset({GONE}),
        FAILED: frozenset({GONE}),
        GONE: frozenset(),
    }
    done_states = frozenset({SUCCEEDED})
    expired_states = frozenset({GONE})
    # A queued record has no response, a running one reads {"status": "unknown"} (the web
    # app, AD-3).
    state_kinds = {"queued": frozenset({QUEUED}), "running": frozenset({RUNNING}),
                   "succeeded": frozenset({SUCCEEDED}),
                   "failed": frozenset({FAILED}), "expired": frozenset({GONE}),
                   "unknown": frozenset({GONE})}
    callbacks = True
    blocking = True
    blocking_schemas = ("acedata/generate-response",)

    # --- bodies -------------------------------------------------------------------------------

    def repair(self, body: Any) -> Any:
        """Asynchronous unless a test asks otherwise; portraits are the mock's fixtures."""
        fixed = {k: v for k, v in body.items() if k != "callback_url"}
        fixed["image_urls"] = [self.target.fixture_url("face.jpg")] * len(body["image_urls"][:2])
        fixed["async"] = True
        return fixed

    def example_body(self) -> dict[str, Any]:
        # relax, the slow channel, queues before it runs: the one way a record is seen queued.
        return {"mode": "relax", "template": "business_photo",
                "image_urls": [self.target.fixture_url("face.jpg")], "async": True}

    def failing_body(self) -> dict[str, Any]:
        """An image that cannot be fetched: the task fails (seed 000's `fetch failed`)."""
        return {**self.example_body(), "image_urls": ["https://portrait.invalid/face.jpg"]}

    def with_callback(self, body: Any, url: str) -> Any:
        return {**body, "callback_url": url}

    def blocking_body(self, body: Any) -> Any:
        return {k: v for k, v in body.items() if k not in ("async", "callback_url")}

    # --- answers ------------------------------------------------------------------------------

    def error_code(self, ex: Exchange) -> str | None:
        body = ex.json
        if ex.status == 200 or not isinstance(body, dict) or not isinstance(body.get("error"), dict):
            return None
        code = body["error"].get("code")
        return code if isinstance(code, str) else None

    def task_id(self, ex: Exchange) -> str | None:
        body = ex.json
        found = body.get("task_id") if isinstance(body, dict) and ex.status == 200 else None
        return found if isinstance(found, str) else None

    def record_state(self, record: Any) -> str | None:
        if not isinstance(record, dict) or "id" not in record:
            return None
        if "response" not in record:
            return QUEUED  # the web app's "pending" [VENDOR-CODE]
        response = record["response"]
        if not isinstance(response, dict):
            return None
        if response.get("status") == "unknown":
            return RUNNING  # the web app's "processing" [VENDOR-CODE]
        return {True: SUCCEEDED, False: FAILED}.get(response.get("success"))  # type: ignore[arg-type]

    def state(self, ex: Exchange) -> str | None:
        if self.error_code(ex) == GONE:
            return GONE
        return self.record_state(ex.json) if ex.status == 200 else None

    def has_results(self, ex: Exchange) -> bool:
        return self.record_has_results(ex.json)

    def record_has_results(self, record: Any) -> bool:
        response = record.get("response") if isinstance(record, dict) else None
        return isinstance(response, dict) and bool(response.get("data"))

    def invisible(self, ex: Exchange) -> bool:
        return ex.status == 404 and self.error_code(ex) == GONE

    def poll(self, creds: Credentials, task_id: str) -> Exchange:
        return self.call(self.poll_op, creds, body={"action": "retrieve", "id": task_id})

    def request_task_id(self, ex: Exchange) -> str | None:
        try:
            body = json.loads(ex.request_body)
        except ValueError:
            return None
        found = body.get("id") if isinstance(body, dict) and body.get("action") == "retrieve" \
            else None
        return found if isinstance(found, str) else None

    def poll_many(self, creds: Credentials, task_ids: list[str]) -> Exchange:
        return self.call(self.poll_op, creds, body={"action": "retrieve_batch", "ids": task_ids})

    def batch_records(self, ex: Exchange) -> dict[str, Any]:
        body = ex.json
        items = body.get("items") if isinstance(body, dict) else None
        return {r["id"]: r for r in items or [] if isinstance(r, dict) and isinstance(r.get("id"), str)}

    def other_operations(self) -> set[str]:
        return {self.poll_op}  # the list form of retrieve_batch

    def call_other(self, operation: str) -> Exchange:
        """The task list of a fresh account, as the vendor's web app asked for it: no ids, a
        page and a time bound [VENDOR-CODE Nexior headshots.ts tasks()]."""
        assert operation == self.poll_op, operation
        body = {"action": "retrieve_batch", "limit": 10, "offset": 0, "created_at_min": 0}
        return self.call(self.poll_op, self.credentials("A"), body=body)

    def callback_matches(self, final: Exchange, payload: Any) -> bool:
        """The callback body is the final generate answer: the record's `response` [DOC]."""
        record = final.json
        return isinstance(record, dict) and payload == record.get("response")

    # --- probes -------------------------------------------------------------------------------

    def auth_probes(self) -> list[Probe]:
        body = self.example_body()
        bad = Expect(401, frozenset({"invalid_token"}))
        return [
            # DOC: invalid_token; the platform's own specs also name no_token (400) for this.
            Probe("no-token", self.submit_op, Expect(codes=frozenset({"invalid_token", "no_token"})),
                  body, sign=False),
            Probe("malformed-scheme", self.submit_op, Expect(codes=frozenset({"invalid_token", "no_token"})),
                  body, headers={"Authorization": "Token abc"}, sign=False),
            Probe("invalid-token", self.submit_op, bad, body,
                  credentials=Credentials("bad", ("invalid-token",))),
            Probe("tasks-invalid-token", self.poll_op, bad, {"action": "retrieve", "id": "x"},
                  credentials=Credentials("bad", ("invalid-token",))),
        ]

    def extra_probes(self) -> list[Probe]:
        body = self.example_body()
        return [
            Probe("not-json", self.submit_op, BAD_REQUEST, b"{oops"),
            Probe("retrieve-without-id", self.poll_op, BAD_REQUEST, {"action": "retrieve"}),
            Probe("list-limit-not-integer", self.poll_op, BAD_REQUEST,
                  {"action": "retrieve_batch", "limit": "ten"}),  # the error is INFERRED
            Probe("undocumented-action", self.poll_op, BAD_REQUEST, {"action": "delete", "id": "x"}),
            Probe("undocumented-template", self.submit_op, BAD_REQUEST,
                  {**body, "template": "astronaut"}),
        ]

    def validation_expect(self, violation_kind: str, path: tuple[str | int, ...]) -> Expect:
        return BAD_REQUEST  # "The json payload is not valid to request the API" [DOC]

    def unknown_path(self) -> str | None:
        return "/headshots/no-such-api"

    def unknown_path_expect(self) -> Expect:
        return Expect(404, frozenset({"no_api"}))


ADAPTER = AceDataAdapter
