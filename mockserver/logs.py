"""One log format for every line the server writes: its own, the access log's and uvicorn's.

`text`: `2026-11-21 10:00:00,123 INFO mockserver.access GET /__admin/health 200 0.4ms -`.
`json`: one object a line (`time`, `level`, `logger`, `message`, the access-log fields under
`access`, a traceback, if any, as one string under `error`), for log shippers.

Inside the server's event loop the stream is flushed once per loop turn rather than once per
line (measured by bench/bench_access_log.py); a `kill -9` can lose that last turn's lines.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import IO, Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
TRACE = 5  # uvicorn's level below DEBUG
LEVELS = {"critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING,
          "info": logging.INFO, "debug": logging.DEBUG, "trace": TRACE}
# Loggers that must reach the one handler: uvicorn's, which its default config would give
# handlers and formats of their own.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "mockserver")


class _SecondCache:
    """The formatted second of a timestamp, computed once per second (a busy server logs
    thousands of lines a second, and strftime is a good part of each)."""

    def __init__(self, render: Callable[[int], str]) -> None:
        self.render = render
        self.second = -1
        self.text = ""

    def __call__(self, created: float) -> str:
        second = int(created)
        if second != self.second:
            self.second, self.text = second, self.render(second)
        return self.text


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second = _SecondCache(lambda s: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s)))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{self._second(record.created)},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = _SecondCache(lambda s: datetime.fromtimestamp(s, timezone.utc)
                                    .strftime("%Y-%m-%dT%H:%M:%S"))

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": f"{self._second(record.created)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
        for key in ("access", "banner"):
            if hasattr(record, key):
                doc[key] = getattr(record, key)
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


class LoopFlushingHandler(logging.StreamHandler):
    """A stream handler that, inside an event loop, flushes once per loop turn instead of once
    per record: the lines of every request answered in one turn reach the stream in one write.
    Outside a loop it flushes at once, as any stream handler."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        self._flush_pending = False

    def flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread (start-up, shutdown, worker threads)
            self._flush_pending = False
            super().flush()
            return
        if not self._flush_pending:
            self._flush_pending = True
            loop.call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._flush_pending = False
        super().flush()


def configure(level: str = "info", fmt: str = "text", stream: IO[str] | None = None,
              filters: Iterable[Callable[[logging.LogRecord], bool]] = ()) -> logging.Handler:
    """Send every log record, uvicorn's included, through one handler in one format."""
    logging.addLevelName(TRACE, "TRACE")
    # No format prints thread or process names; not collecting them makes every record cheaper.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = LoopFlushingHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    for keep in filters:
        handler.addFilter(keep)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(LEVELS[level])
    return handler
