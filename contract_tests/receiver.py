"""A callback receiver on 127.0.0.1: records every POST under `/callbacks/<token>`."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


class Receiver:
    """`public_url` replaces the local address in callback URLs (a tunnel for live runs)."""

    def __init__(self, port: int = 0, public_url: str | None = None) -> None:
        self._deliveries: list[Delivery] = []
        self._arrived = threading.Condition(threading.RLock())
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.base_url = (public_url or f"http://127.0.0.1:{self._server.server_port}").rstrip("/")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.record(Delivery(self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the deliveries are the record."""

        return Handler

    def record(self, delivery: Delivery) -> None:
        with self._arrived:
            self._deliveries.append(delivery)
            self._arrived.notify_all()

    def url(self, token: str) -> str:
        return f"{self.base_url}/callbacks/{token}"

    def deliveries(self, token: str) -> list[Delivery]:
        with self._arrived:
            return [d for d in self._deliveries if d.path == f"/callbacks/{token}"]

    def wait(self, token: str, timeout: float, settle: float = 0.3) -> list[Delivery]:
        """Deliveries for `token` once the first arrived (or `timeout` ran out), after a short
        settle time in which duplicates would show up."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not self.deliveries(token) and time.monotonic() < deadline:
                self._arrived.wait(timeout=max(0.0, deadline - time.monotonic()))
        if self.deliveries(token):
            time.sleep(settle)
        return self.deliveries(token)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
