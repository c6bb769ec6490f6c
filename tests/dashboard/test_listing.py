"""Listing many tasks: `Store.task_schedules` in both stores, paging, state filters, counts and
the task timeline, all derived from the emulated clock."""
from __future__ import annotations

import re

import httpx
import pytest

from mockserver.app import create_app
from mockserver.core.store import open_store
from mockserver.core.tasks import Timing
from mockserver.dashboard.tasks import PAGE_SIZE, Schedules, TaskFilter, task_page, timeline
from mockserver.settings import Settings

pytestmark = pytest.mark.anyio

TIMING = Timing(queue_seconds=2, run_seconds=30, ttl_seconds=3600, concurrency=None)


def seed(emulator, count: int, vendor: str = "dashscope", account: str = "sk-a") -> list[str]:
    ids = []
    for index in range(count):
        task = emulator.engine.create(
            task_id=f"{vendor}-{index:04d}", vendor=vendor, account=account, pool="p",
            timing=TIMING, request={"big": "x" * 1000}, data={"n": 1},
            error=("InternalError", "boom") if index % 5 == 0 else None)
        ids.append(task.id)
        emulator.clock.advance(1)
    return ids


@pytest.fixture(params=["memory", "sqlite"])
def emulator(request, tmp_path):
    spec = "memory" if request.param == "memory" else f"sqlite:{tmp_path / 'store.db'}"
    app = create_app(Settings(store=spec))
    yield app.state.emulator
    app.state.emulator.store.close()


def test_task_schedules_are_light_newest_first_and_filtered(emulator) -> None:
    seed(emulator, 3)
    seed(emulator, 2, "acedata", "sk-b")
    store = emulator.store
    everything = store.task_schedules()
    assert [t.id for t in everything] == ["acedata-0001", "acedata-0000", "dashscope-0002",
                                         "dashscope-0001", "dashscope-0000"]
    assert all(t.request == {} and t.data == {} for t in everything)
    full = store.get_task("dashscope-0000")
    light = next(t for t in everything if t.id == full.id)
    assert light.to_dict() == {**full.to_dict(), "request": {}, "data": {}}
    assert [t.id for t in store.task_schedules("acedata")] == ["acedata-0001", "acedata-0000"]
    assert [t.id for t in store.task_schedules(account="sk-b")] == ["acedata-0001", "acedata-0000"]
    assert store.task_schedules("dashscope", "sk-b") == []
    try:  # shared (memory) or fresh (SQLite): either way no caller changes another's listing
        light.account = "changed"
    except AttributeError as refused:
        assert "read-only" in str(refused)
    assert store.task_schedules()[0].account == "sk-b"
    assert store.get_task(light.id).account == "sk-a"


def test_listings_are_read_again_only_after_a_write(emulator) -> None:
    seed(emulator, 2)
    cache = Schedules(emulator)
    first = cache.get()
    assert cache.get() is first and len(first) == 2  # nothing written: not read again
    task = emulator.store.get_task("dashscope-0000")
    task.canceled_at = emulator.clock.now()
    emulator.store.put_task(task)
    again = cache.get()
    assert again is not first and again[1].canceled_at == task.canceled_at
    assert [t.id for t in cache.get("acedata")] == []
    emulator.store.clear()
    assert cache.get() == []


def test_sqlite_schedules_survive_a_reopen(tmp_path) -> None:
    spec = f"sqlite:{tmp_path / 'again.db'}"
    app = create_app(Settings(store=spec))
    seed(app.state.emulator, 2)
    app.state.emulator.store.close()
    again = open_store(spec)
    assert [t.id for t in again.task_schedules()] == ["dashscope-0001", "dashscope-0000"]
    again.close()


def test_pages_of_tasks_and_counts_per_state(emulator) -> None:
    seed(emulator, PAGE_SIZE + 10)  # one per emulated second: the oldest have finished
    first = task_page(emulator, TaskFilter())
    assert (first["total"], first["pages"], first["first"], first["last"]) == (60, 2, 1, 50)
    assert first["rows"][0]["id"] == "dashscope-0059"
    second = task_page(emulator, TaskFilter(page=2))
    assert [r["id"] for r in second["rows"]][-1] == "dashscope-0000"
    assert task_page(emulator, TaskFilter(page=99))["page"] == 2
    counts = first["counts"]
    assert sum(counts.values()) == 60 and counts["queued"] == 1 and counts["running"] == 30
    assert counts["failed"] == 6 and counts["succeeded"] == 23
    failed = task_page(emulator, TaskFilter(state="failed"))
    assert failed["total"] == 6 and all(r["error_code"] == "InternalError" for r in failed["rows"])
    emulator.clock.advance(100)
    assert task_page(emulator, TaskFilter(state="succeeded"))["total"] == 48


def test_filter_query_keeps_the_rest_of_the_filter() -> None:
    chosen = TaskFilter(vendor="tencent", state="failed", page=3)
    assert chosen.query(page=None) == {"vendor": "tencent", "state": "failed"}
    assert chosen.query(state=None, page=1) == {"vendor": "tencent"}
    assert chosen.query() == {"vendor": "tencent", "state": "failed", "page": "3"}


def test_timeline_puts_now_in_its_place(emulator) -> None:
    (task_id,) = seed(emulator, 1)
    task = emulator.store.get_task(task_id)
    now = task.created_at + 10  # started, not ended
    labels = [(e["label"].split(" ")[0], e["kind"]) for e in timeline(task, now)]
    assert labels == [("submitted", "past"), ("started", "past"), ("now", "now"),
                      ("ended", "future"), ("expires", "future")]


async def test_the_tasks_page_shows_pager_links() -> None:
    app = create_app(Settings())
    seed(app.state.emulator, PAGE_SIZE + 1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1:8000") as client:
        html = (await client.get("/__admin/ui/tasks?state=")).text
        assert "Page 1 of 2" in html and 'rel="next"' in html and 'rel="prev"' not in html
        next_page = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
        older = (await client.get(next_page)).text
        assert "dashscope-0000" in older and "Tasks 51–51 of 51" in older
