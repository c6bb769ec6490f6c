"""The task engine's schedule and the three stores (memory, SQLite, Redis): one behaviour suite
run on each, plus several processes sharing one SQLite or Redis store at once."""
from __future__ import annotations

import pytest

from mockserver.core.clock import Clock
from mockserver.core.stores import open_store
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


def test_memory_store_blocks_round_trip_every_document() -> None:
    """The memory store's LZ4 blocks: a task bigger than its vendor's dictionary, text outside
    ASCII, an integer beyond 64 bits, and tasks of a 256th vendor and beyond (stored without a
    dictionary) read back whole."""
    store = open_store("memory")
    engine = TaskEngine(Clock(wall=FakeWall()), store)
    first = make(engine, "small")
    big = engine.create(task_id="big", vendor="v", account="a", pool="p", timing=SLOT,
                        request={"prompt": "肖像 " * 30_000, "n": list(range(2000)),
                                 "seed": 1 << 70})  # written and read by json, not orjson
    for n in range(260):
        engine.create(task_id=f"vendor-{n}", vendor=f"v{n}", account="a", pool="p",
                      timing=SLOT, request={"vendor": n})
    assert store.get_task("small").to_dict() == first.to_dict()
    assert store.get_task("big").to_dict() == big.to_dict()
    assert [store.get_task(f"vendor-{n}").request for n in (0, 254, 255, 259)] == [
        {"vendor": n} for n in (0, 254, 255, 259)]
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
    with pytest.raises(ValueError, match="unknown store"):
        open_store("mongodb://x")


def test_unreachable_redis_is_a_one_line_error() -> None:
    from mockserver.redis_server import free_port

    with pytest.raises(ValueError, match="cannot reach the Redis store"):
        open_store(f"redis://127.0.0.1:{free_port()}/0")


@pytest.fixture
def store(store_spec: str):
    opened = open_store(store_spec)
    yield opened
    opened.close()


def test_scheduling_facts_are_indexed(engine) -> None:
    store, now = engine.store, engine.clock.now()
    for task_id in ("t1", "t2", "t3"):
        make(engine, task_id)
    make(engine, "s", stalled=True)
    # t1 runs 2..12, t2 12..22, t3 22..32: the latest end is t3's, the 2nd latest t2's.
    assert store.busy_end("v", "a", "p", now, 1) == now + 32
    assert store.busy_end("v", "a", "p", now, 2) == now + 22
    assert store.busy_end("v", "a", "p", now, 4) is None
    assert store.queued_count("v", "a", "p", now, 10) == 4  # the stalled one counts
    assert store.queued_count("v", "a", "p", now, 2) == 2
    assert [t.id for t in sorted(store.waiting_tasks("v", "a", "p", now), key=lambda t: t.id)] \
        == ["t1", "t2", "t3"]
    assert store.queued_count("v", "b", "p", now, 10) == 0
    engine.clock.advance(15)  # t1 done, t2 running, t3 queued
    later = engine.clock.now()
    assert store.queued_count("v", "a", "p", later, 10) == 2
    assert [t.id for t in store.waiting_tasks("v", "a", "p", later)] == ["t3"]
    assert store.busy_end("v", "a", "p", later, 3) is None


def test_sweep_removes_expired_tasks_only(engine) -> None:
    make(engine, "old")
    engine.clock.advance(50)
    make(engine, "new")
    engine.clock.advance(70)  # old: ended at +12, expired at +112; new not yet
    assert engine.store.sweep(engine.clock.now(), 1000) == 1
    assert engine.store.get_task("old") is None and engine.store.get_task("new") is not None
    assert engine.store.sweep(engine.clock.now(), 1000) == 0


def test_counters(store) -> None:
    assert store.counter_add("c", 2) == 2
    assert store.counter_add("c") == 3
    assert [store.counter_take("c") for _ in range(4)] == [True, True, True, False]
    assert store.counter_get("c") == 0 and store.counter_take("missing") is False


def test_state_row_versions_every_change(store) -> None:
    first = store.state()
    assert store.poll_state(first["v"]) is None
    after = store.state_add("clock_offset", 5.5)
    assert after["clock_offset"] == first["clock_offset"] + 5.5 and after["v"] > first["v"]
    assert store.poll_state(first["v"]) in (None, after)  # SQLite: own writes are known already
    store.clear()
    reset = store.state()
    assert reset["clock_offset"] == 0 and reset["epoch"] == after["epoch"] + 1
    assert reset["clock_origin"] == first["clock_origin"]


def test_rate_windows_slide(store) -> None:
    assert [store.rate_hit("k", 2, 100.0 + i / 10) for i in range(3)] == [True, True, False]
    assert store.rate_hit("other", 2, 100.2) is True
    assert store.rate_hit("k", 2, 101.05) is True  # the first hit left the window
    assert store.rate_hit("k", 2, 101.06) is False


