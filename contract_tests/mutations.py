"""Deliberate deviations ("mutants") that the contract kit must catch: its mutation self-test.

Each mutant stands for one way a vendor could drift from what the schemas and catalogues say:
a renamed field, a wrong type, a missing key, an unexpected status, another error code, a state
word or transition that is not documented, a foreign task that leaks, a wrong callback body.
They live here, on the kit's side, and reach a mock only through the extension points any user
has: the plugin `contract_tests.mutations:install` (`Settings.plugins`) switches on the mutants
named in env `MOCKSERVER_MUTATIONS=a,b`. Most are reply filters (`emulator.pipeline`, run after
every handler); the state-level ones wrap the store's `get_task`, which is the task view every
handler reads.

`contract_tests/mutation_score.py` runs the kit once per mutant and reports the survivors.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from mockserver.web import Reply

if TYPE_CHECKING:
    from mockserver.core.tasks import Task
    from mockserver.emulator import Emulator
    from mockserver.web import Call

ENV = "MOCKSERVER_MUTATIONS"
PLUGIN = "contract_tests.mutations:install"

Edit = Callable[[Any], Any]  # body -> new body (gets a deep copy, may edit in place)


@dataclass(frozen=True)
class Mutant:
    name: str
    vendor: str
    drift: str  # the real-world change this mutant stands for
    install: Callable[[Emulator], None]


MUTANTS: dict[str, Mutant] = {}


def register(name: str, vendor: str, drift: str, install: Callable[[Emulator], None]) -> None:
    if name in MUTANTS:
        raise ValueError(f"mutant {name!r} registered twice")
    MUTANTS[name] = Mutant(name, vendor, drift, install)


def install(emulator: Emulator) -> list[BaseRoute]:
    """The plugin: switch on every mutant named in env `MOCKSERVER_MUTATIONS` (comma-separated;
    an unknown name is a configuration error). It adds no routes."""
    for name in filter(None, (n.strip() for n in os.environ.get(ENV, "").split(","))):
        if name not in MUTANTS:
            raise ValueError(f"unknown mutation {name!r}; see contract_tests/mutations.py")
        MUTANTS[name].install(emulator)
    return []


# --- building blocks ------------------------------------------------------------------------

def is_error(reply: Reply) -> bool:
    """Error envelopes name an error schema (Tencent answers its errors with HTTP 200)."""
    return reply.status >= 400 or bool(reply.schema and reply.schema.endswith("error"))


def is_json(reply: Reply) -> bool:
    return not isinstance(reply.body, bytes) and reply.media_type.startswith("application/json")


Predicate = Callable[["Call", Reply], bool]


def on_replies(vendor: str, when: Predicate, change: Callable[[Call, Reply], Reply]) -> Callable[[Emulator], None]:
    """An installer adding a reply filter for `vendor` that applies `change` where `when` holds."""
    def reply_filter(call: Call, reply: Reply) -> Reply:
        if call.vendor != vendor or not is_json(reply) or not when(call, reply):
            return reply
        return change(call, reply)

    def install(emulator: Emulator) -> None:
        emulator.pipeline.reply_filters.append(reply_filter)

    return install


def edit_body(edit: Edit) -> Callable[[Call, Reply], Reply]:
    def change(call: Call, reply: Reply) -> Reply:
        return dataclasses.replace(reply, body=edit(copy.deepcopy(reply.body)))
    return change


def set_status(status: Callable[[int], int]) -> Callable[[Call, Reply], Reply]:
    def change(call: Call, reply: Reply) -> Reply:
        return dataclasses.replace(reply, status=status(reply.status))
    return change


def success(operations: Iterable[str] | None = None) -> Predicate:
    ops = None if operations is None else frozenset(operations)
    return lambda call, reply: not is_error(reply) and (ops is None or call.operation in ops)


def error(codes: Iterable[str] | None = None, path: str = "") -> Predicate:
    wanted = None if codes is None else frozenset(codes)
    return lambda call, reply: is_error(reply) and (
        wanted is None or get_path(reply.body, path) in wanted)


def get_path(body: Any, path: str) -> Any:
    for key in path.split(".") if path else ():
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _parent(body: Any, path: str) -> tuple[dict[str, Any] | None, str]:
    *parents, last = path.split(".")
    node = get_path(body, ".".join(parents))
    return (node if isinstance(node, dict) else None), last


def rename(path: str, new_name: str) -> Edit:
    def edit(body: Any) -> Any:
        node, key = _parent(body, path)
        if node is not None and key in node:
            node[new_name] = node.pop(key)
        return body
    return edit


def drop(path: str) -> Edit:
    def edit(body: Any) -> Any:
        node, key = _parent(body, path)
        if node is not None:
            node.pop(key, None)
        return body
    return edit


def replace_value(path: str, value: Callable[[Any], Any]) -> Edit:
    def edit(body: Any) -> Any:
        node, key = _parent(body, path)
        if node is not None and key in node:
            node[key] = value(node[key])
        return body
    return edit


def rename_first_key(body: Any) -> Any:
    if isinstance(body, dict) and body:
        first = next(iter(body))
        body = {(f"{k}_v2" if k == first else k): v for k, v in body.items()}
    return body


# --- state-level building blocks: a filter over the task view every handler reads -----------

TaskView = Callable[["Task", float], "Task"]


def on_task_view(vendor: str, view: TaskView) -> Callable[[Emulator], None]:
    """Wrap the store's `get_task` so `vendor`'s tasks are seen through `view` (never stored)."""
    def install(emulator: Emulator) -> None:
        store, clock = emulator.store, emulator.clock
        original_get, original_put = store.get_task, store.put_task

        def get_task(task_id: str) -> Task | None:
            task = original_get(task_id)
            if task is None or task.vendor != vendor:
                return task
            return view(task, clock.now())

        def put_task(task: Task) -> None:  # what handlers write back must stay unmutated
            original_put(dataclasses.replace(task, account=str(task.account)))

        store.get_task = get_task  # type: ignore[method-assign]
        store.put_task = put_task  # type: ignore[method-assign]

    return install


class _Anyone(str):
    """An account name equal to every other: a foreign task passes the ownership check."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    def __ne__(self, other: object) -> bool:
        return not isinstance(other, str)

    __hash__ = str.__hash__


