"""Fault injection: rules that make one vendor misbehave on purpose, on the request the test wants.

A rule matches a vendor, optionally an operation, an account and body fields, and has one effect:

- `error`: answer with a code from the vendor's catalogue, in the vendor's own envelope;
- `fail_task`: the task is created, then ends FAILED with the vendor's failure code;
- `stall`: the task is created and stays queued until the rule is removed;
- `latency`: wait real seconds (fixed or a seeded range), then answer normally;
- `drop`: close the connection without an answer;
- `callback_fail`: the callback delivery for a matching task fails (recorded as injected).

A rule fires `times` times (or until removed) with a seeded `probability`, so a chaos run
repeats exactly. Rules are parsed and checked in `fault_rules.py`; `install_faults` hooks them
into an emulator and serves `/__admin/faults` (add, list, remove).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.errors import VendorError
from ..core.journal import request_document
from ..core.rulebook import RuleBook
from ..core.tasks import Task, Timing
from ..emulator import Emulator
from ..providers.base import Provider
from ..web import Call, Reply
from .admin import read_json
from .fault_rules import (
    DELIVERY_EFFECTS,
    REQUEST_EFFECTS,
    TASK_EFFECTS,
    Facts,
    FaultError,
    FaultRule,
    parse_rule,
)
from .quiet_log import quiet_server_logs

# The call being answered, so a creation hook (which sees only the task) knows its operation.
_current_call: ContextVar[Call | None] = ContextVar("mockserver_fault_call", default=None)


class ConnectionDropped(BaseException):
    """Raised to end a request without an answer. A BaseException on purpose: the vendor
    wrapper turns any Exception into the vendor's internal error, which is an answer."""

    logged = False  # set once a log line has reported it (the access log)


