"""Issue 15, item 12 (logging): an injected drop and a client that disconnects mid-body are
logged as one line, not as an ERROR traceback."""
from __future__ import annotations

import logging
import socket
import time

import httpx
import pytest

from mockserver.settings import Settings
from mockserver.testing import ServerThread

from .conftest import ErrorLog


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_drops_and_disconnects_log_one_line(error_log: ErrorLog) -> None:
    lines = Lines()
    server_log = logging.getLogger("uvicorn.error")
    try:
        with ServerThread(Settings()) as server:
            server_log.addHandler(lines)  # after uvicorn configured its loggers
            server_log.addHandler(error_log)
            server.emulator.features["faults"].add(
                {"vendor": "acedata", "effect": "drop", "times": 1})
            with pytest.raises(httpx.TransportError):
                httpx.post(f"{server.base_url}/headshots/tasks", json={"id": "x"},
                           headers={"Authorization": "Bearer sk-d"})
            host, port = server.base_url.split("://")[1].split(":")
            with socket.create_connection((host, int(port))) as sock:  # half a body, then gone
                sock.sendall(b"POST /headshots/tasks HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 1000\r\n\r\n{\"id\":")
            for _ in range(200):
                if any("dropped on purpose" in line for line in lines.lines):
                    break
                time.sleep(0.01)
            assert httpx.get(f"{server.base_url}/__admin/health").status_code == 200
    finally:
        server_log.removeHandler(lines)
        server_log.removeHandler(error_log)
    assert error_log.records == []
    assert any("connection dropped on purpose" in line for line in lines.lines), lines.lines
