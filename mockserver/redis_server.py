"""A throwaway `redis-server` (Debian's package) on a free loopback port, for tests and benchmarks.

No persistence: the data lives in memory and in a temporary directory that goes away with it.
`python3 dev.py test` installs the package when it is missing; without it this fails loudly.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from .testing import free_port

INSTALL_HINT = "redis-server is not installed: run `python3 dev.py test` (it installs it) " \
               "or `apt-get install -y redis-server`"


class RedisServer:
    """`with RedisServer() as server: server.url` -> `redis://127.0.0.1:PORT/0`."""

    def __init__(self, binary: str = "redis-server") -> None:
        found = shutil.which(binary)
        if found is None:
            raise RuntimeError(INSTALL_HINT)
        self.binary = found
        self.port = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self._dir = tempfile.TemporaryDirectory(prefix="mockserver-redis-")
        for _ in range(5):  # a port picked as free can be taken before the server binds it
            self.port = free_port()
            self._proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", self._dir.name,
                 "--logfile", str(Path(self._dir.name) / "redis.log"), "--daemonize", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            self._proc.kill()
            self._proc.wait()
        raise RuntimeError(f"redis-server did not start: {self._log_tail()}")

    def _wait_ready(self, seconds: float = 10.0) -> bool:
        deadline = time.monotonic() + seconds
        assert self._proc is not None
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.02)
        return False

    def _log_tail(self) -> str:
        log = Path(self._dir.name) / "redis.log" if self._dir else None
        return log.read_text()[-2000:] if log and log.exists() else "(no log)"

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
