"""Helpers for running the emulator inside a test process: a threaded uvicorn server."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .runtime import Emulator
from .settings import Settings


class ServerThread:
    """A real uvicorn server on 127.0.0.1 and a free port, in a daemon thread.

    The port is reserved before the app is built so result URLs already carry it.
    """

    def __init__(self, settings: Settings | None = None, host: str = "127.0.0.1") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        port = self._socket.getsockname()[1]
        self.settings = replace(settings or Settings(), host=host, port=port)
        self.app: Starlette = create_app(self.settings)
        self.emulator: Emulator = self.app.state.emulator
        self.base_url = self.settings.base_url
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
