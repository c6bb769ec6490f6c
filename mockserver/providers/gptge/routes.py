"""gpt.ge's handler table: operation (schemas/gptge/operations.json) -> handler."""
from __future__ import annotations

from . import handlers

HANDLERS = {
    "idphoto": handlers.create,
    "query_task": handlers.query,
}
