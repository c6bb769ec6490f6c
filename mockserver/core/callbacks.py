"""At-least-once delivery of task callbacks (webhooks), on the emulated clock.

A provider calls `schedule(vendor, task_id, url, due_at)` when a task with a callback URL is
created. When the emulated clock reaches `due_at` the dispatcher asks the provider for the body
(`Provider.callback_body(task)` -> `(payload, schema name)`), validates it against its schema,
POSTs it as JSON and records the attempt. Connection errors and non-2xx answers are retried
with exponential backoff on the emulated clock, so advancing the clock makes retries due.

Every delivery is a store record (kind `callback`) written when the task is acknowledged and
after every attempt, and an entry in the store's `callback` due queue. Each worker (of every
instance on the store) claims due entries with a lease before it attempts them, so each due
attempt is made once; a worker that dies mid-delivery loses its lease after `LEASE_MARGIN`
seconds and a survivor (or the restarted server) makes the attempt. Receivers may therefore
see a body twice; they never miss one. The worker sleeps until the earliest due time, wakes
early on clock changes, and looks at the store at least every `POLL_SECONDS`.

A provider may define `async prepare_callback(task)`: awaited before the body is built for a
finished task, it finishes work the body needs (gpt.ge renders the photo there if the process
that accepted the task died before doing so).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .clock import Clock
from .fairness import AccountSlots
from .ids import uuid4
from .netpolicy import GuardedTransport, OutboundPolicy, post_json
from .schemas import SchemaRegistry
from .store import Store
from .tasks import Task

if TYPE_CHECKING:  # imported with the first delivery (httpx costs ~90 ms of start-up)
    import httpx

log = logging.getLogger("mockserver.callbacks")

KIND = "callback"
PENDING, DELIVERED, FAILED, DROPPED = "pending", "delivered", "failed", "dropped"
STALL_RECHECK = 60.0  # emulated seconds between looks at a task that has no end time yet
MAX_PARALLEL = 64  # concurrent POSTs in all
PER_ACCOUNT = 4  # concurrent POSTs of one account: its slow receivers never stall the others
QUEUE = "callback"
LEASE_MARGIN = 15.0  # real seconds a claim outlives the attempt's timeout
POLL_SECONDS = 0.25  # other instances schedule and release deliveries too
DRAIN_LIMIT = 30.0  # real seconds drain() waits for deliveries another instance holds


@dataclass(frozen=True)
class DeliveryPolicy:
    """How one vendor's callbacks are sent. No vendor documents retries: all INFERRED."""

    timeout: float = 10.0  # real seconds per POST
    max_attempts: int = 5  # automatic attempts; manual redeliveries do not count
    backoff: float = 10.0  # emulated seconds before the 2nd attempt, doubled each time
    backoff_cap: float = 600.0

    def delay_after(self, attempt: int) -> float:
        return min(self.backoff * 2.0 ** (attempt - 1), self.backoff_cap)


class _Settings(Protocol):
    def vendor_option(self, vendor: str, key: str, default: Any) -> Any: ...


class _Provider(Protocol):
    def callback_body(self, task: Task) -> tuple[dict[str, object], str] | None: ...


class CallbackHost(Protocol):
    """What the dispatcher needs from the emulator (core must not import the runtime)."""

    @property
    def settings(self) -> _Settings: ...
    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def schemas(self) -> SchemaRegistry: ...
    @property
    def providers(self) -> Mapping[str, _Provider]: ...
    @property
    def outbound(self) -> OutboundPolicy: ...  # where a callback may be sent


@dataclass(frozen=True)
class _Body:
    payload: dict[str, object]
    schema: str


@dataclass(frozen=True)
class _Later:
    at: float


@dataclass(frozen=True)
class _Drop:
    reason: str


