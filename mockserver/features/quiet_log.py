"""Some exceptions that reach the HTTP server are no bug: a fault rule's dropped connection
(raised on purpose, so the server closes the socket unanswered) and a client that went away.
The server logs them at ERROR with a traceback; this filter turns each into one INFO line, or
into nothing when the access log already wrote that request's line (the exception's `logged`)."""
from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect

from ..core.limits import ClientGone

SERVER_LOGGERS = ("uvicorn.error", "_granian")
GONE = (ClientDisconnect, ClientGone)


class QuietDrops(logging.Filter):
    def __init__(self, on_purpose: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.on_purpose = on_purpose

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, self.on_purpose):
            if getattr(error, "logged", False):
                return False
            text = f"connection dropped on purpose ({error})"
        elif isinstance(error, GONE):
            text = "the client disconnected before the answer"
        else:
            return True
        record.msg, record.args = text, ()
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_server_logs(*on_purpose: type[BaseException]) -> None:
    """Install the filter on the servers' loggers (once per process): `on_purpose` are the
    exceptions raised to drop a connection."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietDrops) for f in logger.filters):
            logger.addFilter(QuietDrops(on_purpose))