def leak_foreign(task: Task, now: float) -> Task:
    return dataclasses.replace(task, account=_Anyone(task.account))


def resume_canceled(task: Task, now: float) -> Task:
    """A canceled task carries on with its old schedule a second after the cancel."""
    if task.canceled_at is not None and now >= task.canceled_at + 1.0:
        return dataclasses.replace(task, canceled_at=None)
    return task


def flap_after(done_word: str, path: str, make_unfinished: Edit) -> Callable[[Call, Reply], Reply]:
    """Report `done_word` once, then the unfinished view of that task on the next query."""
    seen: set[str] = set()

    def change(call: Call, reply: Reply) -> Reply:
        if get_path(reply.body, path) != done_word or call.task_id is None:
            return reply
        if call.task_id not in seen:
            seen.add(call.task_id)
            return reply
        return dataclasses.replace(reply, body=make_unfinished(copy.deepcopy(reply.body)))

    return change


def fake_acceptance(body: Callable[[Call], Any], schema: str) -> Callable[[Call, Reply], Reply]:
    """Answer an error as if the request had been accepted (the vendor became lenient)."""
    def change(call: Call, reply: Reply) -> Reply:
        return Reply(200, body(call), schema)
    return change


def on_callback(vendor: str, edit: Edit) -> Callable[[Emulator], None]:
    """Wrap the provider's `callback_body` so the payload it POSTs is edited (still valid)."""
    def install(emulator: Emulator) -> None:
        provider = emulator.providers[vendor]
        original = provider.callback_body

        def callback_body(task: Task) -> tuple[dict[str, object], str] | None:
            found = original(task)
            return None if found is None else (edit(copy.deepcopy(found[0])), found[1])

        provider.callback_body = callback_body  # type: ignore[method-assign]

    return install


def media_type(value: str) -> Callable[[Call, Reply], Reply]:
    return lambda call, reply: dataclasses.replace(reply, media_type=value)


def _random_id(_: Any) -> str:
    return str(uuid.uuid4())


# --- generic mutants, one set per vendor ----------------------------------------------------

# Where each vendor's error envelope carries its code (see schemas/<vendor>/error*.schema.json).
ERROR_CODE_PATHS = {
    "dashscope": "code",
    "acedata": "error.code",
    "tencent": "Response.Error.Code",
    "gptge": "message",  # gpt.ge errors carry no code; the message stands for it
}


