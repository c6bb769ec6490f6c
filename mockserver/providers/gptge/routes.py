"""gpt.ge's route table, readable at a glance."""
from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from ...web import vendor_route
from ..base import OperationSpec
from . import handlers

if TYPE_CHECKING:
    from . import GptGe


def routes(provider: GptGe) -> list[BaseRoute]:
    return [
        vendor_route(provider, "/task/pic/idphoto", "idphoto", handlers.create, ["POST"]),
        vendor_route(provider, "/task/{task_id}", "query_task", handlers.query, ["GET"]),
    ]


ERRORS = ("gptge/error",)
FINISHED = ("gptge/task-succeeded", "gptge/task-failed")
TASK_STATES = ("gptge/task-queued", "gptge/task-processing", *FINISHED)
OPERATIONS = [
    OperationSpec(
        "idphoto", "POST", "/task/pic/idphoto", "gptge/idphoto-request",
        # sync=0 answers the task id; sync=1 the finished task (or, after the sync wait gave
        # up on a stalled task, its pending view).
        {200: ("gptge/create-response", *TASK_STATES), 400: ERRORS, 401: ERRORS, 413: ERRORS,
         429: ERRORS, 500: ERRORS},
        request_content_type="multipart/form-data",
        callback_schema="gptge/callback",
        summary="Create an ID photo of the requested size (sync=1 waits for it)",
    ),
    OperationSpec(
        "query_task", "GET", "/task/{task_id}", None,
        {200: TASK_STATES, 401: ERRORS, 404: ERRORS, 429: ERRORS, 500: ERRORS},
        summary="Query an ID photo task's state and result",
    ),
]
