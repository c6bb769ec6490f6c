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
import json
import os
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from mockserver.core.tasks import State
from mockserver.web import Reply

if TYPE_CHECKING:
    from mockserver.core.tasks import Task
    from mockserver.emulator import Emulator
    from mockserver.web import Call

ENV = "MOCKSERVER_MUTATIONS"
PLUGIN = "contract_tests.mutations:install"

Edit = Callable[[Any], Any]  # body -> new body (gets a deep copy, may edit in place)
Installer = Callable[["Emulator"], "list[BaseRoute] | None"]


@dataclass(frozen=True)
class Mutant:
    name: str
    vendor: str
    drift: str  # the real-world change this mutant stands for
    install: Installer


MUTANTS: dict[str, Mutant] = {}


def register(name: str, vendor: str, drift: str, install: Installer) -> None:
    if name in MUTANTS:
        raise ValueError(f"mutant {name!r} registered twice")
    MUTANTS[name] = Mutant(name, vendor, drift, install)


def install(emulator: Emulator) -> list[BaseRoute]:
    """The plugin: switch on every mutant named in env `MOCKSERVER_MUTATIONS` (comma-separated;
    an unknown name is a configuration error). Returns the routes mutants add (answers for
    paths no vendor route takes)."""
    routes: list[BaseRoute] = []
    for name in filter(None, (n.strip() for n in os.environ.get(ENV, "").split(","))):
        if name not in MUTANTS:
            raise ValueError(f"unknown mutation {name!r}; see contract_tests/mutations.py")
        routes += MUTANTS[name].install(emulator) or []
    return routes


# --- building blocks ------------------------------------------------------------------------

def is_error(reply: Reply) -> bool:
    """Error envelopes name an error schema (Tencent answers its errors with HTTP 200)."""
    return reply.status >= 400 or bool(reply.schema and reply.schema.endswith("error"))


def is_json(reply: Reply) -> bool:
    return not isinstance(reply.body, bytes) and reply.media_type.startswith("application/json")


Predicate = Callable[["Call", Reply], bool]


def on_replies(vendor: str, when: Predicate, change: Callable[[Call, Reply], Reply]) -> Installer:
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
CallTest = Callable[["Call"], bool]
_CALL: ContextVar[Call | None] = ContextVar("mutated_call", default=None)


def remember_calls(emulator: Emulator) -> None:
    """An interceptor that notes the vendor call being handled, so a task view can apply to
    one read path only (a contextvar: background work started by a submit keeps its own)."""
    if emulator.features.get("mutations.calls"):
        return

    async def note(call: Call) -> Reply | None:
        _CALL.set(call)
        return None

    emulator.pipeline.interceptors.insert(0, note)
    emulator.features["mutations.calls"] = True


def during(operations: Iterable[str], test: CallTest | None = None) -> CallTest:
    """Calls of these operations (and passing `test`)."""
    wanted = frozenset(operations)
    return lambda call: call.operation in wanted and (test is None or test(call))


def body_field(call: Call, name: str) -> Any:
    try:
        doc = json.loads(call.body)
    except ValueError:
        return None
    return doc.get(name) if isinstance(doc, dict) else None


def on_task_view(vendor: str, view: TaskView, when: CallTest | None = None) -> Installer:
    """Wrap the store's `get_task` so `vendor`'s tasks are seen through `view` (never stored),
    during every read or only during the calls `when` accepts."""
    def install(emulator: Emulator) -> None:
        store, clock = emulator.store, emulator.clock
        original_get, original_put = store.get_task, store.put_task
        if when is not None:
            remember_calls(emulator)

        def get_task(task_id: str) -> Task | None:
            task = original_get(task_id)
            if task is None or task.vendor != vendor:
                return task
            if when is not None and not ((call := _CALL.get()) is not None and when(call)):
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


def runs_again() -> TaskView:
    """A finished task, once read as finished, is read as running again afterwards."""
    finished: set[str] = set()

    def view(task: Task, now: float) -> Task:
        if task.state_at(now) not in (State.SUCCEEDED, State.FAILED):
            return task
        if task.id not in finished:
            finished.add(task.id)
            return task
        return dataclasses.replace(task, end_at=now + 600.0)

    return view


def never_running(task: Task, now: float) -> Task:
    """Queued until it is done: the running state is never seen."""
    if task.state_at(now) is State.RUNNING and task.end_at is not None:
        return dataclasses.replace(task, start_at=task.end_at)
    return task


def never_ends(task: Task, now: float) -> Task:
    """Running for ever (and so never expiring either)."""
    if task.state_at(now) in (State.SUCCEEDED, State.FAILED, State.EXPIRED) \
            and task.end_at is not None:
        return dataclasses.replace(task, end_at=now + 3600.0)
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


def on_callback(vendor: str, edit: Edit | None, schema: str | None = None) -> Installer:
    """Wrap the provider's `callback_body` so the payload it POSTs is edited, or (None) not
    sent at all. `schema` replaces the schema the mock checks the payload against before it
    sends it (a permissive one lets an invalid payload out, as a drifting vendor would)."""
    def install(emulator: Emulator) -> None:
        provider = emulator.providers[vendor]
        original = provider.callback_body

        def callback_body(task: Task) -> tuple[dict[str, object], str] | None:
            found = original(task)
            if found is None or edit is None:
                return None
            return edit(copy.deepcopy(found[0])), schema or found[1]

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
# A field of each error envelope besides the code (schemas/<vendor>/error.schema.json).
ERROR_ENVELOPE_FIELDS = {
    "dashscope": "request_id",
    "acedata": "error.message",
    "tencent": "Response.RequestId",
    "gptge": "status",
}
# The read paths that answer a task's state.
POLL_OPERATIONS = {"dashscope": "query_task", "acedata": "tasks", "tencent": "QueryGlamPicJob",
                   "gptge": "query_task"}


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
    register(f"{vendor}.content-type-text", vendor,
             "JSON answers are labelled text/plain",
             on_replies(vendor, lambda call, reply: True, media_type("text/plain; charset=utf-8")))
    register(f"{vendor}.error-envelope-field-missing", vendor,
             f"error envelopes lose {ERROR_ENVELOPE_FIELDS[vendor]}",
             on_replies(vendor, error(), edit_body(drop(ERROR_ENVELOPE_FIELDS[vendor]))))
    register(f"{vendor}.finished-runs-again", vendor,
             "a finished task is reported as running again on a later poll",
             on_task_view(vendor, runs_again(), during([POLL_OPERATIONS[vendor]])))


for _vendor in ERROR_CODE_PATHS:
    _generic(_vendor)


from . import vendor_mutations  # noqa: E402,F401 - registers the vendor-specific mutants