def test_journal_is_bounded_in_entries_and_bytes(store) -> None:
    ids = [store.journal_add(f'{{"n": {i}}}', 10, 5, 1000) for i in range(60)]
    assert ids == sorted(ids) and len(set(ids)) == 60
    newest = store.journal_entries()
    assert [doc for _, doc in newest[:5]] == [f'{{"n": {i}}}' for i in range(59, 54, -1)]
    assert len(newest) == 5
    store.journal_add("x" * 995, 995, 5, 1000)  # one big entry pushes the others out
    assert store.journal_entries() == [(ids[-1] + 1, "x" * 995)]


def test_journal_batches_keep_order_ids_and_both_bounds(store) -> None:
    store.journal_add('{"n": 0}', 10, 8, 1000)
    for start in (1, 4, 7):  # batches of three, as the journal's background writer sends them
        store.journal_extend([(f'{{"n": {i}}}', 10) for i in range(start, start + 3)], 8, 1000)
    newest = store.journal_entries(8)
    assert [doc for _, doc in newest] == [f'{{"n": {i}}}' for i in range(9, 1, -1)]
    ids = [entry_id for entry_id, _ in newest]
    assert ids == list(range(ids[0], ids[0] - 8, -1))  # one id per entry, batch or not
    assert [doc for _, doc in store.journal_entries(4)] == [f'{{"n": {i}}}' for i in (9, 8, 7, 6)]
    store.journal_extend([("y" * 600, 600), ("z" * 450, 450)], 8, 1000)  # 1,050 bytes at once
    kept = store.journal_entries(8)
    assert kept[0][1] == "z" * 450 and "y" * 600 not in [doc for _, doc in kept]
    assert sum(len(doc) for _, doc in kept) <= 1000


def test_journal_ids_go_on_after_a_reset(store) -> None:
    before = store.journal_add('{"n": 1}', 10, 5, 1000)
    store.clear()
    assert store.journal_entries(5) == []
    assert store.journal_add('{"n": 2}', 10, 5, 1000) > before


def test_due_items_are_claimed_once_and_leases_lapse(store) -> None:
    import time

    store.due_put("q", "a", 10.0)
    store.due_put("q", "b", 20.0)
    assert store.due_next("q", time.time()) == 10.0
    assert store.due_claim("q", 5.0, "w1", time.time() + 60, 10) == []
    assert store.due_claim("q", 15.0, "w1", time.time() + 60, 10) == ["a"]
    assert store.due_claim("q", 15.0, "w2", time.time() + 60, 10) == []  # leased by w1
    assert store.due_next("q", time.time()) == 20.0
    assert store.due_count("q", 15.0) == 1
    store.due_put("q", "a", 30.0)  # rescheduled: the lease is gone
    assert store.due_claim("q", 25.0, "w2", time.time() - 1, 10) == ["b"]  # lease already over
    assert store.due_claim("q", 25.0, "w3", time.time() + 60, 10) == ["b"]  # so taken over
    store.due_remove("q", "b")
    assert store.due_count("q", 100.0) == 1


def test_records_keep_insertion_order_and_delete(store) -> None:
    for name in ("x", "y", "z"):
        store.put_record("k", name, {"name": name})
    store.put_record("k", "x", {"name": "x2"})
    assert [r["name"] for r in store.list_records("k")] == ["x2", "y", "z"]
    assert store.delete_record("k", "y") is True and store.delete_record("k", "y") is False
    assert [r["name"] for r in store.list_records("k")] == ["x2", "z"]


def test_a_version_2_sqlite_journal_is_carried_over(tmp_path) -> None:
    """Version 2 kept a journal row per entry: opening the file moves its entries, ids and
    byte total into the batched journal, and new entries carry on after the old ids."""
    import sqlite3

    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL,
                                  doc TEXT NOT NULL);
            CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO journal (size, doc) VALUES (8, '{"n": 1}'), (8, '{"n": 2}'),
                                                   (8, '{"n": 3}');
            DELETE FROM journal WHERE id = 3;
            INSERT INTO counters VALUES ('journal.bytes', 16);
            PRAGMA user_version = 2;""")
    store = open_store(f"sqlite:{path}")
    try:
        assert store.journal_entries(10) == [(2, '{"n": 2}'), (1, '{"n": 1}')]
        assert store.journal_add('{"n": 4}', 8, 10, 1000) == 4  # id 3 was used, and stays used
        store.journal_extend([('{"n": 5}', 8), ('{"n": 6}', 8)], 2, 1000)
        assert store.journal_entries(2) == [(6, '{"n": 6}'), (5, '{"n": 5}')]
    finally:
        store.close()
