"""The generated OpenAPI 3.1 documents: valid, complete, self-contained, served and written."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from mockserver.emulator import Emulator
from mockserver.features.openapi import vendor_document
from mockserver.providers import provider_classes
from mockserver.settings import Settings
from mockserver.testing import ServerThread

VENDORS = [cls.spec.name for cls in provider_classes()]


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    return Emulator(Settings())


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not local"
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


@pytest.mark.parametrize("vendor", VENDORS)
def test_document_is_valid_openapi_31(emulator: Emulator, vendor: str) -> None:
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    doc = vendor_document(emulator.providers[vendor].spec, emulator.schemas, "http://127.0.0.1:8000")
    errors = [e.message for e in Draft202012Validator(OPENAPI_31).iter_errors(doc)]
    assert errors == []
    assert doc["openapi"] == "3.1.0"
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert "$id" not in json.dumps(schema), f"{name} keeps an $id: refs would resolve elsewhere"


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_ref_is_local_and_resolves(emulator: Emulator, vendor: str) -> None:
    doc = vendor_document(emulator.providers[vendor].spec, emulator.schemas)
    found = list(refs(doc))
    assert found
    for ref in found:
        assert resolve(doc, ref) is not None


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_operation_and_answer_of_the_table_is_documented(emulator: Emulator,
                                                                vendor: str) -> None:
    provider = emulator.providers[vendor]
    doc = vendor_document(provider.spec, emulator.schemas)
    ops = {(path, method): op for path, method, op in operations(doc)}
    assert len({op["operationId"] for op in ops.values()}) == len(ops)
    for spec in provider.operations():
        op = ops[(spec.path, spec.method.lower())]
        dispatch = op.get("x-dispatch")
        entry = dispatch["operations"][spec.required_headers[dispatch["header"]]] if dispatch else op
        for status, schemas in spec.responses.items():
            documented = json.dumps(op["responses"][str(status)])
            for schema in schemas:
                assert f"/{schema.replace('/', '.')}\"" in documented, (spec.operation, status)
        if dispatch:
            assert entry["operation"] == spec.operation
        if spec.callback_schema:
            [callback] = op["callbacks"].values()
            [(expression, item)] = callback.items()
            assert expression.startswith("{$request.body#/")
            body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
            assert body["$ref"].endswith(spec.callback_schema.replace("/", "."))


def test_streamed_answers_name_their_line_schemas(emulator: Emulator) -> None:
    """An operation's `streamed` answer (AceData's NDJSON generate) is a second media type of
    its status, with the line schemas as extensions (OpenAPI 3.1 has no per-line schema)."""
    streamed = [(provider, spec) for provider in emulator.providers.values()
                for spec in provider.operations() if spec.streamed is not None]
    assert streamed, "no operation documents a streamed answer"
    for provider, spec in streamed:
        assert spec.streamed is not None
        doc = vendor_document(provider.spec, emulator.schemas)
        op = doc["paths"][spec.path][spec.method.lower()]
        content = op["responses"][str(spec.streamed.status)]["content"]
        assert "application/json" in content  # the one-body answer stays documented
        entry = content[spec.streamed.media_type]
        for key, names in (("x-line-schema", spec.streamed.lines),
                           ("x-final-line-schema", spec.streamed.final)):
            documented = json.dumps(entry[key])
            assert all(f"/{name.replace('/', '.')}\"" in documented for name in names), key
        assert entry["schema"]["type"] == "string"


def test_shared_path_operations_become_one_dispatch_operation(emulator: Emulator) -> None:
    """Tencent: every action is POST / with X-TC-Action; one operation, one enum header."""
    for provider in emulator.providers.values():
        doc = vendor_document(provider.spec, emulator.schemas)
        for _path, _method, op in operations(doc):
            if "x-dispatch" not in op:
                continue
            header = op["x-dispatch"]["header"]
            [param] = [p for p in op["parameters"] if p["name"] == header]
            assert sorted(param["schema"]["enum"]) == sorted(op["x-dispatch"]["operations"])
            assert "Authorization" not in {p["name"] for p in op["parameters"]}


def test_submit_answers_link_to_the_task_operations(emulator: Emulator) -> None:
    doc = vendor_document(emulator.providers["dashscope"].spec, emulator.schemas)
    links = doc["paths"]["/api/v1/services/aigc/album/gen_potrait"]["post"]["responses"]["200"]["links"]
    assert links["dashscope_query_task"]["parameters"] == {"task_id": "$response.body#/output/task_id"}


def test_served_by_the_admin_api() -> None:
    with ServerThread() as server:
        index = httpx.get(f"{server.base_url}/__admin/openapi").json()["documents"]
        assert sorted(index) == sorted([*VENDORS, "admin"])
        admin = httpx.get(index.pop("admin")).json()
        assert admin["info"]["title"] == "portrait-mockserver admin API"
        for vendor, url in index.items():
            doc = httpx.get(url).json()
            assert doc["servers"][0] == {"url": server.base_url, "description": "this mock"}
            assert doc["info"]["title"].startswith(server.emulator.providers[vendor].title)
        missing = httpx.get(f"{server.base_url}/__admin/openapi/nobody.json")
        assert missing.status_code == 404 and "nobody" in missing.json()["error"]


def test_cli_writes_the_documents(tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "mockserver", "openapi", "--out", str(tmp_path)]
    every = subprocess.run(cli, capture_output=True, text=True, timeout=120, check=True)
    names = [*VENDORS, "admin"]  # the admin API's document comes last
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{v}.openapi.json" for v in names)
    assert every.stdout.split() == [str(tmp_path / f"{v}.openapi.json") for v in names]
    one = tmp_path / "one"
    subprocess.run([*cli[:-1], str(one), "--vendor", "dashscope"], check=True, timeout=120,
                   capture_output=True)
    assert [p.name for p in one.iterdir()] == ["dashscope.openapi.json"]
    assert json.loads((one / "dashscope.openapi.json").read_text())["servers"][0]["url"] == \
        "https://dashscope.aliyuncs.com"
    wrong = subprocess.run([*cli, "--vendor", "nobody"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode != 0 and "unknown vendor(s): nobody" in wrong.stderr
