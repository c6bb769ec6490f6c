"""`VendorSpec`: everything about one vendor that is a fact rather than behaviour.

Each provider package declares one, next to its code: the published hosts and base URL, how a
client authenticates, the error codes the shared machinery needs, the task timings, documented
rate limits and queue caps, how long result files live, whether calls may block, and the
vendor's own options. The shared modules (routing, limits, results, OpenAPI, in-process mode,
config checks) read these declarations and never name a vendor.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.callbacks import DeliveryPolicy
from ..core.images import ImageRules
from .options import INTEGER, NUMBER, STRING, TABLE, Option

DAY = 24 * 3600.0
BEARER_SCHEME: Mapping[str, Any] = {
    "type": "http", "scheme": "bearer",
    "description": "Any well-formed key is its own account; `invalid-token` is always refused; "
                   "with strict auth only configured keys pass."}
_TIMING_KEYS = (
    ("queue_seconds", "emulated seconds a task waits before it runs", 0),
    ("run_seconds", "emulated seconds a task runs", 0),
    ("task_ttl_seconds", "emulated seconds a finished task stays queryable", 0),
    ("concurrency", "tasks of one account that may run at once", 1),
)
_TIMING_KINDS = {"queue_seconds": NUMBER, "run_seconds": NUMBER, "task_ttl_seconds": NUMBER,
                 "concurrency": INTEGER}
_FIELD = {"queue_seconds": "queue", "run_seconds": "run", "task_ttl_seconds": "ttl",
          "concurrency": "concurrency"}


@dataclass(frozen=True)
class TimingDefaults:
    """Emulated seconds a task waits and runs, how long it stays queryable, and how many of an
    account's tasks may run at once (None: no limit)."""

    queue: float
    run: float
    ttl: float
    concurrency: int | None = None


@dataclass(frozen=True)
class ErrorCodes:
    """The catalogue codes the shared machinery answers with, in this vendor's words."""

    bad_request: str  # unparsable or invalid request
    internal: str  # an emulator bug must still look like the vendor's own internal error
    not_found: str  # an unknown path under the vendor's prefixes
    rate_limited: str  # a documented QPS limit was exceeded
    queue_full: str | None = None  # the account's queue cap was reached
    bad_json_message: str | None = None  # the message for a body that is not JSON


@dataclass(frozen=True)
class BodyLimit:
    """The largest request body a vendor takes, and its answer to a larger one. The pipeline
    stops reading at the cap, so a larger body is never held whole."""

    max_bytes: int | None = None  # None: the server's `max_body_bytes` (config [server])
    code: str | None = None  # None: the vendor's bad-request code
    message: str | None = None  # None: the catalogue's text


@dataclass(frozen=True)
class VendorSpec:
    name: str
    title: str
    hosts: tuple[str, ...]  # published API hosts; the first is the default
    errors: ErrorCodes
    # How a client authenticates, as OpenAPI security schemes (name -> scheme object).
    security_schemes: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {"bearer": BEARER_SCHEME})
    host_patterns: tuple[str, ...] = ()  # regexes for templated hosts (regions, workspaces)
    base_path: str = ""  # where an SDK's base URL points, below the host
    prefixes: tuple[str, ...] = ()  # paths this vendor owns, for its not-found answers
    timings: Mapping[str, TimingDefaults] = field(default_factory=dict)  # mode -> timing
    pool: str = "tasks"  # the vendor's tasks of one account share its concurrency slots
    rates: Mapping[str, float] = field(default_factory=dict)  # rate key -> documented QPS
    max_queued: int | None = None  # waiting tasks per account before queue_full
    result_ttl: float = DAY  # emulated seconds a result file stays downloadable
    blocking_timeout: float | None = None  # real seconds a blocking call may wait; None: none
    callbacks: bool = False  # the vendor POSTs task results to a callback URL
    image_rules: Mapping[str, ImageRules] = field(default_factory=dict)
    body_limit: BodyLimit = BodyLimit()
    task_failure_codes: tuple[str, ...] = ()  # failure codes that are not catalogue errors
    options: tuple[Option, ...] = ()  # the vendor's own `[vendors.<name>]` options

    @property
    def real_base_url(self) -> str:
        return f"https://{self.hosts[0]}{self.base_path}"

    def all_options(self) -> tuple[Option, ...]:
        """The vendor's options plus those of every shared mechanism it uses."""
        return (*self._timing_options(), *self._limit_options(), *self._shared_options(),
                *self.options)

    def _timing_options(self) -> list[Option]:
        """`<key>` for the default mode; `<mode>_<key>` beats `<key>` beats the declared
        default for named modes (so those options default to None: "not set")."""
        found: list[Option] = []
        plain = self.timings.get("")
        for key, what, minimum in _TIMING_KEYS:
            found.append(Option(key, _TIMING_KINDS[key], getattr(plain, _FIELD[key], None)
                                if plain else None, what, minimum=minimum))
            for mode, timing in self.timings.items():
                if mode:
                    default = getattr(timing, _FIELD[key])
                    found.append(Option(f"{mode}_{key}", _TIMING_KINDS[key], None,
                                        f"{what} in mode {mode} (default {default})",
                                        minimum=minimum))
        return found if self.timings else []

    def _limit_options(self) -> list[Option]:
        found = [Option(f"{key}_qps", NUMBER, qps, f"requests per second per account ({key}); "
                        "0 switches the limit off", minimum=0)
                 for key, qps in self.rates.items()]
        if self.timings:
            found.append(Option("max_queued", INTEGER, self.max_queued,
                                "tasks an account may have waiting; further submits are refused",
                                minimum=0))
            found.append(Option(f"{self.pool}_max_queued", INTEGER, None,
                                f"max_queued for {self.pool} tasks", minimum=0))
            found.append(Option("queue_full_code", STRING, self.errors.queue_full,
                                "the catalogue code answered when the queue is full"))
        return found

    def _shared_options(self) -> list[Option]:
        found = [Option("result_ttl_seconds", NUMBER, self.result_ttl,
                        "emulated seconds a result file stays downloadable after the task ends",
                        minimum=0),
                 Option("max_body_bytes", INTEGER, self.body_limit.max_bytes,
                        "largest request body in bytes, refused while it is read (unset: "
                        "the server's max_body_bytes)", minimum=1)]
        if "bearer" in self.security_schemes:
            found.append(Option("accounts", TABLE, None, "named accounts whose keys share "
                                "tasks and limits: name = [key, ...]"))
        if self.blocking_timeout is not None:
            found.append(Option("sync_timeout_seconds", NUMBER, self.blocking_timeout,
                                "real seconds a blocking call waits for its task",
                                minimum=0, aliases=("sync_wait_seconds",)))
        if self.callbacks:
            policy = DeliveryPolicy()
            found += [
                Option("callback_timeout_seconds", NUMBER, policy.timeout,
                       "real seconds per callback POST", minimum=0),
                Option("callback_max_attempts", INTEGER, policy.max_attempts,
                       "automatic delivery attempts", minimum=1),
                Option("callback_backoff_seconds", NUMBER, policy.backoff,
                       "emulated seconds before the second attempt, doubled each time", minimum=0),
                Option("callback_backoff_cap_seconds", NUMBER, policy.backoff_cap,
                       "longest emulated wait between attempts", minimum=0),
            ]
        return found