def _generic(vendor: str) -> None:
    code_path = ERROR_CODE_PATHS[vendor]
    register(f"{vendor}.success-first-key-renamed", vendor,
             "the first field of every success body is renamed",
             on_replies(vendor, success(), edit_body(rename_first_key)))
    register(f"{vendor}.success-status-201", vendor,
             "success answers come with HTTP 201 instead of the documented status",
             on_replies(vendor, success(), set_status(lambda s: 201)))
    register(f"{vendor}.error-status-changed", vendor,
             "error envelopes come with another HTTP status than the catalogue's",
             on_replies(vendor, error(), set_status(lambda s: 200 if s >= 400 else 400)))
    register(f"{vendor}.error-code-changed", vendor,
             "every error code is renamed (not in the catalogue any more)",
             on_replies(vendor, error(), edit_body(replace_value(code_path, lambda c: f"{c}.V2"))))
    register(f"{vendor}.foreign-task-visible", vendor,
             "one account can see another account's tasks",
             on_task_view(vendor, leak_foreign))


for _vendor in ERROR_CODE_PATHS:
    _generic(_vendor)


# --- DashScope ------------------------------------------------------------------------------

def _dashscope_running(body: Any) -> Any:
    output = body["output"]
    keep = {k: output[k] for k in ("task_id", "submit_time", "scheduled_time") if k in output}
    return {"request_id": body["request_id"],
            "output": {**keep, "task_status": "RUNNING",
                       "task_metrics": {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 0}}}


def _dashscope_accepted(call: Call) -> dict[str, Any]:
    return {"output": {"task_id": str(uuid.uuid4()), "task_status": "PENDING"},
            "request_id": call.request_id}


def _dashscope_status(word: str) -> Predicate:
    return lambda call, reply: get_path(reply.body, "output.task_status") == word


DS = "dashscope"
register("dashscope.task-id-renamed", DS, "submit answers output.taskId instead of output.task_id",
         on_replies(DS, success(["gen_potrait"]), edit_body(rename("output.task_id", "taskId"))))
register("dashscope.request-id-missing", DS, "submit answers lose the required request_id",
         on_replies(DS, success(["gen_potrait"]), edit_body(drop("request_id"))))
register("dashscope.metrics-wrong-type", DS, "RUNNING task_metrics.TOTAL becomes a string",
         on_replies(DS, _dashscope_status("RUNNING"),
                    edit_body(replace_value("output.task_metrics.TOTAL", str))))
register("dashscope.status-word-changed", DS, "SUCCEEDED is reported as SUCCESS",
         on_replies(DS, _dashscope_status("SUCCEEDED"),
                    edit_body(replace_value("output.task_status", lambda s: "SUCCESS"))))
register("dashscope.time-format-changed", DS, "submit_time switches to ISO 8601 with a T",
         on_replies(DS, success(["query_task"]),
                    edit_body(replace_value("output.submit_time", lambda t: t.replace(" ", "T")))))
register("dashscope.results-while-running", DS, "RUNNING tasks already list result URLs",
         on_replies(DS, _dashscope_status("RUNNING"), edit_body(
             replace_value("output", lambda o: {**o, "results": [{"url": "http://x/0.jpg"}]}))))
register("dashscope.unknown-task-404", DS, "unknown task ids answer 404 NotFound, not UNKNOWN",
         on_replies(DS, _dashscope_status("UNKNOWN"), lambda call, reply: Reply(
             404, {"code": "NotFound", "message": "Not found!", "request_id": call.request_id},
             "dashscope/error")))
register("dashscope.cancel-running-accepted", DS,
         "cancel of a task that is no longer PENDING is acknowledged (and ignored)",
         on_replies(DS, lambda call, reply: call.operation == "cancel_task" and get_path(
             reply.body, "code") == "UnsupportedOperation",
                    lambda call, reply: Reply(200, {"request_id": call.request_id},
                                              "dashscope/cancel-response")))
register("dashscope.canceled-resumes", DS, "a CANCELED task later runs after all",
         on_task_view(DS, resume_canceled))
register("dashscope.succeeded-flaps-back", DS, "a SUCCEEDED task is reported RUNNING again",
         on_replies(DS, success(["query_task"]),
                    flap_after("SUCCEEDED", "output.task_status", _dashscope_running)))
register("dashscope.lenient-validation", DS, "invalid parameters are accepted as a task",
         on_replies(DS, error(["InvalidParameter"], "code"),
                    fake_acceptance(_dashscope_accepted, "dashscope/submit-response")))
register("dashscope.async-header-optional", DS, "submit without X-DashScope-Async is accepted",
         on_replies(DS, error(["AccessDenied"], "code"),
                    fake_acceptance(_dashscope_accepted, "dashscope/submit-response")))
register("dashscope.failed-usage-renamed", DS,
         "FAILED tasks report usage.image_total, neither image_count nor image_num",
         on_replies(DS, _dashscope_status("FAILED"),
                    edit_body(rename("usage.image_count", "image_total"))))
