"""Stores filled with N DashScope tasks through the store API, for the scale series.

    python bench/seeded.py sqlite PATH N [QUEUED]         fill a SQLite store file, then exit
    python bench/seeded.py memory PORT N QUEUED CONFIG REPORT
        build the app as `serve` does (create_app), fill its memory store, write the RSS
        before and after to REPORT (JSON), then serve it with `mockserver.serving.serve_app`

Tasks: the probe task `PROBE_ID` of account `sk-bench` (queried by the bench), N-1-QUEUED
finished tasks over 1,000 other accounts (created within the last 20 hours, so none expired),
and QUEUED tasks still waiting behind a running one in account `sk-busy`.
"""
from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockserver.core.store import Store
from mockserver.core.tasks import Task

PROBE_ID = "00000000-0000-4000-8000-00000000be9c"
PROBE_KEY, BUSY_KEY = "sk-bench", "sk-busy"
REQUEST = {"model": "facechain-generation", "parameters": {"style": "f_idcard_male", "n": 1},
           "resources": [{"resource_id": "bench-lora", "resource_type": "facelora"}]}
DATA = {"n": 1, "width": 768, "height": 1024, "style": "f_idcard_male"}
SPAN = 20 * 3600.0  # seeded tasks were created over the last 20 h (TTL 24 h)


def task(task_id: str, account: str, created: float, start: float) -> Task:
    return Task(id=task_id, vendor="dashscope", account=account, pool="gen_potrait",
                created_at=created, queue_seconds=2.0, run_seconds=30.0, ttl_seconds=86400.0,
                start_at=start, end_at=start + 30.0, request=dict(REQUEST), data=dict(DATA))


def tasks(n: int, queued: int, now: float) -> Iterator[Task]:
    yield task(PROBE_ID, PROBE_KEY, now, now + 2.0)
    finished = max(0, n - 1 - queued)
    for i in range(finished):
        created = now - SPAN + SPAN * i / max(1, finished)
        yield task(f"{i:08x}-5eed-4000-8000-000000000000", f"sk-seed-{i % 1000}",
                   created, created + 2.0)
    for i in range(queued):  # one slot per account: each waits for the one before it
        yield task(f"{i:08x}-b05e-4000-8000-000000000000", BUSY_KEY, now, now + 2.0 + 30.0 * i)


def fill(store: Store, n: int, queued: int, now: float) -> float:
    started = time.perf_counter()
    db = getattr(store, "_db", None)  # SQLite: one transaction per 10 k tasks, if reachable
    for count, item in enumerate(tasks(n, queued, now), 1):
        if db is not None and count % 10_000 == 1:
            db.execute("BEGIN")
        store.put_task(item)
        if db is not None and count % 10_000 == 0:
            db.execute("COMMIT")
    if db is not None and db.in_transaction:
        db.execute("COMMIT")
    return time.perf_counter() - started


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def seed_sqlite(path: str, n: int, queued: int) -> None:
    from mockserver.core.stores import open_store

    store = open_store(f"sqlite:{path}")
    seconds = fill(store, n, queued, time.time())
    store.close()
    print(json.dumps({"seed_seconds": seconds}), flush=True)


def serve_memory(port: int, n: int, queued: int, config: str, report: str) -> None:
    from mockserver.app import create_app
    from mockserver.serving import serve_app
    from mockserver.settings import load_settings

    settings = load_settings({"port": port, "store": "memory", "config_path": config})
    app = create_app(settings)
    emulator = app.state.emulator
    # The sweeper of a running server has set the store's clock: finished tasks' scheduling
    # facts are then not indexed, as for tasks that finished while the server ran.
    emulator.store.sweep(emulator.clock.now(), 1)
    gc.collect()
    before = rss_mb()
    seconds = fill(emulator.store, n, queued, emulator.clock.now())
    gc.collect()
    after: dict[str, Any] = {"rss_before_mb": before, "rss_after_mb": rss_mb(),
                             "seed_seconds": seconds, "tasks": n}
    Path(report).write_text(json.dumps(after))
    serve_app(app, replace(settings, log_level="warning"))


if __name__ == "__main__":
    if sys.argv[1] == "sqlite":
        seed_sqlite(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        serve_memory(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
                     sys.argv[6])
