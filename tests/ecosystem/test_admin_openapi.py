"""The admin API's OpenAPI document tells the truth: it lists every route under /__admin with
its methods, and every answer a running mock gives validates against the schema the document
gives for that route and status."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Route

from mockserver.dashboard import PAGE
from mockserver.settings import Settings
from mockserver.testing import CallbackReceiver, ServerThread

ADMIN = "/__admin"
PLACEHOLDER = "https://cdn.example.com/portrait.jpg"  # accepted unchecked (docs/images.md)


@pytest.fixture(scope="module")
def running() -> Iterator[ServerThread]:
    with ServerThread(Settings(validate_responses=True)) as server:
        yield server


@pytest.fixture(scope="module")
def document(running: ServerThread) -> dict[str, Any]:
    doc: dict[str, Any] = httpx.get(f"{running.base_url}{ADMIN}/openapi/admin.json").json()
    return doc


def template_of(doc: dict[str, Any], path: str) -> str:
    """The document's path template that `path` matches (literal paths win)."""
    if path in doc["paths"]:
        return path
    for template in doc["paths"]:
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return template
    raise AssertionError(f"{path} is not in the admin document")


class Checked:
    """An httpx client on the mock that checks every admin answer against the document."""

    def __init__(self, server: ServerThread, doc: dict[str, Any]) -> None:
        self.http = httpx.Client(base_url=server.base_url, trust_env=False, timeout=30)
        self.doc = doc
        self.seen: set[tuple[str, str, str]] = set()

    def __call__(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        assert answer.status_code == expect, (method, path, answer.text)
        template = template_of(self.doc, path.split("?")[0])
        op = self.doc["paths"][template][method.lower()]
        documented = op["responses"].get(str(expect))
        assert documented is not None, (method, template, expect)
        self.seen.add((template, method.lower(), str(expect)))
        ctype = answer.headers["content-type"].split(";")[0]
        assert ctype in documented["content"], (method, template, ctype)
        if ctype != "application/json":
            return answer.content
        schema = documented["content"][ctype]["schema"]
        validator = Draft202012Validator({**schema, "components": self.doc["components"]})
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(answer.json())]
        assert errors == [], (method, template, expect, errors[:3])
        return answer.json()


def test_every_admin_route_is_documented_with_its_methods(running: ServerThread,
                                                          document: dict[str, Any]) -> None:
    served: dict[str, set[str]] = {}
    for route in running.app.routes:
        if isinstance(route, Route) and route.path.startswith(ADMIN) and route.name != PAGE:
            served.setdefault(route.path, set()).update(
                m.lower() for m in route.methods or () if m != "HEAD")
    documented = {path: set(item) for path, item in document["paths"].items()}
    assert documented == served


def test_every_answer_matches_the_document(running: ServerThread, document: dict[str, Any]
                                           ) -> None:
    call = Checked(running, document)
    try:
        drive_every_route(call)
    finally:
        call.http.close()
    every_operation = {(path, method) for path, item in document["paths"].items()
                       for method in item}
    assert {(path, method) for path, method, _ in call.seen} == every_operation


def drive_every_route(call: Checked) -> None:
    call("POST", f"{ADMIN}/reset", 200)
    call("GET", f"{ADMIN}/health", 200)
    call("GET", f"{ADMIN}/clock", 200)
    call("POST", f"{ADMIN}/clock/advance", 200, json={"seconds": 1})
    call("POST", f"{ADMIN}/clock/advance", 400, json={"seconds": -1})
    fixtures = call("GET", f"{ADMIN}/fixtures", 200)["fixtures"]
    call("GET", f"{ADMIN}/fixtures/face.jpg", 200)
    assert {"face.jpg", "not_image.txt"} <= set(fixtures)
    call("GET", f"{ADMIN}/fixtures/no-such.png", 404)
    with CallbackReceiver() as receiver:
        accepted = call.http.post("/headshots/generate", headers={"authorization": "Bearer k"},
                                  json={"mode": "fast", "template": "male_portrait",
                                        "image_urls": [PLACEHOLDER], "callback_url": receiver.url})
        assert accepted.status_code == 200, accepted.text
        call("GET", f"{ADMIN}/tasks?vendor=acedata&limit=5", 200)
        call("POST", f"{ADMIN}/clock/advance", 200, json={"seconds": 600})
        call("POST", f"{ADMIN}/callbacks/drain", 200)
        deliveries = call("GET", f"{ADMIN}/callbacks?vendor=acedata", 200)["callbacks"]
        delivery = deliveries[0]["id"]
        assert deliveries[0]["status"] == "delivered" and receiver.bodies
        call("GET", f"{ADMIN}/callbacks/{delivery}", 200)
        call("POST", f"{ADMIN}/callbacks/{delivery}/redeliver", 200)
    call("GET", f"{ADMIN}/callbacks/nope", 404)
    call("POST", f"{ADMIN}/callbacks/nope/redeliver", 404)
    call("GET", f"{ADMIN}/requests?vendor=acedata", 200)
    call("GET", f"{ADMIN}/requests?status=abc", 400)
    call("POST", f"{ADMIN}/requests/count", 200, json={"vendor": "acedata"})
    call("POST", f"{ADMIN}/requests/count", 400, json={"colour": "red"})
    call("GET", f"{ADMIN}/requests.har", 200)
    call("GET", f"{ADMIN}/requests.har?since=yesterday", 400)
    rule = call("POST", f"{ADMIN}/faults", 201, json={"vendor": "dashscope", "effect": "error",
                                                        "code": "Throttling.RateQuota", "times": 1})
    call("POST", f"{ADMIN}/faults", 400, json={"vendor": "dashscope", "effect": "boom"})
    call("GET", f"{ADMIN}/faults", 200)
    call("GET", f"{ADMIN}/faults/{rule['id']}", 200)
    call("DELETE", f"{ADMIN}/faults/{rule['id']}", 200)
    call("GET", f"{ADMIN}/faults/{rule['id']}", 404)
    call("DELETE", f"{ADMIN}/faults/{rule['id']}", 404)
    call("DELETE", f"{ADMIN}/faults", 200)
    call("GET", f"{ADMIN}/schema-violations", 200)
    call("GET", f"{ADMIN}/openapi", 200)
    call("GET", f"{ADMIN}/openapi/admin.json", 200)
    call("GET", f"{ADMIN}/openapi/dashscope.json", 200)
    call("GET", f"{ADMIN}/openapi/nobody.json", 404)
    pair = call("POST", f"{ADMIN}/credentials/tencent", 201, json={})
    assert pair["key_id"] in call("GET", f"{ADMIN}/credentials/tencent", 200)["key_ids"]
    call("POST", f"{ADMIN}/credentials/tencent", 400, json={"key_id": "AKIDonly"})
    call("POST", f"{ADMIN}/credentials/dashscope", 400, json={})
    call("GET", f"{ADMIN}/credentials/nobody", 404)
