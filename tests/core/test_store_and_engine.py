"""The task engine's schedule and the two stores, with the same behaviour tests on both."""
from __future__ import annotations

import pytest

from mockserver.core.clock import Clock
from mockserver.core.store import open_store
from mockserver.core.tasks import State, TaskEngine, Timing

SLOT = Timing(queue_seconds=2, run_seconds=10, ttl_seconds=100, concurrency=1)


class FakeWall:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def engine(store_spec: str):
    store = open_store(store_spec)
    yield TaskEngine(Clock(wall=FakeWall()), store)
    store.close()


def make(engine: TaskEngine, task_id: str, account: str = "a", timing: Timing = SLOT, **kw):
    return engine.create(task_id=task_id, vendor="v", account=account, pool="p",
                         timing=timing, request={"id": task_id}, **kw)


def state(engine: TaskEngine, task_id: str) -> State:
    return engine.store.get_task(task_id).state_at(engine.clock.now())


def test_lifecycle_follows_the_clock(engine) -> None:
    make(engine, "t1")
    assert state(engine, "t1") is State.QUEUED
    engine.clock.advance(2)
    assert state(engine, "t1") is State.RUNNING
    engine.clock.advance(10)
    assert state(engine, "t1") is State.SUCCEEDED
    engine.clock.advance(100)
    assert state(engine, "t1") is State.EXPIRED


def test_failed_outcome_shows_after_running(engine) -> None:
    make(engine, "t1", error=("Boom", "it broke"))
    engine.clock.advance(5)
    assert state(engine, "t1") is State.RUNNING
    engine.clock.advance(10)
    task = engine.store.get_task("t1")
    assert task.state_at(engine.clock.now()) is State.FAILED
    assert (task.error_code, task.error_message) == ("Boom", "it broke")


def test_concurrency_is_fifo_per_account(engine) -> None:
    for task_id in ("t1", "t2", "t3"):
        make(engine, task_id)
    make(engine, "other", account="b")
    starts = {t: engine.store.get_task(t).start_at - engine.clock.now() for t in ("t1", "t2", "t3", "other")}
    assert starts == {"t1": 2, "t2": 12, "t3": 22, "other": 2}


def test_two_slots(engine) -> None:
    two = Timing(queue_seconds=0, run_seconds=10, ttl_seconds=100, concurrency=2)
    for task_id in ("t1", "t2", "t3"):
        make(engine, task_id, timing=two)
    now = engine.clock.now()
    assert [engine.store.get_task(t).start_at - now for t in ("t1", "t2", "t3")] == [0, 0, 10]


def test_cancel_moves_later_tasks_up(engine) -> None:
    make(engine, "t1")
    t2 = make(engine, "t2")
    make(engine, "t3")
    engine.cancel(t2, 1)
    assert state(engine, "t2") is State.CANCELED
    now = engine.clock.now()
    assert engine.store.get_task("t3").start_at - now == 12


def test_stalled_task_stays_queued_until_released(engine) -> None:
    task = make(engine, "t1", stalled=True)
    engine.clock.advance(1000)
    assert state(engine, "t1") is State.QUEUED
    engine.release(task, 1)
    engine.clock.advance(2)
    assert state(engine, "t1") is State.RUNNING


def test_unlimited_concurrency(engine) -> None:
    free = Timing(queue_seconds=0, run_seconds=10, ttl_seconds=100, concurrency=None)
    for task_id in ("t1", "t2"):
        make(engine, task_id, timing=free)
    assert {engine.store.get_task(t).start_at for t in ("t1", "t2")} == {engine.clock.now()}


def test_created_tasks_are_one_accounts_window_newest_first(engine) -> None:
    start = engine.clock.now()
    for index in range(4):
        make(engine, f"t{index}", timing=Timing(0, 1, 100, None))
        engine.clock.advance(10)
    make(engine, "other", account="b")
    found = engine.store.created_tasks("v", "a", start + 10, start + 30)
    assert [t.id for t in found] == ["t2", "t1"]  # [since, until): t3 was created at +30
    assert [t.id for t in engine.store.created_tasks("v", "a", 0, float("inf"))] == [
        "t3", "t2", "t1", "t0"]
    assert engine.store.created_tasks("w", "a", 0, float("inf")) == []


def test_records_and_meta(store_spec: str) -> None:
    store = open_store(store_spec)
    store.put_record("callback", "c1", {"n": 1})
    store.put_record("callback", "c2", {"n": 2})
    store.put_record("callback", "c1", {"n": 3})
    assert store.get_record("callback", "c1") == {"n": 3}
    assert [r["n"] for r in store.list_records("callback")] == [3, 2]
    store.set_meta("k", "v")
    assert store.get_meta("k") == "v"
    store.clear()
    assert store.list_records("callback") == [] and store.get_meta("k") is None
    store.close()


def test_returned_tasks_are_copies(store_spec: str) -> None:
    store = open_store(store_spec)
    engine = TaskEngine(Clock(wall=FakeWall()), store)
    task = make(engine, "t1")
    task.data["changed"] = True
    assert "changed" not in store.get_task("t1").data
    store.close()


def test_sqlite_keeps_tasks_across_reopen(tmp_path) -> None:
    spec = f"sqlite:{tmp_path / 'db.sqlite'}"
    store = open_store(spec)
    make(TaskEngine(Clock(wall=FakeWall()), store), "t1")
    store.close()
    again = open_store(spec)
    assert again.get_task("t1").request == {"id": "t1"}
    again.close()


def test_unknown_store_spec() -> None:
    with pytest.raises(ValueError):
        open_store("redis://x")
