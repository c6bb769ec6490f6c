"""The other pages' data: overview, journal, callbacks, faults, clock.

Everything here only reads the emulator's state; the pages' buttons call the admin API.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..core.journal import QUERY_FIELDS, Entry, EntryQuery
from ..features.fault_rules import EFFECTS, failure_codes, operation_names
from .tasks import Schedules, census

if TYPE_CHECKING:
    from ..emulator import Emulator

JOURNAL_LIMIT = 50
JOURNAL_MAX = 500
# The journal filters the page offers: the same names and meanings as GET /__admin/requests.
JOURNAL_FILTERS = ("vendor", "operation", "account", "task_id", "status", "since", "until",
                   "method", "path", "injected", "near_miss")
CLOCK_STEPS = ((1, "1 s"), (10, "10 s"), (60, "1 min"), (300, "5 min"), (3600, "1 h"),
               (86400, "1 day"))
CALLBACK_STATUSES = ("pending", "delivered", "failed", "dropped")


def clock_state(emulator: Emulator) -> dict[str, float]:
    clock = emulator.clock
    return {"now": clock.now(), "offset": clock.offset, "scale": clock.scale}


def is_error(entry: Entry) -> bool:
    """An answer that was not a success: HTTP >= 400, a dropped connection, a request that
    matched no route, or a vendor error in any envelope (some vendors answer errors with HTTP
    200: the pipeline notes the code of every error it rendered)."""
    return (entry.status >= 400 or entry.status == 0 or "near_miss" in entry.note
            or "error_code" in entry.note)


def overview(emulator: Emulator, schedules: Schedules | None = None) -> dict[str, Any]:
    base = emulator.settings.base_url
    counts, failures = census(emulator, schedules)
    vendors = [{"name": p.name, "title": p.title, "hint": p.setup_hint(base),
                "counts": counts.get(p.name, {})} for p in emulator.providers.values()]
    errors = [e for e in emulator.journal.entries()[:2000] if is_error(e)][:8]
    totals: dict[str, int] = {}
    for per_state in counts.values():
        for state, n in per_state.items():
            totals[state] = totals.get(state, 0) + n
    return {"vendors": vendors, "totals": totals, "errors": errors,
            "failures": failures, "base_url": base}


def journal_page(emulator: Emulator, params: Mapping[str, str]) -> dict[str, Any]:
    """Entries picked by the same parser as GET /__admin/requests; a bad filter is a one-line
    message on the page, never an error page."""
    filters = {k: params[k].strip() for k in JOURNAL_FILTERS if params.get(k, "").strip()}
    limit_text = params.get("limit", "").strip() or str(JOURNAL_LIMIT)
    problems, entries = [], []
    try:
        limit = min(JOURNAL_MAX, max(1, int(limit_text)))
    except ValueError:
        problems.append(f"limit {limit_text!r} is not a number; showing {JOURNAL_LIMIT}")
        limit = JOURNAL_LIMIT
    try:
        entries = emulator.journal.find(EntryQuery.parse(filters), limit)
    except ValueError as error:
        problems.append(str(error))
    query = urlencode({**filters, "limit": limit})
    return {"entries": entries, "filters": filters, "limit": limit, "problems": problems,
            "har_url": f"/__admin/requests.har?{query}", "api_url": f"/__admin/requests?{query}",
            "known_fields": [f for f in QUERY_FIELDS if f in JOURNAL_FILTERS]}


def callbacks_page(emulator: Emulator, params: Mapping[str, str]) -> dict[str, Any]:
    vendor = params.get("vendor") or None
    task_id = params.get("task_id") or None
    status = params.get("status") or None
    records = [r for r in emulator.callbacks.records(vendor, task_id)
               if status in (None, r["status"])]
    records.reverse()  # newest first
    return {"records": records, "filters": {"vendor": vendor, "task_id": task_id,
                                            "status": status},
            "statuses": CALLBACK_STATUSES, "running": emulator.callbacks.running}


def fault_catalogue(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Per vendor: its operations, the catalogue codes an `error` rule may answer and the codes
    a `fail_task` rule may fail a task with (the same sets `faults.parse_rule` accepts)."""
    found = {}
    for name, provider in emulator.providers.items():
        errors = [{"code": code, "status": entry.status, "message": entry.message}
                  for code, entry in sorted(provider.catalogue.entries.items())]
        found[name] = {"operations": sorted(operation_names(provider)), "error": errors,
                       "fail_task": sorted(failure_codes(provider))}
    return found


def faults_page(emulator: Emulator) -> dict[str, Any]:
    return {"rules": [r.to_dict() for r in emulator.features["faults"].rules()], "effects": EFFECTS,
            "catalogue": fault_catalogue(emulator)}


def clock_page(emulator: Emulator) -> dict[str, Any]:
    return {"steps": CLOCK_STEPS}
