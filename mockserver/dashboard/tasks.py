"""The task pages' data: a filtered, paged listing of thousands of tasks, and one task in full.

Listings read `Store.task_schedules()` (tasks without their request and data) and derive each
state from the emulated clock, exactly as the vendors' queries do (`Task.state_at`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.input_log import inputs_of
from ..core.journal import EntryQuery
from ..core.tasks import State, Task
from .present import account_id

if TYPE_CHECKING:
    from ..emulator import Emulator

PAGE_SIZE = 50
STATES = [s.value for s in State]


@dataclass(frozen=True)
class TaskFilter:
    vendor: str | None = None
    state: str | None = None
    account: str | None = None  # the account itself or its `account_id` token
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str], vendors: list[str]) -> tuple[TaskFilter, list[str]]:
        """The filter and a one-line note per value that was ignored."""
        notes = []
        vendor = params.get("vendor") or None
        if vendor is not None and vendor not in vendors:
            notes.append(f"unknown vendor {vendor!r} ignored; vendors: {', '.join(vendors)}")
            vendor = None
        state = params.get("state") or None
        if state is not None and state not in STATES:
            notes.append(f"unknown state {state!r} ignored; states: {', '.join(STATES)}")
            state = None
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            notes.append(f"page {params.get('page')!r} is not a number; showing page 1")
            page = 1
        return cls(vendor, state, (params.get("account") or "").strip() or None, page), notes

    def query(self, **changes: Any) -> dict[str, str]:
        """Query parameters for this filter with some values changed (pager, state chips)."""
        values: dict[str, Any] = {"vendor": self.vendor, "state": self.state,
                                  "account": self.account, "page": self.page}
        values.update(changes)
        if values["page"] == 1:
            values["page"] = None
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _row(task: Task, now: float) -> dict[str, Any]:
    state = task.state_at(now)
    return {"id": task.id, "vendor": task.vendor, "account": task.account,
            "state": state.value, "created_at": task.created_at,
            "progress": task.progress_at(now), "error_code": task.error_code}


class Schedules:
    """`Store.task_schedules()` remembered until the store writes again: an open page polls
    every second, and thousands of tasks need not be read again while nothing changed."""

    def __init__(self, emulator: Emulator, size: int = 8) -> None:
        self.emulator = emulator
        self.size = size
        self._seen = -1
        self._lists: dict[tuple[str | None, str | None], list[Task]] = {}

    def get(self, vendor: str | None = None, account: str | None = None) -> list[Task]:
        store = self.emulator.store
        writes = store.write_count()
        if writes != self._seen or len(self._lists) >= self.size:
            self._seen = writes
            self._lists.clear()
        key = (vendor, account)
        if key not in self._lists:
            self._lists[key] = store.task_schedules(vendor, account)
        return self._lists[key]


def remember_accounts(known: dict[str, str], tasks: list[Task]) -> None:
    """Note each account's fingerprint (links carry fingerprints, never keys)."""
    for account in {t.account for t in tasks}:
        known.setdefault(account_id(account), account)


def _account_tasks(schedules: Schedules, chosen: TaskFilter,
                   known: dict[str, str]) -> list[Task]:
    """The filter's tasks; an account (a key or a known fingerprint) is selected by the store."""
    if not chosen.account:
        tasks = schedules.get(chosen.vendor)
        remember_accounts(known, tasks)
        return tasks
    tasks = schedules.get(chosen.vendor, known.get(chosen.account, chosen.account))
    if not tasks and chosen.account not in known:  # a fingerprint not seen yet
        remember_accounts(known, schedules.get(chosen.vendor))
        if chosen.account in known:
            tasks = schedules.get(chosen.vendor, known[chosen.account])
    return tasks


