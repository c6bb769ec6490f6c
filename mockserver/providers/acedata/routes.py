"""AceData's handler table: operation (schemas/acedata/operations.json) -> handler."""
from __future__ import annotations

from . import handlers

HANDLERS = {
    "generate": handlers.generate,
    "tasks": handlers.tasks,
}
