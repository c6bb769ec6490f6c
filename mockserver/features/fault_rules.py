"""Fault rules as data: what a rule matches, its effect, and the checks that turn a JSON or
TOML rule into a `FaultRule` (every mistake is a `FaultError` naming what to fix)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.journal import fields_match
from ..core.rulebook import Counts, RuleBook, roll
from ..providers.base import Provider

REQUEST_EFFECTS = ("error", "latency", "drop")
TASK_EFFECTS = ("fail_task", "stall")
DELIVERY_EFFECTS = ("callback_fail",)
EFFECTS = REQUEST_EFFECTS + TASK_EFFECTS + DELIVERY_EFFECTS
RULE_FIELDS = frozenset({"vendor", "operation", "account", "body", "effect", "code", "message",
                         "latency", "times", "probability", "seed"})
MAX_LATENCY_SECONDS = 600.0


def rule_schema(vendors: Sequence[str]) -> dict[str, Any]:
    """The JSON Schema of one rule as written (the config's `[[faults]]`, the admin API's
    body). What a rule may say of its vendor (operations, catalogue codes) is checked when
    the rule is built (`parse_rule`)."""
    number: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": MAX_LATENCY_SECONDS}
    return {
        "type": "object", "additionalProperties": False, "required": ["vendor", "effect"],
        "properties": {
            "vendor": {"enum": list(vendors)}, "effect": {"enum": list(EFFECTS)},
            "operation": {"type": "string"}, "account": {"type": "string"},
            "body": {"type": "object", "description": "field path -> value the body must have"},
            "code": {"type": ["string", "integer"], "description": "a catalogue code"},
            "message": {"type": "string"},
            "latency": {"anyOf": [number, {"type": "array", "items": number,
                                           "minItems": 2, "maxItems": 2}]},
            "times": {"type": "integer", "minimum": 1},
            "probability": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "seed": {"type": ["string", "integer"]},
        },
    }


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
    limit: int | None = None  # the rule's `times` as given; None: until removed
    probability: float = 1.0
    seed: str = ""
    # The shared counters (core/rulebook.py); unset for a rule that was only parsed.
    book: RuleBook[FaultRule] | None = field(default=None, repr=False, compare=False)
    _last_firing: int = field(default=0, repr=False, compare=False)

    @property
    def times(self) -> int | None:
        """Firings left (shared by every instance); None: until removed."""
        return self._counts().left

    @property
    def matched(self) -> int:
        return self._counts().matched

    @property
    def fired(self) -> int:
        return self._counts().fired

    @property
    def active(self) -> bool:
        left = self.times
        return left is None or left > 0

    def _counts(self) -> Counts:
        if self.book is None:
            return Counts(0, 0, self.limit)
        return self.book.counts(self.id, self.limit)

    def matches(self, facts: Facts) -> bool:
        """Whether the rule applies to `facts` (the shared counters decide if it fires)."""
        if facts.vendor != self.vendor:
            return False
        if self.operation is not None and facts.operation != self.operation:
            return False
        if self.account is not None and self.account not in (facts.account, facts.key):
            return False
        return not self.body or fields_match(facts.body, self.body)

    def try_fire(self) -> bool:
        """Count a match; roll the seeded die; spend one firing if it comes up (shared by
        every instance on the store)."""
        assert self.book is not None, "a parsed rule that was never added cannot fire"
        firing = self.book.fire(self.id, self.limit, self.probability, self.seed or self.id)
        if firing is None:
            return False
        self._last_firing = firing
        return True

    def pick_latency(self) -> float:
        assert self.latency is not None
        low, high = self.latency
        return low if low == high else roll(f"{self.seed or self.id}:latency",
                                                        self._last_firing).uniform(low, high)

    def to_dict(self) -> dict[str, Any]:
        counts = self._counts()
        return {
            "id": self.id, "vendor": self.vendor, "effect": self.effect,
            "operation": self.operation, "account": self.account, "body": self.body,
            "code": self.code, "message": self.message,
            "latency": list(self.latency) if self.latency else None,
            "times": counts.left, "probability": self.probability, "seed": self.seed or self.id,
            "matched": counts.matched, "fired": counts.fired,
            "active": counts.left is None or counts.left > 0,
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
        limit=_times(doc.get("times")),
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
