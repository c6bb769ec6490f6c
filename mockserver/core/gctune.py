"""Garbage-collector settings for a long-lived server process (`mockserver serve`).

Start-up leaves a few hundred thousand long-lived container objects (modules, compiled
schemas, route tables); every full collection walked all of them again, a pause that showed
up as the p99 under load. `tune_for_serving()` collects once, then `gc.freeze()`s what is left,
so later collections skip it; `freeze_again()` does the same after a lazy import (OpenCV).
The generation thresholds were chosen with `python3 dev.py bench` (README, Performance).

`MOCKSERVER_GC_TUNING=0` leaves the collector at Python's defaults (the bench compares both);
`MOCKSERVER_GC_THRESHOLD=a,b,c` overrides the thresholds.
"""
from __future__ import annotations

import gc
import os

# gen0 allocations, gen1 and gen2 collection counts (Python's defaults: 700, 10, 10). Under
# load the journal's entries churn through every generation: with the defaults the collector
# took ~6 % of the CPU and paused up to 130 ms; with these, ~0.4 % and no full collection in
# 20 s of load, RSS unchanged (bench/gc_tuning.py, README Performance).
THRESHOLDS = (50_000, 20, 20)


def enabled() -> bool:
    return os.environ.get("MOCKSERVER_GC_TUNING", "1").strip().lower() not in {"0", "off", "no"}


def thresholds() -> tuple[int, int, int]:
    raw = os.environ.get("MOCKSERVER_GC_THRESHOLD")
    if not raw:
        return THRESHOLDS
    try:
        a, b, c = (int(part) for part in raw.split(","))
    except ValueError:
        raise SystemExit(f"MOCKSERVER_GC_THRESHOLD={raw!r}: expected three integers, like 700,10,10")
    return a, b, c


def tune_for_serving() -> None:
    """Call once, after the app is built and before it serves."""
    if not enabled():
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds())


def freeze_again() -> None:
    """After a large lazy import: move its objects out of the collector's way too."""
    if enabled() and gc.get_freeze_count():
        gc.collect()
        gc.freeze()
