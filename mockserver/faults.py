"""Fault injection: rules that make one vendor misbehave on purpose, on the request the test wants.

A rule matches a vendor, optionally an operation, an account and body fields, and has one effect:

- `error`: answer with a code from the vendor's catalogue, in the vendor's own envelope;
- `fail_task`: the task is created, then ends FAILED with the vendor's failure code;
- `stall`: the task is created and stays queued until the rule is removed;
- `latency`: wait real seconds (fixed or a seeded range), then answer normally;
- `drop`: close the connection without an answer;
- `callback_fail`: the callback delivery for a matching task fails (recorded as injected).

A rule fires `times` times (or until removed) with a seeded `probability`, so a chaos run
repeats exactly. Matching and selection below use plain data; the Starlette side is
`admin_faults.py` and the two adapters at the end (`intercept`, `on_task_created`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .core.errors import VendorError
from .core.journal import fields_match, request_document
from .core.rulebook import Counts, RuleBook, roll
from .core.tasks import Task, Timing

if TYPE_CHECKING:
    from .providers.base import Provider
    from .runtime import Emulator
    from .web import Call, Reply

REQUEST_EFFECTS = ("error", "latency", "drop")
TASK_EFFECTS = ("fail_task", "stall")
DELIVERY_EFFECTS = ("callback_fail",)
EFFECTS = REQUEST_EFFECTS + TASK_EFFECTS + DELIVERY_EFFECTS
RULE_FIELDS = frozenset({"vendor", "operation", "account", "body", "effect", "code", "message",
                         "latency", "times", "probability", "seed"})
MAX_LATENCY_SECONDS = 600.0

# The call being answered, so a creation hook (which sees only the task) knows its operation.
_current_call: ContextVar[Call | None] = ContextVar("mockserver_fault_call", default=None)


class FaultError(ValueError):
    """An invalid rule; the message says what to fix."""


class ConnectionDropped(BaseException):
    """Raised to end a request without an answer. A BaseException on purpose: the vendor
    wrapper turns any Exception into the vendor's internal error, which is an answer."""


@dataclass(frozen=True)
class Facts:
    """What a rule can match on, taken from a request or a new task."""

    vendor: str
    operation: str | None
    account: str | None
    body: Any


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
        if self.account is not None and facts.account != self.account:
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


def request_account(headers: Mapping[str, str]) -> str | None:
    """The account a request claims, before the vendor authenticates it: the bearer key, or a
    TC3 SecretId (`Credential=<SecretId>/...`)."""
    value = (headers.get("authorization") or "").strip()
    if "Credential=" in value:
        return value.split("Credential=", 1)[1].split("/", 1)[0].strip() or None
    scheme, _, key = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


