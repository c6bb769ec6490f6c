"""Invalid requests get the vendor's documented error code, status and envelope. All free:
the vendor refuses them before any task exists."""
from __future__ import annotations

from contract_tests.adapters.base import Adapter
from contract_tests.probes import run_all, schema_probes


def test_bad_credentials_are_refused_as_documented(adapter: Adapter) -> None:
    run_all(adapter, adapter.auth_probes())


def test_each_schema_rule_broken_is_refused_as_documented(adapter: Adapter) -> None:
    probes = schema_probes(adapter)
    assert probes, "the submit schema yields no invalid variants"
    run_all(adapter, probes)


def test_documented_cross_field_rules_are_enforced(adapter: Adapter) -> None:
    run_all(adapter, adapter.extra_probes())


def test_unknown_task_ids_look_like_missing_tasks(adapter: Adapter) -> None:
    creds = adapter.credentials("A")
    assert creds is not None
    ex = adapter.poll(creds, adapter.unknown_task_id())
    adapter.verify(adapter.poll_op, ex)
    if not adapter.invisible(ex):
        adapter.fail(adapter.poll_op, "unknown_task", "an unknown task id did not answer as "
                     "documented for missing tasks", ex)
    adapter.passed(adapter.poll_op, "unknown_task")


def test_unknown_paths_answer_the_vendor_error(adapter: Adapter) -> None:
    """A path no operation documents answers in the vendor's envelope, not a framework 404."""
    path = adapter.unknown_path()
    if path is None:
        return
    creds = adapter.credentials("A")
    assert creds is not None
    spec = adapter.operations[adapter.submit_op]
    ex = adapter.target.send("POST", path, headers=adapter.auth_headers(creds, spec, path, {}, b""))
    expected = adapter.unknown_path_expect()
    if ex.status != expected.status or adapter.error_code(ex) not in (expected.codes or ()):
        adapter.fail("<unknown path>", "unknown_path",
                     f"expected HTTP {expected.status} {sorted(expected.codes or ())}", ex)
    adapter.passed("<unknown path>", "unknown_path")

