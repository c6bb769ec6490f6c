"""The Redis store: several instances on several machines behind one URL (`redis://HOST:PORT/DB`).

redis-py's synchronous client: the store's callers are synchronous, and one loopback round
trip (tens of microseconds) costs less than hopping threads. Everything multi-step is one Lua
script (atomic in Redis) or one MULTI pipeline; scheduling an account holds a lease lock
(`SET NX PX`, released by token), so a dead holder's lock expires by itself. Every update of the
state row is published on `<prefix>state`, which instances subscribe to (`subscribe_state`).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis

from . import jsonfast
from .store import STATE_FIELDS, new_state, schedule_of
from .tasks import STALLED, Task

PREFIX = "mockserver:"
LOCK_SECONDS = 10.0  # a scheduling section takes milliseconds; a dead holder's lock lapses
RATE_TTL_MS = 60_000  # idle rate windows vanish by themselves (bounded memory)

_STATE_ADD = """
redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], ARGV[2])
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PUBLISH', KEYS[2], v)
return redis.call('HGETALL', KEYS[1])
"""
_STATE_RESET = """
local old = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('PUBLISH', KEYS[2], ARGV[2])
return old
"""
_STATE_INIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return redis.call('HGETALL', KEYS[1])
"""
_TAKE = """
local value = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if value > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -1) return 1 end
return 0
"""
_RECORD = """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
"""
_RATE = """
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now, redis.call('INCR', KEYS[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
_JOURNAL = """
local id = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], id .. '-1', 'size', ARGV[2], 'doc', ARGV[1])
local bytes = redis.call('INCRBY', KEYS[3], ARGV[2])
local max_entries, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while redis.call('XLEN', KEYS[1]) > max_entries or bytes > max_bytes do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  if #oldest == 0 then break end
  redis.call('XDEL', KEYS[1], oldest[1][1])
  bytes = redis.call('DECRBY', KEYS[3], oldest[1][2][2])
