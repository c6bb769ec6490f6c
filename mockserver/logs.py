"""One log format for every line the server writes: its own, the access log's and uvicorn's.

`text`: `2026-11-21 10:00:00,123 INFO mockserver.access GET /__admin/health 200 0.4ms -`.
`json`: one object a line (`time`, `level`, `logger`, `message`, the access-log fields under
`access`, a traceback, if any, as one string under `error`), for log shippers.

Each formatter builds its lines in one method, `line()`, used both for log records and by
`LineSink`, the access log's direct path: one line per request through the logging module
costs several times the line itself (a record, its lookups, a lock), which
bench/bench_access_log.py measures.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import IO, Any

TRACE = 5  # uvicorn's level below DEBUG
LEVELS = {"critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING,
          "info": logging.INFO, "debug": logging.DEBUG, "trace": TRACE}
# Loggers that must reach the one handler: uvicorn's, which its default config would give
# handlers and formats of their own.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "mockserver")
EXTRA_FIELDS = ("access", "banner")  # structured parts a record may carry (`extra=`)
Handler = logging.StreamHandler[IO[str]]


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


class LineFormatter(logging.Formatter):
    """A formatter whose whole layout is `line()`."""

    def line(self, created: float, level: str, name: str, message: str,
             extra: Mapping[str, Any], error: str | None = None) -> str:
        raise NotImplementedError

    def format(self, record: logging.LogRecord) -> str:
        error = self.formatException(record.exc_info) if record.exc_info else None
        extra = {key: getattr(record, key) for key in EXTRA_FIELDS if hasattr(record, key)}
        return self.line(record.created, record.levelname, record.name, record.getMessage(),
                         extra, error)


class TextFormatter(LineFormatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = _SecondCache(lambda s: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s)))

    def line(self, created: float, level: str, name: str, message: str,
             extra: Mapping[str, Any], error: str | None = None) -> str:
        text = (f"{self._second(created)},{int(created % 1 * 1000):03d} {level} {name} "
                f"{message}")
        return f"{text}\n{error}" if error else text


class JsonFormatter(LineFormatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = _SecondCache(lambda s: datetime.fromtimestamp(s, timezone.utc)
                                    .strftime("%Y-%m-%dT%H:%M:%S"))

    def line(self, created: float, level: str, name: str, message: str,
             extra: Mapping[str, Any], error: str | None = None) -> str:
        doc: dict[str, Any] = {
            "time": f"{self._second(created)}.{int(created % 1 * 1000):03d}Z",
            "level": level.lower(), "logger": name, "message": message, **extra}
        if error:
            doc["error"] = error
        return json.dumps(doc, ensure_ascii=False, default=str)


class LineSink:
    """Writes INFO lines of one logger straight to `handler`'s stream in its format: what
    `logger.info(message, extra=...)` would write there, without building a record.

    Inside an event loop the lines of one loop turn are written and flushed together at the
    end of the turn (one write for all the requests a busy server finishes at once, not one
    each); outside one, and at exit, at once."""

    def __init__(self, handler: Handler, name: str) -> None:
        self.handler = handler
        self.name = name
        self.logger = logging.getLogger(name)
        formatter = handler.formatter
        assert isinstance(formatter, LineFormatter)
        self.formatter = formatter
        self.structured = isinstance(formatter, JsonFormatter)  # prints the `extra` fields
        self._pending: list[str] = []
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def __call__(self, message: str, extra: Mapping[str, Any]) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        line = self.formatter.line(time.time(), "INFO", self.name, message, extra)
        with self._lock:
            self._pending.append(line)
            if len(self._pending) > 1:
                return  # the flush for this turn is already scheduled
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # no loop in this thread: write now
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
        if lines:
            self.handler.stream.write("\n".join(lines) + "\n")
            self.handler.flush()


def configure(level: str = "info", fmt: str = "text", stream: IO[str] | None = None) -> Handler:
    """Send every log record, uvicorn's included, through one handler in one format."""
    logging.addLevelName(TRACE, "TRACE")
    # No format prints thread or process names; not collecting them makes every record cheaper.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler: Handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(LEVELS[level])
    return handler
