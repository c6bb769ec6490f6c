#!/usr/bin/env python3
"""Throughput with several workers and instances on a shared store (issue 18), loaded by wrk.

For each setup the DashScope task query and submit are loaded with wrk (loopback only, a few
seconds each) and compared with one process on the same store kind, in the same run:

    1 worker on SQLite (the reference), 2 and 4 workers on SQLite,
    1 instance on Redis (its reference), 2 instances on one Redis (wrk splits the connections).

Limits are off (`--no-limits`): one key would otherwise be held to 20 queries/s. Everything
else is as shipped (schemas, journal, the shared state checks). Run: python3 bench/bench_workers.py
[--seconds 5] [--connections 32]. Needs `wrk` (`python3 dev.py bench` installs it).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from mockserver.cluster import ServerProcess
from mockserver.redis_server import RedisServer

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
KEY = "Bearer sk-bench"
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
SUBMIT_LUA = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%s"
wrk.headers["X-DashScope-Async"] = "enable"
""" % (json.dumps(JOB), KEY)


@dataclass
class Figure:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def parse_wrk(text: str) -> Figure:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]

    def latency(label: str) -> float:
        found = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", text)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout) (\d+)", text))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                              text)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Figure(rps, latency("50"), latency("99"), errors)


def wrk(urls: list[str], seconds: float, connections: int, script: Path | None) -> Figure:
    """Load every URL at once (connections split between them); throughput adds up."""
    share = max(1, connections // len(urls))
    procs = [subprocess.Popen(
        ["wrk", "-t1", f"-c{share}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "5s",
         *(["-s", str(script)] if script else []), url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for url in urls]
    figures = [parse_wrk(p.communicate(timeout=seconds + 30)[0]) for p in procs]
    return Figure(sum(f.rps for f in figures), max(f.p50_ms for f in figures),
                  max(f.p99_ms for f in figures), sum(f.errors for f in figures))


def seed_task(base_url: str) -> str:
    answer = httpx.post(base_url + SUBMIT, json=JOB, timeout=10,
                        headers={"Authorization": KEY, "X-DashScope-Async": "enable"})
    answer.raise_for_status()
    return str(answer.json()["output"]["task_id"])


def measure(name: str, servers: list[ServerProcess], seconds: float, connections: int,
            script: Path) -> dict[str, Figure]:
    for server in servers:
        server.start()
    try:
        task_id = seed_task(servers[0].base_url)
        query_urls = [f"{s.base_url}/api/v1/tasks/{task_id}" for s in servers]
        wrk(query_urls, 1, connections, None)  # warm up (imports, caches, connections)
        figures = {"query": wrk(query_urls, seconds, connections, None),
                   "submit": wrk([s.base_url + SUBMIT for s in servers], seconds, connections,
                                 script)}
    finally:
        for server in servers:
            server.stop()
    print(f"  {name}: query {figures['query'].rps:,.0f}/s, submit {figures['submit'].rps:,.0f}/s",
          flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2,
                        help="each setup measured this many times, interleaved; means reported")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_workers: wrk is not installed (python3 dev.py bench installs it)")
        return 1
    flags = ("--no-limits",)
    runs: dict[str, list[dict[str, Figure]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp, RedisServer() as redis_server:
        script = Path(tmp) / "submit.lua"
        script.write_text(SUBMIT_LUA)
        print(f"bench_workers: wrk -t1 -c{args.connections} -d{max(1, round(args.seconds))}s per "
              f"figure, {args.rounds} interleaved rounds, {time.strftime('%Y-%m-%d')}, load "
              f"average {Path('/proc/loadavg').read_text().split()[0]}", flush=True)
        for round_number in range(args.rounds):
            for workers in (1, 2, 4):
                db = Path(tmp) / f"w{workers}-{round_number}.db"
                runs.setdefault(f"sqlite x{workers}", []).append(measure(
                    f"SQLite, {workers} worker(s)",
                    [ServerProcess(f"sqlite:{db}", workers=workers, extra=flags)],
                    args.seconds, args.connections, script))
            for count in (1, 2):
                subprocess.run(["redis-cli", "-p", str(redis_server.port), "flushall"],
                               capture_output=True)
                runs.setdefault(f"redis x{count}", []).append(measure(
                    f"Redis, {count} instance(s)",
                    [ServerProcess(redis_server.url, extra=flags) for _ in range(count)],
                    args.seconds, args.connections, script))
    print_table({name: mean(figures) for name, figures in runs.items()})
    print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[0]} (2 cores)")
    return 0


def mean(runs: list[dict[str, Figure]]) -> dict[str, Figure]:
    def average(kind: str) -> Figure:
        found = [r[kind] for r in runs]
        return Figure(sum(f.rps for f in found) / len(found),
                      sum(f.p50_ms for f in found) / len(found),
                      sum(f.p99_ms for f in found) / len(found), sum(f.errors for f in found))

    return {"query": average("query"), "submit": average("submit")}


def print_table(results: dict[str, dict[str, Figure]]) -> None:
    print("\n| Setup | Query req/s | x one process | p50 / p99 ms | Submit req/s | x one process"
          " | p50 / p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, figures in results.items():
        reference = results["redis x1" if name.startswith("redis") else "sqlite x1"]
        cells = []
        for kind in ("query", "submit"):
            f, ref = figures[kind], reference[kind]
            cells += [f"{f.rps:,.0f}", f"{f.rps / ref.rps:.2f}x",
                      f"{f.p50_ms:.1f} / {f.p99_ms:.1f}"]
        errors = figures["query"].errors + figures["submit"].errors
        print(f"| {name} | " + " | ".join(cells) + f" | {errors} |")


if __name__ == "__main__":
    sys.exit(main())
