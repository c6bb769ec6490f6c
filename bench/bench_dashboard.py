"""Benchmark: dashboard pages with 10,000 tasks in the store (target: under 300 ms each).

Seeds 10,000 tasks (four vendors, a dozen accounts, every state, requests and data shaped like
the vendors' own) straight through the task engine, fills the journal to its 5,000 entries, then
times page loads over loopback HTTP against the memory and the SQLite store, twice: right after
a new task was submitted (the store is read again) and while nothing changed (an open page
polling itself, served from the dashboard's listing cache). A bare Starlette app answering the
same HTML bytes, in the same run, is the floor.

    python bench/bench_dashboard.py [--tasks 10000] [--rounds 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mockserver.core.tasks import Timing  # noqa: E402
from mockserver.emulator import Emulator  # noqa: E402
from mockserver.settings import Settings  # noqa: E402
from mockserver.testing import AppThread, ServerThread  # noqa: E402

VENDORS = ("dashscope", "acedata", "tencent", "gptge")
TIMING = Timing(queue_seconds=2, run_seconds=30, ttl_seconds=86400, concurrency=None)
TARGET_MS = 300.0


def seed(emulator: Emulator, count: int) -> str:
    """`count` tasks created one emulated second apart; returns a succeeded task's id."""
    base = emulator.settings.base_url
    for index in range(count):
        vendor = VENDORS[index % len(VENDORS)]
        request = {"model": "facechain-generation",
                   "parameters": {"style": "train_free_portrait_url_template", "n": 2},
                   "input": {"template_url": f"{base}/__admin/fixtures/template.jpg",
                             "user_urls": [f"{base}/__admin/fixtures/face.jpg"] * 3}}
        emulator.engine.create(
            task_id=f"{vendor}-{index:06d}", vendor=vendor, account=f"sk-account-{index % 12}",
            pool="bench", timing=TIMING, request=request,
            data={"n": 2, "num": 2, "style": "x", "width": 768, "height": 1024, "template": "x",
                  "styles": ["a", "b"], "logo": 1},
            error=("InternalError", "injected by the benchmark") if index % 9 == 0 else None)
        emulator.clock.advance(1)
    for index in range(emulator.settings.journal_size):
        task_id = f"dashscope-{(index * 4) % count:06d}"
        emulator.journal.record(
            time=emulator.clock.now(), vendor="dashscope", operation="query_task",
            account="sk-account-0", method="GET", path=f"/api/v1/tasks/{task_id}", query="",
            headers={"authorization": "Bearer sk-account-0", "accept": "*/*"}, body=None,
            status=200, response={"output": {"task_id": task_id, "task_status": "SUCCEEDED"}},
            task_id=task_id)
    return f"dashscope-{(count // 2) - (count // 2) % 4:06d}"


SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
PRESET = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
          "resources": [{"resource_id": "r", "resource_type": "facelora"}]}


def submit(client: httpx.Client, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"}
    client.post(SUBMIT, json=PRESET, headers=headers).raise_for_status()


def timed(client: httpx.Client, path: str, rounds: int,
          after_submit: bool = False) -> tuple[list[float], bytes]:
    answer = client.get(path)  # warm-up (templates compiled, caches filled)
    answer.raise_for_status()
    times = []
    for index in range(rounds):
        if after_submit:  # a new task: the listing must be read from the store again
            submit(client, f"sk-bench-{path}-{index}")
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return times, answer.content


def bare_app(body: bytes) -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(body)

    return Starlette(routes=[Route("/page", page)])


def report(label: str, times: list[float]) -> str:
    p50 = statistics.median(times)
    p95 = sorted(times)[max(0, round(len(times) * 0.95) - 1)]
    verdict = "ok" if p95 < TARGET_MS else "SLOW"
    return (f"  {label:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {max(times):7.1f} ms"
            f"  {verdict}")


def run(store: str, tasks: int, rounds: int) -> None:
    server = ServerThread(Settings(store=store, journal_size=5000))
    started = time.perf_counter()
    detail_id = seed(server.emulator, tasks)
    print(f"{store.split(':')[0]} store: seeded {tasks} tasks and a full journal "
          f"in {time.perf_counter() - started:.1f} s")
    pages = {
        "task list, page 1": "/__admin/ui/tasks",
        "task list, vendor + state filter": "/__admin/ui/tasks?vendor=dashscope&state=succeeded",
        "task list, account filter, page 10": "/__admin/ui/tasks?account=sk-account-3&page=10",
        "task detail (journal of 5,000 searched)": f"/__admin/ui/tasks/{detail_id}",
        "overview (counts over every task)": "/__admin/",
        "journal page (50 of 5,000)": "/__admin/ui/journal",
    }
    with server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        body = b""
        for after_submit, heading in ((True, "right after a submit"), (False, "nothing changed")):
            print(f" {heading}:")
            for label, path in pages.items():
                times, content = timed(client, path, rounds, after_submit)
                body = body or content
                print(report(label, times))
    with AppThread(bare_app(body), lifespan="off") as bare, \
            httpx.Client(base_url=bare.base_url, timeout=30) as client:
        times, _ = timed(client, "/page", rounds)
        print(report(f"bare Starlette, same {len(body) // 1024} KB page", times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for store in ("memory", f"sqlite:{Path(folder) / 'bench.db'}"):
            run(store, args.tasks, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
