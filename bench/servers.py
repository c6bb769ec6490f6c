"""Start the servers under test as real subprocesses on loopback, time them, read their memory."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEALTH = "/__admin/health"
KEY = "sk-bench"
SUBMIT_PATH = "/api/v1/services/aigc/album/gen_potrait"
SUBMIT_BODY = {"model": "facechain-generation",
               "parameters": {"style": "f_idcard_male", "n": 1},
               "resources": [{"resource_id": "bench-lora", "resource_type": "facelora"}]}
DASHSCOPE_HEADERS = (("Authorization", f"Bearer {KEY}"), ("X-DashScope-Async", "enable"),
                     ("Content-Type", "application/json"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mockserver_command() -> list[str]:
    """The console script installed next to this interpreter (what a user runs), else -m."""
    script = Path(sys.executable).with_name("mockserver")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mockserver"]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    startup_s: float
    workdir: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGINT lets atexit hooks run: uvicorn re-raises the signal after shutting down."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def spawn(name: str, args: Sequence[str], port: int, *, env: Mapping[str, str] | None = None,
          cwd: Path | None = None, timeout: float = 120.0) -> Server:
    """Start `args` and wait for its first 200 on the health path; the wait is the start-up."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(list(args), stdout=log, stderr=subprocess.STDOUT, env=full_env,
                            cwd=cwd)
    raw = f"GET {HEALTH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{name} exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(raw)
                if sock.recv(16).startswith(b"HTTP/1.1 200"):
                    return Server(name, proc, port, time.perf_counter() - started, cwd)
        except OSError:
            time.sleep(0.002)
    proc.kill()
    raise RuntimeError(f"{name} did not answer {HEALTH} within {timeout:.0f} s")


def spawn_floor(port: int | None = None) -> Server:
    port = port or free_port()
    return spawn("floor", [sys.executable, str(HERE / "bare_app.py"), str(port)], port)


def spawn_mock(name: str, *flags: str, port: int | None = None, cwd: Path | None = None,
               env: Mapping[str, str] | None = None) -> Server:
    """`mockserver serve` as shipped, in its own working directory (so the default SQLite store
    under .mockserver-data/ is fresh for every server)."""
    port = port or free_port()
    workdir = cwd or Path(tempfile.mkdtemp(prefix="mockbench-"))
    return spawn(name, [*mockserver_command(), "serve", "--port", str(port), *flags], port,
                 cwd=workdir, env=env)


def http(method: str, url: str, body: Any = None,
         headers: Sequence[tuple[str, str]] = DASHSCOPE_HEADERS, timeout: float = 60) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def submit_task(server: Server, body: Any = None,
                headers: Sequence[tuple[str, str]] = DASHSCOPE_HEADERS) -> str:
    answer = http("POST", server.base + SUBMIT_PATH, body or SUBMIT_BODY, headers)
    return str(answer["output"]["task_id"])
