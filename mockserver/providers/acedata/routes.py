"""AceData's route table and documented operations, readable at a glance."""
from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from ...web import vendor_route
from ..base import OperationSpec
from . import handlers

if TYPE_CHECKING:
    from . import AceData


def routes(provider: AceData) -> list[BaseRoute]:
    return [
        vendor_route(provider, "/headshots/generate", "generate", handlers.generate, ["POST"]),
        vendor_route(provider, "/headshots/tasks", "tasks", handlers.tasks, ["POST"]),
    ]


ERRORS = ("acedata/error",)
RECORDS = tuple(f"acedata/task-{s}" for s in ("pending", "succeeded", "failed"))
OPERATIONS = [
    OperationSpec(
        "generate", "POST", "/headshots/generate", "acedata/generate-request",
        {200: ("acedata/generate-response", "acedata/generate-accepted"), 400: ERRORS,
         401: ERRORS, 403: ERRORS, 429: ERRORS, 500: ERRORS, 504: ERRORS},
        callback_schema="acedata/callback",
        summary="Generate headshots from portraits and a template (blocking, or async with "
                "callback_url / async: true)",
    ),
    OperationSpec(
        "tasks", "POST", "/headshots/tasks", "acedata/tasks-request",
        {200: (*RECORDS, "acedata/tasks-batch"), 400: ERRORS, 401: ERRORS, 403: ERRORS,
         404: ERRORS, 429: ERRORS, 500: ERRORS},
        summary="Retrieve one task record (action retrieve) or several (retrieve_batch)",
    ),
]
