"""Scale series: submit and query cost with 1 .. 1 M stored tasks, limits ON, each store.

The store is filled through its API before the server answers (SQLite: in a child process,
then `mockserver serve` on that file; memory: inside the server process, `seeded.py`). Limits
stay on (concurrency, queue depth, rate checks), with the DashScope per-account rates raised in
a config file so that one load generator is not refused at 2 submits/s. Three short wrk runs
per level: the query of a stored task, a submit with a new key every request (a fresh
account), and a submit for `sk-busy`, an account that already has QUEUED waiting tasks.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import seeded
import servers
import wrk
from servers import DASHSCOPE_HEADERS, HERE, SUBMIT_BODY, SUBMIT_PATH, Server

CONFIG = """[vendors.dashscope]
submit_qps = 1000000   # the limiter still runs on every request; it just never refuses
query_qps = 1000000
"""


def start(store: str, n: int, queued: int, workdir: Path, budget_s: float) -> Server:
    config = workdir / "limits-on.toml"
    config.write_text(CONFIG)
    port = servers.free_port()
    if store == "sqlite":
        db = workdir / f"scale-{n}.db"
        done = servers.subprocess.run(
            [sys.executable, str(HERE / "seeded.py"), "sqlite", str(db), str(n), str(queued)],
            capture_output=True, text=True, timeout=budget_s + 60, check=True)
        seed_s = json.loads(done.stdout.strip().splitlines()[-1])["seed_seconds"]
        server = servers.spawn_mock(f"sqlite-{n}", "--store", f"sqlite:{db}", "--config",
                                    str(config), "--log-level", "warning", port=port, cwd=workdir)
        server.info.update(seed_seconds=seed_s, db_mb=db.stat().st_size / 2**20)
        return server
    report = workdir / f"memory-{n}.json"
    server = servers.spawn(f"memory-{n}", [sys.executable, str(HERE / "seeded.py"), "memory",
                                           str(port), str(n), str(queued), str(config),
                                           str(report)], port, timeout=budget_s + 60)
    server.info.update(json.loads(report.read_text()))
    return server


def measure(server: Server, seconds: float, tag: str) -> dict[str, Any]:
    body = json.dumps(SUBMIT_BODY)
    auth = ("Authorization", f"Bearer {seeded.PROBE_KEY}")
    busy = (("Authorization", f"Bearer {seeded.BUSY_KEY}"), *DASHSCOPE_HEADERS[1:])
    runs = {
        "query": (f"{server.base}/api/v1/tasks/{seeded.PROBE_ID}", wrk.Request("GET", (auth,))),
        "submit_new_key": (server.base + SUBMIT_PATH, wrk.Request(
            "POST", DASHSCOPE_HEADERS, body, rotate_key=f"sk-fresh-{tag}-")),
        "submit_busy_account": (server.base + SUBMIT_PATH, wrk.Request("POST", busy, body)),
    }
    return {name: wrk.run(url, request, seconds).as_dict() for name, (url, request) in runs.items()}


def run(levels: list[int], seconds: float, queued: int = 1000,
        budget_s: float = 240.0) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for store in ("memory", "sqlite"):
        rate: float | None = None
        for n in levels:
            if rate is not None and n / rate > budget_s and n > 300_000:
                notes.append(f"{store}: seeding {n} tasks would take about {n / rate:.0f} s "
                             f"(budget {budget_s:.0f} s): measured 300000 instead")
                print(notes[-1], flush=True)
                n = 300_000
            with tempfile.TemporaryDirectory(prefix="mockscale-") as tmp:
                q = min(queued, max(0, n - 1))
                started = time.perf_counter()
                server = start(store, n, q, Path(tmp), budget_s)
                try:
                    ready_s = time.perf_counter() - started
                    figures = measure(server, seconds, f"{store}{n}")
                    row = {"store": store, "tasks": n, "queued_in_busy_account": q,
                           "ready_s": ready_s, "rss_mb": server.rss_mb(), **server.info,
                           **figures}
                finally:
                    server.stop()
            if server.info.get("seed_seconds") and n > 1:
                rate = n / server.info["seed_seconds"]
            rows.append(row)
            _print_row(row)
    return {"levels": levels, "seconds": seconds, "rows": rows, "notes": notes,
            "memory_per_task_kb": per_task_kb(rows)}


def per_task_kb(rows: list[dict[str, Any]]) -> float | None:
    big = max((r for r in rows if r["store"] == "memory" and "rss_after_mb" in r),
              key=lambda r: r["tasks"], default=None)
    if big is None or big["tasks"] < 100_000:  # below that, allocator noise dominates
        return None
    return (big["rss_after_mb"] - big["rss_before_mb"]) * 1024 / big["tasks"]


HEADER = (f"{'store':<7} {'tasks':>8} {'queued':>6} {'query p50':>9} {'req/s':>6} "
          f"{'submit p50':>10} {'req/s':>6} {'busy p50':>9} {'req/s':>6} {'failed':>6} "
          f"{'seed s':>6} {'RSS MB':>7}")


def _print_row(row: dict[str, Any]) -> None:
    if row["tasks"] == 1 and row["store"] == "memory":
        print(HEADER)
    q, s, b = row["query"], row["submit_new_key"], row["submit_busy_account"]
    failed = sum(r["non_2xx"] + r["socket_errors"] for r in (q, s, b))
    print(f"{row['store']:<7} {row['tasks']:>8} {row['queued_in_busy_account']:>6} "
          f"{_p50(q, 9)} {q['rps']:>6.0f} {_p50(s, 10)} {s['rps']:>6.0f} "
          f"{_p50(b, 9)} {b['rps']:>6.0f} {failed:>6} "
          f"{row.get('seed_seconds', 0):>6.1f} {row['rss_mb']:>7.1f}", flush=True)


def _p50(result: dict[str, Any], width: int) -> str:
    """The median, or how long wrk waited in vain when no request was answered in the run."""
    if result["requests"] == 0:
        return f"{'>' + format(result['seconds'], '.0f') + ' s':>{width}}"
    return f"{result['p50_ms']:>{width - 2}.2f}ms"


if __name__ == "__main__":  # python bench/scale.py [levels,comma,separated] [seconds]
    chosen = [int(x) for x in sys.argv[1].split(",")] if len(sys.argv) > 1 else [1, 1000]
    result = run(chosen, float(sys.argv[2]) if len(sys.argv) > 2 else 2.0)
    print(f"memory store: {result['memory_per_task_kb']} KB per task")
