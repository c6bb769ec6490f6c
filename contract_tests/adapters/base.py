"""What the kit needs to know about one vendor beyond its OperationSpecs and schemas.

The generic tests talk to vendors only through an `Adapter`: how to authenticate, how to build
and send a documented operation, how to read a task's state, and which transitions between
states the vendor documents. Subclasses fill in the class attributes and a few readers.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import pytest
from hypothesis import strategies as st

from ..checks import Context, Expect, Problem, explain, run_checks
from ..drift import DriftLog, Finding
from ..masking import Masker
from ..strategies import from_schema, inline_refs
from ..targets import Exchange, Target

if TYPE_CHECKING:
    from mockserver.core.errors import Catalogue
    from mockserver.core.operations import OperationSpec
    from mockserver.core.schemas import SchemaRegistry


class Session(Protocol):
    """What an adapter needs of its run: a masker and the drift log (the kit's session, or
    the validating proxy's)."""

    @property
    def masker(self) -> Masker: ...
    @property
    def drift(self) -> DriftLog: ...


@dataclass(frozen=True)
class Credentials:
    """One account's secrets; the repr never shows them."""

    label: str
    secrets: tuple[str, ...]

    def __repr__(self) -> str:
        return f"Credentials({self.label!r}, ***)"


@dataclass(frozen=True)
class Probe:
    """A request that the contract says must be refused, and how."""

    name: str
    operation: str
    expect: Expect
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Credentials | None = None  # None: the adapter's account "A"
    sign: bool = True
    path_params: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None  # another documented method of the operation (Tencent GET)
    query: str = ""


class Adapter:
    vendor: ClassVar[str]
    # Where the adapter's expectations come from (vendor documents, seeds), for findings.
    source: ClassVar[str]
    credential_env: ClassVar[tuple[str, ...]]  # the vendor SDK's usual variable names
    signs_requests: ClassVar[bool] = False  # key pairs (a mock adds them) instead of bearer keys
    content_type: ClassVar[str] = "application/json"
    content_type_source: ClassVar[str] = "every operation's responses in operations.json are JSON"
    # Error codes that mean "later": the catalogue's 429 codes, plus these prefixes.
    throttle_prefixes: ClassVar[tuple[str, ...]] = ()
    min_interval: ClassVar[float] = 1.0  # seconds between live requests (documented QPS)
    submit_op: ClassVar[str]
    poll_op: ClassVar[str]
    cancel_op: ClassVar[str | None] = None
    accepted_status: ClassVar[int] = 200
    # Task states in the vendor's words, and the documented moves between them.
    states: ClassVar[frozenset[str]]
    transitions: ClassVar[Mapping[str, frozenset[str]]]
    done_states: ClassVar[frozenset[str]]  # results must be present in exactly these
    expired_states: ClassVar[frozenset[str]] = frozenset()  # where finished tasks end up
    canceled_state: ClassVar[str | None] = None
    cancelable_states: ClassVar[frozenset[str]] = frozenset()
    # The documented states by kind (queued, running, succeeded, failed, canceled, expired,
    # unknown), in the vendor's words: the state tour must observe every kind on a mock.
    state_kinds: ClassVar[Mapping[str, frozenset[str]]]
    list_op: ClassVar[str | None] = None  # the account's task list, if documented
    callbacks: ClassVar[bool] = False  # submit takes a callback URL (`with_callback`)
    blocking: ClassVar[bool] = False  # submit can wait for the result (`blocking_body`)
    blocking_schemas: ClassVar[tuple[str, ...] | None] = None  # what a blocking call answers

    def __init__(self, session: Session, target: Target, operations: list[OperationSpec],
                 catalogue: Catalogue, schemas: SchemaRegistry) -> None:
        self.session = session
        self.target = target
        self.specs = {(spec.operation, spec.method): spec for spec in operations}
        self.operations: dict[str, OperationSpec] = {}
        for spec in operations:  # the first spec of a name is its default method
            self.operations.setdefault(spec.operation, spec)
        self.catalogue = catalogue
        self.schemas = schemas
        self._throttle_codes = frozenset(c for c, e in catalogue.entries.items() if e.status == 429)
        session.drift.track_states(self.vendor, self.state_kinds)

    @property
    def log(self) -> DriftLog:
        return self.session.drift

    @property
    def masker(self) -> Masker:
        return self.session.masker

    # --- accounts -----------------------------------------------------------------------------

    def credentials(self, label: str = "A") -> Credentials | None:
        """Account `label` ("A", "B", ...). Live: from the environment (`<VAR>` for A,
        `<VAR>_<label>` for the others); None when it has none. A running mock: the same
        variables when both A and B are set there, else a fresh account from the mock. The
        in-process mock: always a fresh account."""
        found: Credentials | None
        if not self.target.is_mock or (self.target.mode == "mock" and self._env_has_two()):
            found = self._from_env(label)
        else:
            found = self.mock_credentials(label)
        if found is not None:
            self.masker.add(*found.secrets)
        return found

    def _from_env(self, label: str) -> Credentials | None:
        suffix = "" if label == "A" else f"_{label}"
        values = tuple(os.environ.get(f"{name}{suffix}", "") for name in self.credential_env)
        return Credentials(label, values) if all(values) else None

    def _env_has_two(self) -> bool:
        return all(os.environ.get(f"{name}{suffix}") for name in self.credential_env
                   for suffix in ("", "_B"))

    def mock_credentials(self, label: str) -> Credentials | None:
        """A fresh account per call, so tests never share rate windows, queues or task lists,
        and nothing earlier runs or other clients left on the mock is seen: a new bearer key,
        or a key pair the mock adds at run time (`POST /__admin/credentials/{vendor}`)."""
        if self.signs_requests:
            return Credentials(label, self.target.add_key_pair())
        return Credentials(label, (f"sk-contract-{label.lower()}-{uuid.uuid4().hex[:12]}",))

    def auth_headers(self, creds: Credentials, spec: OperationSpec, path: str,
                     headers: Mapping[str, str], content: bytes) -> dict[str, str]:
        return {"Authorization": f"Bearer {creds.secrets[0]}"}

    # --- requests -----------------------------------------------------------------------------

    def encode(self, spec: OperationSpec, body: Any) -> tuple[bytes, dict[str, str]]:
        if body is None:
            return b"", {}
        if isinstance(body, bytes):  # deliberately malformed bodies go out as they are
            return body, {"Content-Type": spec.request_content_type}
        return json.dumps(body, ensure_ascii=False).encode(), {"Content-Type": spec.request_content_type}

    def call(self, operation: str, creds: Credentials | None, *, body: Any = None,
             path_params: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None, sign: bool = True,
             method: str | None = None, query: str = "") -> Exchange:
        """Send one documented operation: its method, path, required headers and auth.
        A documented refusal under load (rate window, queue cap) is checked against the
        contract and then waited out: a mock's clock is moved on until it ends, a live vendor
        is given time within a budget. Never reported as drift, unless a mock's refusal does
        not end however far its clock moves."""
        spec = self.spec(operation, method)
        path = spec.path.format(**(path_params or {}))
        target = path + (f"?{query}" if query else "")
        content, sent = self.encode(spec, body)
        sent = {**self.base_headers(spec), **sent}
        attempt, waited, resigned = 0, 0.0, False
        while True:
            signed = dict(sent)
            if creds is not None and sign:
                signed.update(self.auth_headers(creds, spec, target, {**sent, **(headers or {})},
                                                content))
            signed.update(headers or {})
            signed = {k: v for k, v in signed.items() if v is not None}
            ex = self.target.send(spec.method, target, headers=signed, content=content)
            if creds is not None and sign and not resigned and self.clock_was_stale(ex):
                self.target.refresh_clock()  # another client moved the mock's clock: re-sign
                sent, resigned = {**sent, **self.refreshed_headers(spec)}, True
                continue
            if not self.throttled(ex):
                return ex
            self.verify(operation, ex)  # the refusal itself must be as documented
            pause = self.target.wait_out_throttling(attempt, waited)
            if pause is None:
                return self._still_throttled(operation, ex, waited)
            attempt, waited = attempt + 1, waited + pause
            sent = {**sent, **self.refreshed_headers(spec)}

    def refreshed_headers(self, spec: OperationSpec) -> dict[str, str]:
        """Headers that go stale while a refusal is waited out (a signed timestamp)."""
        return {}

    def clock_was_stale(self, ex: Exchange) -> bool:
        """A signed request refused as too old (the kit signs with the mock's clock)."""
        return False

    def _still_throttled(self, operation: str, ex: Exchange, waited: float) -> Exchange:
        if self.target.is_mock:
            self.fail(operation, "throttling_ends", "a documented refusal under load did not "
                      f"end although the mock's clock moved {waited:g} s", ex,
                      expected="the rate window or queue to clear as the clock moves on",
                      source=self.source)
        pytest.skip(f"{self.vendor} kept refusing under load (documented) for {waited:g} s of "
                    "backing off; nothing checked beyond the refusal")

    def base_headers(self, spec: OperationSpec) -> dict[str, str]:
        """Headers every request of `spec` carries besides auth (its documented ones)."""
        return dict(spec.required_headers)

    def spec(self, operation: str, method: str | None = None) -> OperationSpec:
        return self.operations[operation] if method is None else self.specs[(operation, method)]

    def throttled(self, ex: Exchange) -> bool:
        """A documented refusal that means "later": HTTP 429, a catalogue code documented
        with 429, or one of the adapter's prefixes (Tencent answers these with HTTP 200)."""
        if ex.status == 429:
            return True
        code = self.error_code(ex)
        return code is not None and (code in self._throttle_codes
                                     or code.startswith(self.throttle_prefixes))

    def verify(self, operation: str, ex: Exchange, expect: Expect = Expect()) -> None:
        """Run every check on `ex`; fail the test (masked message) on any finding. A task
        state a checked poll reports counts as observed (the report's state coverage)."""
        spec = self.specs.get((operation, ex.method), self.operations[operation])
        findings = run_checks(Context(self, spec, expect), ex)
        assert not findings, explain(findings)
        if operation == self.poll_op:
            self.observed(self.state(ex))

    def observed(self, state: str | None) -> None:
        if state is not None:
            self.log.observed(self.vendor, state)

    def finding(self, operation: str, check: str, problem: Problem, ex: Exchange) -> Finding:
        masker = self.masker
        return Finding(self.vendor, operation, check, masker.text(problem.message),
                       ex.describe(masker), masker.text(problem.expected), problem.source,
                       masker.text(problem.got), ex.curl(masker) if ex.url else "")

    def fail(self, operation: str, check: str, message: str, ex: Exchange, *,
             expected: str = "", source: str = "", got: str = "") -> None:
        """Record a behavioural finding (lifecycle, isolation, callbacks) and fail the test."""
        problem = Problem(message, expected or message, source or self.source, got or message)
        finding = self.finding(operation, check, problem, ex)
        self.log.add(finding)
        raise AssertionError(explain([finding]))

    def passed(self, operation: str, check: str) -> None:
        self.log.passed(self.vendor, operation, check)

    # --- request bodies -----------------------------------------------------------------------

    def request_schema(self, operation: str) -> dict[str, Any]:
        name = self.operations[operation].request_schema
        assert name is not None, f"{self.vendor}.{operation} documents no request body"
        return inline_refs(self.schemas.documents[name], self.schemas.registry)

    def submit_bodies(self) -> st.SearchStrategy[Any]:
        """Valid submit bodies: drawn from the request schema, then fixed up where the vendor's
        documented cross-field rules go beyond what the schema can say."""
        return from_schema(self.request_schema(self.submit_op), repair=self.repair)

    def repair(self, body: Any) -> Any:
        return body

    def lifecycle_bodies(self) -> st.SearchStrategy[Any]:
        """What the state machine submits: the known-good body and the one the vendor accepts
        but documents as ending in failure. Its subject is the task's life, not the input
        space (the operations test draws that from the schema), and a repeated input costs
        the mock no second image check or rendering."""
        failing = self.failing_body()
        return st.sampled_from([self.example_body(), *([failing] if failing else [])])

    def failing_body(self) -> Any:
        """A submit body that is accepted but whose task fails (None: none known)."""
        return None

    def example_body(self) -> Any:
        """One known-good submit body, the base of the invalid variants."""
        raise NotImplementedError

    # --- reading answers ----------------------------------------------------------------------

    def content_type_ok(self, content_type: str) -> bool:
        return self.content_type in content_type

    def error_code(self, ex: Exchange) -> str | None:
        """The vendor error code in an error envelope, None for any other answer."""
        raise NotImplementedError

    def task_id(self, ex: Exchange) -> str | None:
        raise NotImplementedError

    def state(self, ex: Exchange) -> str | None:
        """The task state a poll reports (None when the answer is not a task view)."""
        raise NotImplementedError

    def has_results(self, ex: Exchange) -> bool:
        raise NotImplementedError

    def invisible(self, ex: Exchange) -> bool:
        """True when a poll answers as for a task that does not exist."""
        raise NotImplementedError

    def unknown_task_id(self) -> str:
        return str(uuid.uuid4())

    # --- the task lifecycle -------------------------------------------------------------------

    def submit(self, creds: Credentials, body: Any, **extra: Any) -> Exchange:
        return self.call(self.submit_op, creds, body=body, **extra)

    def poll(self, creds: Credentials, task_id: str) -> Exchange:
        return self.call(self.poll_op, creds, path_params={"task_id": task_id})

    def cancel(self, creds: Credentials, task_id: str) -> Exchange:
        assert self.cancel_op is not None
        return self.call(self.cancel_op, creds, path_params={"task_id": task_id})

    @property
    def supports_batch(self) -> bool:
        return type(self).poll_many is not Adapter.poll_many

    def poll_many(self, creds: Credentials, task_ids: list[str]) -> Exchange:
        raise NotImplementedError

    def batch_records(self, ex: Exchange) -> dict[str, Any]:
        """task id -> record in a batch answer."""
        raise NotImplementedError

    def record_state(self, record: Any) -> str | None:
        raise NotImplementedError

    def record_has_results(self, record: Any) -> bool:
        raise NotImplementedError

    @property
    def supports_list(self) -> bool:
        return self.list_op is not None

    def list_tasks(self, creds: Credentials) -> Exchange:
        """The account's task list (first page, the documented default window)."""
        raise NotImplementedError

    def listed_ids(self, ex: Exchange) -> set[str]:
        raise NotImplementedError

    def with_callback(self, body: Any, url: str) -> Any:
        raise NotImplementedError

    def blocking_body(self, body: Any) -> Any:
        raise NotImplementedError

    def submit_blocking(self, **extra: Any) -> Exchange:
        """The example submission as a blocking call by account A (one billable request), on a
        clock pushed forward so that the task finishes while the call waits."""
        creds = self.credentials("A")
        assert creds is not None
        self.target.budget.spend()
        with self.target.clock_pushed():
            return self.submit(creds, self.blocking_body(self.example_body()), **extra)

    def callback_matches(self, final: Exchange, payload: Any) -> bool:
        """Whether a callback payload is what the vendor documents for the finished task."""
        raise NotImplementedError

    def terminal(self, state: str) -> bool:
        """A state with no documented way out, or whose only way out is expiry."""
        return not (self.transitions.get(state, frozenset()) - self.expired_states)

    def cancel_acknowledged(self, ex: Exchange) -> bool:
        return 200 <= ex.status < 300 and self.error_code(ex) is None

    # --- the validating proxy (passive: it reads the app's exchanges) --------------------------

    def action_of(self, headers: Mapping[str, str], query: str, body: bytes) -> str | None:
        """The operation a request names when several share one method and path."""
        return None

    def request_task_id(self, ex: Exchange) -> str | None:
        """The task a poll asks about when neither its path nor its answer names it."""
        return None

    def resign(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               host: str, creds: Credentials) -> tuple[str, dict[str, str], bytes]:
        """The request signed again for `host` with `creds` (vendors that sign requests)."""
        return query, headers, body

    def other_operations(self) -> set[str]:
        """Documented operations beyond submit, poll and cancel that `call_other` can send."""
        return set()

    def call_other(self, operation: str) -> Exchange:
        raise NotImplementedError(operation)

    # --- probes that must be refused ----------------------------------------------------------

    def auth_probes(self) -> list[Probe]:
        raise NotImplementedError

    def validation_expect(self, violation_kind: str, path: tuple[str | int, ...]) -> Expect:
        raise NotImplementedError

    def unknown_path(self) -> str | None:
        """A path under the vendor's prefix that no operation documents (None: not testable,
        e.g. Tencent, whose only path is `/`)."""
        return None

    def unknown_path_expect(self) -> Expect:
        raise NotImplementedError

    def extra_probes(self) -> list[Probe]:
        """Documented refusals the schema cannot express (cross-field rules, headers)."""
        return []
