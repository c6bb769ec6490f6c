"""gpt.ge idphoto (PicWish behind it): bearer key, multipart `POST /task/pic/idphoto`
(`sync=0` answers a task id, `sync=1` the finished task), `GET /task/{task_id}`.

Facts: seed 003 and vendors.md section 3 (PicWish states table). gpt.ge documents no error
body: the `{status, message}` envelope is INFERRED, and without a code in it the kit recovers
the catalogue code from the message (or from the status where only one code has it).
"""
from __future__ import annotations

import uuid
from typing import Any

from mockserver.core.operations import OperationSpec

from ..checks import Expect
from ..targets import Exchange
from .base import Adapter, Credentials, Probe

GONE = "404"  # unknown, foreign or expired task ids [DOC picwish: 404 = unknown task_id]
QUEUED = frozenset({"0", "2", "3"})  # queued, preparing, waiting [DOC picwish /states]
FAILED = frozenset({"-1", "-2", "-3", "-5", "-7", "-8"})
_AFTER_QUEUED = QUEUED | {"4", "1", GONE} | FAILED
FIELD_CODES = {  # the form field a bad value was in -> the documented refusal (all 400)
    "size": "invalid_size", "format": "invalid_format", "bg_color": "invalid_bg_color",
    "sync": "invalid_sync", "return_type": "invalid_return_type",
    "callback_url": "invalid_callback_url", "image_url": "invalid_image_url",
}


def multipart(fields: dict[str, str], boundary: str) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


class GptGeAdapter(Adapter):
    vendor = "gptge"
    source = ("gpt.ge idphoto docs: seed 003, vendors.md section 3, the PicWish states table "
              "(contract_tests/adapters/gptge.py)")
    credential_env = ("GPTGE_API_KEY",)
    min_interval = 0.5  # PicWish default QPS 2 [DOC]
    submit_op, poll_op = "idphoto", "query_task"
    states = frozenset(QUEUED | {"4", "1", GONE} | FAILED)
    transitions = {
        **{s: _AFTER_QUEUED for s in QUEUED},
        "4": frozenset({"1", GONE} | FAILED),
        "1": frozenset({GONE}),
        **{s: frozenset({GONE}) for s in FAILED},
        GONE: frozenset(),
    }
    done_states = frozenset({"1"})
    expired_states = frozenset({GONE})
    state_kinds = {"queued": QUEUED, "running": frozenset({"4"}), "succeeded": frozenset({"1"}),
                   "failed": FAILED, "expired": frozenset({GONE}), "unknown": frozenset({GONE})}
    callbacks = True
    blocking = True
    blocking_schemas = ("gptge/task-succeeded", "gptge/task-failed")

    def encode(self, spec: OperationSpec, body: Any) -> tuple[bytes, dict[str, str]]:
        if not isinstance(body, dict):
            return super().encode(spec, body)
        boundary = f"contract{uuid.uuid4().hex}"
        fields = {k: str(v) for k, v in body.items()}
        return multipart(fields, boundary), {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    # --- bodies -------------------------------------------------------------------------------

    def repair(self, body: Any) -> Any:
        fixed = {k: v for k, v in body.items() if k not in ("image_file", "callback_url")}
        fixed["image_url"] = self.target.fixture_url("face.jpg")
        fixed["sync"] = "0"
        return fixed

    def example_body(self) -> dict[str, Any]:
        return {"image_url": self.target.fixture_url("face.jpg"), "size": "295x413",
                "format": "jpg", "bg_color": "438EDB", "sync": "0"}

    def failing_body(self) -> dict[str, Any]:
        """A corrupt image: the task ends in state -7 [DOC picwish /states]."""
        return {**self.example_body(), "image_url": self.target.fixture_url("corrupt.jpg")}

    def with_callback(self, body: Any, url: str) -> Any:
        return {**body, "callback_url": url}

    def blocking_body(self, body: Any) -> Any:
        return {**body, "sync": "1"}

    # --- answers ------------------------------------------------------------------------------

    def error_code(self, ex: Exchange) -> str | None:
        body = ex.json
        if 200 <= ex.status < 300 or not isinstance(body, dict):
            return None
        message = body.get("message")
        for code, entry in self.catalogue.entries.items():
            if entry.message == message:
                return code
        same_status = [c for c, e in self.catalogue.entries.items() if e.status == ex.status]
        if len(same_status) == 1:
            return same_status[0]
        return "bad_request" if ex.status == 400 else f"undocumented-{ex.status}"

    def _data(self, body: Any) -> dict[str, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else {}

    def task_id(self, ex: Exchange) -> str | None:
        found = self._data(ex.json).get("task_id") if ex.status == 200 else None
        return found if isinstance(found, str) else None

    def state(self, ex: Exchange) -> str | None:
        if ex.status == 404 and self.error_code(ex) == "not_found":
            return GONE
        found = self._data(ex.json).get("state") if ex.status == 200 else None
        return str(found) if isinstance(found, int) and not isinstance(found, bool) else None

    def has_results(self, ex: Exchange) -> bool:
        return bool(self._data(ex.json).get("image"))

    def invisible(self, ex: Exchange) -> bool:
        return self.state(ex) == GONE

    def callback_matches(self, final: Exchange, payload: Any) -> bool:
        """INFERRED: the callback is the finished query answer."""
        return isinstance(payload, dict) and payload.get("data") == self._data(final.json)

    # --- probes -------------------------------------------------------------------------------

    def auth_probes(self) -> list[Probe]:
        body = self.example_body()
        refused = Expect(401, frozenset({"unauthorized"}))
        return [
            Probe("no-key", self.submit_op, refused, body, sign=False),
            Probe("malformed-scheme", self.submit_op, refused, body,
                  headers={"Authorization": "sk-without-scheme"}, sign=False),
            Probe("invalid-key", self.submit_op, refused, body,
                  credentials=Credentials("bad", ("invalid-token",))),
            Probe("poll-no-key", self.poll_op, refused, sign=False,
                  path_params={"task_id": self.unknown_task_id()}),
        ]

    def extra_probes(self) -> list[Probe]:
        body = self.example_body()

        def refused(code: str) -> Expect:
            return Expect(400, frozenset({code}))

        return [
            Probe("no-image", self.submit_op, refused("image_missing"),
                  {k: v for k, v in body.items() if k != "image_url"}),
            Probe("uppercase-x-size", self.submit_op, refused("invalid_size"),
                  {**body, "size": "295X413"}),
            Probe("size-out-of-range", self.submit_op, refused("invalid_size"),
                  {**body, "size": "99x413"}),
            Probe("json-instead-of-form", self.submit_op,
                  Expect(400, frozenset({"invalid_content_type", "bad_request"})), b'{"size": "1x1"}',
                  headers={"Content-Type": "application/json"}),
            Probe("unknown-task", self.poll_op, Expect(404, frozenset({"not_found"})),
                  path_params={"task_id": self.unknown_task_id()}),
        ]

    def validation_expect(self, violation_kind: str, path: tuple[str | int, ...]) -> Expect:
        field = str(path[0]) if path else ""
        if field == "image_url" and violation_kind in ("too-short", "missing"):
            return Expect(400, frozenset({"image_missing"}))
        code = FIELD_CODES.get(field, "bad_request")
        return Expect(400, frozenset({code, "bad_request"}))

    def unknown_path(self) -> str | None:
        return None  # `/task/{anything}` is the query route; nothing else is gpt.ge's


ADAPTER = GptGeAdapter
