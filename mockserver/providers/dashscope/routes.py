"""DashScope's handler table: operation (schemas/dashscope/operations.json) -> handler."""
from __future__ import annotations

from . import handlers

HANDLERS = {
    "gen_potrait": handlers.submit,
    "query_task": handlers.query,
    "cancel_task": handlers.cancel,
}
