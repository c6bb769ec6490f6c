"""Fault rules as data: what a rule matches, its effect, and the checks that turn a JSON or
TOML rule into a `FaultRule` (every mistake is a `FaultError` naming what to fix)."""
from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.journal import fields_match
from ..providers.base import Provider

REQUEST_EFFECTS = ("error", "latency", "drop")
TASK_EFFECTS = ("fail_task", "stall")
DELIVERY_EFFECTS = ("callback_fail",)
EFFECTS = REQUEST_EFFECTS + TASK_EFFECTS + DELIVERY_EFFECTS
RULE_FIELDS = frozenset({"vendor", "operation", "account", "body", "effect", "code", "message",
                         "latency", "times", "probability", "seed"})
MAX_LATENCY_SECONDS = 600.0

class FaultError(ValueError):
    """An invalid rule; the message says what to fix."""


@dataclass(frozen=True)
class Facts:
    """What a rule can match on, taken from a request or a new task."""

    vendor: str
    operation: str | None
    account: str | None
    body: Any
    key: str | None = None  # the bearer key, when the account groups several


@dataclass
class FaultRule:
    id: str
    vendor: str
    effect: str
    operation: str | None = None
    account: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    message: str | None = None
    latency: tuple[float, float] | None = None
    times: int | None = None  # firings left; None: until removed
    probability: float = 1.0
    seed: str = ""
    matched: int = 0
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed or self.id)

    @property
    def active(self) -> bool:
        return self.times is None or self.times > 0

    def matches(self, facts: Facts) -> bool:
        if not self.active or facts.vendor != self.vendor:
            return False
        if self.operation is not None and facts.operation != self.operation:
            return False
        if self.account is not None and self.account not in (facts.account, facts.key):
            return False
        return not self.body or fields_match(facts.body, self.body)

    def try_fire(self) -> bool:
        """Count a match; roll the seeded die; spend one firing if it comes up."""
        self.matched += 1
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        if self.times is not None:
            self.times -= 1
        return True

    def pick_latency(self) -> float:
        assert self.latency is not None
        low, high = self.latency
        return low if low == high else self._rng.uniform(low, high)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "vendor": self.vendor, "effect": self.effect,
            "operation": self.operation, "account": self.account, "body": self.body,
            "code": self.code, "message": self.message,
            "latency": list(self.latency) if self.latency else None,
            "times": self.times, "probability": self.probability, "seed": self.seed or self.id,
            "matched": self.matched, "fired": self.fired, "active": self.active,
        }


def parse_rule(doc: Mapping[str, Any], rule_id: str, providers: Mapping[str, Provider]) -> FaultRule:
    if not isinstance(doc, Mapping):
        raise FaultError("a fault rule must be an object")
    unknown = sorted(set(doc) - RULE_FIELDS)
    if unknown:
        raise FaultError(f"unknown field(s) {unknown}; a rule has {sorted(RULE_FIELDS)}")
    vendor = doc.get("vendor")
    if not isinstance(vendor, str) or vendor not in providers:
        raise FaultError(f"unknown vendor {vendor!r}; known vendors: {sorted(providers)}")
    provider = providers[vendor]
    effect = doc.get("effect")
    if not isinstance(effect, str) or effect not in EFFECTS:
        raise FaultError(f"unknown effect {effect!r}; effects: {list(EFFECTS)}")
    if effect in DELIVERY_EFFECTS and doc.get("operation") is not None:
        raise FaultError(f"effect {effect!r} matches vendor, account and body, not 'operation'")
    return FaultRule(
        id=rule_id, vendor=vendor, effect=effect,
        operation=_operation(doc.get("operation"), provider),
        account=_optional_str(doc, "account"),
        body=_body(doc.get("body")),
        code=_code(doc.get("code"), effect, provider),
        message=_optional_str(doc, "message"),
        latency=_latency(doc.get("latency"), effect),
        times=_times(doc.get("times")),
        probability=_probability(doc.get("probability", 1.0)),
        seed="" if doc.get("seed") is None else str(doc["seed"]),
    )


def _operation(value: Any, provider: Provider) -> str | None:
    if value is None:
        return None
    known = operation_names(provider)
    if not isinstance(value, str) or value not in known:  # a list is no name (nor hashable)
        raise FaultError(f"{provider.name} has no operation {value!r}; operations: {sorted(known)}")
    return str(value)


def operation_names(provider: Provider) -> frozenset[str]:
    return provider.operation_names()


def failure_codes(provider: Provider) -> set[str]:
    """Codes a task of this vendor can fail with: the catalogue plus the provider's own list
    (`task_failure_codes`, for vendors whose failures are not gateway errors, e.g. job states)."""
    return set(provider.catalogue.entries) | set(provider.spec.task_failure_codes)


def _code(value: Any, effect: str, provider: Provider) -> str | None:
    if effect not in ("error", "fail_task"):
        if value is not None:
            raise FaultError(f"effect {effect!r} takes no 'code'")
        return None
    if value is None:
        raise FaultError(f"effect {effect!r} needs a 'code' from the {provider.name} catalogue")
    code = provider.catalogue.canonical(str(value))  # either spelling a vendor uses
    known = set(provider.catalogue.entries) if effect == "error" else failure_codes(provider)
    if code not in known:
        raise FaultError(f"{code!r} is not a {provider.name} "
                         f"{'error' if effect == 'error' else 'task failure'} code; "
                         f"known: {sorted(known)}")
    return code


def _optional_str(doc: Mapping[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        raise FaultError(f"'{name}' must be a string")
    return value


def _body(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and k for k in value):
        raise FaultError("'body' must be an object of field path (JSON pointer or dotted) -> value")
    return dict(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _latency(value: Any, effect: str) -> tuple[float, float] | None:
    if effect != "latency":
        if value is not None:
            raise FaultError(f"effect {effect!r} takes no 'latency'")
        return None
    if _number(value):
        low = high = float(value)
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_number, value)):
        low, high = float(value[0]), float(value[1])
    else:
        raise FaultError("'latency' must be seconds (a number) or a [min, max] range")
    if not 0 <= low <= high <= MAX_LATENCY_SECONDS:
        raise FaultError(f"'latency' must satisfy 0 <= min <= max <= {MAX_LATENCY_SECONDS:g}")
    return low, high


def _times(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FaultError("'times' must be a positive integer (omit it: until removed)")
    return value


def _probability(value: Any) -> float:
    if not _number(value) or not 0 < value <= 1:
        raise FaultError("'probability' must be a number in (0, 1]")
    return float(value)
