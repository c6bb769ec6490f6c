"""`kill -9` at any moment: every task the server acknowledged is queryable after a restart."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
HEADERS = {"Authorization": "Bearer sk-durable", "X-DashScope-Async": "enable"}
BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_male", "n": 1},
        "resources": [{"resource_id": "r", "resource_type": "facelora"}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port),
         "--store", f"sqlite:{db}", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/__admin/health", timeout=0.5).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(proc.stdout.read().decode() if proc.stdout else "server did not start")


def hammer(base: str, acknowledged: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=2) as client:
        key = 0
        while not stop.is_set():
            key += 1  # a new account each time keeps clear of the per-account rate limit
            try:
                answer = client.post(SUBMIT, json=BODY,
                                     headers={**HEADERS, "Authorization": f"Bearer sk-{key}"})
            except httpx.TransportError:
                return
            if answer.status_code == 200:
                acknowledged.append((f"sk-{key}", answer.json()["output"]["task_id"]))


@pytest.mark.parametrize("kill_after", [0.3, 0.9])
def test_acknowledged_tasks_survive_kill_9(tmp_path: Path, kill_after: float) -> None:
    db, port = tmp_path / "mock.db", free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(db, port)
    httpx.post(f"{base}/__admin/clock/advance", json={"seconds": 10})
    acknowledged: list[tuple[str, str]] = []
    stop = threading.Event()
    worker = threading.Thread(target=hammer, args=(base, acknowledged, stop))
    worker.start()
    time.sleep(kill_after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stop.set()
    worker.join()
    assert acknowledged, "no task was acknowledged before the kill"

    proc = start(db, port)
    try:
        with httpx.Client(base_url=base) as client:
            assert client.get("/__admin/clock").json()["offset"] == 10  # the clock survived too
            for key, task_id in acknowledged:
                assert status_of(client, key, task_id) in {"PENDING", "RUNNING"}, task_id
            client.post("/__admin/clock/advance", json={"seconds": 60})
            assert status_of(client, *acknowledged[-1]) == "SUCCEEDED"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def status_of(client: httpx.Client, key: str, task_id: str) -> str:
    answer = client.get(f"/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {key}"})
    return answer.json()["output"]["task_status"]
