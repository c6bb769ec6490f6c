"""The API 3.0 gateway at `/` and one function per GlamPic action.

Every request: body size (the pipeline, while reading) -> protocol -> signature (TC3 or v1, see gateway.py) ->
version/action/region -> rate limit -> parameters -> action. Every answer is HTTP 200 (errors
too), rendered by the provider.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ...core.input_checks import mark_pending
from ...core.limits import BadJSON, strict_loads
from ...web import Call, Reply
from . import flat, gateway, models, signing
from .models import TencentError

if TYPE_CHECKING:
    from starlette.requests import Request

    from .provider import Tencent

ActionHandler = Callable[[Call, dict[str, Any]], Awaitable[Reply]]
RATE_KEYS = {"SubmitGlamPicJob": "submit", "QueryGlamPicJob": "query"}
SCHEMAS = {"SubmitGlamPicJob": "tencent/submit-request", "QueryGlamPicJob": "tencent/query-request"}


def _provider(call: Call) -> Tencent:
    return cast("Tencent", call.provider)  # this vendor's routes carry this provider


def resolve_action(common: Mapping[str, str], regions: frozenset[str]) -> str:
    """Version, Action, Region: from `X-TC-*` headers (TC3) or the parameters (v1)."""
    version = common.get("Version")
    if not version:
        raise TencentError("MissingParameter", param="Version")
    if version != signing.VERSION:
        raise TencentError("NoSuchVersion", version=version)
    action = common.get("Action")
    if not action:
        raise TencentError("MissingParameter", param="Action")
    if action not in ACTIONS:
        raise TencentError("InvalidAction", detail=f"action {action!r} is not emulated")
    region = common.get("Region")
    if not region:  # both actions document Region as required (必选: 是)
        raise TencentError("MissingParameter", param="Region")
    if regions and region not in regions:
        raise TencentError("UnsupportedRegion", region=region)
    return action


def read_params(call: Call, signed: gateway.Authenticated, action: str) -> dict[str, Any]:
    """The action's fields: the JSON body (TC3 POST), or the flattened form of a GET or a v1
    request, un-flattened and turned back into the schema's types."""
    if signed.fields is not None:
        schema = SCHEMAS[action]
        return flat.coerce(flat.unflatten(signed.fields), schema, call.runtime.schemas)
    if not call.body.strip():
        return {}
    try:  # bounded nesting, finite numbers only (a NaN would pass every range check)
        params = strict_loads(call.body)
    except BadJSON:
        params = None
    if not isinstance(params, dict):
        raise TencentError("InvalidParameter", "The request body is not a valid JSON object.")
    return params


async def api(call: Call) -> Reply:
    """Every request to `/` comes here; the action handler answers the rest."""
    if call.request.method not in ("GET", "POST"):
        raise TencentError("UnsupportedProtocol")
    provider = _provider(call)
    signed = gateway.authenticate(call, provider)
    action = resolve_action(signed.common, provider.regions)
    provider.check_rate(call, RATE_KEYS[action])
    return await ACTIONS[action](call, read_params(call, signed, action))


async def submit(call: Call, params: dict[str, Any]) -> Reply:
    provider = _provider(call)
    call.validate(SCHEMAS["SubmitGlamPicJob"], params)
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
    call.validate(SCHEMAS["QueryGlamPicJob"], params)
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


async def operation_of(request: Request, max_bytes: int) -> str:
    """The operation name fault rules and the journal see: the action, if it is emulated."""
    action = await gateway.action_name(request, max_bytes)
    return action if action in ACTIONS else models.GATEWAY
