"""Tencent's route table: one path, `/`, dispatched by the action (X-TC-Action or v1 Action)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...web import run_operation
from ..base import OperationSpec
from . import handlers
from .signing import VERSION

if TYPE_CHECKING:
    from . import Tencent

# GET and POST are the API; the others are routed here to answer UnsupportedProtocol.
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def routes(provider: Tencent) -> list[BaseRoute]:
    async def endpoint(request: Request) -> Response:
        # Name the operation before interceptors run, so faults and the journal can match it
        # (X-TC-Action for TC3, the Action parameter for signature v1).
        operation = await handlers.operation_of(request)
        return await run_operation(provider, operation, handlers.api, request)

    return [Route("/", endpoint, methods=METHODS, name="tencent.api")]


ERRORS = ("tencent/error",)
JOB_STATES = tuple(f"tencent/job-{s}" for s in ("waiting", "running", "failed", "done"))
GET_NOTE = (" (GET: the same parameters flattened into the query string,"
            " e.g. FaceInfos.0.ImageUrls.0)")


def _spec(action: str, method: str, request_schema: str, answers: tuple[str, ...],
          summary: str) -> OperationSpec:
    # Tencent answers HTTP 200 for everything, errors included (Response.Error).
    return OperationSpec(
        action, method, "/", request_schema, {200: answers + ERRORS},
        request_content_type=("application/json" if method == "POST"
                              else "application/x-www-form-urlencoded"),
        # Constant headers only; X-TC-Region, X-TC-Timestamp and Authorization (TC3) vary.
        required_headers={"X-TC-Action": action, "X-TC-Version": VERSION},
        summary=summary + (GET_NOTE if method == "GET" else ""),
    )


OPERATIONS = [
    _spec(action, method, schema, answers, summary)
    for method in ("POST", "GET")
    for action, schema, answers, summary in (
        ("SubmitGlamPicJob", "tencent/submit-request", ("tencent/submit-response",),
         "Submit a GlamPic (AI 美照) job"),
        ("QueryGlamPicJob", "tencent/query-request", JOB_STATES,
         "Query a GlamPic job's state and result images"),
    )
]
