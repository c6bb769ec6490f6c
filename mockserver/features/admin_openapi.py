"""The OpenAPI 3.1 document of the admin API (`GET /__admin/openapi/admin.json`): every route
under `/__admin`, its parameters, its body and its answers.

The routes themselves live in the admin, journal, faults, callbacks and openapi features; this
module describes them. `tests/ecosystem/test_admin_openapi.py` fails when a route is missing
here or an answer breaks the schema given for it. Shapes that mirror a data class (a task, a
journal entry) are derived from the class, so a new field cannot be forgotten.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..core.journal import QUERY_FIELDS, Entry
from ..core.tasks import State, Task
from .fault_rules import rule_schema
from .openapi_tooling import LICENSE

JSON = "application/json"
REF = "#/components/schemas/"
DEFAULT_URL = "http://127.0.0.1:8000"
_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
    "bool": {"type": "boolean"}, "Any": {}, "dict[str, Any]": {"type": "object"},
    "dict[str, str]": {"type": "object", "additionalProperties": {"type": "string"}},
}


def _annotation(text: str) -> dict[str, Any]:
    """`str | None` -> {"type": ["string", "null"]} (the annotations of plain data classes)."""
    parts = [p.strip() for p in text.split("|")]
    schema = dict(_SCALARS[next(p for p in parts if p != "None")])
    if "None" in parts and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    return schema


def dataclass_schema(cls: type, **extra: dict[str, Any]) -> dict[str, Any]:
    props = {f.name: _annotation(str(f.type)) for f in dataclasses.fields(cls)
             if not f.name.startswith("_")}
    props.update(extra)
    return {"type": "object", "required": sorted(props), "properties": props}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _object(required: Sequence[str] = (), **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


NUMBER, STRING, INTEGER, BOOLEAN = ({"type": t} for t in ("number", "string", "integer", "boolean"))
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_STRING = {"type": ["string", "null"]}


def _components(vendors: Sequence[str]) -> dict[str, Any]:
    attempt = _object(
        ["attempt", "manual", "time", "url", "ok", "status_code", "error", "duration_ms"],
        attempt=INTEGER, manual=BOOLEAN, time=NUMBER, url=STRING, ok=BOOLEAN,
        status_code={"type": ["integer", "null"]}, error=NULLABLE_STRING, duration_ms=NUMBER,
        injected=BOOLEAN, payload={"description": "the body POSTed"}, schema=STRING)
    statuses = {"enum": ["pending", "delivered", "failed", "dropped"]}
    rule_out = _object(
        ["id", "vendor", "effect", "times", "probability", "matched", "fired", "active"],
        id=STRING, vendor=STRING, effect=STRING, operation=NULLABLE_STRING,
        account=NULLABLE_STRING, body={"type": "object"}, code=NULLABLE_STRING,
        message=NULLABLE_STRING,
        latency={"anyOf": [{"type": "array", "items": NUMBER}, {"type": "null"}]},
        times={"type": ["integer", "null"]}, probability=NUMBER, seed=STRING, matched=INTEGER,
        fired=INTEGER, active=BOOLEAN)
    pattern = {"type": "object", "additionalProperties": False,
               "properties": {name: {} for name in QUERY_FIELDS},
               "description": "journal filters: exact vendor/operation/account/task_id, "
                              "status (429 or 4xx), since/until (epoch or ISO 8601), method, "
                              "path, path_regex, body (field path -> value), injected, "
                              "near_miss"}
    return {
        "Error": _object(["error"], error=STRING),
        "Health": _object(["status", "version", "vendors", "time"], status={"const": "ok"},
                          version=STRING, vendors={"type": "array", "items": {"enum": list(vendors)}},
                          time=NUMBER),
        "Reset": _object(["reset", "time"], reset={"const": True}, time=NUMBER),
        "Clock": _object(["now", "offset", "scale"], now=NUMBER, offset=NUMBER, scale=NUMBER),
        "Advance": {**_object(["seconds"], seconds={"type": "number", "minimum": 0}),
                    "additionalProperties": True},
        "Task": dataclass_schema(Task, state={"enum": [s.value for s in State]}),
        "TaskList": _object(["tasks", "count", "now"], tasks={"type": "array", "items": _ref("Task")},
                            count=INTEGER, now=NUMBER),
        "Violations": _object(["violations"], violations={"type": "array", "items": _object(
            ["vendor", "operation", "schema", "problem"], vendor=STRING, operation=STRING,
            schema=NULLABLE_STRING, problem=STRING, body={})}),
        "FixtureList": _object(["fixtures", "base_url"],
                               fixtures={"type": "array", "items": STRING}, base_url=STRING),
        "JournalEntry": dataclass_schema(Entry),
        "JournalList": _object(["requests", "count"], count=INTEGER,
                               requests={"type": "array", "items": _ref("JournalEntry")}),
        "RequestPattern": pattern,
        "Count": _object(["count"], count=INTEGER),
        "Har": _object(["log"], log=_object(["version", "creator", "entries"], version={"const": "1.2"},
                                            creator={"type": "object"},
                                            pages={"type": "array", "items": {"type": "object"}},
                                            entries={"type": "array", "items": {"type": "object"}})),
        "FaultRuleInput": rule_schema(vendors),
        "FaultRule": rule_out,
        "FaultList": _object(["faults", "count"], faults={"type": "array", "items": _ref("FaultRule")},
                             count=INTEGER),
        "FaultsRemoved": _object(["removed"], removed=INTEGER),
        "FaultRemoved": _object(["removed", "rule"], removed={"const": 1}, rule=_ref("FaultRule")),
        "CallbackAttempt": attempt,
        "Callback": _object(
            ["id", "vendor", "task_id", "url", "created_at", "due_at", "status",
             "next_attempt_at", "delivered_at", "reason", "attempts"],
            id=STRING, vendor=STRING, task_id=STRING, url=STRING, created_at=NUMBER,
            due_at=NUMBER, status=statuses, next_attempt_at=NULLABLE_NUMBER,
            delivered_at=NULLABLE_NUMBER, reason=NULLABLE_STRING,
            attempts={"type": "array", "items": _ref("CallbackAttempt")}),
        "CallbackList": _object(["callbacks", "count", "now"], count=INTEGER, now=NUMBER,
                                callbacks={"type": "array", "items": _ref("Callback")}),
        "CallbackConflict": _object(["error", "callback"], error=STRING, callback=_ref("Callback")),
        "Drained": _object(["drained", "pending", "now"], drained={"const": True}, now=NUMBER,
                           pending={"type": "array", "items": STRING}),
        "KeyPairInput": _object(key_id=STRING, secret=STRING),
        "KeyPair": _object(["vendor", "key_id", "secret"], vendor=STRING, key_id=STRING,
                           secret=STRING),
        "KeyPairList": _object(["vendor", "key_ids", "added"], vendor=STRING,
                               key_ids={"type": "array", "items": STRING},
                               added={"type": "array", "items": STRING}),
        "DocumentList": _object(["documents"], documents={
            "type": "object", "additionalProperties": {"type": "string", "format": "uri"}}),
        "OpenApiDocument": {"type": "object", "required": ["openapi", "info", "paths"],
                            "properties": {"openapi": {"const": "3.1.0"},
                                           "info": {"type": "object"},
                                           "paths": {"type": "object"}}},
    }


def _answer(description: str, schema: str, media: str = JSON) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": _ref(schema)}}}


def _error(description: str) -> dict[str, Any]:
    return _answer(description, "Error")


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or STRING}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": STRING}


BINARY = {"schema": {"type": "string", "format": "binary"}}
FIXTURE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff", "text/plain",
                 "text/markdown")
LIMIT = _query("limit", "at most this many, newest first", {"type": "integer", "minimum": 0})
JOURNAL_FILTERS = [
    *(_query(name, f"only entries with this {name}") for name in
      ("vendor", "operation", "account", "task_id", "method", "path", "path_regex")),
    _query("status", "a status (429) or a class (4xx)"),
    _query("since", "epoch seconds or ISO 8601"), _query("until", "epoch seconds or ISO 8601"),
    _query("injected", "true: only answers a fault rule gave"),
    _query("near_miss", "true: only requests that matched no route"), LIMIT]
BAD_FILTER = {"400": _error("a filter that cannot be read")}


def _op(op_id: str, summary: str, ok: dict[str, Any], *, status: str = "200",
        params: Sequence[dict[str, Any]] = (), body: str | None = None,
        errors: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "tags": ["admin"], "summary": summary,
                          "responses": {status: ok, **(errors or {})}}
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = {"required": False, "content": {JSON: {"schema": _ref(body)}}}
    return op


def _paths(vendors: Sequence[str]) -> dict[str, Any]:
    rule_id = _path("rule_id", "a rule id (f1, f2, ...)")
    callback_id = _path("callback_id", "a delivery id")
    not_running = {"503": _error("the dispatcher is not running (no lifespan)")}
    vendor = {**_path("vendor", "a vendor name"), "schema": {"enum": list(vendors)}}
    return {
        "/__admin/health": {"get": _op("health", "Liveness, version, vendors, emulated time",
                                       _answer("up", "Health"))},
        "/__admin/reset": {"post": _op(
            "reset", "Forget tasks, journal, callbacks, faults and rate windows; clock offset 0",
            _answer("reset", "Reset"))},
        "/__admin/clock": {"get": _op("clock", "The emulated clock", _answer("now", "Clock"))},
        "/__admin/clock/advance": {"post": _op(
            "advance_clock", "Move emulated time on; waiting requests wake at once",
            _answer("the clock after the move", "Clock"), body="Advance",
            errors={"400": _error("seconds missing, negative or not a number")})},
        "/__admin/tasks": {"get": _op(
            "tasks", "Every task with its state now", _answer("tasks, newest first", "TaskList"),
            params=[_query("vendor", "only this vendor", {"enum": list(vendors)}),
                    _query("account", "only this account"), LIMIT])},
        "/__admin/schema-violations": {"get": _op(
            "schema_violations", "Answers that broke their own JSON Schema (validate_responses)",
            _answer("violations", "Violations"))},
        "/__admin/fixtures": {"get": _op("fixtures", "Sample images to use as input URLs",
                                         _answer("names", "FixtureList"))},
        "/__admin/fixtures/{name}": {"get": _op(
            "fixture", "One sample file", {"description": "the file, typed by its name",
                                           "content": {media: BINARY for media in FIXTURE_TYPES}},
            params=[_path("name", "a name from GET /__admin/fixtures")],
            errors={"404": _error("no such fixture")})},
        "/__admin/requests": {"get": _op(
            "requests", "The journal, newest first, secrets masked",
            _answer("entries", "JournalList"), params=JOURNAL_FILTERS, errors=BAD_FILTER)},
        "/__admin/requests/count": {"post": _op(
            "count_requests", "How many journal entries match a pattern (WireMock-style verify)",
            _answer("the count", "Count"), body="RequestPattern", errors=BAD_FILTER)},
        "/__admin/requests.har": {"get": _op(
            "requests_har", "The journal as HAR 1.2, oldest first", _answer("HAR", "Har"),
            params=JOURNAL_FILTERS, errors=BAD_FILTER)},
        "/__admin/faults": {
            "post": {**_op("add_fault", "Add a fault rule (docs/faults.md)",
                           _answer("the rule", "FaultRule"), status="201", body="FaultRuleInput",
                           errors={"400": _error("a rule that cannot be built")}),
                     "requestBody": {"required": True, "content": {
                         JSON: {"schema": _ref("FaultRuleInput")}}}},
            "get": _op("faults", "Every fault rule", _answer("rules", "FaultList")),
            "delete": _op("remove_faults", "Remove every fault rule",
                          _answer("how many", "FaultsRemoved")),
        },
        "/__admin/faults/{rule_id}": {
            "get": _op("fault", "One fault rule", _answer("the rule", "FaultRule"),
                       params=[rule_id], errors={"404": _error("no such rule")}),
            "delete": _op("remove_fault", "Remove one fault rule (stalled tasks go on)",
                          _answer("removed", "FaultRemoved"), params=[rule_id],
                          errors={"404": _error("no such rule")}),
        },
        "/__admin/callbacks": {"get": _op(
            "callbacks", "Callback deliveries with every attempt",
            _answer("deliveries", "CallbackList"),
            params=[_query("vendor", "only this vendor"), _query("task_id", "only this task"),
                    _query("status", "pending, delivered, failed or dropped"), LIMIT])},
        "/__admin/callbacks/drain": {"post": _op(
            "drain_callbacks", "Deliver everything due now and wait for the attempts",
            _answer("done", "Drained"), errors=not_running)},
        "/__admin/callbacks/{callback_id}": {"get": _op(
            "callback", "One delivery", _answer("the delivery", "Callback"), params=[callback_id],
            errors={"404": _error("no such delivery")})},
        "/__admin/callbacks/{callback_id}/redeliver": {"post": _op(
            "redeliver_callback", "Send one extra attempt now",
            _answer("the delivery after the attempt", "Callback"), params=[callback_id],
            errors={"404": _error("no such delivery"),
                    "409": _answer("the task has no callback to send now", "CallbackConflict"),
                    **not_running})},
        "/__admin/credentials/{vendor}": {
            "post": _op("add_credentials", "Add a key pair to a vendor that signs requests "
                        "(both fields, or neither for a fresh pair)",
                        _answer("the pair", "KeyPair"), status="201", params=[vendor],
                        body="KeyPairInput", errors={
                            "400": _error("a bearer-key vendor, or a pair that cannot be added"),
                            "404": _error("no such vendor")}),
            "get": _op("credentials", "The key ids a signing vendor accepts",
                       _answer("key ids", "KeyPairList"), params=[vendor], errors={
                           "400": _error("a bearer-key vendor"),
                           "404": _error("no such vendor")}),
        },
        "/__admin/openapi": {"get": _op("openapi_documents", "Every OpenAPI document",
                                        _answer("name -> URL", "DocumentList"))},
        "/__admin/openapi/admin.json": {"get": _op(
            "openapi_admin", "This document", _answer("OpenAPI 3.1", "OpenApiDocument"))},
        "/__admin/openapi/{vendor}.json": {"get": _op(
            "openapi_vendor", "A vendor's document, as this mock emulates it",
            _answer("OpenAPI 3.1", "OpenApiDocument"),
            params=[vendor],
            errors={"404": _error("no such vendor")})},
    }


def admin_document(vendors: Sequence[str], base_url: str | None = None) -> dict[str, Any]:
    """The admin API's OpenAPI 3.1 document."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "portrait-mockserver admin API", "version": __version__,
                 "license": LICENSE,
                 "description": "The emulator's own API: clock, tasks, journal, faults, "
                                "callbacks, documents. Errors are {\"error\": message}."},
        "servers": [{"url": base_url, "description": "this mock"}] if base_url else
        [{"url": DEFAULT_URL, "description": "where mockserver serve listens by default"}],
        "security": [],  # the admin API takes no credentials
        "tags": [{"name": "admin", "description": "everything under /__admin"}],
        "paths": _paths(vendors),
        "components": {"schemas": _components(vendors)},
    }
    return doc
