"""DashScope's handler table: operation (schemas/dashscope/operations.json) -> handler."""
from __future__ import annotations

from . import handlers

HANDLERS = {
    "gen_potrait": handlers.submit,
    "list_tasks": handlers.list_tasks,
    "query_task": handlers.query,
    "cancel_task": handlers.cancel,
}