register("dashscope.auth-code-changed", DS, "a bad API key answers 403 AccessDenied",
         on_replies(DS, error(["InvalidApiKey"], "code"), lambda call, reply: dataclasses.replace(
             reply, status=403, body={**reply.body, "code": "AccessDenied"})))


# --- Tencent --------------------------------------------------------------------------------

TC = "tencent"


def _tencent_error(code: str) -> Predicate:
    return lambda call, reply: get_path(reply.body, "Response.Error.Code") == code


def _tencent_done(call: Call, reply: Reply) -> bool:
    return get_path(reply.body, "Response.JobStatusCode") == "5"


register("tencent.status-code-int", TC, "JobStatusCode becomes a number instead of a string",
         on_replies(TC, success(["QueryGlamPicJob"]),
                    edit_body(replace_value("Response.JobStatusCode", int))))
register("tencent.content-type-charset", TC,
         "answers say application/json; charset=utf-8 (the SDK then ignores errors)",
         on_replies(TC, lambda call, reply: True, media_type("application/json; charset=utf-8")))
register("tencent.request-id-renamed", TC, "RequestId is spelled RequestID in success answers",
         on_replies(TC, success(), edit_body(rename("Response.RequestId", "RequestID"))))
register("tencent.job-not-exist-renamed", TC, "unknown jobs answer ResourceNotFound",
         on_replies(TC, _tencent_error("FailedOperation.JobNotExist"), edit_body(replace_value(
             "Response.Error.Code", lambda c: "ResourceNotFound"))))
register("tencent.signature-not-checked", TC, "a forged signature is answered as a valid request",
         on_replies(TC, _tencent_error("AuthFailure.SignatureFailure"), edit_body(replace_value(
             "Response.Error.Code", lambda c: "FailedOperation.JobNotExist"))))
register("tencent.failed-without-error", TC, "failed jobs leave JobErrorCode empty",
         on_replies(TC, lambda call, reply: get_path(reply.body, "Response.JobStatusCode") == "4",
                    edit_body(replace_value("Response.JobErrorCode", lambda c: ""))))
register("tencent.done-without-results", TC, "finished jobs list no result images",
         on_replies(TC, _tencent_done, edit_body(replace_value("Response.ResultImage",
                                                               lambda r: []))))

# --- AceData --------------------------------------------------------------------------------

AD = "acedata"
register("acedata.trace-id-missing", AD, "async generate answers lose trace_id",
         on_replies(AD, success(["generate"]), edit_body(drop("trace_id"))))
register("acedata.created-at-string", AD, "task records give created_at as a string",
         on_replies(AD, success(["tasks"]), edit_body(replace_value("created_at", str))))
register("acedata.unknown-task-empty-200", AD, "unknown task ids answer 200 with an empty record",
         on_replies(AD, error(["not_found"], "error.code"),
                    lambda call, reply: Reply(200, {}, "acedata/task-pending")))
register("acedata.photo-url-renamed", AD, "finished photos carry url instead of image_url",
         on_replies(AD, success(["tasks"]), edit_body(
             lambda body: _rename_in_list(body, "response.data", "image_url", "url"))))
register("acedata.callback-wrong-task", AD, "callbacks name another task id",
         on_callback(AD, replace_value("task_id", _random_id)))

# --- gpt.ge ---------------------------------------------------------------------------------

GG = "gptge"
register("gptge.state-as-string", GG, "data.state becomes a string",
         on_replies(GG, success(["query_task"]), edit_body(replace_value("data.state", str))))
register("gptge.image-renamed", GG, "finished tasks name their result image_url, not image",
         on_replies(GG, success(["query_task"]), edit_body(rename("data.image", "image_url"))))
register("gptge.unknown-task-200", GG, "unknown task ids answer 200 with data null",
         on_replies(GG, lambda call, reply: reply.status == 404, lambda call, reply: Reply(
             200, {"status": 200, "data": None}, "gptge/task-queued")))
register("gptge.lenient-size", GG, "an out-of-range size is accepted",
         on_replies(GG, lambda call, reply: is_error(reply) and "size" in str(
             get_path(reply.body, "message")).lower(), fake_acceptance(
             lambda call: {"status": 200, "data": {"task_id": str(uuid.uuid4())}},
             "gptge/create-response")))
register("gptge.callback-wrong-task", GG, "callbacks name another task id",
         on_callback(GG, replace_value("data.task_id", _random_id)))


def _rename_in_list(body: Any, path: str, old: str, new: str) -> Any:
    for item in get_path(body, path) or []:
        if isinstance(item, dict) and old in item:
            item[new] = item.pop(old)
    return body
