"""OpenAPI 3.1 documents, one per vendor, generated from its declaration (`VendorSpec`), its
operations file and the JSON Schemas under `schemas/` (the same schemas every reply is
validated against).

Each schema file becomes one entry of `components/schemas` (named `<vendor>.submit-request`),
with every `$ref` rewritten to a local pointer, so no tool has to resolve `$id`s.

Operations that share one method and path (a vendor whose every action is `POST /`, told apart
by a header) cannot be separate OpenAPI operations. They become one operation whose
dispatch header is an enum parameter, whose body is `anyOf` the actions' bodies and whose
answers are the union of theirs; `x-dispatch` maps each header value to its own request and
response schemas, so a reader or a tool can still see which body goes with which action.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .. import __version__
from ..core.operations import OperationSpec, StreamedAnswer, load_operations
from ..core.schemas import SchemaRegistry
from ..emulator import Emulator
from ..providers.spec import VendorSpec
from .admin_openapi import admin_document
from .openapi_tooling import fit_for_tools

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
MULTIPART = "multipart/form-data"
_PATH_PARAM = re.compile(r"{([^}/]+)}")
_PLACEHOLDER = re.compile(r"<[^>]+>|\.\.\.")
BODYLESS = frozenset({"get", "head", "delete"})
ADMIN = "admin"  # the admin API's own document, listed first


def component_name(schema: str) -> str:
    """`<vendor>/submit-request` -> `<vendor>.submit-request` (OpenAPI's key alphabet)."""
    return schema.replace("/", ".")


class _Components:
    """Collects the schema files one document needs, with `$ref`s rewritten to local pointers."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self.registry = registry
        self.by_id = {doc.get("$id"): name for name, doc in registry.documents.items()}
        self.schemas: dict[str, Any] = {}

    def ref(self, schema: str) -> dict[str, str]:
        self._add(schema)
        return {"$ref": f"#/components/schemas/{component_name(schema)}"}

    def _add(self, schema: str) -> None:
        key = component_name(schema)
        if key in self.schemas:
            return
        doc = self.registry.documents[schema]
        self.schemas[key] = {}  # placeholder first: schema files may refer to each other
        self.schemas[key] = self._rewrite(copy.deepcopy(doc), schema)

    def _rewrite(self, node: Any, schema: str) -> Any:
        if isinstance(node, list):
            return [self._rewrite(item, schema) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: self._rewrite(v, schema) for k, v in node.items()
               if k not in ("$id", "$schema")}
        if isinstance(node.get("$ref"), str):
            out["$ref"] = self._local(node["$ref"], schema)
        return out

    def _target(self, ref: str, schema: str) -> tuple[str, str]:
        """(schema file name, JSON pointer) that `ref`, found in `schema`, points at."""
        base = self.registry.documents[schema].get("$id", "")
        target, fragment = urldefrag(urljoin(base, ref))
        name = self.by_id.get(target) or (schema if not target else None)
        if name is None:
            raise ValueError(f"{schema}: cannot resolve $ref {ref!r}")
        return name, fragment

    def _local(self, ref: str, schema: str) -> str:
        name, fragment = self._target(ref, schema)
        self._add(name)
        return f"#/components/schemas/{component_name(name)}{fragment}"

    def untype_file_parts(self, schema: dict[str, Any]) -> None:
        """A multipart file part is bytes, not a JSON string: drop `type` where a property
        has `contentMediaType`, so any bytes are a valid file (the decoder judges them)."""
        for ref in schema.get("anyOf", [schema]):
            target = self.schemas.get(ref.get("$ref", "").rsplit("/", 1)[-1], {})
            for prop in target.get("properties", {}).values():
                if isinstance(prop, dict) and "contentMediaType" in prop:
                    prop.pop("type", None)

    def find_property(self, schema: str, wanted: str, depth: int = 3) -> str | None:
        """JSON pointer to the first property named `wanted` in `schema` (objects only)."""
        return self._find(self.registry.documents[schema], schema, wanted, depth, "")

    def _find(self, node: Any, schema: str, wanted: str, depth: int, at: str) -> str | None:
        if not isinstance(node, dict) or depth < 0:
            return None
        if isinstance(node.get("$ref"), str):
            name, fragment = self._target(node["$ref"], schema)
            resolved: Any = self.registry.documents[name]
            for part in filter(None, fragment.split("/")):
                resolved = resolved.get(part, {}) if isinstance(resolved, dict) else {}
            return self._find(resolved, name, wanted, depth, at)
        properties = node.get("properties", {})
        if wanted in properties:
            return f"{at}/{wanted}"
        for key, child in properties.items():
            if (found := self._find(child, schema, wanted, depth - 1, f"{at}/{key}")):
                return found
        return None


def _title(registry: SchemaRegistry, schema: str) -> str:
    return str(registry.documents[schema].get("title", schema))


def _any_of(components: _Components, schemas: Iterable[str]) -> dict[str, Any]:
    refs = [components.ref(s) for s in dict.fromkeys(schemas)]
    return refs[0] if len(refs) == 1 else {"anyOf": refs}


def _responses(components: _Components, specs: list[OperationSpec]) -> dict[str, Any]:
    statuses: dict[int, list[str]] = {}
    for spec in specs:
        for status, schemas in spec.responses.items():
            statuses.setdefault(status, []).extend(schemas)
    answers: dict[str, dict[str, Any]] = {
        str(status): {
            "description": "; ".join(dict.fromkeys(_title(components.registry, s) for s in schemas)),
            "content": {JSON: {"schema": _any_of(components, schemas)}},
        }
        for status, schemas in sorted(statuses.items())
    }
    for spec in specs:
        if spec.streamed is not None:
            answer = answers.setdefault(str(spec.streamed.status), {"description": "", "content": {}})
            answer["content"][spec.streamed.media_type] = _streamed(components, spec.streamed)
    return answers


def _streamed(components: _Components, streamed: StreamedAnswer) -> dict[str, Any]:
    """A line-by-line answer: OpenAPI 3.1 cannot give each line a schema, so the extensions
    `x-line-schema` (every line) and `x-final-line-schema` (the last line) do."""
    asked = ", ".join(f"{name}: {value}" for name, value in streamed.requested_by.items())
    return {"schema": {"type": "string", "description": f"sent when the request has {asked}: "
                       "one JSON document per line; the last line is the answer"},
            "x-line-schema": _any_of(components, streamed.lines),
            "x-final-line-schema": _any_of(components, streamed.final)}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True,
             "schema": {"type": "string", "minLength": 1}} for name in _PATH_PARAM.findall(path)]


def _header_schema(values: list[str]) -> dict[str, Any]:
    """Literal values become an enum; `<unix seconds>` or `...` placeholders only describe."""
    if any(_PLACEHOLDER.search(v) for v in values):
        return {"type": "string", "description": " | ".join(dict.fromkeys(values))}
    return {"type": "string", "enum": list(dict.fromkeys(values))}


def _header_parameters(specs: list[OperationSpec],
                       auth: str) -> tuple[list[dict[str, Any]], str | None]:
    """Required headers; a header whose value differs between the specs is the dispatch one.
    `Authorization` is left to the security scheme when the vendor has one."""
    values: dict[str, list[str]] = {}
    for spec in specs:
        for name, value in spec.required_headers.items():
            if not (auth != "none" and name.lower() == "authorization"):
                values.setdefault(name, []).append(value)
    dispatch = next((n for n, v in values.items() if len(specs) > 1 and len(set(v)) > 1), None)
    params = [{"name": name, "in": "header", "required": True, "schema": _header_schema(found)}
              for name, found in values.items() if len(found) == len(specs)]
    return params, dispatch


def _request_schemas(components: _Components, specs: list[OperationSpec]) -> dict[str, Any]:
    """Content type -> schema of the bodies these specs accept."""
    by_type: dict[str, list[str]] = {}
    for spec in specs:
        if spec.request_schema:
            by_type.setdefault(spec.request_content_type, []).append(spec.request_schema)
    return {ctype: _any_of(components, schemas) for ctype, schemas in by_type.items()}


def _add_request(op: dict[str, Any], components: _Components, specs: list[OperationSpec],
                 method: str) -> None:
    schemas = _request_schemas(components, specs)
    if not schemas:
        return
    if method not in BODYLESS:
        op["requestBody"] = {"required": True,
                             "content": {ctype: {"schema": s} for ctype, s in schemas.items()}}
        if MULTIPART in schemas:
            components.untype_file_parts(schemas[MULTIPART])
        return
    if (flat := _query_parameters(components, specs)) is not None:
        op["parameters"] = op.get("parameters", []) + flat
        return
    # A GET whose fields travel in the query string, flattened in the vendor's own way
    # (`List.0.Field=...`): OpenAPI's parameter styles cannot say that.
    op["description"] = ("The request's fields travel in the query string in the vendor's "
                         "flattened form; `x-query-schema` is the schema of the unflattened "
                         "fields (OpenAPI parameter styles cannot describe the flattening).")
    op["x-query-schema"] = next(iter(schemas.values()))


def _query_parameters(components: _Components,
                      specs: list[OperationSpec]) -> list[dict[str, Any]] | None:
    """`in: query` parameters for a GET whose query schema is flat (no object or array
    property, e.g. a task list's filters); None for anything OpenAPI styles cannot say."""
    names = {spec.request_schema for spec in specs if spec.request_schema}
    if len(names) != 1:
        return None
    name = names.pop()
    doc = components.registry.documents[name]
    props = doc.get("properties", {})
    if not props or any(p.get("type") in ("object", "array") for p in props.values()):
        return None
    required = set(doc.get("required", ()))
    return [{"name": key, "in": "query", "required": key in required,
             "schema": components._rewrite(copy.deepcopy(prop), name)}
            for key, prop in props.items()]


def _callback_field(registry: SchemaRegistry, spec: OperationSpec) -> str:
    """The request field that carries the callback URL (`callback_url` unless named otherwise)."""
    props = registry.documents.get(spec.request_schema or "", {}).get("properties", {})
    return next((k for k in props if "callback" in k.lower()), "callback_url")


def _callbacks(components: _Components, specs: list[OperationSpec]) -> dict[str, Any] | None:
    found = {}
    for spec in specs:
        if spec.callback_schema is None:
            continue
        field_name = _callback_field(components.registry, spec)
        found[f"{spec.operation}_done"] = {
            f"{{$request.body#/{field_name}}}": {"post": {
                "summary": f"The vendor POSTs the finished task of {spec.operation}",
                "requestBody": {"required": True, "content": {
                    JSON: {"schema": components.ref(spec.callback_schema)}}},
                "responses": {"2XX": {"description": "Any 2xx acknowledges the delivery"}},
            }}}
    return found or None


def _operation(vendor: str, components: _Components, specs: list[OperationSpec],
               schemes: tuple[str, ...]) -> dict[str, Any]:
    headers, dispatch = _header_parameters(specs, "none" if not schemes else schemes[0])
    first = specs[0]
    method = first.method.lower()
    merged_id = f"{vendor}_{method}_by_{(dispatch or 'operation').lower().replace('-', '_')}"
    op: dict[str, Any] = {
        "operationId": f"{vendor}_{first.operation}" if len(specs) == 1 else merged_id,
        "tags": [vendor],
        "summary": first.summary or first.operation,
        "parameters": _path_parameters(first.path) + headers,
        "responses": _responses(components, specs),
    }
    if dispatch is not None:
        op["summary"] = f"Every {vendor} action, chosen by the {dispatch} header"
        op["x-dispatch"] = _dispatch_table(components, specs, dispatch)
    _add_request(op, components, specs, method)
    if (callbacks := _callbacks(components, specs)) is not None:
        op["callbacks"] = callbacks
    if schemes:  # each scheme is an alternative way to authenticate
        op["security"] = [{name: []} for name in schemes]
    if not op["parameters"]:
        del op["parameters"]
    return op


def _dispatch_table(components: _Components, specs: list[OperationSpec],
                    header: str) -> dict[str, Any]:
    return {"header": header, "operations": {
        spec.required_headers[header]: {
            "operation": spec.operation, "summary": spec.summary,
            "request": components.ref(spec.request_schema) if spec.request_schema else None,
            "responses": {str(s): [components.ref(n) for n in names]
                          for s, names in spec.responses.items()},
        } for spec in specs}}


def _add_links(components: _Components, ops: list[tuple[list[OperationSpec], dict[str, Any]]]) -> None:
    """Link an answer that carries `task_id` (say) to every operation with a `{task_id}` path
    parameter, so stateful testers can chain submit -> query -> cancel."""
    for specs, op in ops:
        answer = op["responses"].get("200")
        if answer is None:
            continue
        for target_specs, target in ops:
            for param in _PATH_PARAM.findall(target_specs[0].path):
                pointer = next((found for spec in specs for schema in spec.responses.get(200, ())
                                if (found := components.find_property(schema, param))), None)
                if pointer is not None and target is not op:
                    answer.setdefault("links", {})[target["operationId"]] = {
                        "operationId": target["operationId"],
                        "parameters": {param: f"$response.body#{pointer}"}}


def vendor_document(vendor_spec: VendorSpec, registry: SchemaRegistry,
                    base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one vendor, as this mock emulates it."""
    vendor = vendor_spec.name
    schemes = tuple(vendor_spec.security_schemes)
    components = _Components(registry)
    grouped: dict[tuple[str, str], list[OperationSpec]] = {}
    for spec in load_operations(vendor):
        grouped.setdefault((spec.path, spec.method.lower()), []).append(spec)
    paths: dict[str, dict[str, Any]] = {}
    ops = []
    for (path, method), specs in grouped.items():
        ops.append((specs, _operation(vendor, components, specs, schemes)))
        paths.setdefault(path, {})[method] = ops[-1][1]
    _add_links(components, ops)
    real = f"https://{vendor_spec.hosts[0]}"
    servers = [{"url": url, "description": text} for url, text in
               ((base_url, "this mock"), (real, f"the real {vendor_spec.title} API")) if url]
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": f"{vendor_spec.title} (as emulated by portrait-mockserver)",
                 "version": __version__,
                 "description": "Generated from the mock's operation table and JSON Schemas. "
                                "Each schema's title and the error catalogue say which facts "
                                "are documented by the vendor and which are inferred."},
        "servers": servers,
        "paths": paths,
        "components": {"schemas": dict(sorted(components.schemas.items()))},
    }
    if vendor_spec.security_schemes:
        doc["components"]["securitySchemes"] = {
            name: dict(scheme) for name, scheme in vendor_spec.security_schemes.items()}
    return fit_for_tools(doc)


def write_documents(specs: Iterable[VendorSpec], registry: SchemaRegistry, out_dir: Path,
                    base_url: str | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for vendor_spec in specs:
        path = out_dir / f"{vendor_spec.name}.openapi.json"
        doc = vendor_document(vendor_spec, registry, base_url)
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def openapi_routes(emulator: Emulator) -> list[BaseRoute]:
    """`GET /__admin/openapi` (the list) and `GET /__admin/openapi/{vendor}.json`."""
    base = emulator.settings.base_url

    async def index(request: Request) -> Response:
        return JSONResponse({"documents": {v: f"{base}/__admin/openapi/{v}.json"
                                           for v in (ADMIN, *emulator.providers)}})

    async def admin(request: Request) -> Response:
        return JSONResponse(admin_document(list(emulator.providers), base))

    async def document(request: Request) -> Response:
        provider = emulator.providers.get(request.path_params["vendor"])
        if provider is None:
            return JSONResponse({"error": f"no vendor named {request.path_params['vendor']!r}"},
                                404)
        return JSONResponse(vendor_document(provider.spec, emulator.schemas, base))

    return [Route("/__admin/openapi", index, methods=["GET"]),
            Route(f"/__admin/openapi/{ADMIN}.json", admin, methods=["GET"]),
            Route("/__admin/openapi/{vendor}.json", document, methods=["GET"])]