def task_page(emulator: Emulator, chosen: TaskFilter, schedules: Schedules | None = None,
              known_accounts: dict[str, str] | None = None) -> dict[str, Any]:
    """One page of tasks, newest first, with the number of tasks per state under the filter.
    The caller keeps `schedules` and `known_accounts` (fingerprint -> account) between pages."""
    now = emulator.clock.now()
    tasks = _account_tasks(schedules or Schedules(emulator), chosen,
                           {} if known_accounts is None else known_accounts)
    states = [t.state_at(now).value for t in tasks]
    counts = Counter(states)
    if chosen.state:
        tasks = [t for t, s in zip(tasks, states) if s == chosen.state]
    pages = max(1, -(-len(tasks) // PAGE_SIZE))
    page = min(chosen.page, pages)
    shown = tasks[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return {"rows": [_row(t, now) for t in shown], "total": len(tasks), "page": page,
            "pages": pages, "first": (page - 1) * PAGE_SIZE + 1 if shown else 0,
            "last": (page - 1) * PAGE_SIZE + len(shown),
            "counts": {s: counts.get(s, 0) for s in STATES}, "all": sum(counts.values()),
            "now": now}


def census(emulator: Emulator, schedules: Schedules | None = None, failures: int = 8
           ) -> tuple[dict[str, dict[str, int]], list[dict[str, Any]]]:
    """Tasks per vendor and state now, and the latest failed tasks (the overview), in one pass."""
    now = emulator.clock.now()
    tasks = (schedules or Schedules(emulator)).get()
    states = [t.state_at(now) for t in tasks]
    tally = Counter(zip((t.vendor for t in tasks), states))
    counts = {v: {s.value: tally[v, s] for s in State} for v in emulator.providers}
    failed = [t for t, s in zip(tasks, states) if s is State.FAILED]
    failed.sort(key=lambda t: t.end_at or t.created_at, reverse=True)
    latest = [{**_row(t, now), "error_message": t.error_message, "end_at": t.end_at}
              for t in failed[:failures]]
    return counts, latest


def timeline(task: Task, now: float) -> list[dict[str, Any]]:
    """The moments of a task's life on the emulated clock, in order, `now` among them; each
    is `past`, `future` or `now` (a stalled task's start has no time)."""
    events: list[dict[str, Any]] = [{"label": "submitted", "at": task.created_at}]
    if task.start_at is None and task.canceled_at is None:
        events.append({"label": "stalled in the queue (a fault rule holds it)", "at": None})
    elif task.start_at is not None:
        events.append({"label": "started (left the queue)", "at": task.start_at})
    if task.canceled_at is not None:
        events.append({"label": "canceled", "at": task.canceled_at})
    elif task.end_at is not None:
        events.append({"label": f"ended ({task.outcome})", "at": task.end_at})
    finished = task.canceled_at if task.canceled_at is not None else task.end_at
    if finished is not None:
        events.append({"label": "expires (no longer queryable)", "at": finished + task.ttl_seconds})
    for event in events:
        event["kind"] = "past" if event["at"] is not None and event["at"] <= now else "future"
    later = next((i for i, e in enumerate(events) if e["at"] is None or e["at"] > now), len(events))
    events.insert(later, {"label": "now", "at": now, "kind": "now"})
    return events


def task_detail(emulator: Emulator, task: Task) -> dict[str, Any]:
    now = emulator.clock.now()
    state = task.state_at(now)
    provider = emulator.providers.get(task.vendor)
    results: list[str] = []
    if provider is not None and state is State.SUCCEEDED:
        results = [f"/results/{task.vendor}/{task.id}/{name}"
                   for name in provider.result_names(task)]
    return {
        "task": task, "state": state.value, "progress": task.progress_at(now), "now": now,
        "timeline": timeline(task, now), "results": results,
        "inputs": inputs_of(emulator.store, task.id),
        "requests": emulator.journal.find(EntryQuery(exact={"task_id": task.id}), 100),
        "callbacks": emulator.callbacks.records(task.vendor, task.id),
    }
