"""How the collector settings change the tail: the same mock under several settings.

Each setting is a fresh `mockserver serve --store memory --no-limits` (via gc_serve.py, which
records every collection's pause), loaded with wrk on the query then the submit; the floor
runs first for the ratio. Printed: p99 and req/s per endpoint, gen-2 collections, the longest
pause and the total time spent collecting. This is how core/gctune.py's settings were chosen.
"""
from __future__ import annotations

import json
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import servers
import throughput
import wrk
from servers import HERE

SETTINGS: dict[str, dict[str, str]] = {
    "python defaults": {"MOCKSERVER_GC_TUNING": "0"},
    "freeze, 700,10,10": {"MOCKSERVER_GC_THRESHOLD": "700,10,10"},
    "freeze, 10000,10,10": {"MOCKSERVER_GC_THRESHOLD": "10000,10,10"},
    "freeze, 50000,20,20 (shipped)": {},
    "freeze, 100000,50,100": {"MOCKSERVER_GC_THRESHOLD": "100000,50,100"},
}


def one(name: str, env: dict[str, str], seconds: float) -> dict[str, Any]:
    report = Path(tempfile.mkdtemp()) / "gc.json"
    port = servers.free_port()
    server = servers.spawn(name, [sys.executable, str(HERE / "gc_serve.py"), "serve", "--port",
                                  str(port), "--store", "memory", "--no-limits",
                                  "--log-level", "warning"], port,
                           env={**env, "MOCKSERVER_GC_REPORT": str(report)})
    try:
        targets = throughput.endpoints(server)
        server.proc.send_signal(signal.SIGUSR1)  # count only the collections under load
        figures: dict[str, Any] = {e: wrk.run(url, request, seconds).as_dict()
                   for e, (url, request) in targets.items()}
        figures["rss_mb"] = server.rss_mb()
    finally:
        server.stop(signal.SIGINT)
    figures["gc"] = json.loads(report.read_text())
    return figures


def run(seconds: float, runs: int = 1) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in SETTINGS}
    floor = servers.spawn_floor()
    try:
        floors = [{e: wrk.run(url, request, seconds).as_dict()
                   for e, (url, request) in throughput.endpoints(floor).items()}]
    finally:
        floor.stop()
    for _ in range(runs):
        for name, env in SETTINGS.items():
            results[name].append(one(name, env, seconds))
    print(f"{'collector':<30} {'query p99':>9} {'req/s':>6} {'submit p99':>10} {'req/s':>6} "
          f"{'gen2 n':>6} {'max pause':>9} {'gc total':>8} {'RSS MB':>7}")
    f = floors[0]
    print(f"{'(floor)':<30} {f['query']['p99_ms']:>7.1f}ms {f['query']['rps']:>6.0f} "
          f"{f['submit']['p99_ms']:>8.1f}ms {f['submit']['rps']:>6.0f}")
    for name, rows in results.items():
        for r in rows:
            gens = r["gc"]["generations"]
            pause = max(g["max_ms"] for g in gens.values())
            total = sum(g["total_ms"] for g in gens.values())
            print(f"{name:<30} {r['query']['p99_ms']:>7.1f}ms {r['query']['rps']:>6.0f} "
                  f"{r['submit']['p99_ms']:>8.1f}ms {r['submit']['rps']:>6.0f} "
                  f"{gens['2']['count']:>6.0f} {pause:>7.1f}ms {total:>6.0f}ms {r['rss_mb']:>7.1f}",
                  flush=True)
    return {"seconds": seconds, "floor": floors, "settings": results}


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0,
        int(sys.argv[2]) if len(sys.argv) > 2 else 1)
