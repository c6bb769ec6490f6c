"""Several processes on one SQLite file or one Redis at once: every atomic section holds.

Each worker is a fresh Python process running the snippet below against the shared store and
printing what it got; the test adds up the answers.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from mockserver.core.stores import open_store

WORKERS = 4

WORKER = textwrap.dedent("""
    import json, sys, time
    from mockserver.core.clock import Clock
    from mockserver.core.stores import open_store
    from mockserver.core.tasks import TaskEngine, Timing

    spec, name = sys.argv[1], sys.argv[2]
    store = open_store(spec)
    while store.counter_get("go") == 0:  # start together
        time.sleep(0.005)
    taken = sum(store.counter_take("tickets") for _ in range(40))
    allowed = sum(store.rate_hit("burst", 25, 5000.5) for _ in range(20))
    claimed = []
    for _ in range(30):
        claimed += store.due_claim("jobs", 100.0, name, time.time() + 60, 2)
    engine = TaskEngine(Clock(wall=lambda: 1000.0), store)
    slot = Timing(queue_seconds=0, run_seconds=10, ttl_seconds=1000, concurrency=1)
    made = [engine.create(task_id=f"{name}-{i}", vendor="v", account="shared", pool="p",
                          timing=slot, request={}).id for i in range(5)]
    for i in range(10):
        store.state_add("clock_offset", 1.0)
    print(json.dumps({"taken": taken, "allowed": allowed, "claimed": claimed, "made": made}))
""")


def test_atomic_sections_hold_across_processes(shared_store_spec: str) -> None:
    store = open_store(shared_store_spec)
    store.counter_add("tickets", 50)
    for i in range(40):
        store.due_put("jobs", f"job{i}", float(i))
    before = store.state()["clock_offset"]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, shared_store_spec, f"w{n}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(WORKERS)]
    store.counter_add("go")
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))

    assert sum(r["taken"] for r in results) == 50  # never more tickets than there were
    assert sum(r["allowed"] for r in results) == 25  # one window, one budget
    claimed = [c for r in results for c in r["claimed"]]
    assert sorted(claimed) == sorted(f"job{i}" for i in range(40))  # each job exactly once
    assert store.state()["clock_offset"] == before + 10 * WORKERS
    # One slot per account: 20 tasks from 4 processes run one after another, none overlapping.
    tasks = [store.get_task(t) for r in results for t in r["made"]]
    starts = sorted(t.start_at for t in tasks if t is not None)
    assert len(starts) == 5 * WORKERS
    assert starts == [1000.0 + 10 * i for i in range(5 * WORKERS)]
    store.close()
