"""AceData's schemas, fixtures, catalogue and operation table agree with each other and with
the documented examples (seeds 000 and 001, verbatim bodies)."""
from __future__ import annotations

import json

import pytest

from mockserver.core.errors import Catalogue
from mockserver.core.operations import load_operations
from mockserver.core.schemas import SchemaRegistry, fixtures_root, schemas_root

OPERATIONS = load_operations("acedata")

REGISTRY = SchemaRegistry()
FIXTURES = sorted((fixtures_root() / "acedata").glob("*.example.json"))

SEED_000_SYNC = {"success": True, "task_id": "ae1e4948-dba1-4a6f-87af-67961b647428", "data": [
    {"id": "202411031951124776", "template": "男形象照", "image_url":
     "https://platform.cdn.acedata.cloud/headshots/ae1e4948-dba1-4a6f-87af-67961b647428.png"},
    {"id": "202411031951128490", "template": "男形象照", "image_url":
     "https://platform.cdn.acedata.cloud/headshots/ae1e4948-dba1-4a6f-87af-67961b647428.png"}]}
SEED_000_REQUEST = {"mode": "fast", "template": "male_portrait", "image_urls": [
    "/image/aHR0cHM6Ly9pLWJsb2cuY3NkbmltZy5jbi9pbWdfY29udmVydC9lNjM3OWY5ZWY5NmZmZjVlNWU4MDg0YjZhYWFmMDY1MS5qcGVn"]}
SEED_000_ERROR = {"success": False, "error": {"code": "api_error", "message": "fetch failed"},
                  "trace_id": "2cf86e86-22a4-46e1-ac2f-032c0f2a4e89"}
_SEED_001_COMMON = {
    "api_id": "53bcc3f7-12ec-4f04-8ca4-20f150dcde2a",
    "application_id": "1af53f80-c166-4f54-a8ea-0ffc24d8e2cd",
    "credential_id": "3c253880-21ef-478a-9389-c09fa837ac7c",
    "user_id": "ad7afe47-cea9-4cda-980f-2ad8810e51cf",
    "request": {"mode": "relax", "template": "male_portrait", "image_urls": [
        "https://cdn.zhishuyun.com/2024-11-03-d23744954ca4819503469f04f2268aa0.jpg"],
        "callback_url": "https://webhook.site/00f38b26-4289-4899-83d6-0cea7308850a"},
}
SEED_001_DONE = {
    "_id": "67276ab6550a4144a53b6036", "id": "16f96e95-d95c-46ef-b183-139b9bd1aebd",
    "created_at": 1730636470.402, "trace_id": "6eded0e2-274d-4cde-a567-d6b0decb9a97",
    **_SEED_001_COMMON,
    "response": {"success": True, "task_id": "16f96e95-d95c-46ef-b183-139b9bd1aebd", "data": [
        {"id": "202411032022077381", "template": "男形象照", "image_url":
         "https://platform.cdn.acedata.cloud/headshots/16f96e95-d95c-46ef-b183-139b9bd1aebd.png"},
        {"id": "202411032022079194", "template": "男形象照", "image_url":
         "https://platform.cdn.acedata.cloud/headshots/16f96e95-d95c-46ef-b183-139b9bd1aebd.png"}]},
}
SEED_001_UNKNOWN = {
    "_id": "67276c52550a4144a53b995b", "id": "5213468b-6b96-4ad4-9c6a-657bd438d299",
    "created_at": 1730636882.359, "trace_id": "50b2b4a8-6c1c-4b95-ac0b-46e5b97c7b18",
    **_SEED_001_COMMON,
    "response": {"task_id": "5213468b-6b96-4ad4-9c6a-657bd438d299", "status": "unknown", "data": []},
}


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_every_fixture_is_valid_for_its_schema(path) -> None:
    schema = "acedata/" + path.name.removesuffix(".example.json")
    error = REGISTRY.first_error(schema, json.loads(path.read_text(encoding="utf-8")))
    assert error is None, f"{error.json_path}: {error.message}"


def test_every_schema_but_the_shared_one_has_a_fixture() -> None:
    named = {"acedata/" + p.name.removesuffix(".example.json") for p in FIXTURES}
    assert named == set(REGISTRY.names("acedata")) - {"acedata/common"}