class CallbackDispatcher:
    def __init__(self, host: CallbackHost,
                 on_violation: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.host = host
        self.on_violation = on_violation
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid4()[:8]}"
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._preparing: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: AccountSlots | None = None
        self._generation = 0  # bumped by reset(): late attempts must not resurrect records
        # Fault injection: each check may name a reason to fail this delivery without a POST.
        self.delivery_faults: list[Callable[[dict[str, Any]], str | None]] = []
        host.clock.on_change(lambda _offset: self._nudge())

    # ---- API for providers and the admin routes -------------------------------------------

    def policy(self, vendor: str) -> DeliveryPolicy:
        """Defaults, overridable per vendor as `[vendors.<name>] callback_*` options."""
        option, base = self.host.settings.vendor_option, DeliveryPolicy()
        return DeliveryPolicy(
            timeout=float(option(vendor, "callback_timeout_seconds", base.timeout)),
            max_attempts=max(1, int(option(vendor, "callback_max_attempts", base.max_attempts))),
            backoff=float(option(vendor, "callback_backoff_seconds", base.backoff)),
            backoff_cap=float(option(vendor, "callback_backoff_cap_seconds", base.backoff_cap)),
        )

    def schedule(self, vendor: str, task_id: str, url: str, due_at: float) -> str:
        """Remember a delivery (durably) and let the worker send it at `due_at`."""
        record_id = uuid4()
        doc = {"id": record_id, "vendor": vendor, "task_id": task_id, "url": url,
               "created_at": self.host.clock.now(), "due_at": due_at, "status": PENDING,
               "next_attempt_at": due_at, "delivered_at": None, "reason": None, "attempts": []}
        self.host.store.put_record(KIND, record_id, doc)
        self.host.store.due_put(QUEUE, record_id, due_at)
        self._nudge()
        return record_id

    def records(self, vendor: str | None = None, task_id: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.host.store.list_records(KIND)
                if vendor in (None, r["vendor"]) and task_id in (None, r["task_id"])]

    def get(self, record_id: str) -> dict[str, Any] | None:
        return self.host.store.get_record(KIND, record_id)

    async def drain(self) -> None:
        """Deliver everything due now (including retries that become due) and wait for it."""
        await self._in_worker_loop(self._drain_here)

    async def redeliver(self, record_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """Send one extra attempt now: (updated record, None) or (record or None, why not)."""
        async def once() -> tuple[dict[str, Any] | None, str | None]:
            record = self.get(record_id)
            if record is None:
                return None, "no such callback"
            return await self._attempt(record, manual=True)

        found: tuple[dict[str, Any] | None, str | None] = await self._in_worker_loop(once)
        return found

    # ---- lifecycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._loop is not None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._slots = AccountSlots(PER_ACCOUNT, MAX_PARALLEL)
        self._resume()
        self._worker = asyncio.create_task(self._run(), name="callback-dispatcher")

    async def stop(self) -> None:
        """Stop sending. Anything unsent stays pending in the store for the next start."""
        tasks = [t for t in (self._worker, *self._inflight.values(), *self._preparing)
                 if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._inflight.clear()
        if self._client is not None:
            await self._client.aclose()
        self._loop = self._worker = self._client = None

    def reset(self) -> None:
        """The store was cleared: in-flight attempts finish unrecorded."""
        self._generation += 1

    def _resume(self) -> None:
        """At start-up: start the work pending bodies need, and queue the pending deliveries
        of a store written by an older version (it kept only the records)."""
        store = self.host.store
        pending = [r for r in store.list_records(KIND) if r["status"] == PENDING]
        unqueued = store.due_count(QUEUE, float("inf")) == 0
        for record in pending:
            if unqueued:
                store.due_put(QUEUE, record["id"], float(record["next_attempt_at"]))
            self._prepare_soon(record)

    def _prepare_soon(self, record: dict[str, Any]) -> None:
        """Resume a provider's unfinished work for a pending delivery (gpt.ge: render)."""
        provider = self.host.providers.get(record["vendor"])
        prepare = getattr(provider, "prepare_callback", None)
        task = self.host.store.get_task(record["task_id"])
        if prepare is not None and task is not None:
            job = asyncio.get_running_loop().create_task(prepare(task))
            self._preparing.add(job)
            job.add_done_callback(self._preparing.discard)

    # ---- the worker ----------------------------------------------------------------------------

    def _nudge(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    async def _in_worker_loop(self, make: Callable[[], Any]) -> Any:
        """Run `make()` in the worker's event loop, from any thread or loop."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the callback dispatcher is not running (app not started)")
        if loop is asyncio.get_running_loop():
            return await make()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), loop))

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                self._launch_due()
                sleep = self._sleep_seconds()
            except Exception:  # a store hiccup: try again shortly
                log.exception("callback dispatcher: could not read the due queue")
                sleep = POLL_SECONDS
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow the cancel of stop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(sleep):
                    await self._wake.wait()

    def _sleep_seconds(self) -> float:
        clock = self.host.clock
        due = self.host.store.due_next(QUEUE, time.time())
        if due is None:
            return POLL_SECONDS
        return min(POLL_SECONDS, max(0.0, (due - clock.now()) / clock.scale) + 0.001)

    def _launch_due(self) -> None:
        room = MAX_PARALLEL - len(self._inflight)
        if room <= 0:
            return
        lease = time.time() + LEASE_MARGIN + max(self.policy(v).timeout
                                                 for v in (*self.host.providers, ""))
        claimed = self.host.store.due_claim(QUEUE, self.host.clock.now(), self._owner, lease, room)
        for record_id in claimed:
            if record_id in self._inflight:
                continue
            task = asyncio.create_task(self._deliver(record_id))
            self._inflight[record_id] = task
            task.add_done_callback(functools.partial(self._finished, record_id))

    def _finished(self, record_id: str, _task: object = None) -> None:
        self._inflight.pop(record_id, None)
        if self._wake is not None:
            self._wake.set()

    async def _drain_here(self) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + DRAIN_LIMIT
        while True:
            self._launch_due()
            if self._inflight:
                await asyncio.gather(*list(self._inflight.values()), return_exceptions=True)
                continue
            now = self.host.clock.now()
            if self.host.store.due_count(QUEUE, now) == 0 or loop.time() > give_up:
                return
            await asyncio.sleep(0.02)  # another instance holds a due delivery: let it finish

    async def _deliver(self, record_id: str) -> None:
        assert self._slots is not None
        async with self._slots.hold(self._account(record_id)):
            record = self.get(record_id)
            if record is None or record["status"] != PENDING:
                self.host.store.due_remove(QUEUE, record_id)
                return
            try:
                await self._attempt(record, manual=False)
            except Exception:  # never let one bad delivery kill the worker
                log.exception("callback %s: delivery crashed", record_id)
                self.host.store.due_remove(QUEUE, record_id)

    def _account(self, record_id: str) -> str | None:
        """The account whose task the delivery is for (its share of the senders)."""
        record = self.get(record_id)
        task = self.host.store.get_task(record["task_id"]) if record else None
        return task.account if task else None

    # ---- one attempt ------------------------------------------------------------------------------

    async def _attempt(self, record: dict[str, Any], *, manual: bool
                       ) -> tuple[dict[str, Any] | None, str | None]:
        generation, now = self._generation, self.host.clock.now()
        body = await self._body(record, now)
        if isinstance(body, _Later):
            if not manual:
                record["next_attempt_at"] = body.at
                self._save(record, generation, due=body.at)
            return record, "the task has not finished yet"
        if isinstance(body, _Drop):
            if not manual:
                record.update(status=DROPPED, reason=body.reason, next_attempt_at=None)
                self._save(record, generation, due=None)
            return record, body.reason
        injected = next((why for check in self.delivery_faults if (why := check(record))), None)
        attempt: dict[str, Any]
        if injected is not None:
            attempt = {"status_code": None, "error": injected, "ok": False, "duration_ms": 0.0,
                       "injected": True}
        else:
            attempt = await self._post(record["url"], body, self.policy(record["vendor"]).timeout)
        attempt.update(attempt=len(record["attempts"]) + 1, manual=manual, time=now,
                       url=record["url"], payload=body.payload, schema=body.schema)
        record["attempts"].append(attempt)
        self._settle(record, attempt, manual)
        due = record["next_attempt_at"] if record["status"] == PENDING else None
        self._save(record, generation, due=due)
        return record, None

    async def _body(self, record: dict[str, Any], now: float) -> _Body | _Later | _Drop:
        task = self.host.store.get_task(record["task_id"])
        provider = self.host.providers.get(record["vendor"])
        if task is None or provider is None:
            return _Drop("the task or its vendor no longer exists")
        prepare = getattr(provider, "prepare_callback", None)
        if prepare is not None and task.state_at(now).terminal:
            await prepare(task)
            task = self.host.store.get_task(record["task_id"]) or task
        found = provider.callback_body(task)
        if found is None:
            state = task.state_at(now)
            if not state.terminal:  # rescheduled or stalled by a fault: look again later
                return _Later(max(task.end_at, now + 1.0) if task.end_at else now + STALL_RECHECK)
            return _Drop(f"the vendor sends no callback for a {state.value} task")
        payload, schema = found
        error = self.host.schemas.first_error(schema, payload)
        if error is not None:  # a bug in the mock, never the receiver's problem
            problem = f"{error.json_path}: {error.message}"
            log.error("callback %s: body violates %s: %s", record["id"], schema, problem)
            if self.on_violation is not None:
                self.on_violation({"vendor": record["vendor"], "operation": "callback",
                                   "schema": schema, "problem": problem, "body": payload})
            return _Drop(f"callback body violates {schema}: {problem}")
        return _Body(payload, schema)

    async def _post(self, url: str, body: _Body, timeout: float) -> dict[str, Any]:
        if self._client is None:  # the first delivery: callbacks never go through a proxy,
            import httpx  # and obey the outbound policy

            transport = GuardedTransport(self.host.outbound, MAX_PARALLEL)
            self._client = httpx.AsyncClient(transport=transport, trust_env=False)
        started = time.perf_counter()
        data = json.dumps(body.payload, ensure_ascii=False).encode()
        attempt = await post_json(self._client, self.host.outbound, url, data, timeout)
        attempt["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        return attempt

    def _settle(self, record: dict[str, Any], attempt: dict[str, Any], manual: bool) -> None:
        """Move the record on after an attempt: delivered, retried later, or given up."""
        now = self.host.clock.now()
        if attempt["ok"]:
            if record["status"] != DELIVERED:
                record.update(status=DELIVERED, delivered_at=now, next_attempt_at=None)
            return
        if manual or record["status"] != PENDING:
            return  # a failed manual try changes nothing about the automatic schedule
        if attempt.get("refused"):  # the outbound policy will refuse every retry too
            record.update(status=FAILED, next_attempt_at=None, reason=attempt["error"])
            return
        policy = self.policy(record["vendor"])
        tries = sum(1 for a in record["attempts"] if not a["manual"])
        if tries >= policy.max_attempts:
            record.update(status=FAILED, next_attempt_at=None,
                          reason=f"gave up after {tries} attempts")
        else:
            record["next_attempt_at"] = now + policy.delay_after(tries)

    def _save(self, record: dict[str, Any], generation: int, *, due: float | None) -> None:
        if generation != self._generation:
            return  # the emulator was reset while this attempt ran
        self.host.store.put_record(KIND, record["id"], record)
        if due is None:
            self.host.store.due_remove(QUEUE, record["id"])
        else:
            self.host.store.due_put(QUEUE, record["id"], due)
