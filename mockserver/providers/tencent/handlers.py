"""The API 3.0 gateway at `/` and one function per GlamPic action.

Every request: protocol -> body size -> TC3 signature -> version/action/region -> rate limit
-> parameters -> action. Every answer is HTTP 200 (errors too), rendered by the provider.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from ...core.input_checks import mark_pending
from ...web import Call, Reply
from . import models, signing
from .models import TencentError

if TYPE_CHECKING:
    from .provider import Tencent

ActionHandler = Callable[[Call, dict[str, Any]], Awaitable[Reply]]
RATE_KEYS = {"SubmitGlamPicJob": "submit", "QueryGlamPicJob": "query"}


def _provider(call: Call) -> Tencent:
    return cast("Tencent", call.provider)  # this vendor's routes carry this provider


def _headers(call: Call) -> dict[str, str]:
    return {name.lower(): value for name, value in call.request.headers.items()}


def _query_string(call: Call) -> str:
    """The query exactly as received: it is part of the canonical request."""
    return call.request.scope.get("query_string", b"").decode("latin-1")


def authenticate(call: Call) -> str:
    """Verify the TC3-HMAC-SHA256 signature; the SecretId is the account."""
    provider = _provider(call)
    try:
        secret_id = signing.verify_request(
            method=call.request.method, query=_query_string(call), headers=_headers(call),
            body=call.body, credentials=provider.credentials, now=provider.skew_references(call.now),
            max_skew=provider.max_skew,
        )
    except signing.SignatureError as err:
        raise TencentError(err.code, detail=err.detail, param=err.param) from None
    call.account = secret_id
    return secret_id


def resolve_action(call: Call) -> str:
    """The common parameters that travel in headers: Version, Action, Region."""
    headers = call.request.headers
    version = headers.get("x-tc-version")
    if not version:
        raise TencentError("MissingParameter", param="Version")
    if version != signing.VERSION:
        raise TencentError("NoSuchVersion", version=version)
    action = headers.get("x-tc-action")
    if not action:
        raise TencentError("MissingParameter", param="Action")
    if action not in ACTIONS:
        raise TencentError("InvalidAction", detail=f"action {action!r} is not emulated")
    region = headers.get("x-tc-region")
    if not region:  # both actions document Region as required (必选: 是)
        raise TencentError("MissingParameter", param="Region")
    regions = _provider(call).regions
    if regions and region not in regions:
        raise TencentError("UnsupportedRegion", region=region)
    return action


def read_params(call: Call) -> dict[str, Any]:
    """POST: the JSON body. GET: the flattened query string (`FaceInfos.0.ImageUrls.0=`)."""
    if call.request.method == "GET":
        return models.unflatten(parse_qsl(_query_string(call), keep_blank_values=True))
    if not call.body.strip():
        return {}
    try:
        params = json.loads(call.body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurd nesting
        params = None
    if not isinstance(params, dict):
        raise TencentError("InvalidParameter", "The request body is not a valid JSON object.")
    return params


async def api(call: Call) -> Reply:
    """Every request to `/` comes here; the action handler answers the rest."""
    if call.request.method not in ("GET", "POST"):
        raise TencentError("UnsupportedProtocol")
    if len(call.body) > _provider(call).max_body_bytes:
        raise TencentError("FailedOperation.RequestEntityTooLarge")
    authenticate(call)
    action = resolve_action(call)
    _provider(call).check_rate(call, RATE_KEYS[action])
    return await ACTIONS[action](call, read_params(call))


async def submit(call: Call, params: dict[str, Any]) -> Reply:
    provider = _provider(call)
    call.validate("tencent/submit-request", params)
    account = call.account or ""
    job_id = models.new_job_id(account, call.now)
    job = models.plan_job(params, job_id)
    task = call.runtime.engine.create(
        task_id=job_id, vendor=call.vendor, account=account, pool=provider.spec.pool,
        timing=provider.timing(), request=params, data=mark_pending(job.data()),
    )
    provider.inputs.start(task)
    call.task_id = job_id
    body = {"Response": {"JobId": job_id, "RequestId": call.request_id}}
    return Reply(200, body, "tencent/submit-response")


async def query(call: Call, params: dict[str, Any]) -> Reply:
    provider = _provider(call)
    call.validate("tencent/query-request", params)
    job_id = params["JobId"]
    call.task_id = job_id
    task = provider.own_task(job_id, call.account)
    if task is None:
        raise TencentError("FailedOperation.JobNotExist")
    task = await provider.inputs.settled(task)
    urls = []
    if task.end_at is not None:
        urls = [models.signed_result_url(provider.result_url(task.id, f"{i}.jpg"),
                                         task.end_at, provider.result_ttl)
                for i in range(task.data["num"])]
    view = models.job_view(task, call.now, urls)
    if view is None:  # past its retention (INFERRED 24 h): gone, like an unknown id
        raise TencentError("FailedOperation.JobNotExist")
    schema, fields = view
    return Reply(200, {"Response": {**fields, "RequestId": call.request_id}}, schema)


ACTIONS: dict[str, ActionHandler] = {"SubmitGlamPicJob": submit, "QueryGlamPicJob": query}
