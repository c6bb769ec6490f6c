"""Where a request's time goes, and what the throughput goals leave for the app.

The app that `mockserver serve` runs (its access log included) and the floor's bare Starlette
app are called in-process through ASGI, 32 requests at a time on one uvloop loop, as wrk's 32
connections would, with the collector tuned as `serve` tunes it; no HTTP server, so what is
printed is the app's own cost per request. The
mock is measured as shipped and with parts taken out: the access log (`--quiet`, a setting),
and, as ablations that no setting offers, the journal's writes, the pipeline's interceptors
(fault injection, the access log's stamp) and the per-request look at the shared state.

The HTTP layer's cost per request (uvicorn, httptools, the kernel; the same for both apps) is
taken from a wrk run against the floor: 1 / its rate minus the floor app's cost. A goal ratio
g then leaves the mock's app (H + floor) / g - H per request.

    python bench/bench_budget.py [--store memory|sqlite] [--requests 20000] [--rounds 3] [--seconds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402
import throughput  # noqa: E402
import wrk  # noqa: E402
from servers import DASHSCOPE_HEADERS, SUBMIT_BODY, SUBMIT_PATH  # noqa: E402

GOALS = {"query": 0.8, "submit": 0.5}  # issue 17: ratios to the floor
BATCH = 32  # requests in flight at once, as wrk -c32
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

# name -> (what it leaves out, settings changes, ablations)
VARIANTS: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "shipped": ("as `serve` runs it", {}, ()),
    "no-access-log": ("--quiet", {"access_log": False}, ()),
    "no-journal": ("journal writes skipped (ablation)", {}, ("journal",)),
    "no-interceptors": ("fault injection and the log's stamp skipped (ablation)", {},
                        ("interceptors",)),
    "bare-pipeline": ("all of the above and the shared-state look skipped (ablation)",
                      {"access_log": False}, ("journal", "interceptors", "shared")),
}


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def call(app: App, method: str, path: str, headers: list[tuple[bytes, bytes]],
               body: bytes = b"") -> bytes:
    """One request through `app`; the answer's body (a status other than 200 is an error)."""
    delivered = False
    answer: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:  # the app only waits for a disconnect after the body
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    await app(scope(method, path, headers), receive, send)
    if answer[0]["status"] != 200:
        raise RuntimeError(f"{method} {path} answered {answer[0]['status']}: {answer[1:]}")
    return b"".join(m.get("body", b"") for m in answer[1:])


def raw_headers(pairs: tuple[tuple[str, str], ...], body: bytes = b"") -> list[tuple[bytes, bytes]]:
    found = [(k.lower().encode(), v.encode()) for k, v in pairs]
    return found + ([(b"content-length", str(len(body)).encode())] if body else [])


