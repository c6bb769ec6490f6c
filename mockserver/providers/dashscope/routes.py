"""DashScope's route table, readable at a glance."""
from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from ...web import vendor_route
from ..base import OperationSpec
from . import handlers

if TYPE_CHECKING:
    from . import DashScope


def routes(provider: DashScope) -> list[BaseRoute]:
    return [
        vendor_route(provider, "/api/v1/services/aigc/album/gen_potrait", "gen_potrait",
                     handlers.submit, ["POST"]),
        # The task list answers with and without the trailing slash (the doc's curl has it).
        vendor_route(provider, "/api/v1/tasks", "list_tasks", handlers.list_tasks, ["GET"]),
        vendor_route(provider, "/api/v1/tasks/", "list_tasks", handlers.list_tasks, ["GET"]),
        vendor_route(provider, "/api/v1/tasks/{task_id}", "query_task", handlers.query, ["GET"]),
        vendor_route(provider, "/api/v1/tasks/{task_id}/cancel", "cancel_task", handlers.cancel,
                     ["POST"]),
    ]


ERRORS = ("dashscope/error",)
TASK_STATES = tuple(f"dashscope/task-{s}" for s in
                    ("pending", "running", "succeeded", "failed", "canceled", "unknown"))
OPERATIONS = [
    OperationSpec(
        "gen_potrait", "POST", "/api/v1/services/aigc/album/gen_potrait",
        "dashscope/submit-request",
        {200: ("dashscope/submit-response",), 400: ERRORS, 401: ERRORS, 403: ERRORS,
         429: ERRORS, 500: ERRORS},
        required_headers={"X-DashScope-Async": "enable"},
        summary="Submit a facechain portrait generation task",
    ),
    OperationSpec("query_task", "GET", "/api/v1/tasks/{task_id}", None,
                  {200: TASK_STATES, 401: ERRORS, 429: ERRORS},
                  summary="Query a task's state and results"),
    OperationSpec("cancel_task", "POST", "/api/v1/tasks/{task_id}/cancel", None,
                  {200: ("dashscope/cancel-response",), 400: ERRORS, 401: ERRORS, 429: ERRORS},
                  summary="Cancel a PENDING task"),
    # The request schema is the query string's (GET): every value arrives as a string.
    OperationSpec("list_tasks", "GET", "/api/v1/tasks", "dashscope/task-list-request",
                  {200: ("dashscope/task-list-response",), 400: ERRORS, 401: ERRORS,
                   429: ERRORS},
                  summary="List the account's tasks of a window of at most 24 hours, by page"),
]