class Faults:
    """The rules of one emulator, and the hooks that apply them. Rules, their counters and
    the tasks they stall live in the store (core/rulebook.py): shared by every instance."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.book: RuleBook[FaultRule] = RuleBook(emulator.store, emulator.shared, self._parse)

    def _parse(self, doc: Mapping[str, Any], rule_id: str) -> FaultRule:
        rule = parse_rule(doc, rule_id, self.emulator.providers)
        rule.book = self.book
        return rule

    # --- managing rules -----------------------------------------------------------------

    def add(self, doc: Mapping[str, Any], standing: str | None = None) -> FaultRule:
        rule = parse_rule(doc, "new", self.emulator.providers)  # refuse a bad rule first
        rule_id = self.book.add(doc, rule.limit, standing=standing)
        return self.get(rule_id) or self._parse(doc, rule_id)

    def load_standing(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Rules from the config's `[[faults]]` tables; a bad one stops the start-up. Added once
        per store, however many workers start on it."""
        listed = list(docs)
        for index, doc in enumerate(listed):
            try:
                parse_rule(doc, "new", self.emulator.providers)
            except FaultError as error:
                raise FaultError(f"[[faults]] entry {index + 1}: {error}") from None
        self.book.load_standing(listed, lambda doc, standing: self.add(doc, standing))

    def rules(self) -> list[FaultRule]:
        return [rule for _, rule in self.book.rules()]

    def get(self, rule_id: str) -> FaultRule | None:
        return next((rule for found, rule in self.book.rules() if found == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        """Remove a rule; tasks it stalled are released into the queue at once."""
        removed = self.book.remove(rule_id)
        for task_id, slots in list(self.book.release_held(rule_id)):
            task = self.emulator.store.get_task(task_id)
            if task is not None and task.start_at is None and task.canceled_at is None:
                self.emulator.engine.release(task, slots)
        return removed

    def clear(self) -> int:
        ids = [r.id for r in self.rules()]
        for rule_id in ids:
            self.remove(rule_id)
        return len(ids)

    def reset(self) -> None:
        """Back to the configured state: API rules gone (the store was cleared), standing
        rules fresh (same seeds)."""
        self.load_standing(self.emulator.settings.faults)

    # --- selection ------------------------------------------------------------------------

    def fire(self, facts: Facts, effects: tuple[str, ...]) -> list[FaultRule]:
        """Every rule with one of `effects` that matches `facts` and fires, in creation order."""
        return [r for r in self.rules()
                if r.effect in effects and r.matches(facts) and r.try_fire()]

    def check_delivery(self, record: Mapping[str, Any]) -> str | None:
        """Callback-dispatcher hook: why this delivery attempt fails (a rule fired), or None.
        Rules match the vendor and the task's account and request body."""
        task = self.emulator.store.get_task(str(record.get("task_id")))
        facts = Facts(str(record.get("vendor")), None, task.account if task else None,
                      task.request if task else None)
        fired = self.fire(facts, DELIVERY_EFFECTS)
        return f"injected delivery failure (fault {fired[0].id})" if fired else None

    # --- hooks ------------------------------------------------------------------------------

    async def intercept(self, call: Call) -> Reply | None:
        """Runs before every vendor handler: latency, then an injected error or a drop."""
        _current_call.set(call)
        candidates = [r for r in self.rules()
                      if r.vendor == call.vendor and r.effect in REQUEST_EFFECTS]
        if not candidates:
            return None
        # Parse the body (maybe a large upload) only when some rule looks into it.
        body = request_document(call.request.headers.get("content-type", ""), call.body) \
            if any(r.body for r in candidates) else None
        key = self.emulator.claimed_account(call.request.headers, call.vendor)
        account = self.emulator.auth.account_of(call.vendor, key)
        facts = Facts(call.vendor, call.operation, account, body, key)
        fired = self.fire(facts, REQUEST_EFFECTS)
        if not fired:
            return None
        _mark(call, fired)
        call.account = call.account or account  # the journal names who was answered
        delay = sum(r.pick_latency() for r in fired if r.effect == "latency")
        if delay:
            call.note["fault_latency_seconds"] = round(delay, 3)
            await anyio.sleep(delay)
        final = next((r for r in fired if r.effect in ("error", "drop")), None)
        if final is None:
            return None
        if final.effect == "drop":
            await drop_connection(call, final, account)
        assert final.code is not None
        call.note["error_code"] = final.code
        return call.provider.error_reply(VendorError(final.code, final.message), call)

    def on_task_created(self, task: Task, timing: Timing) -> None:
        """Creation hook: make the new task fail or stall when a rule says so."""
        if not self.book.rules():  # no rule at all: nothing to look up
            return
        call = _current_call.get()
        if call is not None and call.vendor != task.vendor:
            call = None
        body = task.request or (request_document(
            call.request.headers.get("content-type", ""), call.body) if call else None)
        facts = Facts(task.vendor, call.operation if call else None, task.account, body,
                      call.api_key if call else None)
        fired = self.fire(facts, TASK_EFFECTS)
        if not fired:
            return
        if call is not None:
            _mark(call, fired)
        rule = fired[0]
        if rule.effect == "stall":
            task.start_at = task.end_at = None
            self.book.hold(task.id, rule.id, timing.concurrency)
            return
        assert rule.code is not None
        provider = self.emulator.providers[task.vendor]
        task.outcome, task.error_code = "failed", rule.code
        task.error_message = rule.message if rule.message is not None else _catalogue_message(
            provider, rule.code)


def _mark(call: Call, fired: list[FaultRule]) -> None:
    call.injected = True
    call.note.setdefault("faults", []).extend({"rule": r.id, "effect": r.effect} for r in fired)


def _catalogue_message(provider: Provider, code: str) -> str | None:
    entry = provider.catalogue.entries.get(code)
    return entry.message if entry else None


async def drop_connection(call: Call, rule: FaultRule, account: str | None) -> None:
    """Journal the drop, then end the request so the server closes the socket unanswered.

    ASGI has no "abort": a server answers 500 to an app that fails before starting a response.
    So we start one the server cannot encode (status 0): it marks the response started,
    refuses to write it, and on the exception that follows closes the connection with zero
    bytes sent. In-process the exception reaches the client call itself.
    """
    request = call.request
    call.runtime.journal.record(
        time=call.now, vendor=call.vendor, operation=call.operation,
        account=account, method=request.method, path=request.url.path,
        query=request.url.query, headers=dict(request.headers),
        body=request_document(request.headers.get("content-type", ""), call.body),
        status=0, response=None, task_id=call.task_id, injected=True, note=call.note,
    )
    try:
        await request._send({"type": "http.response.start", "status": 0, "headers": []})
    except Exception:  # the server refused the unencodable start, as intended
        pass
    raise ConnectionDropped(f"fault {rule.id}: connection dropped without an answer")




def install_faults(emulator: Emulator) -> list[BaseRoute]:
    """Fault injection for one emulator: before every handler, on every new task, on every
    callback delivery; standing rules from the config; the admin routes."""
    faults = Faults(emulator)
    emulator.features["faults"] = faults
    emulator.pipeline.interceptors.append(faults.intercept)
    emulator.engine.creation_hooks.append(faults.on_task_created)
    emulator.callbacks.delivery_faults.append(faults.check_delivery)
    emulator.resetters.append(faults.reset)
    faults.load_standing(emulator.settings.faults)
    quiet_server_logs(ConnectionDropped)  # an injected drop is logged as one line, not an ERROR traceback
    return fault_routes(faults)


def fault_routes(faults: Faults) -> list[BaseRoute]:

    async def add(request: Request) -> Response:
        doc = await read_json(request)
        if isinstance(doc, Response):
            return doc
        try:
            rule = faults.add(doc)
        except FaultError as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(rule.to_dict(), 201)

    async def listing(request: Request) -> Response:
        rules = [r.to_dict() for r in faults.rules()]
        return JSONResponse({"faults": rules, "count": len(rules)})

    async def remove_all(request: Request) -> Response:
        return JSONResponse({"removed": faults.clear()})

    async def one(request: Request) -> Response:
        rule_id = request.path_params["rule_id"]
        rule = faults.get(rule_id)
        if rule is None:
            return JSONResponse({"error": f"no fault rule {rule_id!r}"}, 404)
        if request.method == "DELETE":
            faults.remove(rule_id)
            return JSONResponse({"removed": 1, "rule": rule.to_dict()})
        return JSONResponse(rule.to_dict())

    return [
        Route("/__admin/faults", add, methods=["POST"]),
        Route("/__admin/faults", listing, methods=["GET"]),
        Route("/__admin/faults", remove_all, methods=["DELETE"]),
        Route("/__admin/faults/{rule_id}", one, methods=["GET", "DELETE"]),
    ]
