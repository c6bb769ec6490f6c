"""Fault rules as shared state: every worker and instance on a store sees the same rules and
spends the same counters.

A rule is a store record (kind `fault`); its counters are store counters, so a rule with
`times: 2` fires twice in total, whichever processes the matching requests reach. Its dice are
seeded by (seed, match number): the n-th match rolls the same number on any instance, so a
chaos run repeats exactly. Tasks a `stall` rule holds are records too (kind `fault.stall`), so
removing the rule on any instance releases them. Readers keep the parsed rules until the
state row's `faults` version moves (a cheap check the app makes per request).
"""
from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .shared import SharedState
from .store import Store

KIND, STALL_KIND = "fault", "fault.stall"
Rule = TypeVar("Rule")


@dataclass(frozen=True)
class Counts:
    matched: int
    fired: int
    left: int | None  # firings left; None: until removed


def roll(seed: str, number: int) -> random.Random:
    """The die for the `number`-th match (or firing) of a rule, the same on every instance."""
    return random.Random(f"{seed}:{number}")


class RuleBook(Generic[Rule]):
    """Stores rule documents and counters; `parse(doc, rule_id)` turns a document into the
    caller's rule object (once per rule per version)."""

    def __init__(self, store: Store, shared: SharedState,
                 parse: Callable[[Mapping[str, Any], str], Rule]) -> None:
        self.store, self.shared, self._parse = store, shared, parse
        self._cache: tuple[float, list[tuple[str, Rule]]] | None = None
        self._lock = threading.Lock()

    # --- rules --------------------------------------------------------------------------

    def add(self, doc: Mapping[str, Any], times: int | None, *, standing: str | None = None
            ) -> str:
        rule_id = f"f{self.store.counter_add('fault.ids')}"
        if times is not None:
            self.store.counter_add(f"fault.left:{rule_id}", times)
        self.store.put_record(KIND, rule_id, {"id": rule_id, "doc": dict(doc),
                                               "standing": standing})
        self.shared.add("faults", 1)
        return rule_id

    def rules(self) -> list[tuple[str, Rule]]:
        """(id, parsed rule) in creation order, reloaded only when some instance changed them."""
        version = self.shared.row["faults"]
        cached = self._cache  # replaced whole, never changed: read without the lock
        if cached is not None and cached[0] == version:
            return cached[1]
        parsed = [(r["id"], self._parse(r["doc"], r["id"])) for r in self._records()]
        with self._lock:
            self._cache = (version, parsed)
        return parsed

    def _records(self) -> list[dict[str, Any]]:
        found = self.store.list_records(KIND)
        return sorted(found, key=lambda r: int(str(r["id"]).lstrip("f") or 0))

    def remove(self, rule_id: str) -> bool:
        gone = self.store.delete_record(KIND, rule_id)
        if gone:
            self.shared.add("faults", 1)
        return gone

    def load_standing(self, docs: list[Mapping[str, Any]], add: Callable[[Mapping[str, Any],
                      str], object]) -> bool:
        """Add the config's standing rules once per store and config, however many instances
        start (the first to count the config's fingerprint wins); rules of an older config
        go. Returns whether this instance added them."""
        fingerprint = hashlib.sha256(json.dumps(docs, sort_keys=True, default=str).encode()
                                     ).hexdigest()[:16]
        if self.store.counter_add(f"fault.standing:{fingerprint}") != 1:
            return False
        for record in self._records():
            if record.get("standing") not in (None, fingerprint):
                self.remove(record["id"])
        for doc in docs:
            add(doc, fingerprint)
        return True

    # --- counters -----------------------------------------------------------------------

    def fire(self, rule_id: str, times: int | None, probability: float, seed: str
             ) -> int | None:
        """Count a match, roll its die, spend one firing if it comes up: the firing's number,
        or None (no luck, or the rule is used up)."""
        if times is not None and self.store.counter_get(f"fault.left:{rule_id}") <= 0:
            return None
        matched = self.store.counter_add(f"fault.matched:{rule_id}")
        if probability < 1.0 and roll(seed, matched).random() >= probability:
            return None
        if times is not None and not self.store.counter_take(f"fault.left:{rule_id}"):
            return None
        return self.store.counter_add(f"fault.fired:{rule_id}")

    def counts(self, rule_id: str, times: int | None) -> Counts:
        get = self.store.counter_get
        return Counts(get(f"fault.matched:{rule_id}"), get(f"fault.fired:{rule_id}"),
                      None if times is None else get(f"fault.left:{rule_id}"))

    # --- stalled tasks ------------------------------------------------------------------

    def hold(self, task_id: str, rule_id: str, slots: int | None) -> None:
        self.store.put_record(STALL_KIND, task_id, {"task": task_id, "rule": rule_id,
                                                    "slots": slots})

    def release_held(self, rule_id: str) -> Iterable[tuple[str, int | None]]:
        """Forget the tasks `rule_id` holds; (task id, concurrency) of each."""
        held = [r for r in self.store.list_records(STALL_KIND) if r["rule"] == rule_id]
        for record in held:
            if self.store.delete_record(STALL_KIND, record["task"]):
                yield record["task"], record["slots"]
