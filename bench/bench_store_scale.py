#!/usr/bin/env python3
"""Submit and query cost as the store grows, with limits on (issues 15 and 17).

For each store (memory, SQLite, Redis) the store is filled with DashScope-like tasks spread
over many accounts, then a submit (`TaskEngine.create` with one concurrency slot and the
queue-depth check, as the vendors run it) and a task query (`get_task`) are timed, for a new
account and for an account that already has 100 k tasks queued. The memory store's RSS growth
per stored task is printed at the largest size. Run: python3 bench/bench_store_scale.py
[--sizes 1,100000,1000000] [--redis-max 100000].
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from mockserver.core.clock import Clock
from mockserver.core.store import Store
from mockserver.core.stores import open_store
from mockserver.core.tasks import Task, TaskEngine, Timing
from mockserver.redis_server import RedisServer

TIMING = Timing(queue_seconds=2, run_seconds=30, ttl_seconds=86400, concurrency=1)
REQUEST = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 2},
           "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
NOW = 1_800_000_000.0


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stored_task(n: int, account: str, start: float) -> Task:
    return Task(id=str(uuid.uuid4()), vendor="dashscope", account=account, pool="album",
                created_at=start - 2, queue_seconds=2, run_seconds=30, ttl_seconds=86400,
                start_at=start, end_at=start + 30, request=REQUEST,
                data={"style": "f_idcard_female", "n": 2, "inputs": "checked"})


def fill(store: Store, count: int, queued_account: str | None = None) -> None:
    """`count` finished tasks over 10 k accounts (or, for `queued_account`, tasks that all wait
    for its one slot: a queue `count` deep)."""
    for chunk in range(0, count, 10_000):
        with store.account_lock("bench", "fill", "fill"):  # SQLite: one transaction per chunk
            for n in range(chunk, min(count, chunk + 10_000)):
                if queued_account is None:
                    store.put_task(stored_task(n, f"sk-{n % 10_000}", NOW - 3600 - n * 0.01))
                else:
                    store.put_task(stored_task(n, queued_account, NOW + 30 * n))


def timed(action: Callable[[], object], runs: int = 300) -> float:
    """Median microseconds of one call."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def measure(store: Store) -> tuple[float, float]:
    engine = TaskEngine(Clock(wall=lambda: NOW), store)
    engine.creation_hooks.append(
        lambda task, timing: store.queued_count(task.vendor, task.account, task.pool, NOW, 10))
    made: list[str] = []

    def submit() -> None:
        made.append(engine.create(task_id=str(uuid.uuid4()), vendor="dashscope",
                                  account=f"new-{len(made)}", pool="album", timing=TIMING,
                                  request=REQUEST).id)

    submit_us = timed(submit)
    query_us = timed(lambda: store.get_task(made[len(made) // 2]))
    return submit_us, query_us


def run_store(name: str, spec_for: Callable[[], str], sizes: list[int]) -> None:
    for size in sizes:
        store = open_store(spec_for())
        store.sweep(NOW, 1)  # the server's sweeper has run: the store knows what time it is
        gc.collect()
        before = rss_kb()
        started = time.perf_counter()
        fill(store, size)
        while store.sweep(NOW, 10_000):  # what the server's sweeper does every second
            pass
        for _ in range(10):  # a pass over the idle accounts' indexes too
            store.sweep(NOW, 10_000)
        gc.collect()
        filled = time.perf_counter() - started
        per_task = (rss_kb() - before) * 1024 / size if name == "memory" and size >= 100_000 else None
        submit_us, query_us = measure(store)
        note = f", RSS {per_task:.0f} B/task" if per_task is not None else ""
        print(f"| {name} | {size:,} | {submit_us:.0f} | {query_us:.0f} | fill {filled:.0f} s{note} |",
              flush=True)
        store.close()
    store = open_store(spec_for())
    fill(store, 100_000, queued_account="new-0")  # the account submits behind a deep queue
    submit_us, query_us = measure(store)
    print(f"| {name} | 100,000 queued on the account | {submit_us:.0f} | {query_us:.0f} | |",
          flush=True)
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,100000,1000000")
    parser.add_argument("--redis-max", type=int, default=100_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"bench_store_scale, {time.strftime('%Y-%m-%d')}: median of 300 calls, microseconds")
    print("| Store | Stored tasks | Submit us | Query us | Notes |\n|---|---|---|---|---|")
    run_store("memory", lambda: "memory", sizes)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        counter = iter(range(1000))
        run_store("sqlite", lambda: f"sqlite:{Path(tmp) / f'{next(counter)}.db'}", sizes)
    with RedisServer() as server:
        import redis

        def fresh() -> str:
            redis.Redis.from_url(server.url).flushall()
            return server.url

        run_store("redis", fresh, [s for s in sizes if s <= args.redis_max])
    return 0


if __name__ == "__main__":
    sys.exit(main())
