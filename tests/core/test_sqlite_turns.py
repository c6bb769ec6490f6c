"""The SQLite store's commit per loop turn (core/sqlite_turns.py): writes made on the app's
loop share one transaction per turn, a failing section is undone alone, answers wait for the
commit, and a commit that fails is the vendor's internal error, never an acknowledgement."""
from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from mockserver.app import create_app
from mockserver.core.stores import open_store
from mockserver.settings import Settings

pytestmark = pytest.mark.anyio
SUBMIT = {"model": "facechain-generation", "parameters": {"style": "f_idcard_male", "n": 1},
          "resources": [{"resource_id": "lora-1", "resource_type": "facelora"}]}
HEADERS = {"Authorization": "Bearer sk-turns", "X-DashScope-Async": "enable"}


def committed_keys(path: Path) -> list[str]:
    """The meta keys another connection sees: what is committed."""
    with sqlite3.connect(path) as other:
        return sorted(row[0] for row in other.execute("SELECT key FROM meta"))


@pytest.fixture
def sqlite_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:{tmp_path / 'store.db'}")
    yield store
    store.close()


def write(store, key: str) -> None:  # type: ignore[no-untyped-def]
    """One atomic write section, as the engine's scheduling makes them."""
    with store.account_lock("v", "a", "p"):
        store.set_meta(key, "1")


def committed_tasks(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])


async def test_writes_of_one_turn_share_one_commit(sqlite_store) -> None:
    store, path = sqlite_store, sqlite_store.path
    commits: list[str] = []
    store.commit_per_turn(asyncio.get_running_loop())
    store._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    for key in ("a", "b", "c"):
        write(store, key)
    assert committed_keys(path) == []  # nothing is committed before the loop turns
    pending = store.pending_commit()
    assert pending is not None
    await pending
    assert committed_keys(path) == ["a", "b", "c"] and commits == ["COMMIT"]
    assert store.pending_commit() is None


async def test_a_failing_section_is_undone_alone(sqlite_store) -> None:
    store, path = sqlite_store, sqlite_store.path
    store.commit_per_turn(asyncio.get_running_loop())
    write(store, "kept")
    with pytest.raises(RuntimeError), store._tx() as db:
        db.execute("INSERT INTO meta VALUES ('undone', '1')")
        raise RuntimeError("the section fails")
    await store.pending_commit()
    assert committed_keys(path) == ["kept"]


async def test_writes_off_the_app_loop_commit_at_once(sqlite_store) -> None:
    store, path = sqlite_store, sqlite_store.path
    write(store, "unbound")  # no loop bound yet: as before, a commit per write
    assert committed_keys(path) == ["unbound"]
    store.commit_per_turn(asyncio.get_running_loop())
    await asyncio.to_thread(write, store, "thread")  # another thread's connection
    assert committed_keys(path) == ["thread", "unbound"]


async def test_closing_commits_the_open_turn(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = open_store(f"sqlite:{path}")
    store.commit_per_turn(asyncio.get_running_loop())
    write(store, "last")
    store.close()
    assert committed_keys(path) == ["last"]


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(store=f"sqlite:{tmp_path / 'store.db'}", host="127.0.0.1", port=8000)
    return create_app(replace(settings, validate_responses=True))


async def test_an_answer_waits_for_the_commit_of_what_it_acknowledges(tmp_path: Path) -> None:
    """The response's head is sent only once the task row is committed: checked from another
    connection at the moment the server sends it."""
    app = _app(tmp_path)
    emulator = app.state.emulator
    await emulator.start()
    seen_at_send: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": httpx.Request(
            "POST", "http://x", json=SUBMIT).read(), "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            seen_at_send.append(committed_tasks(tmp_path / "store.db"))

    headers = [(k.lower().encode(), v.encode()) for k, v in
               {**HEADERS, "Content-Type": "application/json"}.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/v1/services/aigc/album/gen_potrait",
             "raw_path": b"/api/v1/services/aigc/album/gen_potrait", "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 8000), "state": {}}
    try:
        await app(scope, receive, send)
        assert seen_at_send == [1]
    finally:
        await emulator.stop()


async def test_a_failed_commit_is_the_vendors_internal_error(tmp_path: Path) -> None:
    app = _app(tmp_path)
    emulator = app.state.emulator
    await emulator.start()
    turns, db = emulator.store._local.turns, emulator.store._local.db
    real_retry = turns._retry

    def failing_commit(action):  # type: ignore[no-untyped-def]
        if db.in_transaction:  # the turn is open: this is its COMMIT
            raise sqlite3.OperationalError("disk I/O error")
        return real_retry(action)

    turns._retry = failing_commit
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            answer = await client.post("/api/v1/services/aigc/album/gen_potrait", json=SUBMIT,
                                       headers=HEADERS)
        assert answer.status_code == 500 and answer.json()["code"] == "InternalError"
        assert committed_tasks(tmp_path / "store.db") == 0
        assert emulator.schema_violations == []
    finally:
        turns._retry = real_retry
        await emulator.stop()
