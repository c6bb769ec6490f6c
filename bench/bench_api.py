"""Benchmark: the mock against a bare Starlette app returning the same JSON, same run, loopback.

Prints requests/s and p50/p99 latency for the DashScope task query and submit, the ratio
mock/bare, and the mock's start-up time to first answer. Bounded: a few seconds per phase.

    python bench/bench_api.py [--seconds 3] [--connections 8]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY = "sk-bench"
SUBMIT_PATH = "/api/v1/services/aigc/album/gen_potrait"
SUBMIT_BODY = json.dumps({"model": "facechain-generation",
                          "parameters": {"style": "f_idcard_male", "n": 1},
                          "resources": [{"resource_id": "r", "resource_type": "facelora"}]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_bytes(method: str, path: str, body: str = "") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
            f"X-DashScope-Async: enable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\n\r\n")
    return head.encode() + body.encode()


async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> bytes:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return head.split(b" ", 2)[1] + b" " + await reader.readexactly(length)


async def load(port: int, raw: bytes, seconds: float, connections: int) -> list[float]:
    """Keep-alive connections sending `raw` back to back; returns latencies in seconds."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            answer = await one(reader, writer, raw)
            if not answer.startswith(b"200"):
                raise RuntimeError(answer[:300])
            latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies


def start(args: list[str], port: int) -> tuple[subprocess.Popen[bytes], float]:
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    raw = b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n"
    while time.perf_counter() - started < 30:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(raw)
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc, time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"{args} did not start")


def summary(latencies: list[float], seconds: float) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0
    return len(ordered) / seconds, statistics.median(ordered) * 1000, p99 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    opts = parser.parse_args()

    mock_port, bare_port = free_port(), free_port()
    mock, startup = start([sys.executable, "-m", "mockserver", "serve", "--port", str(mock_port),
                           "--store", "memory", "--no-limits", "--log-level", "warning"], mock_port)
    try:
        created = asyncio.run(load_once(mock_port))
        task_id = json.loads(created)["output"]["task_id"]
        query_answer = asyncio.run(fetch_body(mock_port, f"/api/v1/tasks/{task_id}"))
        bare, _ = start([sys.executable, str(HERE / "bare_app.py"), str(bare_port),
                         query_answer, created], bare_port)
        try:
            rows = []
            for name, raw in (("task query", request_bytes("GET", f"/api/v1/tasks/{task_id}")),
                              ("submit", request_bytes("POST", SUBMIT_PATH, SUBMIT_BODY))):
                results = {}
                for label, port in (("mock", mock_port), ("bare", bare_port)):
                    lat = asyncio.run(load(port, raw, opts.seconds, opts.connections))
                    results[label] = summary(lat, opts.seconds)
                rows.append((name, results))
        finally:
            bare.terminate()
    finally:
        mock.terminate()

    print(f"mock start-up to first answer: {startup * 1000:.0f} ms (target < 1000 ms)")
    print(f"{'operation':<12} {'server':<5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, results in rows:
        for label, (rps, p50, p99) in results.items():
            print(f"{name:<12} {label:<5} {rps:>8.0f} {p50:>8.2f} {p99:>8.2f}")
        ratio = results["mock"][0] / results["bare"][0]
        print(f"{name:<12} ratio mock/bare throughput: {ratio:.2f}x (target for query >= 0.6x)")


async def load_once(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = await one(reader, writer, request_bytes("POST", SUBMIT_PATH, SUBMIT_BODY))
    writer.close()
    return answer.split(b" ", 1)[1].decode()


async def fetch_body(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = await one(reader, writer, request_bytes("GET", path))
    writer.close()
    return answer.split(b" ", 1)[1].decode()


if __name__ == "__main__":
    main()
