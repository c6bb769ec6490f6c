"""Real `mockserver serve` processes on one shared store, for parity, durability and load tests.

`ServerProcess` runs one `python -m mockserver serve` (optionally `--workers N`) on a free
loopback port; `RoundRobin` is an httpx client that sends each request to the next of several
instances, the way a load balancer in front of replicas would.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from .testing import free_port


class ServerProcess:
    def __init__(self, store: str, *, workers: int = 1, port: int | None = None,
                 extra: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.store, self.workers, self.extra = store, workers, extra
        self.port = port or free_port()
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        command = [sys.executable, "-m", "mockserver", "serve", "--port", str(self.port),
                   "--store", self.store, "--workers", str(self.workers),
                   "--log-level", "warning", *self.extra]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self._healthy() and len(self.worker_pids()) >= (self.workers if self.workers > 1
                                                               else 0):
                return self
            time.sleep(0.05)
        output = self.stop()
        raise RuntimeError(f"mockserver did not start: {output[-3000:]}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/__admin/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def worker_pids(self) -> list[int]:
        """The worker processes (`--workers N`): children of the supervisor that serve."""
        if self.proc is None:
            return []
        found = []
        for child in _children(self.proc.pid):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes() if Path(
                f"/proc/{child}").exists() else b""
            if b"spawn_main" in cmdline:
                found.append(child)
        return found

    def kill9(self) -> None:
        """kill -9 the whole instance (the supervisor and its workers)."""
        assert self.proc is not None
        for pid in [*self.worker_pids(), self.proc.pid]:
            _kill(pid)
        self.proc.wait()

    def stop(self) -> str:
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()
        output = self.proc.stdout.read().decode("utf-8", "replace") if self.proc.stdout else ""
        self.proc = None
        return output

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(p) for p in text.split()]
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class RoundRobin(httpx.Client):
    """Each request goes to the next base URL in turn (no connection reuse across them)."""

    def __init__(self, base_urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_urls = base_urls
        self._next = itertools.cycle(base_urls)

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        target = url if str(url).startswith("http") else next(self._next) + str(url)
        return super().request(method, target, **kwargs)
