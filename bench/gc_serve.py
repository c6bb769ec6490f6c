"""`mockserver serve` with the collector's pauses recorded (bench/gc_tuning.py runs it).

    MOCKSERVER_GC_REPORT=path.json python bench/gc_serve.py serve [flags]

SIGUSR1 forgets what was recorded so far (the bench sends it once the server is up, so
start-up's own collections do not count); at exit (SIGINT), writes per generation the
collections, the total and the longest pause in milliseconds.
"""
from __future__ import annotations

import atexit
import gc
import json
import os
import signal
import time
from typing import Any

from mockserver.cli import main

_started: list[float] = []
_stats: dict[int, dict[str, float]] = {g: {"count": 0, "total_ms": 0.0, "max_ms": 0.0}
                                      for g in range(3)}


def _record(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
    elif _started:
        ms = (time.perf_counter() - _started.pop()) * 1000
        entry = _stats[info["generation"]]
        entry["count"] += 1
        entry["total_ms"] += ms
        entry["max_ms"] = max(entry["max_ms"], ms)


def _write() -> None:
    with open(os.environ["MOCKSERVER_GC_REPORT"], "w") as out:
        json.dump({"generations": _stats, "threshold": gc.get_threshold(),
                   "frozen": gc.get_freeze_count()}, out)


def _reset(*_: Any) -> None:
    for entry in _stats.values():
        entry.update(count=0, total_ms=0.0, max_ms=0.0)


gc.callbacks.append(_record)
signal.signal(signal.SIGUSR1, _reset)
atexit.register(_write)
main()
