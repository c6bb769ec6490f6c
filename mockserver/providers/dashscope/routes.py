"""DashScope's route table, readable at a glance."""
from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from ...web import vendor_route
from . import handlers

if TYPE_CHECKING:
    from . import DashScope


def routes(provider: DashScope) -> list[BaseRoute]:
    return [
        vendor_route(provider, "/api/v1/services/aigc/album/gen_potrait", "gen_potrait",
                     handlers.submit, ["POST"]),
        vendor_route(provider, "/api/v1/tasks/{task_id}", "query_task", handlers.query, ["GET"]),
        vendor_route(provider, "/api/v1/tasks/{task_id}/cancel", "cancel_task", handlers.cancel,
                     ["POST"]),
    ]
