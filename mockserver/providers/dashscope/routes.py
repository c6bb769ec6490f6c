"""DashScope's handler table: operation (schemas/dashscope/operations.json) -> handler."""
from __future__ import annotations

from starlette.routing import BaseRoute

from ...web import Pipeline
from ..base import Provider
from . import handlers

HANDLERS = {
    "gen_potrait": handlers.submit,
    "query_task": handlers.query,
    "cancel_task": handlers.cancel,
}


def routes(provider: Provider, pipeline: Pipeline) -> list[BaseRoute]:
    """The operations file's routes, plus the task query with a trailing slash.

    SDK 2.0.2's aiohttp task calls (`BaseAsyncAioApi.fetch` and `wait`) send
    `GET /api/v1/tasks/{task_id}/`: `AsyncAioTaskGetMixin._get` passes the task URL as the base
    address, and the request factory appends a slash. The official SDK works against the
    vendor, so the vendor answers that path as the query (INFERRED from the SDK).
    """
    operations = provider.operations()
    query = next(spec for spec in operations if spec.operation == "query_task")
    alias = pipeline.route(provider, query.path + "/", query.operation, HANDLERS[query.operation],
                           [query.method])
    return [*pipeline.routes(provider, operations, HANDLERS), alias]
