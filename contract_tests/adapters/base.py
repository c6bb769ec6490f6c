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
from typing import TYPE_CHECKING, Any, ClassVar

from hypothesis import strategies as st

from ..checks import Context, Expect, explain, run_checks
from ..drift import Finding
from ..strategies import from_schema, inline_refs
from ..targets import Exchange, Target

THROTTLE_RETRIES = 3

if TYPE_CHECKING:
    from mockserver.core.errors import Catalogue
    from mockserver.core.operations import OperationSpec
    from mockserver.core.schemas import SchemaRegistry

    from ..session import Kit


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
    credential_env: ClassVar[tuple[str, ...]]  # the vendor SDK's usual variable names
    content_type: ClassVar[str] = "application/json"
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
    callbacks: ClassVar[bool] = False  # submit takes a callback URL (`with_callback`)
    blocking: ClassVar[bool] = False  # submit can wait for the result (`blocking_body`)
    blocking_schemas: ClassVar[tuple[str, ...] | None] = None  # what a blocking call answers

    def __init__(self, kit: Kit, target: Target, operations: list[OperationSpec],
                 catalogue: Catalogue, schemas: SchemaRegistry) -> None:
        self.kit = kit
        self.target = target
        self.specs = {(spec.operation, spec.method): spec for spec in operations}
        self.operations: dict[str, OperationSpec] = {}
        for spec in operations:  # the first spec of a name is its default method
            self.operations.setdefault(spec.operation, spec)
        self.catalogue = catalogue
        self.schemas = schemas

    # --- accounts -----------------------------------------------------------------------------

    def credentials(self, label: str = "A") -> Credentials | None:
        """Account `label`: invented on a mock, from the environment on a live vendor
        (`<VAR>` for A, `<VAR>_B` for B); None when the environment has none."""
        if self.target.is_mock:
            found: Credentials | None = self.mock_credentials(label)
        else:
            suffix = "" if label == "A" else f"_{label}"
            values = tuple(os.environ.get(f"{name}{suffix}", "") for name in self.credential_env)
            found = Credentials(label, values) if all(values) else None
        if found is not None:
            self.kit.masker.add(*found.secrets)
        return found

    def mock_credentials(self, label: str) -> Credentials | None:
        """A fresh account per call: tests never share rate windows or task lists."""
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
        Throttling is waited out (the mock's clock is advanced, a live vendor is given time)."""
        spec = self.spec(operation, method)
        path = spec.path.format(**(path_params or {}))
        content, sent = self.encode(spec, body)
        sent = {**self.base_headers(spec), **sent}
        for attempt in range(THROTTLE_RETRIES + 1):
            signed = dict(sent)
            if creds is not None and sign:
                signed.update(self.auth_headers(creds, spec, path + (f"?{query}" if query else ""),
                                                {**sent, **(headers or {})}, content))
            signed.update(headers or {})
            signed = {k: v for k, v in signed.items() if v is not None}
            ex = self.target.send(spec.method, path + (f"?{query}" if query else ""),
                                  headers=signed, content=content)
            if not self.throttled(ex) or attempt == THROTTLE_RETRIES:
                return ex
            self.target.wait_out_throttling(attempt)
        raise AssertionError("unreachable")

    def base_headers(self, spec: OperationSpec) -> dict[str, str]:
        """Headers every request of `spec` carries besides auth (its documented ones)."""
        return dict(spec.required_headers)

    def spec(self, operation: str, method: str | None = None) -> OperationSpec:
        return self.operations[operation] if method is None else self.specs[(operation, method)]

    def throttled(self, ex: Exchange) -> bool:
        return ex.status == 429

    def verify(self, operation: str, ex: Exchange, expect: Expect = Expect()) -> None:
        """Run every check on `ex`; fail the test (masked message) on any finding."""
        spec = self.specs.get((operation, ex.method), self.operations[operation])
        findings = run_checks(Context(self, spec, expect), ex)
        assert not findings, explain(findings)

    def fail(self, operation: str, check: str, message: str, ex: Exchange) -> None:
        """Record a behavioural finding (lifecycle, callbacks) and fail the test."""
        masker = self.kit.masker
        finding = Finding(self.vendor, operation, check, masker.text(message), ex.describe(masker))
        self.kit.drift.add(finding)
        raise AssertionError(explain([finding]))

    def passed(self, operation: str, check: str) -> None:
        self.kit.drift.passed(self.vendor, operation, check)

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
        """What the state machine submits: valid bodies, and now and then one whose task the
        vendor accepts but documents as ending in failure (so failed views are checked too)."""
        failing = self.failing_body()
        valid = self.submit_bodies()
        return valid if failing is None else st.one_of(valid, st.just(failing))

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

    def with_callback(self, body: Any, url: str) -> Any:
        raise NotImplementedError

    def blocking_body(self, body: Any) -> Any:
        raise NotImplementedError

    def callback_matches(self, final: Exchange, payload: Any) -> bool:
        """Whether a callback payload is what the vendor documents for the finished task."""
        raise NotImplementedError

    def terminal(self, state: str) -> bool:
        """A state with no documented way out, or whose only way out is expiry."""
        return not (self.transitions.get(state, frozenset()) - self.expired_states)

    def cancel_acknowledged(self, ex: Exchange) -> bool:
        return 200 <= ex.status < 300 and self.error_code(ex) is None

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
