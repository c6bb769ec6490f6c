"""What every provider offers the emulator, and the shared mechanisms it gets for free.

A provider is one vendor's emulation, built per emulator. Its facts are its `VendorSpec`; its
behaviour is a handful of methods (render an error, a result file, a callback body). Routing,
options, timing, rate limits, result URLs and task ownership are the same for every vendor and
live here, reading the spec.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from starlette.routing import BaseRoute

from ..core.errors import Catalogue, VendorError
from ..core.keypairs import KeyTable
from ..core.operations import OperationSpec, load_operations
from ..core.runtime import Runtime
from ..core.schemas import schemas_root
from ..core.tasks import State, Task, Timing
from ..web import Call, Handler, Pipeline, Reply
from .options import Options
from .spec import VendorSpec

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

RESULTS_PREFIX = "/results"


@dataclass(frozen=True)
class ResultFile:
    data: bytes
    content_type: str
    expires_at: float


def result_url(base_url: str, vendor: str, task_id: str, name: str) -> str:
    return f"{base_url}{RESULTS_PREFIX}/{vendor}/{task_id}/{name}"


class Provider:
    """Subclasses set `spec` and implement `error_reply`, `setup_hint`, and what they need of
    `result_file`, `callback_body`, `request_error` and `reset`."""

    spec: ClassVar[VendorSpec]
    # Signing vendors' key pairs, read per request; None for bearer-key vendors (every key is
    # an account). `POST /__admin/credentials/{vendor}` adds to it (features/credentials.py).
    key_table: KeyTable | None = None

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.catalogue = Catalogue.load(schemas_root() / self.name / "catalogue.json")
        self._timings: dict[str, Timing] = {}
        self.options = Options(self.name, self.spec.all_options(),
                               runtime.settings.vendors.get(self.name, {}))

    # --- the declaration, as the HTTP layer reads it ------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def bad_request_code(self) -> str:
        return self.spec.errors.bad_request

    @property
    def bad_json_message(self) -> str | None:
        return self.spec.errors.bad_json_message

    @property
    def internal_error_code(self) -> str:
        return self.spec.errors.internal

    @property
    def not_found_code(self) -> str:
        return self.spec.errors.not_found

    @property
    def max_body_bytes(self) -> int:
        """The largest body this vendor takes (`max_body_bytes`: the vendor's, else the
        server's)."""
        configured = self.options.get("max_body_bytes")
        return int(configured) if configured is not None else \
            self.runtime.settings.max_body_bytes

    def body_too_large(self) -> VendorError:
        """The vendor's answer to a body over `max_body_bytes`."""
        limit = self.spec.body_limit
        return VendorError(limit.code or self.bad_request_code, limit.message,
                           detail=f"the body is over {self.max_body_bytes} bytes")

    # --- routes -------------------------------------------------------------------------------

    def operations(self) -> tuple[OperationSpec, ...]:
        """The documented operations (`schemas/<vendor>/operations.json`)."""
        return load_operations(self.name)

    def operation_names(self) -> frozenset[str]:
        """Every operation name a request to this vendor can carry (fault rules match them)."""
        return frozenset(spec.operation for spec in self.operations())

    # --- shared mechanisms --------------------------------------------------------------------

    def timing(self, mode: str = "") -> Timing:
        """Durations and slots for one mode: `<mode>_<key>` beats `<key>` beats the spec.
        Options and settings are fixed once the provider is built: each mode is worked out
        once (every submit asks)."""
        known = self._timings.get(mode)
        if known is None:
            known = self._timings[mode] = self._work_out_timing(mode)
        return known

    def _work_out_timing(self, mode: str) -> Timing:
        timings = self.spec.timings
        defaults = timings.get(mode) or timings.get("") or next(iter(timings.values()))

        def pick(key: str, default: float | int | None) -> float | int | None:
            for name in (f"{mode}_{key}" if mode else None, key):
                if name and name in self.options and self.options.get(name) is not None:
                    value: float | int = self.options.get(name)
                    return value
            return default

        slots = pick("concurrency", defaults.concurrency)
        return Timing(
            queue_seconds=float(pick("queue_seconds", defaults.queue) or 0.0),
            run_seconds=float(pick("run_seconds", defaults.run) or 0.0),
            ttl_seconds=float(pick("task_ttl_seconds", defaults.ttl) or 0.0),
            concurrency=int(slots) if slots is not None and self.runtime.settings.limits_enabled
            else None,
        )

    def check_rate(self, call: Call, key: str, headers: dict[str, str] | None = None) -> None:
        """Refuse with the vendor's rate-limit code when the account exceeds `<key>_qps` (the
        spec's documented figure unless configured; 0 switches it off; `--no-limits` all)."""
        if not self.runtime.settings.limits_enabled:
            return
        qps = self.options.number(f"{key}_qps")
        if qps > 0 and not self.runtime.limiter.allow((self.name, key, call.account or ""), qps,
                                                       call.now):
            raise VendorError(self.spec.errors.rate_limited, headers=headers)

    def queue_cap(self, pool: str) -> int | None:
        """Waiting tasks an account may have in `pool` (`<pool>_max_queued`, `max_queued`)."""
        for name in (f"{pool}_max_queued", "max_queued"):
            if name in self.options and self.options.get(name) is not None:
                return self.options.integer(name)
        return None

    def queue_full_code(self) -> str:
        configured = self.options.get("queue_full_code") if "queue_full_code" in self.options \
            else None
        if configured:
            return str(configured)
        entries = self.catalogue.entries.values()
        return next((e.code for e in entries if e.status == 429), self.catalogue.fallback)

    def own_task(self, task_id: object, account: str | None) -> Task | None:
        """The account's own, unexpired task. Another account's task and an expired one are as
        invisible as a missing one, whatever the vendor answers for those."""
        task = self.runtime.store.get_task(task_id) if isinstance(task_id, str) else None
        if task is None or task.vendor != self.name or task.account != account:
            return None
        return None if task.state_at(self.runtime.clock.now()) is State.EXPIRED else task

    def result_url(self, task_id: str, name: str) -> str:
        return result_url(self.runtime.settings.base_url, self.name, task_id, name)

    @property
    def result_ttl(self) -> float:
        return self.options.number("result_ttl_seconds")

    @property
    def sync_timeout(self) -> float:
        """Real seconds a blocking call waits for its task (`sync_timeout_seconds`)."""
        return self.options.number("sync_timeout_seconds")

    # --- behaviour each vendor gives ------------------------------------------------------------

    def request_error(self, call: Call, errors: list[ValidationError]) -> VendorError:
        """The vendor's answer to a request that breaks its schema: by default the bad-request
        code, with the most relevant schema error kept for the journal."""
        from jsonschema.exceptions import best_match  # only to explain a failure (start-up)

        error = best_match(errors)
        detail = f"{error.json_path}: {error.message}" if error else "invalid request"
        return VendorError(self.bad_request_code, detail=detail)

    def claimed_account(self, headers: Mapping[str, str]) -> str | None:
        """The account a request claims before it is authenticated (fault rules match on it):
        the bearer key. Vendors with other credentials override this."""
        scheme, _, key = (headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return key.strip() or None

    def callback_body(self, task: Task) -> tuple[dict[str, object], str] | None:
        """(payload, schema name) POSTed to a task's callback URL when it ends, if any."""
        return None

    async def prepare_callback(self, task: Task) -> None:
        """Work to finish before `callback_body` can answer (the dispatcher awaits it, also for
        deliveries resumed at start-up): nothing by default."""

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        """Render any error of this vendor in its own envelope."""
        raise NotImplementedError

    def setup_hint(self, base_url: str) -> str:
        """One line telling a user how to point this vendor's SDK or curl at the mock."""
        raise NotImplementedError

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        """The bytes behind result URL `name` of `task` (already known to be this vendor's),
        or None if there is no such file."""
        return None

    def result_names(self, task: Task) -> list[str]:
        """The names `result_file()` serves for a succeeded `task` (the dashboard shows them)."""
        return []

    def reset(self) -> None:
        """Forget per-emulator state that is not in the store (caches, counters)."""


class ClientKit:
    """The settings that point one vendor's client at a mock, as a test handle offers them:
    `handle.<vendor>_<name>` is `<name>` of the vendor's kit (`handle.<vendor>_base_url`).
    Vendors with an SDK subclass it with ready SDK objects."""

    def __init__(self, provider: Provider, base_url: str, api_key: str) -> None:
        self.provider = provider
        self.base_url = base_url  # where this vendor's client sends, SDK base path included
        self.api_key = api_key

    def env(self) -> dict[str, str]:
        """Environment variables that point the vendor's SDK at the mock."""
        return {}


RouteBuilder = Callable[[Provider, Pipeline], list[BaseRoute]]


@dataclass(frozen=True)
class VendorPackage:
    """What a provider package exports as `VENDOR`: its Provider class and how it is routed,
    either by its operations file and a handler table (one handler per operation), or by its
    own route builder (a vendor with a single door dispatched by a header)."""

    provider: type[Provider]
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    route_builder: RouteBuilder | None = None
    client_kit: type[ClientKit] = ClientKit

    def routes(self, provider: Provider, pipeline: Pipeline) -> list[BaseRoute]:
        if self.route_builder is not None:
            return self.route_builder(provider, pipeline)
        return pipeline.routes(provider, provider.operations(), self.handlers)