@pytest.mark.parametrize(("schema", "body"), [
    ("acedata/generate-request", SEED_000_REQUEST),
    ("acedata/generate-response", SEED_000_SYNC),
    ("acedata/callback", SEED_000_SYNC),
    ("acedata/generate-accepted", {"task_id": "763b1450-8804-434f-acc7-d713be73a28f",
                                   "trace_id": "50b2b4a8-6c1c-4b95-ac0b-46e5b97c7b18"}),
    ("acedata/error", SEED_000_ERROR),
    ("acedata/task-succeeded", SEED_001_DONE),
    ("acedata/task-running", SEED_001_UNKNOWN),
    ("acedata/task-queued", {k: v for k, v in SEED_001_UNKNOWN.items() if k != "response"}),
    ("acedata/tasks-batch", {"items": [SEED_001_DONE, SEED_001_UNKNOWN], "count": 2}),
    ("acedata/tasks-request", {"id": "16f96e95-d95c-46ef-b183-139b9bd1aebd", "action": "retrieve"}),
    # The vendor's web app's history call (Nexior headshots.ts tasks(), createTaskActions.ts).
    ("acedata/tasks-request", {"action": "retrieve_batch", "user_id": SEED_001_DONE["user_id"],
                               "created_at_min": 1730636000.0, "created_at_max": 1730636882.359}),
    ("acedata/tasks-request", {"action": "retrieve_batch", "application_id":
                               SEED_001_DONE["application_id"], "limit": 12, "offset": 0}),
])
def test_the_documented_examples_fit_the_schemas(schema, body) -> None:
    error = REGISTRY.first_error(schema, body)
    assert error is None, f"{error.json_path}: {error.message}"


def test_queued_running_and_finished_records_are_told_apart() -> None:
    queued = {k: v for k, v in SEED_001_UNKNOWN.items() if k != "response"}
    assert REGISTRY.first_error("acedata/task-succeeded", SEED_001_UNKNOWN) is not None
    assert REGISTRY.first_error("acedata/task-running", SEED_001_DONE) is not None
    assert REGISTRY.first_error("acedata/task-running", queued) is not None
    assert REGISTRY.first_error("acedata/task-queued", SEED_001_UNKNOWN) is not None
    assert REGISTRY.first_error("acedata/task-queued", {**queued, "started_at": 1.0}) is not None
    for early in ({"finished_at": 1730636900.0}, {"elapsed": 1.5}):
        assert REGISTRY.first_error("acedata/task-running", {**SEED_001_UNKNOWN, **early}) is not None
    assert REGISTRY.first_error("acedata/task-succeeded", {**SEED_001_DONE, "elapsed": 90.0}) is None
    assert REGISTRY.first_error("acedata/task-succeeded", {**SEED_001_DONE, "elapsed": "90"}) is not None


def test_the_stream_is_declared_in_the_operation_table() -> None:
    [generate] = [spec for spec in OPERATIONS if spec.operation == "generate"]
    streamed = generate.streamed
    assert streamed is not None and streamed.media_type == "application/x-ndjson"
    assert dict(streamed.requested_by) == {"accept": "application/x-ndjson"}
    assert set(streamed.final) <= set(streamed.lines) <= set(REGISTRY.names("acedata"))
    assert set(generate.responses[200]) <= set(streamed.final)


def test_the_operation_table_names_real_schemas_and_catalogued_statuses() -> None:
    catalogue = Catalogue.load(schemas_root() / "acedata" / "catalogue.json")
    statuses = {entry.status for entry in catalogue.entries.values()}
    for spec in OPERATIONS:
        named = [spec.request_schema, spec.callback_schema, *(s for v in spec.responses.values() for s in v)]
        assert all(n is None or n in REGISTRY.names("acedata") for n in named), spec
        assert {s for s in spec.responses if s != 200} <= statuses
    assert {(s.method, s.path) for s in OPERATIONS} == {
        ("POST", "/headshots/generate"), ("POST", "/headshots/tasks")}
    assert all(entry.source for entry in catalogue.entries.values())
