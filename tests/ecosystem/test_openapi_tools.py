"""The OpenAPI documents (every vendor's and the admin API's) with the tools people use:
openapi-spec-validator, openapi-python-client (generates a client whose response models parse
every example), redocly lint (recommended rules, no errors) and Prism's mock (answers the
examples). Plus what those tools rely on: every `$ref` names a component directly, every
answer carries examples that match their schemas, callback operations declare security."""
from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from mockserver.emulator import Emulator
from mockserver.features.admin_openapi import admin_document
from mockserver.features.openapi import vendor_document
from mockserver.features.openapi_tooling import schema_nodes
from mockserver.settings import Settings
from mockserver.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPONENTS = "#/components/schemas/"
# Pinned, because lint rules change between releases.
NODE_TOOLS = {"@redocly/cli": "2.77.0", "@stoplight/prism-cli": "5.16.0"}


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    emulator = Emulator(Settings())
    docs = {name: vendor_document(p.spec, emulator.schemas) for name, p in emulator.providers.items()}
    docs["admin"] = admin_document(list(emulator.providers))
    return docs


@pytest.fixture(scope="module")
def written(documents: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("openapi")
    paths = {}
    for name, doc in documents.items():
        paths[name] = folder / f"{name}.openapi.json"
        paths[name].write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return paths


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def media_types(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, method, op in operations(doc):
        for ctype, media in op.get("requestBody", {}).get("content", {}).items():
            yield f"{method} {path} request {ctype}", media
        for status, answer in op["responses"].items():
            for ctype, media in answer.get("content", {}).items():
                yield f"{method} {path} {status} {ctype}", media


def test_every_document_passes_openapi_spec_validator(documents: dict[str, Any]) -> None:
    for name, doc in documents.items():
        validate(doc)  # raises with the first problem
        assert doc["openapi"] == "3.1.0", name


def test_every_ref_names_a_component_directly(documents: dict[str, Any]) -> None:
    for name, doc in documents.items():
        schemas = doc["components"]["schemas"]
        for node in schema_nodes(doc):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith(COMPONENTS), (name, ref)
                assert ref.removeprefix(COMPONENTS) in schemas, (name, ref)  # no /$defs/ hops
        assert all("$defs" not in node for node in schema_nodes(schemas)), name


def test_every_vendor_answer_carries_examples_that_match_its_schema(documents: dict[str, Any]
                                                                    ) -> None:
    checked = 0
    for name, doc in documents.items():
        if name == "admin":
            continue
        for where, media in media_types(doc):
            schema = media["schema"]
            refs = [schema] if "$ref" in schema else schema.get("anyOf", [])
            examples = media.get("examples", {})
            assert len(examples) == len(refs), (name, where, sorted(examples))
            validator = Draft202012Validator({**schema, "components": doc["components"]})
            for key, example in examples.items():
                errors = [e.message for e in validator.iter_errors(example["value"])]
                assert errors == [], (name, where, key, errors[:2])
                checked += 1
    assert checked > 40


def test_callback_operations_declare_their_security(documents: dict[str, Any]) -> None:
    found = 0
    for doc in documents.values():
        for _path, _method, op in operations(doc):
            for callback in op.get("callbacks", {}).values():
                for item in callback.values():
                    for callback_op in item.values():
                        assert callback_op["security"] == [] and callback_op["operationId"]
                        found += 1
    assert found >= 2  # AceData and gpt.ge call back


# --- openapi-python-client ------------------------------------------------------------------


def generate_client(doc_path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    return subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path",
                           str(doc_path), "--output-path", str(out), "--meta", "none"],
                          capture_output=True, text=True, timeout=180, env=env)


def test_openapi_python_client_makes_models_that_parse_every_example(
        documents: dict[str, Any], written: dict[str, Path], tmp_path: Path) -> None:
    sys.path.insert(0, str(tmp_path))
    try:
        for name, path in written.items():
            package = f"generated_{name}"
            done = generate_client(path, tmp_path / package)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "Warning" not in done.stdout + done.stderr, done.stdout  # nothing left out
            if name != "admin":
                check_parsed_examples(package, documents[name])
    finally:
        sys.path.remove(str(tmp_path))


def check_parsed_examples(package: str, doc: dict[str, Any]) -> None:
    client = importlib.import_module(f"{package}.client").Client(base_url="http://mock.invalid")
    for _path, _method, op in operations(doc):
        module = importlib.import_module(f"{package}.api.{op['tags'][0]}.{op['operationId']}")
        for status, answer in op["responses"].items():
            for example in answer.get("content", {}).get("application/json", {}).get(
                    "examples", {}).values():
                parsed = module._parse_response(
                    client=client, response=httpx.Response(int(status), json=example["value"]))
                assert hasattr(parsed, "to_dict"), (op["operationId"], status, parsed)
                assert type(parsed).__module__.startswith(f"{package}.models.")
                assert parsed.to_dict() == example["value"], (op["operationId"], status)


# --- the Node.js tools -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_bin() -> Path:
    """redocly and Prism, installed once into .venv/node-tools with npm."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (Node.js 20 and npm come with the project's machines)")
    prefix = ROOT / ".venv" / "node-tools"
    wanted = [f"{name}@{version}" for name, version in NODE_TOOLS.items()]
    stamp = prefix / ("installed-" + "-".join(v for v in NODE_TOOLS.values()))
    if not stamp.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                               "--loglevel", "error", *wanted], capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        stamp.touch()
    return prefix / "node_modules" / ".bin"


def test_redocly_lint_recommended_finds_no_errors(node_bin: Path, written: dict[str, Path]) -> None:
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    for name, path in written.items():
        done = subprocess.run([str(node_bin / "redocly"), "lint", "--extends", "recommended",
                               "--format", "json", str(path)],
                              capture_output=True, text=True, timeout=300, env=env)
        report = json.loads(done.stdout)
        errors = [p for p in report["problems"] if p["severity"] == "error"]
        assert errors == [] and report["totals"]["errors"] == 0, (name, errors[:3])
        assert done.returncode == 0, (name, done.stderr[-2000:])


@pytest.fixture
def prism(node_bin: Path, written: dict[str, Path]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([str(node_bin / "prism"), "mock", "--host", "127.0.0.1", "-p",
                                str(port), str(written["dashscope"])],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=1, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=20)  # closes the pipe too


def test_prism_mock_answers_the_documented_examples(prism: str, documents: dict[str, Any]
                                                    ) -> None:
    doc = documents["dashscope"]
    headers = {"Authorization": "Bearer sk-prism", "X-DashScope-Async": "enable"}
    submit_op = doc["paths"]["/api/v1/services/aigc/album/gen_potrait"]["post"]
    body = submit_op["requestBody"]["content"]["application/json"]["examples"]
    submitted = httpx.post(f"{prism}/api/v1/services/aigc/album/gen_potrait", headers=headers,
                           json=next(iter(body.values()))["value"], trust_env=False)
    assert submitted.status_code == 200, submitted.text
    answers = submit_op["responses"]["200"]["content"]["application/json"]["examples"]
    assert submitted.json() in [e["value"] for e in answers.values()]
    queried = httpx.get(f"{prism}/api/v1/tasks/some-task", headers=headers, trust_env=False)
    states = doc["paths"]["/api/v1/tasks/{task_id}"]["get"]["responses"]["200"]["content"][
        "application/json"]["examples"]
    assert queried.json() in [e["value"] for e in states.values()]
