"""Sending requests the contract says must be refused, safely on live vendors."""
from __future__ import annotations

from .adapters.base import Adapter, Probe
from .negative import violations
from .targets import Exchange


def schema_probes(adapter: Adapter) -> list[Probe]:
    """One probe per rule of the submit schema, each breaking it in one place."""
    schema = adapter.request_schema(adapter.submit_op)
    return [
        Probe(v.label, adapter.submit_op, adapter.validation_expect(v.kind, v.path), v.body)
        for v in violations(schema, adapter.example_body())
    ]


def send_probe(adapter: Adapter, probe: Probe) -> None:
    """Send `probe` and check the answer against the contract and the probe's expectation."""
    creds = probe.credentials or adapter.credentials("A")
    ex = adapter.call(probe.operation, creds, body=probe.body, headers=probe.headers,
                      sign=probe.sign, path_params=probe.path_params, method=probe.method,
                      query=probe.query)
    if 200 <= ex.status < 300 and probe.operation == adapter.submit_op:
        _undo_unexpected_task(adapter, ex)
    adapter.verify(probe.operation, ex, probe.expect)


def _undo_unexpected_task(adapter: Adapter, ex: Exchange) -> None:
    """A refusal probe that was accepted created a task: on a live vendor that may be billed,
    so count it and cancel it at once where the vendor allows."""
    task_id = adapter.task_id(ex)
    if adapter.target.is_mock or task_id is None:
        return
    adapter.target.budget.spent += 1
    creds = adapter.credentials("A")
    if adapter.cancel_op is not None and creds is not None:
        adapter.cancel(creds, task_id)


def run_all(adapter: Adapter, probes: list[Probe]) -> None:
    """Send every probe; fail once, listing every probe that drifted."""
    failures = []
    for probe in probes:
        try:
            send_probe(adapter, probe)
        except AssertionError as failure:
            failures.append(f"== probe {probe.name} ==\n{failure}")
    assert not failures, f"{len(failures)} of {len(probes)} probes drifted:\n\n" + "\n\n".join(failures)

