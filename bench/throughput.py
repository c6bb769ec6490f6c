"""Throughput and latency: `mockserver serve` against the bare floor, interleaved, same run.

Every server is a real subprocess on loopback; wrk (`-t1 -c32`) loads one endpoint of one
server at a time, cycling floor -> mock variants, endpoint by endpoint, run after run, so a
neighbour's load on the shared machine hits every server alike. Limits are off (`--no-limits`),
everything else as shipped (schemas, task state, journal, access log setting).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import servers
import wrk
from servers import DASHSCOPE_HEADERS, HERE, SUBMIT_BODY, SUBMIT_PATH, Server


@dataclass(frozen=True)
class Variant:
    name: str
    start: Callable[[], Server]
    note: str


def variants(chosen: set[str] | None = None) -> list[Variant]:
    pure = {"PYTHONPATH": str(HERE / "pure_stack") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    every = [
        Variant("floor", servers.spawn_floor, "bare Starlette, uvloop + httptools"),
        Variant("memory", lambda: servers.spawn_mock("memory", "--store", "memory", "--no-limits"),
                "mockserver serve --store memory --no-limits"),
        Variant("sqlite", lambda: servers.spawn_mock("sqlite", "--no-limits"),
                "mockserver serve --no-limits (default SQLite store)"),
        Variant("memory-gc-default", lambda: servers.spawn_mock(
            "memory-gc-default", "--store", "memory", "--no-limits",
            env={"MOCKSERVER_GC_TUNING": "0"}),
            "as memory, with the collector left at Python's defaults"),
        Variant("memory-pure-python", lambda: servers.spawn_mock(
            "memory-pure-python", "--store", "memory", "--no-limits", env=pure),
            "as memory, uvloop and httptools hidden: asyncio + h11"),
    ]
    every += [Variant("floor-granian", lambda: _granian("floor-granian", "bare_app:app"),
                      "the floor app under granian (optional, not a dependency)"),
              Variant("memory-granian", lambda: _granian(
                  "memory-granian", "--factory", "granian_app:mock"),
                  "as memory, under granian instead of uvicorn (optional)")]
    return [v for v in every if chosen is None or v.name in chosen or v.name == "floor"]


def _granian(name: str, *target: str) -> Server:
    port = servers.free_port()
    binary = Path(sys.executable).with_name("granian")
    if not binary.exists():
        raise SystemExit("granian is not installed (pip install granian): drop it from --variants")
    return servers.spawn(name, [str(binary), "--interface", "asgi", "--loop", "uvloop",
                                "--host", "127.0.0.1", "--port", str(port), "--log-level",
                                "warning", "--no-ws", *target], port, cwd=HERE,
                         env={"MOCKBENCH_PORT": str(port)})


def endpoints(server: Server) -> dict[str, tuple[str, wrk.Request]]:
    """The DashScope task query (of a real task) and submit, as wrk requests for `server`."""
    task_id = "floor-task" if server.name == "floor" else servers.submit_task(server)
    return {
        "query": (f"{server.base}/api/v1/tasks/{task_id}",
                  wrk.Request("GET", DASHSCOPE_HEADERS[:1])),
        "submit": (server.base + SUBMIT_PATH,
                   wrk.Request("POST", DASHSCOPE_HEADERS, json.dumps(SUBMIT_BODY))),
    }


def run(seconds: float, runs: int, chosen: set[str] | None = None,
        servers_to_load: list[Variant] | None = None,
        loaded: tuple[str, ...] = ("query", "submit")) -> dict[str, Any]:
    """Load `loaded` endpoints of each variant in turn (`chosen` of `variants()`, or
    `servers_to_load`, the floor first), run after run."""
    started: list[Server] = []
    rows: list[dict[str, Any]] = []
    try:
        for variant in servers_to_load or variants(chosen):
            server = variant.start()
            server.info["note"] = variant.note
            started.append(server)
        targets = {s.name: endpoints(s) for s in started}
        print(HEADER, flush=True)
        for run_no in range(1, runs + 1):
            for endpoint in loaded:
                floor: wrk.Result | None = None
                for server in started:
                    url, request = targets[server.name][endpoint]
                    result = wrk.run(url, request, seconds)
                    floor = floor or result
                    rows.append(_row(run_no, endpoint, server.name, result, floor))
                    _print_row(rows[-1])
        rss = {s.name: round(s.rss_mb(), 1) for s in started}
    finally:
        for server in started:
            server.stop()
    return {"seconds": seconds, "runs": runs, "rows": rows, "rss_after_load_mb": rss,
            "servers": {s.name: s.info["note"] for s in started},
            "summary": summarise(rows)}


def _row(run_no: int, endpoint: str, name: str, result: wrk.Result,
         floor: wrk.Result) -> dict[str, Any]:
    return {"run": run_no, "endpoint": endpoint, "server": name, **result.as_dict(),
            "rps_ratio": result.rps / floor.rps, "p99_ratio": result.p99_ms / floor.p99_ms}


HEADER = (f"{'run':>3} {'endpoint':<7} {'server':<19} {'req/s':>8} {'ratio':>6} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'p99 ratio':>9} {'non-2xx':>7}")


def _print_row(row: dict[str, Any]) -> None:
    print(f"{row['run']:>3} {row['endpoint']:<7} {row['server']:<19} {row['rps']:>8.0f} "
          f"{row['rps_ratio']:>5.2f}x {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
          f"{row['p99_ratio']:>8.2f}x {row['non_2xx'] + row['socket_errors']:>7}", flush=True)


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per endpoint and server: the median over runs, and the range of the ratios."""
    out = []
    keys = dict.fromkeys((r["endpoint"], r["server"]) for r in rows)
    for endpoint, name in keys:
        mine = [r for r in rows if (r["endpoint"], r["server"]) == (endpoint, name)]
        med = {k: statistics.median(r[k] for r in mine)
               for k in ("rps", "rps_ratio", "p50_ms", "p99_ms", "p99_ratio")}
        out.append({"endpoint": endpoint, "server": name, **med,
                    "rps_ratio_min": min(r["rps_ratio"] for r in mine),
                    "rps_ratio_max": max(r["rps_ratio"] for r in mine),
                    "p99_ratio_max": max(r["p99_ratio"] for r in mine),
                    "failed": sum(r["non_2xx"] + r["socket_errors"] for r in mine)})
    return out


def print_summary(summary: list[dict[str, Any]]) -> None:
    print(f"\n{'endpoint':<7} {'server':<19} {'req/s':>8} {'ratio (range)':>18} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'p99 ratio':>9}")
    for s in summary:
        ratio = f"{s['rps_ratio']:.2f}x ({s['rps_ratio_min']:.2f}-{s['rps_ratio_max']:.2f})"
        print(f"{s['endpoint']:<7} {s['server']:<19} {s['rps']:>8.0f} {ratio:>18} "
              f"{s['p50_ms']:>7.2f} {s['p99_ms']:>7.2f} {s['p99_ratio']:>8.2f}x")


if __name__ == "__main__":  # python bench/throughput.py [seconds] [runs]
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    outcome = run(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0,
                  int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    print_summary(outcome["summary"])