end
return id
"""
_CLAIM = """
local chosen = {}
local wall = tonumber(ARGV[2])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  if tonumber(redis.call('HGET', KEYS[2], id) or '0') <= wall then
    redis.call('HSET', KEYS[2], id, ARGV[3])
    chosen[#chosen + 1] = id
    if #chosen >= tonumber(ARGV[4]) then break end
  end
end
return chosen
"""
_NEXT = """
local wall = tonumber(ARGV[1])
local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #items, 2 do
  if tonumber(redis.call('HGET', KEYS[2], items[i]) or '0') <= wall then return items[i + 1] end
end
return false
"""


def _strs(found: Any) -> list[str]:
    """redis-py types its answers loosely: member lists as the strings they are here."""
    return [str(item) for item in found]


def _state(flat: list[Any]) -> dict[str, float]:
    found = {str(flat[i]): float(flat[i + 1]) for i in range(0, len(flat), 2)}
    return {k: found.get(k, 0.0) for k in STATE_FIELDS}


class RedisStore:
    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self.url = url
        self._p = prefix
        self._r = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
        try:
            self._r.ping()
        except redis.RedisError as error:
            raise ValueError(f"cannot reach the Redis store {url}: {error}") from None
        script = self._r.register_script
        self._state_add, self._state_reset = script(_STATE_ADD), script(_STATE_RESET)
        self._take, self._record, self._rate = script(_TAKE), script(_RECORD), script(_RATE)
        self._journal, self._claim, self._next = script(_JOURNAL), script(_CLAIM), script(_NEXT)
        fresh = new_state(None, time.time())
        init = script(_STATE_INIT)
        init(keys=[self._k("state")], args=[x for kv in fresh.items() for x in kv])
        self._subscriber: Any = None

    def _k(self, *parts: str) -> str:
        return self._p + "\x1f".join(parts)

    def _account(self, index: str, vendor: str, account: str, pool: str) -> str:
        return self._k(index, vendor, account, pool)

    # --- tasks ------------------------------------------------------------------------------

    def put_task(self, task: Task) -> None:
        doc = jsonfast.dumps(task.to_dict())
        pipe = self._r.pipeline(transaction=True)
        pipe.set(self._k("t", task.id), doc)
        pipe.zadd(self._k("tasks"), {task.id: task.created_at})
        pipe.zadd(self._k("tasks", task.vendor), {task.id: task.created_at})
        pipe.zadd(self._k("created", task.vendor, task.account), {task.id: task.created_at})
        pipe.incr(self._k("writes"))
        for index, value in (("slots", task.slot_end), ("waits", task.wait_until)):
            key = self._account(index, task.vendor, task.account, task.pool)
            pipe.zadd(key, {task.id: value}) if value is not None else pipe.zrem(key, task.id)
        expiry = self._k("expiry")
        if task.expires_at is None:
            pipe.zadd(expiry, {task.id: STALLED})
        else:
            pipe.zadd(expiry, {task.id: task.expires_at})
        pipe.execute()

    def get_task(self, task_id: str) -> Task | None:
        doc = self._r.get(self._k("t", task_id))
        return None if doc is None else Task.from_dict(jsonfast.loads(doc))

    def _tasks(self, ids: list[str]) -> list[Task]:
        if not ids:
            return []
        docs = self._r.mget([self._k("t", i) for i in ids])
        return [Task.from_dict(jsonfast.loads(d)) for d in docs if d is not None]

    def list_tasks(self, vendor: str | None = None, limit: int = 1000) -> list[Task]:
        index = self._k("tasks") if vendor is None else self._k("tasks", vendor)
        return self._tasks(_strs(self._r.zrevrange(index, 0, limit - 1))) if limit > 0 else []

    def created_tasks(self, vendor: str, account: str, since: float, until: float) -> list[Task]:
        ids = self._r.zrevrangebyscore(self._k("created", vendor, account), f"({until}", since)
        return self._tasks(_strs(ids))

    def task_schedules(self, vendor: str | None = None, account: str | None = None
                       ) -> list[Task]:
        index = self._k("tasks") if vendor is None else self._k("tasks", vendor)
        tasks = self._tasks(_strs(self._r.zrevrange(index, 0, -1)))
        return [schedule_of(t) for t in tasks if account in (None, t.account)]

    def write_count(self) -> int:
        """Task writes since the last reset, told apart across resets by the reset epoch."""
        writes = int(self._r.get(self._k("writes")) or 0)
        return int(self.state().get("epoch", 0)) * 1_000_000_007 + writes

    def busy_end(self, vendor: str, account: str, pool: str, now: float, slots: int
                 ) -> float | None:
        found = self._r.zrevrangebyscore(self._account("slots", vendor, account, pool), "+inf",
                                         f"({now!r}", start=slots - 1, num=1, withscores=True)
        return float(found[0][1]) if found else None

    def queued_count(self, vendor: str, account: str, pool: str, now: float, cap: int) -> int:
        count = self._r.zcount(self._account("waits", vendor, account, pool), f"({now!r}", "+inf")
        return min(cap, int(count))

    def waiting_tasks(self, vendor: str, account: str, pool: str, now: float) -> list[Task]:
        ids = self._r.zrangebyscore(self._account("waits", vendor, account, pool),
                                    f"({now!r}", f"({STALLED!r}")
        return self._tasks(_strs(ids))

    @contextmanager
    def account_lock(self, vendor: str, account: str, pool: str) -> Iterator[None]:
        lock = self._r.lock(self._account("lock", vendor, account, pool), timeout=LOCK_SECONDS,
                            sleep=0.001, blocking_timeout=LOCK_SECONDS * 3)
        if not lock.acquire():
            raise TimeoutError(f"could not lock account {account!r} for scheduling")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:  # expired meanwhile: someone else may hold it
                pass

    def sweep(self, now: float, limit: int = 1000) -> int:
        ids = _strs(self._r.zrangebyscore(self._k("expiry"), "-inf", now, start=0, num=limit))
        tasks = self._tasks(ids)
        if not ids:
            return 0
        pipe = self._r.pipeline(transaction=True)
        pipe.incr(self._k("writes"))
        for task in tasks:
            pipe.zrem(self._k("tasks", task.vendor), task.id)
            pipe.zrem(self._k("created", task.vendor, task.account), task.id)
            for index in ("slots", "waits"):
                pipe.zrem(self._account(index, task.vendor, task.account, task.pool), task.id)
        pipe.delete(*[self._k("t", i) for i in ids])
        pipe.zrem(self._k("tasks"), *ids)
        pipe.zrem(self._k("expiry"), *ids)
        pipe.execute()
        return len(ids)

    # --- records, meta, counters, state --------------------------------------------------------

    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        self._record(keys=[self._k("r", kind), self._k("rs", kind), self._k("seq")],
                     args=[record_id, json.dumps(doc, ensure_ascii=False)])

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        doc = self._r.hget(self._k("r", kind), record_id)
        return None if doc is None else dict(json.loads(doc))

    def list_records(self, kind: str) -> list[dict[str, Any]]:
        ids = _strs(self._r.zrange(self._k("rs", kind), 0, -1))
        if not ids:
            return []
        return [json.loads(d) for d in self._r.hmget(self._k("r", kind), ids) if d is not None]

    def delete_record(self, kind: str, record_id: str) -> bool:
        pipe = self._r.pipeline(transaction=True)
        pipe.hdel(self._k("r", kind), record_id)
        pipe.zrem(self._k("rs", kind), record_id)
        return bool(pipe.execute()[0])

    def get_meta(self, key: str) -> str | None:
        value = self._r.hget(self._k("meta"), key)
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self._r.hset(self._k("meta"), key, value)

    def counter_add(self, name: str, delta: int = 1) -> int:
        return int(self._r.hincrby(self._k("counters"), name, delta))

    def counter_get(self, name: str) -> int:
        return int(self._r.hget(self._k("counters"), name) or 0)

    def counter_take(self, name: str) -> bool:
        return bool(self._take(keys=[self._k("counters")], args=[name]))

    def state(self) -> dict[str, float]:
        return _state([x for kv in self._r.hgetall(self._k("state")).items() for x in kv])

    def poll_state(self, known_version: float) -> dict[str, float] | None:
        current = self.state()
        return None if current["v"] == known_version else current

    def state_add(self, field: str, delta: float) -> dict[str, float]:
        flat = self._state_add(keys=[self._k("state"), self._k("state-channel")],
                               args=[field, repr(float(delta))])
        return _state(flat)

    def subscribe_state(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call `on_change()` (from a background thread) whenever any instance changes the
        state row; returns a function that stops listening."""
        pubsub = self._r.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]  # redis-py's stubs leave it untyped
        pubsub.subscribe(**{self._k("state-channel"): lambda _message: on_change()})
        worker = pubsub.run_in_thread(sleep_time=0.5, daemon=True)

        def stop() -> None:
            worker.stop()
            pubsub.close()

        return stop

    # --- limits, journal, due queues -------------------------------------------------------------

    def rate_hit(self, key: str, per_second: float, now: float) -> bool:
        return bool(self._rate(keys=[self._k("rate", key), self._k("seq")],
                               args=[per_second, repr(now), RATE_TTL_MS]))

    def journal_add(self, doc: str, size: int, max_entries: int, max_bytes: int) -> int:
        return int(self._journal(
            keys=[self._k("journal"), self._k("journal-seq"), self._k("journal-bytes")],
            args=[doc, size, max_entries, max_bytes]))

    def journal_extend(self, entries: list[tuple[str, int]], max_entries: int, max_bytes: int
                       ) -> None:
        keys = [self._k("journal"), self._k("journal-seq"), self._k("journal-bytes")]
        pipe = self._r.pipeline(transaction=False)
        for doc, size in entries:
            self._journal(keys=keys, args=[doc, size, max_entries, max_bytes], client=pipe)
        pipe.execute()

    def journal_entries(self, limit: int | None = None) -> list[tuple[int, str]]:
        found: Any = self._r.xrevrange(self._k("journal"), "+", "-", count=limit)
        return [(int(str(entry_id).split("-")[0]), str(fields["doc"])) for entry_id, fields in found]

    def due_put(self, queue: str, item_id: str, due_at: float) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.zadd(self._k("due", queue), {item_id: due_at})
        pipe.hdel(self._k("lease", queue), item_id)
        pipe.execute()

    def due_remove(self, queue: str, item_id: str) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.zrem(self._k("due", queue), item_id)
        pipe.hdel(self._k("lease", queue), item_id)
        pipe.execute()

    def due_claim(self, queue: str, now: float, owner: str, lease_until: float, limit: int
                  ) -> list[str]:
        found = self._claim(keys=[self._k("due", queue), self._k("lease", queue)],
                            args=[repr(now), repr(time.time()), repr(lease_until), limit])
        return [str(i) for i in found]

    def due_next(self, queue: str, wall_now: float) -> float | None:
        found = self._next(keys=[self._k("due", queue), self._k("lease", queue)],
                           args=[repr(wall_now)])
        return None if found is None else float(found)

    def due_count(self, queue: str, now: float) -> int:
        return int(self._r.zcount(self._k("due", queue), "-inf", now))

    def clear(self) -> None:
        keep = self._k("state")
        kept = {keep, self._k("journal-seq")}  # journal ids never start again, as in every store
        batch: list[str] = []
        for key in self._r.scan_iter(match=self._p + "*", count=1000):
            if key not in kept:
                batch.append(key)
            if len(batch) >= 500:
                self._r.unlink(*batch)
                batch = []
        if batch:
            self._r.unlink(*batch)
        fresh = new_state(self.state(), time.time())
        self._state_reset(keys=[keep, self._k("state-channel")],
                          args=[x for kv in fresh.items() for x in kv])

    def close(self) -> None:
        self._r.close()