class Faults:
    """The rules of one emulator, and the hooks that apply them. Rules, their counters and
    the tasks they stall live in the store (core/rulebook.py): shared by every instance."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.book: RuleBook[FaultRule] = RuleBook(emulator.store, emulator.shared, self._parse)

    def _parse(self, doc: Mapping[str, Any], rule_id: str) -> FaultRule:
        rule = parse_rule(doc, rule_id, self.emulator.providers)
        rule.book = self.book
        return rule

    # --- managing rules -----------------------------------------------------------------

    def add(self, doc: Mapping[str, Any], standing: str | None = None) -> FaultRule:
        rule = parse_rule(doc, "new", self.emulator.providers)  # refuse a bad rule first
        rule_id = self.book.add(doc, rule.limit, standing=standing)
        return self.get(rule_id) or self._parse(doc, rule_id)

    def load_standing(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Rules from the config's `[[faults]]` tables; a bad one stops the start-up. Added once
        per store, however many workers start on it."""
        listed = list(docs)
        for index, doc in enumerate(listed):
            try:
                parse_rule(doc, "new", self.emulator.providers)
            except FaultError as error:
                raise FaultError(f"[[faults]] entry {index + 1}: {error}") from None
        self.book.load_standing(listed, lambda doc, standing: self.add(doc, standing))

    def rules(self) -> list[FaultRule]:
        return [rule for _, rule in self.book.rules()]

    def get(self, rule_id: str) -> FaultRule | None:
        return next((rule for found, rule in self.book.rules() if found == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        """Remove a rule; tasks it stalled are released into the queue at once."""
        removed = self.book.remove(rule_id)
        for task_id, slots in list(self.book.release_held(rule_id)):
            task = self.emulator.store.get_task(task_id)
            if task is not None and task.start_at is None and task.canceled_at is None:
                self.emulator.engine.release(task, slots)
        return removed

    def clear(self) -> int:
        ids = [r.id for r in self.rules()]
        for rule_id in ids:
            self.remove(rule_id)
        return len(ids)

    def reset(self) -> None:
        """Back to the configured state: API rules gone (the store was cleared), standing
        rules fresh (same seeds)."""
        self.load_standing(self.emulator.settings.faults)

    # --- selection ------------------------------------------------------------------------

    def fire(self, facts: Facts, effects: tuple[str, ...]) -> list[FaultRule]:
        """Every rule with one of `effects` that matches `facts` and fires, in creation order."""
        return [r for r in self.rules()
                if r.effect in effects and r.matches(facts) and r.try_fire()]

    def check_delivery(self, record: Mapping[str, Any]) -> str | None:
        """Callback-dispatcher hook: why this delivery attempt fails (a rule fired), or None.
        Rules match the vendor and the task's account and request body."""
        task = self.emulator.store.get_task(str(record.get("task_id")))
        facts = Facts(str(record.get("vendor")), None, task.account if task else None,
                      task.request if task else None)
        fired = self.fire(facts, DELIVERY_EFFECTS)
        return f"injected delivery failure (fault {fired[0].id})" if fired else None

    # --- hooks ------------------------------------------------------------------------------

    async def intercept(self, call: Call) -> Reply | None:
        """Runs before every vendor handler: latency, then an injected error or a drop."""
        _current_call.set(call)
        candidates = [r for r in self.rules()
                      if r.vendor == call.vendor and r.effect in REQUEST_EFFECTS]
        if not candidates:
            return None
        # Parse the body (maybe a large upload) only when some rule looks into it.
        body = request_document(call.request.headers.get("content-type", ""), call.body) \
            if any(r.body for r in candidates) else None
        facts = Facts(call.vendor, call.operation, request_account(call.request.headers), body)
        fired = self.fire(facts, REQUEST_EFFECTS)
        if not fired:
            return None
        _mark(call, fired)
        delay = sum(r.pick_latency() for r in fired if r.effect == "latency")
        if delay:
            call.note["fault_latency_seconds"] = round(delay, 3)
            await anyio.sleep(delay)
        final = next((r for r in fired if r.effect in ("error", "drop")), None)
        if final is None:
            return None
        if final.effect == "drop":
            await drop_connection(call, final)
        assert final.code is not None
        return call.provider.error_reply(VendorError(final.code, final.message), call)

    def on_task_created(self, task: Task, timing: Timing) -> None:
        """Creation hook: make the new task fail or stall when a rule says so."""
        call = _current_call.get()
        if call is not None and call.vendor != task.vendor:
            call = None
        body = task.request or (request_document(
            call.request.headers.get("content-type", ""), call.body) if call else None)
        facts = Facts(task.vendor, call.operation if call else None, task.account, body)
        fired = self.fire(facts, TASK_EFFECTS)
        if not fired:
            return
        if call is not None:
            _mark(call, fired)
        rule = fired[0]
        if rule.effect == "stall":
            task.start_at = task.end_at = None
            self.book.hold(task.id, rule.id, timing.concurrency)
            return
        assert rule.code is not None
        provider = self.emulator.providers[task.vendor]
        task.outcome, task.error_code = "failed", rule.code
        task.error_message = rule.message if rule.message is not None else _catalogue_message(
            provider, rule.code)


def _mark(call: Call, fired: list[FaultRule]) -> None:
    call.injected = True
    call.note.setdefault("faults", []).extend({"rule": r.id, "effect": r.effect} for r in fired)


def _catalogue_message(provider: Provider, code: str) -> str | None:
    entry = provider.catalogue.entries.get(code)
    return entry.message if entry else None


async def drop_connection(call: Call, rule: FaultRule) -> None:
    """Journal the drop, then end the request so the server closes the socket unanswered.

    ASGI has no "abort": a server answers 500 to an app that fails before starting a response.
    So we start one the server cannot encode (status 0): it marks the response started,
    refuses to write it, and on the exception that follows closes the connection with zero
    bytes sent. In-process the exception reaches the client call itself.
    """
    request = call.request
    call.emulator.journal.record(
        time=call.now, vendor=call.vendor, operation=call.operation,
        account=request_account(request.headers), method=request.method, path=request.url.path,
        query=request.url.query, headers=dict(request.headers),
        body=request_document(request.headers.get("content-type", ""), call.body),
        status=0, response=None, task_id=call.task_id, injected=True, note=call.note,
    )
    try:
        await request._send({"type": "http.response.start", "status": 0, "headers": []})
    except Exception:  # the server refused the unencodable start, as intended
        pass
    raise ConnectionDropped(f"fault {rule.id}: connection dropped without an answer")


# --- parsing and validating rules ---------------------------------------------------------


def parse_rule(doc: Mapping[str, Any], rule_id: str, providers: Mapping[str, Provider]) -> FaultRule:
    if not isinstance(doc, Mapping):
        raise FaultError("a fault rule must be an object")
    unknown = sorted(set(doc) - RULE_FIELDS)
    if unknown:
        raise FaultError(f"unknown field(s) {unknown}; a rule has {sorted(RULE_FIELDS)}")
    vendor = doc.get("vendor")
    if vendor not in providers:
        raise FaultError(f"unknown vendor {vendor!r}; known vendors: {sorted(providers)}")
    provider = providers[vendor]
    effect = doc.get("effect")
    if effect not in EFFECTS:
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
    if value not in known:
        raise FaultError(f"{provider.name} has no operation {value!r}; operations: {sorted(known)}")
    return str(value)


def operation_names(provider: Provider) -> set[str]:
    """Documented operations plus any routed ones (route names are `<vendor>.<operation>`)."""
    try:
        names = {spec.operation for spec in provider.operations()}
    except NotImplementedError:
        names = set()
    for route in provider.routes():
        name = getattr(route, "name", "") or ""
        if name.startswith(provider.name + "."):
            names.add(name.split(".", 1)[1])
    return names


def failure_codes(provider: Provider) -> set[str]:
    """Codes a task of this vendor can fail with: the catalogue plus the provider's own list
    (`task_failure_codes`, for vendors whose failures are not gateway errors, e.g. gpt.ge states)."""
    return set(provider.catalogue.entries) | {str(c) for c in
                                              getattr(provider, "task_failure_codes", ())}


def _code(value: Any, effect: str, provider: Provider) -> str | None:
    if effect not in ("error", "fail_task"):
        if value is not None:
            raise FaultError(f"effect {effect!r} takes no 'code'")
        return None
    if value is None:
        raise FaultError(f"effect {effect!r} needs a 'code' from the {provider.name} catalogue")
    code = str(value)
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