async def per_request_us(one: Callable[[], Awaitable[Any]], requests: int) -> float:
    """One round: µs per request, BATCH requests at a time."""
    batches = max(1, requests // BATCH)
    started = time.perf_counter()
    for _ in range(batches):
        await asyncio.gather(*(one() for _ in range(BATCH)))
    return (time.perf_counter() - started) / (batches * BATCH) * 1e6


def floor_requests() -> dict[str, Callable[[], Awaitable[Any]]]:
    from bare_app import app

    body = json.dumps(SUBMIT_BODY).encode()
    return {"query": lambda: call(app, "GET", "/api/v1/tasks/t", []),
            "submit": lambda: call(app, "POST", SUBMIT_PATH, [], body)}


def mock_app(store: str, changes: dict[str, Any], ablations: tuple[str, ...]
             ) -> tuple[Any, Any]:
    from mockserver import logs
    from mockserver.cli import _build_app
    from mockserver.serving import with_access_log
    from mockserver.settings import Settings

    settings = Settings(store=store, limits_enabled=False, **changes)
    handler = logs.configure("info", "text", open(os.devnull, "w"))  # noqa: SIM115 - for the run
    app = _build_app(settings, {})
    emulator = app.state.emulator
    if "journal" in ablations:
        _skip(emulator.journal, "add")
    if "interceptors" in ablations:
        emulator.pipeline.interceptors.clear()
    if "shared" in ablations:
        _skip(emulator.shared, "refresh_this_turn")
    return app, with_access_log(app, settings, handler)


def _skip(owner: Any, method: str) -> None:
    """An ablation: `owner.method` does nothing. A method that no longer exists stops the
    bench, instead of leaving the variant measuring the shipped code under another name."""
    if not callable(getattr(owner, method, None)):
        raise SystemExit(f"bench_budget: {type(owner).__name__}.{method} is gone; update the "
                         f"ablation")
    setattr(owner, method, lambda *args, **kwargs: None)


async def mock_requests(store: str, variant: str, started: list[Any]
                        ) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The query (of a task it created) and the submit of one variant, its emulator started
    (and listed in `started`, to be stopped)."""
    _, changes, ablations = VARIANTS[variant]
    app, outer = mock_app(store, changes, ablations)
    emulator = app.state.emulator
    await emulator.start()
    started.append(emulator)
    body = json.dumps(SUBMIT_BODY).encode()
    submit_headers = raw_headers(DASHSCOPE_HEADERS, body)
    task_id = json.loads(await call(outer, "POST", SUBMIT_PATH, submit_headers, body))[
        "output"]["task_id"]
    query_headers = raw_headers(DASHSCOPE_HEADERS[:1])
    path = f"/api/v1/tasks/{task_id}"
    return {"query": lambda: call(outer, "GET", path, query_headers),
            "submit": lambda: call(outer, "POST", SUBMIT_PATH, submit_headers, body)}


async def measure(store_kind: str, requests: int, rounds: int) -> dict[str, dict[str, float]]:
    """{"floor" | variant: {endpoint: µs}}: rounds interleaved (the floor, then each variant,
    round after round, so all see the same machine), the best round of each."""
    started: list[Any] = []
    try:
        apps = {"floor": floor_requests()}
        for variant in VARIANTS:
            store = "memory" if store_kind == "memory" else \
                f"sqlite:{tempfile.mkdtemp()}/{variant}.db"
            apps[variant] = await mock_requests(store, variant, started)
        from mockserver.core.gctune import tune_for_serving

        tune_for_serving()  # the collector as `serve` sets it, once the apps are built
        best: dict[str, dict[str, float]] = {name: {} for name in apps}
        for endpoint in GOALS:
            for name, requests_of in apps.items():  # warm caches and stores
                await per_request_us(requests_of[endpoint], BATCH * 20)
            for _ in range(rounds):
                for name, requests_of in apps.items():
                    spent = await per_request_us(requests_of[endpoint], requests)
                    best[name][endpoint] = min(spent, best[name].get(endpoint, spent))
        return best
    finally:
        for emulator in started:
            await emulator.stop()


def http_layer_us(floor_us: dict[str, float], seconds: float) -> dict[str, float]:
    """Per request, what uvicorn and the kernel cost the floor beyond its app (wrk, loopback)."""
    server = servers.spawn_floor()
    try:
        found = {}
        for endpoint, (url, request) in throughput.endpoints(server).items():
            rate = statistics.median(wrk.run(url, request, seconds).rps
                                     for _ in range(2))
            found[endpoint] = max(0.0, 1e6 / rate - floor_us[endpoint])
        return found
    finally:
        server.stop()


def budget_us(http_us: float, floor_us: float, goal: float) -> float:
    return (http_us + floor_us) / goal - http_us


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--requests", type=int, default=20000, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (the best counts)")
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk run against the floor")
    opts = parser.parse_args()
    logging.disable(logging.WARNING)  # the mock's start-up lines are not the report
    mock = uvloop.run(measure(opts.store, opts.requests, opts.rounds))
    floor = mock.pop("floor")
    http = http_layer_us(floor, opts.seconds)
    print(f"app cost per request, in-process ({opts.store} store, {BATCH} at a time), µs;"
          f" HTTP layer from wrk against the floor")
    for endpoint, goal in GOALS.items():
        allowed = budget_us(http[endpoint], floor[endpoint], goal)
        print(f"  {endpoint}: HTTP layer {http[endpoint]:.1f}, floor's app {floor[endpoint]:.1f};"
              f" {goal}x the floor leaves the mock's app {allowed:.1f}")
        for name, (leaves_out, _, _) in VARIANTS.items():
            spent = mock[name][endpoint]
            ratio = (http[endpoint] + floor[endpoint]) / (http[endpoint] + spent)
            print(f"    {name:16s} {spent:6.1f}  predicts {ratio:.2f}x   ({leaves_out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
